package io.paxcron.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.proto.v1.Job;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class DensityCurveTest {

  private static Job job(String name, String schedule, String resolved) {
    return Job.newBuilder()
        .setName(name)
        .setSchedule(schedule)
        .setResolvedSchedule(resolved)
        .build();
  }

  @Test
  void minuteOfWeekCountsFromSundayMidnightUtc() {
    assertEquals(0, DensityCurve.minuteOfWeek(Instant.parse("2026-11-29T00:00:00Z")));
    assertEquals(1_440 + 61, DensityCurve.minuteOfWeek(Instant.parse("2026-11-30T01:01:30Z")));
    assertEquals(10_079, DensityCurve.minuteOfWeek(Instant.parse("2026-12-05T23:59:00Z")));
  }

  @Test
  void resolvedQuestionMarksSpreadWhatZerosWouldStack() {
    List<Job> jobs = new ArrayList<>();
    for (int n = 0; n < 60; n++) {
      jobs.add(job("hourly-" + n, "? * * * *", n + " * * * *"));
    }
    jobs.add(job("fixed", "30 2 * * *", "30 2 * * *"));
    DensityCurve.Curves curves = DensityCurve.compute(jobs, Instant.parse("2026-12-02T00:00:00Z"));
    assertEquals(DensityCurve.MINUTES, curves.resolved().length);
    assertEquals(60, curves.questionMarkJobs());
    assertEquals(0, curves.skipped());
    // Resolved: one launch in every minute, two at 02:30. As zeros: all 60 at minute 0 of each
    // hour.
    assertEquals(2, Arrays.stream(curves.resolved()).max().orElseThrow());
    assertEquals(1, curves.resolved()[0]);
    assertEquals(60, curves.naive()[0]);
    assertEquals(0, curves.naive()[1]);
    assertEquals(2, curves.resolved()[150]);
    assertEquals(
        Arrays.stream(curves.resolved()).sum(),
        Arrays.stream(curves.naive()).sum(),
        "the same jobs launch as often either way");
  }

  @Test
  void pausedJobsLaunchNothing() {
    Job paused = job("ticker", "* * * * *", "* * * * *").toBuilder().setPaused(true).build();
    DensityCurve.Curves curves =
        DensityCurve.compute(List.of(paused), Instant.parse("2026-12-02T00:00:00Z"));
    assertEquals(1, curves.paused());
    assertEquals(0, Arrays.stream(curves.resolved()).sum());
  }

  @Test
  void unreadableSchedulesAreCountedNotModelled() {
    DensityCurve.Curves curves =
        DensityCurve.compute(
            List.of(job("broken", "not a schedule", "not a schedule")),
            Instant.parse("2026-12-02T00:00:00Z"));
    assertEquals(1, curves.skipped());
    assertTrue(Arrays.stream(curves.resolved()).allMatch(v -> v == 0));
  }
}
