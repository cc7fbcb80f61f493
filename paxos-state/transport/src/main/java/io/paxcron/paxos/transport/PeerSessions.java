package io.paxcron.paxos.transport;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.paxcron.paxos.Ballot;
import io.paxcron.proto.v1.AcceptReply;
import io.paxcron.proto.v1.CatchUpChunk;
import io.paxcron.proto.v1.PrepareReply;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The calls one peer has open on this replica, waiting for the core's answer: the Replicate stream
 * its latest Accept came in on, the Prepare calls by ballot, and the CatchUp calls in arrival
 * order. The transport routes the core's Accepted, Rejected, Promise and CatchUpReply for that peer
 * here.
 *
 * <p>Ownership of a pending unary call passes to whoever removes it from the map under the lock —
 * the answer, an eviction or the cancel handler — so exactly one of them completes it.
 *
 * <p>Threading: thread-safe. Registration comes from gRPC network threads, answers from the event
 * loop.
 */
final class PeerSessions {

  private final TransportOptions options;
  private final Counters counters;

  private volatile ServerAcceptStream acceptStream;
  private final LinkedHashMap<PrepareKey, ServerCallStreamObserver<PrepareReply>> prepares =
      new LinkedHashMap<>();
  private final ArrayDeque<ServerCatchUp> catchUps = new ArrayDeque<>();

  /** Runs every write of a catch-up answer's parts (see {@link ServerCatchUp}). */
  private final Executor catchUpSender;

  PeerSessions(TransportOptions options, Counters counters, Executor catchUpSender) {
    this.options = options;
    this.counters = counters;
    this.catchUpSender = catchUpSender;
  }

  // ---------------------------------------------------------------------------------------------
  // Replicate

  void acceptArrivedOn(ServerAcceptStream stream) {
    acceptStream = stream;
  }

  void acceptStreamEnded(ServerAcceptStream stream) {
    synchronized (this) {
      if (acceptStream == stream) {
        acceptStream = null;
      }
    }
  }

  /** Queues a reply on the stream the peer's latest Accept came in on; false if there is none. */
  boolean replyOnAcceptStream(AcceptReply reply) {
    ServerAcceptStream stream = acceptStream;
    if (stream == null) {
      return false;
    }
    stream.reply(reply);
    return true;
  }

  /**
   * Where the answers to a peer's Accepts go: the inbound Replicate call they came in on, or the
   * Accept socket connection.
   */
  interface ServerAcceptStream {
    void reply(AcceptReply reply);
  }

  // ---------------------------------------------------------------------------------------------
  // Prepare

  /**
   * A pending Prepare call: its ballot, and whether it is a pre-vote (which names the ballot its
   * sender would campaign with, so a pre-vote and a Prepare may carry the same ballot).
   */
  record PrepareKey(Ballot ballot, boolean preVote) {}

  /** Registers a Prepare call awaiting the core's Promise, PreVoteGranted or Rejected. */
  void awaitPrepareAnswer(PrepareKey key, ServerCallStreamObserver<PrepareReply> call) {
    Ballot ballot = key.ballot();
    call.setOnCancelHandler(() -> forgetPrepare(key, call));
    ServerCallStreamObserver<PrepareReply> replaced;
    ServerCallStreamObserver<PrepareReply> evicted = null;
    synchronized (this) {
      replaced = prepares.remove(key);
      if (prepares.size() == options.maxPendingPreparesPerPeer()) {
        Iterator<Map.Entry<PrepareKey, ServerCallStreamObserver<PrepareReply>>> oldest =
            prepares.entrySet().iterator();
        evicted = oldest.next().getValue();
        oldest.remove();
      }
      prepares.put(key, call);
    }
    if (replaced != null) {
      counters.dropped.increment();
      replaced.onError(
          Status.ABORTED
              .withDescription("superseded by a newer Prepare of ballot " + ballot)
              .asRuntimeException());
    }
    if (evicted != null) {
      counters.dropped.increment();
      evicted.onError(
          Status.RESOURCE_EXHAUSTED
              .withDescription("more than maxPendingPreparesPerPeer unanswered Prepare calls")
              .asRuntimeException());
    }
  }

  /** Answers the pending Prepare call {@code key}; false if there is none. */
  boolean answerPrepare(PrepareKey key, PrepareReply reply) {
    ServerCallStreamObserver<PrepareReply> call;
    synchronized (this) {
      call = prepares.remove(key);
    }
    if (call == null) {
      return false;
    }
    call.onNext(reply);
    call.onCompleted();
    counters.sent.increment();
    return true;
  }

  private synchronized void forgetPrepare(
      PrepareKey key, ServerCallStreamObserver<PrepareReply> call) {
    prepares.remove(key, call);
  }

  // ---------------------------------------------------------------------------------------------
  // CatchUp

  /** Registers a CatchUp call awaiting the core's CatchUpReply. */
  void awaitCatchUpAnswer(ServerCallStreamObserver<CatchUpChunk> observer) {
    ServerCatchUp call = new ServerCatchUp(observer, catchUpSender);
    observer.setOnReadyHandler(call::drainLater);
    observer.setOnCancelHandler(
        () -> {
          call.cancelled();
          forgetCatchUp(call);
        });
    ServerCatchUp evicted = null;
    synchronized (this) {
      if (catchUps.size() == options.maxPendingCatchUpsPerPeer()) {
        evicted = catchUps.pollFirst();
      }
      catchUps.addLast(call);
    }
    if (evicted != null) {
      counters.dropped.increment();
      evicted.fail(
          Status.RESOURCE_EXHAUSTED.withDescription(
              "more than maxPendingCatchUpsPerPeer unanswered CatchUp calls"));
    }
  }

  /** Streams {@code chunks} on the oldest pending CatchUp call; false if there is none. */
  boolean answerCatchUp(Iterator<CatchUpChunk> chunks) {
    ServerCatchUp call;
    synchronized (this) {
      call = catchUps.pollFirst();
    }
    if (call == null) {
      return false;
    }
    call.stream(chunks);
    counters.sent.increment();
    return true;
  }

  private synchronized void forgetCatchUp(ServerCatchUp call) {
    catchUps.remove(call);
  }

  /**
   * One inbound CatchUp call. Once the reply is known, chunks are produced and written only while
   * the call is ready, so a 20 MB snapshot never sits whole in Netty's buffers. They are produced
   * on the sender thread, never on the caller's (the consensus thread) or gRPC's (a network
   * thread): producing a part of a snapshot the store holds reads it from disk.
   */
  private static final class ServerCatchUp {
    private final ServerCallStreamObserver<CatchUpChunk> observer;
    private final Executor sender;
    private Iterator<CatchUpChunk> chunks;
    private boolean done;

    ServerCatchUp(ServerCallStreamObserver<CatchUpChunk> observer, Executor sender) {
      this.observer = observer;
      this.sender = sender;
    }

    synchronized void stream(Iterator<CatchUpChunk> replyChunks) {
      chunks = replyChunks;
      drainLater();
    }

    void drainLater() {
      try {
        sender.execute(this::drain);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        fail(Status.UNAVAILABLE.withDescription("the replica is stopping"));
      }
    }

    synchronized void drain() {
      if (done || chunks == null) {
        return;
      }
      try {
        while (chunks.hasNext() && observer.isReady()) {
          observer.onNext(chunks.next());
        }
      } catch (IllegalStateException e) {
        // The snapshot being sent was replaced in the store by a newer one: the asker asks again.
        fail(Status.UNAVAILABLE.withDescription(e.getMessage()));
        return;
      }
      if (!chunks.hasNext()) {
        done = true;
        observer.onCompleted();
      }
    }

    synchronized void fail(Status status) {
      if (!done) {
        done = true;
        observer.onError(status.asRuntimeException());
      }
    }

    synchronized void cancelled() {
      done = true;
    }
  }
}
