package io.paxcron.paxos;

/**
 * Deliberately broken protocol variants. The simulator runs each and must catch it; a checker that
 * cannot fail proves nothing. Production configurations use {@link #NONE}: no configuration file or
 * flag can set another value; only the simulator calls {@link PaxosConfig#withPlantedBug}.
 */
public enum PlantedBug {
  NONE,
  /** Counts a value chosen with one acceptance fewer than a majority. */
  QUORUM_MINUS_ONE,
  /**
   * A new leader ignores the values acceptors report in phase 1 and fills the slots with no-ops.
   */
  NO_PHASE1_ADOPTION,
  /** The leader counts its lease for the full lease period, with no margin for clock drift. */
  LEASE_WITHOUT_DRIFT_MARGIN,
  /**
   * A replica whose election timer fires campaigns at once instead of asking for pre-votes, so a
   * replica returning from a partition deposes a healthy leader.
   */
  NO_PRE_VOTE,
  /**
   * With the leader's writes in parallel with replication ({@link
   * PaxosReplica.LeaderWrites#IN_PARALLEL}), the leader counts its own acceptance when it proposes,
   * before its write is durable, so a value may be "chosen" by one durable acceptance.
   */
  LEADER_VOTES_BEFORE_DURABLE,
  /**
   * A chosen membership change governs the very next slot instead of the slot {@link
   * Membership#DELAY_SLOTS} later, so proposals already in flight are counted with the new voters.
   */
  RECONFIGURATION_WITHOUT_DELAY
}
