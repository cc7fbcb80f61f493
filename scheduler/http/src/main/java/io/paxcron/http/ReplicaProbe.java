package io.paxcron.http;

/**
 * What the HTTP server asks of the replica process it runs in, beyond the gRPC API: whether the
 * event loop answers, and the replica's own view of its log. The server implements this over its
 * {@code ReplicaNode}; tests may implement it directly.
 *
 * <p>Threading: called from HTTP handler threads; implementations must be thread-safe.
 */
public interface ReplicaProbe {

  /**
   * Queues {@code task} behind the work already on the replica's event loop; false if the replica
   * stopped and will never run it.
   */
  boolean runOnLoop(Runnable task);

  /** The replica's view as of its last step; never blocks on the loop. */
  View view();

  /**
   * @param replicaId this replica
   * @param role LEADER, FOLLOWER or CANDIDATE
   * @param leaderId the leader it knows of, -1 if none
   * @param firstUnchosenSlot the first slot not known chosen here
   * @param appliedSlot the last slot applied here
   * @param snapshotSlot the slot of its latest snapshot
   * @param stopped whether the replica stopped (a storage failure)
   */
  record View(
      int replicaId,
      String role,
      int leaderId,
      long firstUnchosenSlot,
      long appliedSlot,
      long snapshotSlot,
      boolean stopped) {}
}
