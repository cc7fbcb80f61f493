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
   * The configuration as this replica knows it (docs/membership.md), or empty before it knows one;
   * may wait briefly for the loop (the leader's view of its peers' progress lives there).
   */
  default java.util.Optional<Members> members() {
    return java.util.Optional.empty();
  }

  /**
   * @param members the members of the configuration that governs this replica's first unchosen
   *     slot, by id
   * @param changeInProgress a change chosen (or being chosen) that does not govern yet, in words
   *     ("learners [5] added: voters [1, 2, 3] learners [5] from slot 180"); empty if none
   */
  record Members(java.util.List<Member> members, String changeInProgress) {
    public Members {
      members = java.util.List.copyOf(members);
    }
  }

  /**
   * @param id replica id
   * @param role {@code voter} or {@code learner}
   * @param address its client API address, empty if unknown
   * @param lagSlots how many chosen slots it is behind the leader, as the leader last heard; -1
   *     when unknown (only the leader knows its peers' progress)
   */
  record Member(int id, String role, String address, long lagSlots) {}

  /**
   * This replica's job totals as of its last applied command, or empty when it holds no cron state
   * machine or its loop did not answer in time; read without listing any job.
   */
  default java.util.Optional<JobTotals> jobTotals() {
    return java.util.Optional.empty();
  }

  /**
   * @param jobs jobs held
   * @param paused of them, paused
   * @param questionMarksResolved of them, with a {@code ?} the cluster resolved
   * @param openRuns runs due, launched, running or waiting to retry
   */
  record JobTotals(long jobs, long paused, long questionMarksResolved, long openRuns) {}

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
