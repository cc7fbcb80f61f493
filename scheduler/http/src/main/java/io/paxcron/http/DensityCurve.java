package io.paxcron.http;

import io.paxcron.proto.v1.Job;
import io.paxcron.schedule.CronExpression;
import io.paxcron.schedule.LaunchDensity;
import io.paxcron.schedule.Schedule;
import io.paxcron.schedule.ScheduleField;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Launches per minute over the next 24 hours for a job set, twice: with each {@code ?} as the
 * cluster resolved it, and as if every {@code ?} were the lowest value of its field (0 for minutes
 * and hours, 1 for days of the month) — the picture of what {@code ?} buys. Both come from the same
 * week model as the resolver ({@link LaunchDensity}), read for the 1,440 minutes that start at
 * {@code now}'s minute. Paused jobs launch nothing and are left out.
 *
 * <p>Pure: the instant is an argument.
 */
final class DensityCurve {
  private DensityCurve() {}

  static final int MINUTES = 1_440;

  /**
   * @param resolved launches per minute with the cluster's choices
   * @param naive launches per minute with every {@code ?} at its field's minimum
   * @param startMinuteOfWeek the week minute (0 = Sunday 00:00 UTC) of index 0
   * @param questionMarkJobs jobs with at least one {@code ?}
   * @param skipped jobs whose schedule could not be modelled (none are expected)
   * @param paused paused jobs, left out of both curves
   */
  record Curves(
      long[] resolved,
      long[] naive,
      int startMinuteOfWeek,
      int questionMarkJobs,
      int skipped,
      int paused) {}

  static Curves compute(List<Job> jobs, Instant now) {
    LaunchDensity resolved = new LaunchDensity();
    LaunchDensity naive = new LaunchDensity();
    int questionMarks = 0;
    int skipped = 0;
    int paused = 0;
    for (Job job : jobs) {
      if (job.getPaused()) {
        paused++;
        continue;
      }
      try {
        Schedule written = Schedule.parse(job.getSchedule(), Views.syntax(job));
        Schedule chosen = Schedule.parse(Views.resolved(job), Views.syntax(job));
        Schedule atMinimum = written;
        if (written instanceof CronExpression cron && !cron.isResolved()) {
          questionMarks++;
          Map<ScheduleField, Integer> values = new EnumMap<>(ScheduleField.class);
          for (ScheduleField field : cron.questionMarks()) {
            values.put(field, field.min());
          }
          atMinimum = cron.resolve(values);
        }
        resolved.add(chosen, Views.zone(job), now);
        naive.add(atMinimum, Views.zone(job), now);
      } catch (IllegalArgumentException e) {
        skipped++;
      }
    }
    int start = minuteOfWeek(now);
    long[] a = new long[MINUTES];
    long[] b = new long[MINUTES];
    for (int i = 0; i < MINUTES; i++) {
      int minute = (start + i) % LaunchDensity.MINUTES_PER_WEEK;
      a[i] = resolved.launchesInMinute(minute);
      b[i] = naive.launchesInMinute(minute);
    }
    return new Curves(a, b, start, questionMarks, skipped, paused);
  }

  /** Minutes since the Sunday 00:00 UTC that starts {@code instant}'s week. */
  static int minuteOfWeek(Instant instant) {
    long minutes = Math.floorDiv(instant.getEpochSecond(), 60);
    // 1970-01-01 was a Thursday: four days after a Sunday.
    return Math.floorMod(minutes + 4 * 1_440, LaunchDensity.MINUTES_PER_WEEK);
  }
}
