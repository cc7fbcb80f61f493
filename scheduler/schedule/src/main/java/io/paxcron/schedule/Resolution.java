package io.paxcron.schedule;

import java.util.Map;
import java.util.Objects;

/**
 * The outcome of resolving a job's {@code ?} fields: what the user wrote, what will run, and the
 * value chosen for each {@code ?}. Stored in the job record and shown beside the original.
 *
 * @param jobName the job the values were chosen for
 * @param original the expression as written, with {@code ?}
 * @param resolved the same text with each {@code ?} replaced
 * @param chosen the value chosen per {@code ?} field (day-of-week 0-6, 0 = Sunday)
 */
public record Resolution(
    String jobName,
    CronExpression original,
    CronExpression resolved,
    Map<ScheduleField, Integer> chosen) {
  public Resolution {
    Objects.requireNonNull(jobName, "jobName");
    Objects.requireNonNull(original, "original");
    Objects.requireNonNull(resolved, "resolved");
    chosen = Map.copyOf(chosen);
    if (!resolved.isResolved()) {
      throw new IllegalArgumentException("resolved expression still has ? fields: " + resolved);
    }
  }
}
