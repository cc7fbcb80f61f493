package io.paxcron.paxos.replica;

/**
 * What a {@link ReplicaNode} reports about its own work, for metrics: the numbers live in the
 * shell, so the shell reports them, and the pure core stays free of any metrics library. Every
 * method has a do-nothing default.
 *
 * <p>Threading: called in the turn of the replica's consensus thread (what the core did: roles,
 * leaders, chosen slots, round trips, snapshots, membership) or of its loop thread (what the state
 * machine did: applies, proposals' outcomes, loop tasks), so possibly from both at once — on those
 * threads, or on a network thread that runs a task in their turn ({@code SerialThread}).
 * Implementations must be thread-safe (they are read by scrapes on other threads too) and return at
 * once without blocking; a method that throws stops the replica, as any failure on those threads
 * does.
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

  /** This replica's role changed, and why (the core's words: a timeout, a higher ballot, …). */
  default void onRoleChanged(io.paxcron.paxos.PaxosReplica.Role role, String reason) {}

  /**
   * The leader replaced a follower that hears its proposals at once (one that went silent or
   * answered far slower than the leader writes itself); {@code peers} are the ids that hear them
   * now.
   */
  default void onQuorumPeersChanged(java.util.List<Integer> peers, String reason) {}

  /**
   * The loop thread ran one task of {@code kind} (entries applied, a proposal stamped, a task of
   * the host's) in {@code nanos}: {@code applyNanos} of them applying entries to the state machine,
   * {@code listenerNanos} in the applied-listeners. The dispatcher and queries wait behind a long
   * task; the core's messages do not (they have their own thread).
   */
  default void onLoopTask(String kind, long nanos, long applyNanos, long listenerNanos) {}

  /**
   * The consensus thread ran one task of {@code kind} (a peer's message, the tick, a write made
   * durable, a proposal or read handed to the core) in {@code nanos}. Heartbeats, acknowledgements
   * and elections wait behind a long one, so the longest explain a lost lease.
   */
  default void onConsensusTask(String kind, long nanos) {}

  /** Reports to {@code first}, then to {@code second}. */
  static ReplicaObserver both(ReplicaObserver first, ReplicaObserver second) {
    return new ReplicaObserver() {
      @Override
      public void onLeaderChanged(int leaderId) {
        first.onLeaderChanged(leaderId);
        second.onLeaderChanged(leaderId);
      }

      @Override
      public void onChosen(long count) {
        first.onChosen(count);
        second.onChosen(count);
      }

      @Override
      public void onApplied(long count) {
        first.onApplied(count);
        second.onApplied(count);
      }

      @Override
      public void onProposalCommitted() {
        first.onProposalCommitted();
        second.onProposalCommitted();
      }

      @Override
      public void onProposalFailed() {
        first.onProposalFailed();
        second.onProposalFailed();
      }

      @Override
      public void onProposalsPending(int pending) {
        first.onProposalsPending(pending);
        second.onProposalsPending(pending);
      }

      @Override
      public void onSnapshotTaken(long slot, long sizeBytes) {
        first.onSnapshotTaken(slot, sizeBytes);
        second.onSnapshotTaken(slot, sizeBytes);
      }

      @Override
      public void onPeerRoundTrip(int peer, long millis) {
        first.onPeerRoundTrip(peer, millis);
        second.onPeerRoundTrip(peer, millis);
      }

      @Override
      public void onMembershipChanges(int count) {
        first.onMembershipChanges(count);
        second.onMembershipChanges(count);
      }

      @Override
      public void onRoleChanged(io.paxcron.paxos.PaxosReplica.Role role, String reason) {
        first.onRoleChanged(role, reason);
        second.onRoleChanged(role, reason);
      }

      @Override
      public void onQuorumPeersChanged(java.util.List<Integer> peers, String reason) {
        first.onQuorumPeersChanged(peers, reason);
        second.onQuorumPeersChanged(peers, reason);
      }

      @Override
      public void onLoopTask(String kind, long nanos, long applyNanos, long listenerNanos) {
        first.onLoopTask(kind, nanos, applyNanos, listenerNanos);
        second.onLoopTask(kind, nanos, applyNanos, listenerNanos);
      }

      @Override
      public void onConsensusTask(String kind, long nanos) {
        first.onConsensusTask(kind, nanos);
        second.onConsensusTask(kind, nanos);
      }
    };
  }
}
