package io.paxcron.paxos.transport;

import io.grpc.Status;
import io.grpc.stub.CallStreamObserver;
import java.util.ArrayDeque;

/**
 * A bounded queue in front of one side of a gRPC stream that writes only while the stream is ready
 * (HTTP/2 flow control), so a slow or absent peer never makes the writer block or buffer without
 * bound. When full, the oldest message is dropped and counted: the Paxos messages queued here are
 * all re-sent by the core on its timers, and the newest carry the most current state.
 *
 * <p>The queue outlives streams: a client-side outbox is attached to each new stream after a
 * reconnect and keeps what the broken one had not yet taken.
 *
 * <p>Threading: thread-safe. Callers may hold their own lock when calling in (lock order: caller,
 * then outbox); the outbox calls nothing but the stream while holding its own.
 */
final class StreamOutbox<T> {

  private final int limit;
  private final Counters counters;
  private final ArrayDeque<T> queue = new ArrayDeque<>();
  private CallStreamObserver<T> stream;
  private boolean terminated;

  StreamOutbox(int limit, Counters counters) {
    this.limit = limit;
    this.counters = counters;
  }

  /** Queues {@code message}, dropping the oldest if full, and writes what the stream can take. */
  synchronized void offer(T message) {
    if (terminated) {
      counters.dropped.increment();
      return;
    }
    if (queue.size() == limit) {
      queue.pollFirst();
      counters.dropped.increment();
    }
    queue.addLast(message);
    drain();
  }

  synchronized void attach(CallStreamObserver<T> newStream) {
    stream = newStream;
    drain();
  }

  synchronized void detach(CallStreamObserver<T> oldStream) {
    if (stream == oldStream) {
      stream = null;
    }
  }

  /** Writes queued messages while the attached stream is ready; the stream's onReady handler. */
  synchronized void drain() {
    while (stream != null && !queue.isEmpty() && stream.isReady()) {
      stream.onNext(queue.pollFirst());
      counters.sent.increment();
    }
  }

  synchronized boolean isEmpty() {
    return queue.isEmpty();
  }

  /**
   * Ends a one-stream outbox for good: completes the stream ({@code status} null) or fails it,
   * unless it is already terminated or was {@linkplain #cancelled() cancelled}. Queued messages are
   * dropped.
   */
  synchronized void terminate(Status status) {
    if (terminated) {
      return;
    }
    terminated = true;
    CallStreamObserver<T> last = stream;
    stream = null;
    counters.dropped.add(queue.size());
    queue.clear();
    if (last == null) {
      return;
    }
    if (status == null) {
      last.onCompleted();
    } else {
      last.onError(status.asRuntimeException());
    }
  }

  /** The stream was cancelled underneath: nothing may be written to it any more. */
  synchronized void cancelled() {
    terminated = true;
    stream = null;
    counters.dropped.add(queue.size());
    queue.clear();
  }
}
