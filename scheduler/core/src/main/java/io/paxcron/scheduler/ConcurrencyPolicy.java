package io.paxcron.scheduler;

/**
 * What happens when a scheduled instant of a job falls due while an earlier run of the same job is
 * still open (due, launched, running or waiting for a retry).
 */
public enum ConcurrencyPolicy {
  /**
   * Start the new run beside the open ones (up to {@link CronStateMachine#MAX_OPEN_RUNS_PER_JOB}).
   */
  ALLOW,
  /**
   * Never run two runs of the job at once: an on-time instant that finds an open run is recorded
   * {@code SKIPPED(OVERLAP)}. Catch-up runs chosen by the misfire policy queue and run one after
   * another. The default: overlapping runs are the most common complaint about peer schedulers.
   */
  FORBID,
  /**
   * The new run wins: launched runs of the job get a cancel request, runs not yet launched are
   * recorded {@code SKIPPED(OVERLAP)}, and the new run starts at once.
   */
  REPLACE
}
