package io.paxcron.scheduler;

import io.paxcron.schedule.ScheduleField;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A job as the API shows it. Immutable snapshot of the state machine's job record.
 *
 * @param spec the job as last written
 * @param version the log slot that last changed the definition (the optimistic-concurrency token)
 * @param createdSlot the slot that created the job
 * @param resolvedSchedule the schedule with every {@code ?} replaced by the value the cluster chose
 *     (equal to {@code spec.schedule()} when it has no {@code ?})
 * @param chosen the value chosen per {@code ?} field, shown beside the original expression
 * @param nextDue the next scheduled instant not yet accounted for, or {@code null} if the schedule
 *     is exhausted
 * @param nextDueInDstGap whether {@code nextDue}'s wall-clock time does not exist (spring forward)
 *     and the job's DST policy skips it: the instant will be {@code SKIPPED(DST_GAP)}, never run
 * @param openRuns runs of the job that are due, launched, running or waiting to retry
 * @param ledgerRecords terminal records kept for the job
 */
public record JobView(
    JobSpec spec,
    long version,
    long createdSlot,
    String resolvedSchedule,
    Map<ScheduleField, Integer> chosen,
    Instant nextDue,
    boolean nextDueInDstGap,
    int openRuns,
    int ledgerRecords) {
  public JobView {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(resolvedSchedule, "resolvedSchedule");
    chosen = Map.copyOf(chosen);
  }

  /** The job's name (a stored job's name is always a valid {@link JobName}). */
  public JobName name() {
    return new JobName(spec.name());
  }
}
