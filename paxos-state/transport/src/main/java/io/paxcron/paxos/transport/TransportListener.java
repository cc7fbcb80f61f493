package io.paxcron.paxos.transport;

import io.grpc.Status;
import java.time.Duration;

/**
 * What the transport observed that the core never sees: failed calls, scheduled reconnects, refused
 * messages and transfers. For logs, metrics and tests; every method has a do-nothing default.
 *
 * <p>Threading: called from gRPC network threads and the transport's reconnect timer, possibly
 * concurrently. Implementations must be thread-safe and return quickly without blocking.
 */
public interface TransportListener {

  TransportListener NONE = new TransportListener() {};

  /**
   * An outbound call or stream to {@code peer} ended with an error ({@code rpc} is {@code
   * "Replicate"}, {@code "Prepare"} or {@code "CatchUp"}). Not called for calls the transport
   * cancelled itself.
   */
  default void onCallFailed(int peer, String rpc, Status status) {}

  /**
   * After {@code failures} consecutive failures, the link to {@code peer} retries in {@code delay}.
   */
  default void onReconnectScheduled(int peer, int failures, Duration delay) {}

  /**
   * This transport refused a message: a peer's call to it ({@code peer} is the id the sender
   * claims, -1 if it names none) or a reply on one of its own calls. {@code status} names the field
   * and the reason.
   */
  default void onMessageRefused(int peer, String rpc, Status status) {}

  /** A catch-up transfer from {@code peer} was corrupt or incomplete and was discarded whole. */
  default void onTransferRejected(int peer, CatchUpTransferException error) {}
}
