package io.paxcron.paxos.replica;

/**
 * What a {@link ReplicaNode} reports about its own work, for metrics: the numbers live in the
 * shell, so the shell reports them, and the pure core stays free of any metrics library. Every
 * method has a do-nothing default.
 *
 * <p>Threading: called on the replica's loop thread. Implementations must be thread-safe (they are
 * read by scrapes on other threads) and return at once without blocking; a method that throws stops
 * the replica, as any loop failure does.
 */
public interface ReplicaObserver {

  ReplicaObserver NONE = new ReplicaObserver() {};

  /** The leader this replica knows of changed to {@code leaderId} (-1: none known). */
  default void onLeaderChanged(int leaderId) {}

  /** {@code count} more slots became known chosen here (the first unchosen slot moved). */
  default void onChosen(long count) {}

  /** {@code count} more log entries were applied to the state machine here. */
  default void onApplied(long count) {}

  /** A proposal made through this replica was applied and answered. */
  default void onProposalCommitted() {}

  /** A proposal made through this replica failed (not leader, leadership lost, or stopped). */
  default void onProposalFailed() {}

  /** Proposals made through this replica that await their outcome, after a change. */
  default void onProposalsPending(int pending) {}

  /** A snapshot through {@code slot} of {@code sizeBytes} bytes was taken. */
  default void onSnapshotTaken(long slot, long sizeBytes) {}

  /**
   * An acknowledgement from {@code peer} echoed the send time of an Accept: the round trip took
   * {@code millis} on this replica's monotonic clock (millisecond resolution).
   */
  default void onPeerRoundTrip(int peer, long millis) {}

  /**
   * This replica learned that {@code count} more membership changes were chosen
   * (docs/membership.md), from the log or from a snapshot it installed; the configuration it
   * started with is not counted.
   */
  default void onMembershipChanges(int count) {}
}
