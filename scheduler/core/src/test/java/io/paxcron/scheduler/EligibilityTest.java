package io.paxcron.scheduler;

import static io.paxcron.scheduler.Fixture.at;
import static io.paxcron.scheduler.Fixture.job;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The one eligibility rule, as a table: each row is the facts both the dispatcher and the state
 * machine feed it, and the decision they both act on.
 */
final class EligibilityTest {
  private static final Eligibility.Decision LAUNCH = new Eligibility.Launch();
  private static final Eligibility.Decision MISSED = new Eligibility.Missed();
  private static final Instant INSTANT = at(100);

  private static Eligibility.Decision skip(SkipReason reason) {
    return new Eligibility.Skip(reason);
  }

  private static Eligibility.Decision waitUntil(Instant until) {
    return new Eligibility.Wait(until);
  }

  private static JobSpec spec(ConcurrencyPolicy concurrency, boolean paused, Duration window) {
    return job("j", "@every 10s")
        .concurrency(concurrency)
        .paused(paused)
        .misfire(new MisfirePolicy(MisfirePolicy.Mode.RUN_ONCE, window, 10))
        .build();
  }

  private static final JobSpec ALLOW = spec(ConcurrencyPolicy.ALLOW, false, Duration.ofMinutes(1));
  private static final JobSpec FORBID =
      spec(ConcurrencyPolicy.FORBID, false, Duration.ofMinutes(1));
  private static final JobSpec REPLACE =
      spec(ConcurrencyPolicy.REPLACE, false, Duration.ofMinutes(1));
  private static final JobSpec PAUSED = spec(ConcurrencyPolicy.ALLOW, true, Duration.ofMinutes(1));

  /** A job with a misfire window shorter than the misfire threshold. */
  private static final JobSpec TIGHT = spec(ConcurrencyPolicy.ALLOW, false, Duration.ofSeconds(1));

  private record InstantRow(
      String what,
      JobSpec spec,
      int openRuns,
      boolean inDstGap,
      Instant now,
      Eligibility.Decision expected) {}

  @Test
  void aScheduledInstantIsDecidedByPauseDstGapMisfireThenConcurrency() {
    int full = CronStateMachine.MAX_OPEN_RUNS_PER_JOB;
    Instant ahead = INSTANT.minusSeconds(2);
    Instant tooFarAhead = INSTANT.minus(CronStateMachine.MAX_LAUNCH_AHEAD).minusSeconds(1);
    Instant late = INSTANT.plus(CronStateMachine.MISFIRE_THRESHOLD).plusMillis(1);
    Instant lastOnTime = INSTANT.plus(CronStateMachine.MISFIRE_THRESHOLD);
    List<InstantRow> table =
        List.of(
            // ahead of the instant: launch only what nothing at the instant could refuse
            new InstantRow("ahead, allow", ALLOW, 3, false, ahead, LAUNCH),
            new InstantRow(
                "too far ahead",
                ALLOW,
                0,
                false,
                tooFarAhead,
                waitUntil(INSTANT.minus(CronStateMachine.MAX_LAUNCH_AHEAD))),
            new InstantRow("ahead, paused", PAUSED, 0, false, ahead, waitUntil(INSTANT)),
            new InstantRow("ahead, in a DST gap", ALLOW, 0, true, ahead, waitUntil(INSTANT)),
            new InstantRow(
                "ahead, forbid, a run open", FORBID, 1, false, ahead, waitUntil(INSTANT)),
            new InstantRow("ahead, forbid, none open", FORBID, 0, false, ahead, LAUNCH),
            new InstantRow(
                "ahead, replace, a run open", REPLACE, 1, false, ahead, waitUntil(INSTANT)),
            new InstantRow(
                "ahead, open runs at the bound", ALLOW, full, false, ahead, waitUntil(INSTANT)),
            // reached: pause first, then the DST gap, then misfire, then concurrency
            new InstantRow("paused", PAUSED, 0, false, INSTANT, skip(SkipReason.PAUSED)),
            new InstantRow(
                "paused and in a gap", PAUSED, 0, true, INSTANT, skip(SkipReason.PAUSED)),
            new InstantRow("in a DST gap", ALLOW, 0, true, INSTANT, skip(SkipReason.DST_GAP)),
            new InstantRow("in a DST gap, late", ALLOW, 0, true, late, skip(SkipReason.DST_GAP)),
            new InstantRow("on time at the threshold", FORBID, 0, false, lastOnTime, LAUNCH),
            new InstantRow("late, within the window", FORBID, 1, false, late, MISSED),
            new InstantRow(
                "late, past the window",
                ALLOW,
                0,
                false,
                INSTANT.plus(Duration.ofMinutes(1)).plusMillis(1),
                skip(SkipReason.MISFIRE)),
            new InstantRow(
                "late, window below threshold", TIGHT, 0, false, late, skip(SkipReason.MISFIRE)),
            new InstantRow("allow, runs open", ALLOW, 5, false, INSTANT, LAUNCH),
            new InstantRow(
                "allow, at the bound", ALLOW, full, false, INSTANT, skip(SkipReason.OVERLAP)),
            new InstantRow(
                "forbid, a run open", FORBID, 1, false, INSTANT, skip(SkipReason.OVERLAP)),
            new InstantRow("forbid, none open", FORBID, 0, false, INSTANT, LAUNCH),
            new InstantRow("replace, runs open", REPLACE, 2, false, INSTANT, LAUNCH),
            new InstantRow("replace, at the bound", REPLACE, full, false, INSTANT, LAUNCH));
    for (InstantRow row : table) {
      assertEquals(
          row.expected(),
          Eligibility.scheduledInstant(
              row.spec(), row.openRuns(), row.inDstGap(), INSTANT, row.now()),
          row.what());
    }
  }

  private record ConcurrencyRow(
      ConcurrencyPolicy policy, int openRuns, boolean mayQueue, Eligibility.Decision expected) {}

  @Test
  void forbidQueuesOnlyWhenAllowedAndTheBoundHoldsForAllButReplace() {
    int full = CronStateMachine.MAX_OPEN_RUNS_PER_JOB;
    List<ConcurrencyRow> table =
        List.of(
            new ConcurrencyRow(ConcurrencyPolicy.ALLOW, 0, false, LAUNCH),
            new ConcurrencyRow(ConcurrencyPolicy.ALLOW, full - 1, false, LAUNCH),
            new ConcurrencyRow(ConcurrencyPolicy.ALLOW, full, true, skip(SkipReason.OVERLAP)),
            new ConcurrencyRow(ConcurrencyPolicy.FORBID, 0, false, LAUNCH),
            new ConcurrencyRow(ConcurrencyPolicy.FORBID, 1, false, skip(SkipReason.OVERLAP)),
            new ConcurrencyRow(ConcurrencyPolicy.FORBID, 1, true, LAUNCH),
            new ConcurrencyRow(ConcurrencyPolicy.FORBID, full, true, skip(SkipReason.OVERLAP)),
            new ConcurrencyRow(ConcurrencyPolicy.REPLACE, 3, false, LAUNCH),
            new ConcurrencyRow(ConcurrencyPolicy.REPLACE, full, false, LAUNCH));
    for (ConcurrencyRow row : table) {
      assertEquals(
          row.expected(),
          Eligibility.concurrency(row.policy(), row.openRuns(), row.mayQueue()),
          row.toString());
    }
  }

  private record DueRow(
      String what,
      JobSpec spec,
      boolean otherInProgress,
      Instant now,
      Eligibility.Decision expected) {}

  @Test
  void aDueRunIsSkippedPastItsDeadlineAndWaitsBehindAForbidRun() {
    Instant dueAt = INSTANT;
    List<DueRow> table =
        List.of(
            new DueRow("allow, fresh", ALLOW, true, dueAt, LAUNCH),
            new DueRow("forbid, nothing in progress", FORBID, false, dueAt, LAUNCH),
            new DueRow("forbid, a run in progress", FORBID, true, dueAt, waitUntil(null)),
            new DueRow("at the deadline", ALLOW, false, dueAt.plus(Duration.ofMinutes(1)), LAUNCH),
            new DueRow(
                "past the deadline",
                FORBID,
                true,
                dueAt.plus(Duration.ofMinutes(1)).plusMillis(1),
                skip(SkipReason.DEADLINE)),
            new DueRow(
                "a window below the threshold still gets the threshold",
                TIGHT,
                false,
                dueAt.plus(CronStateMachine.MISFIRE_THRESHOLD),
                LAUNCH),
            new DueRow(
                "past the threshold with a tight window",
                TIGHT,
                false,
                dueAt.plus(CronStateMachine.MISFIRE_THRESHOLD).plusMillis(1),
                skip(SkipReason.DEADLINE)));
    for (DueRow row : table) {
      assertEquals(
          row.expected(),
          Eligibility.dueRun(row.spec(), dueAt, row.otherInProgress(), false, row.now()),
          row.what());
    }
  }

  @Test
  void aDueRunWaitsWhileAnInstantOfItsJobIsReachedButNotAccounted() {
    // The instant is accounted first and may end the run: replace supersedes it, misfire expires
    // it; even past the deadline the dispatcher asks again once it is accounted.
    for (JobSpec spec : List.of(ALLOW, FORBID, REPLACE)) {
      assertEquals(waitUntil(null), Eligibility.dueRun(spec, INSTANT, false, true, INSTANT));
      assertEquals(
          waitUntil(null),
          Eligibility.dueRun(spec, INSTANT, false, true, INSTANT.plus(Duration.ofHours(2))));
    }
  }

  @Test
  void aRetryWaitsForItsBackoff() {
    assertEquals(waitUntil(INSTANT), Eligibility.retry(INSTANT, INSTANT.minusMillis(1)));
    assertEquals(LAUNCH, Eligibility.retry(INSTANT, INSTANT));
    assertEquals(LAUNCH, Eligibility.retry(INSTANT, INSTANT.plusSeconds(1)));
  }
}
