package io.paxcron.scheduler;

import java.util.Objects;

/**
 * One thing the leader should propose (see {@link CronView#dueRuns}).
 *
 * @param runId the run
 * @param kind why it is listed
 * @param nextAttempt the attempt number the next intent must carry
 */
public record DueRun(RunId runId, Kind kind, int nextAttempt) {
  public DueRun {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(kind, "kind");
  }

  /** Why the run is listed. */
  public enum Kind {
    /** The job's next instant is reached (within the misfire threshold): propose its intent. */
    SCHEDULED,
    /**
     * The job's next instant is older than the misfire threshold: propose a Tick so the misfire
     * policy decides.
     */
    BEHIND,
    /** The run is due and has no intent (caught up, triggered, or queued behind a forbid). */
    DUE,
    /** The run's backoff has passed: propose its next attempt. */
    RETRY
  }
}
