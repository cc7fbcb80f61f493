package io.paxcron.scheduler;

/** Why a scheduled instant did not run (DESIGN §1 promise 3). */
public enum SkipReason {
  /**
   * Concurrency policy {@code forbid} found an open run, or {@code replace} superseded a run not
   * yet launched.
   */
  OVERLAP,
  /** The instant fell due while there was no leader, and the misfire policy did not run it. */
  MISFIRE,
  /** The job was paused when the instant fell due. */
  PAUSED,
  /**
   * The wall-clock time did not exist (spring forward) and the job's DST policy skips such times.
   */
  DST_GAP,
  /**
   * The run was due but could not be launched before its deadline (no eligible agent, or
   * rate-limited catch-up).
   */
  DEADLINE
}
