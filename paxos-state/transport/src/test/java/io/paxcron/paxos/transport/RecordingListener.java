package io.paxcron.paxos.transport;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Records what a transport reports, for tests to wait on. */
final class RecordingListener implements TransportListener {

  record CallFailure(int peer, String rpc, Status status) {}

  record Reconnect(int peer, int failures, Duration delay) {}

  record Refusal(int peer, String rpc, Status status) {}

  record TransferRejection(int peer, CatchUpTransferException error) {}

  final BlockingQueue<CallFailure> callFailures = new LinkedBlockingQueue<>();
  final BlockingQueue<Reconnect> reconnects = new LinkedBlockingQueue<>();
  final BlockingQueue<Refusal> refusals = new LinkedBlockingQueue<>();
  final BlockingQueue<TransferRejection> transferRejections = new LinkedBlockingQueue<>();

  @Override
  public void onCallFailed(int peer, String rpc, Status status) {
    callFailures.add(new CallFailure(peer, rpc, status));
  }

  @Override
  public void onReconnectScheduled(int peer, int failures, Duration delay) {
    reconnects.add(new Reconnect(peer, failures, delay));
  }

  @Override
  public void onMessageRefused(int peer, String rpc, Status status) {
    refusals.add(new Refusal(peer, rpc, status));
  }

  @Override
  public void onTransferRejected(int peer, CatchUpTransferException error) {
    transferRejections.add(new TransferRejection(peer, error));
  }

  /** The next event of {@code queue}, waiting for it up to ten seconds. */
  static <T> T next(BlockingQueue<T> queue) throws InterruptedException {
    T next = queue.poll(10, TimeUnit.SECONDS);
    assertNotNull(next, "nothing was reported within 10 s");
    return next;
  }
}
