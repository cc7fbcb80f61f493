package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The worked examples of docs/crontab.md, executed. */
class DstWorkedExamplesTest {
  static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
  static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
  static final DstPolicy SKIP_GAP = new DstPolicy(DstPolicy.Gap.SKIP, DstPolicy.Overlap.RUN_ONCE);
  static final DstPolicy RUN_TWICE =
      new DstPolicy(DstPolicy.Gap.RUN_AFTER_GAP, DstPolicy.Overlap.RUN_TWICE);

  /** Fires in {@code (from, to)} as "RUN 2024-03-10T07:00:00Z (wall 02:30)" or "SKIP …". */
  static List<String> fires(String text, ZoneId zone, DstPolicy policy, String from, String to) {
    CronExpression expression = CronExpression.parse(text);
    List<String> result = new ArrayList<>();
    Instant cursor = Instant.parse(from);
    while (true) {
      NextFire fire = expression.next(cursor, zone, policy);
      if (!fire.instant().isBefore(Instant.parse(to))) {
        return result;
      }
      result.add(
          switch (fire) {
            case NextFire.Run run ->
                "RUN " + run.instant() + " (wall " + run.wallTime().toLocalTime() + ")";
            case NextFire.Skipped skip ->
                "SKIP "
                    + skip.reason()
                    + " "
                    + skip.instant()
                    + " (wall "
                    + skip.wallTime().toLocalTime()
                    + ")";
            case NextFire.Exhausted exhausted -> throw new AssertionError("exhausted");
          });
      cursor = fire.instant();
    }
  }

  @Test
  void newYorkSpringForwardRunsAFixedHourJobAtThreeByDefault() {
    assertEquals(
        List.of(
            "RUN 2024-03-09T07:30:00Z (wall 02:30)",
            "RUN 2024-03-10T07:00:00Z (wall 02:30)",
            "RUN 2024-03-11T06:30:00Z (wall 02:30)"),
        fires(
            "30 2 * * *",
            NEW_YORK,
            DstPolicy.DEFAULT,
            "2024-03-09T00:00:00Z",
            "2024-03-12T00:00:00Z"));
  }

  @Test
  void newYorkSpringForwardReportsTheSkipWhenTheJobAsksForIt() {
    assertEquals(
        List.of(
            "RUN 2024-03-09T07:30:00Z (wall 02:30)",
            "SKIP DST_GAP 2024-03-10T07:00:00Z (wall 02:30)",
            "RUN 2024-03-11T06:30:00Z (wall 02:30)"),
        fires("30 2 * * *", NEW_YORK, SKIP_GAP, "2024-03-09T00:00:00Z", "2024-03-12T00:00:00Z"));
  }

  @Test
  void newYorkSpringForwardHourStarJobSimplyHasNoTwoThirty() {
    List<String> expected =
        List.of(
            "RUN 2024-03-10T05:30:00Z (wall 00:30)",
            "RUN 2024-03-10T06:30:00Z (wall 01:30)",
            "RUN 2024-03-10T07:30:00Z (wall 03:30)",
            "RUN 2024-03-10T08:30:00Z (wall 04:30)");
    for (DstPolicy policy : List.of(DstPolicy.DEFAULT, SKIP_GAP, RUN_TWICE)) {
      assertEquals(
          expected,
          fires("30 * * * *", NEW_YORK, policy, "2024-03-10T05:00:00Z", "2024-03-10T09:00:00Z"));
    }
  }

  @Test
  void newYorkFallBackRunsAFixedHourJobOnceByDefaultAndTwiceOnRequest() {
    assertEquals(
        List.of("RUN 2024-11-03T05:30:00Z (wall 01:30)", "RUN 2024-11-04T06:30:00Z (wall 01:30)"),
        fires(
            "30 1 * * *",
            NEW_YORK,
            DstPolicy.DEFAULT,
            "2024-11-03T00:00:00Z",
            "2024-11-05T00:00:00Z"));
    assertEquals(
        List.of(
            "RUN 2024-11-03T05:30:00Z (wall 01:30)",
            "RUN 2024-11-03T06:30:00Z (wall 01:30)",
            "RUN 2024-11-04T06:30:00Z (wall 01:30)"),
        fires("30 1 * * *", NEW_YORK, RUN_TWICE, "2024-11-03T00:00:00Z", "2024-11-05T00:00:00Z"));
  }

  @Test
  void newYorkFallBackHourStarJobRunsInBothOccurrences() {
    assertEquals(
        List.of(
            "RUN 2024-11-03T04:30:00Z (wall 00:30)",
            "RUN 2024-11-03T05:30:00Z (wall 01:30)",
            "RUN 2024-11-03T06:30:00Z (wall 01:30)",
            "RUN 2024-11-03T07:30:00Z (wall 02:30)"),
        fires(
            "30 * * * *",
            NEW_YORK,
            DstPolicy.DEFAULT,
            "2024-11-03T04:00:00Z",
            "2024-11-03T08:00:00Z"));
  }

  @Test
  void berlinSpringForwardMovesTwoThirtyToThreeOrSkipsIt() {
    assertEquals(
        List.of("RUN 2024-03-31T01:00:00Z (wall 02:30)"),
        fires(
            "30 2 * * *",
            BERLIN,
            DstPolicy.DEFAULT,
            "2024-03-30T12:00:00Z",
            "2024-03-31T12:00:00Z"));
    assertEquals(
        List.of("SKIP DST_GAP 2024-03-31T01:00:00Z (wall 02:30)"),
        fires("30 2 * * *", BERLIN, SKIP_GAP, "2024-03-30T12:00:00Z", "2024-03-31T12:00:00Z"));
  }

  @Test
  void berlinSpringForwardGapSlotMergesWithARealRunAtTheSameInstant() {
    assertEquals(
        List.of("RUN 2024-03-31T01:00:00Z (wall 03:00)"),
        fires("0 2,3 * * *", BERLIN, SKIP_GAP, "2024-03-30T12:00:00Z", "2024-03-31T12:00:00Z"));
    assertEquals(
        List.of("RUN 2024-03-31T01:00:00Z (wall 03:00)"),
        fires(
            "0 2,3 * * *",
            BERLIN,
            DstPolicy.DEFAULT,
            "2024-03-30T12:00:00Z",
            "2024-03-31T12:00:00Z"));
  }

  @Test
  void berlinFallBackRunsTwoThirtyInSummerTimeOnlyUnlessAskedTwice() {
    assertEquals(
        List.of("RUN 2024-10-27T00:30:00Z (wall 02:30)"),
        fires(
            "30 2 * * *",
            BERLIN,
            DstPolicy.DEFAULT,
            "2024-10-26T12:00:00Z",
            "2024-10-27T12:00:00Z"));
    assertEquals(
        List.of("RUN 2024-10-27T00:30:00Z (wall 02:30)", "RUN 2024-10-27T01:30:00Z (wall 02:30)"),
        fires("30 2 * * *", BERLIN, RUN_TWICE, "2024-10-26T12:00:00Z", "2024-10-27T12:00:00Z"));
  }

  @Test
  void berlinHourStarEveryTwentyMinutesAcrossBothTransitions() {
    assertEquals(
        List.of(
            "RUN 2024-03-31T00:40:00Z (wall 01:40)",
            "RUN 2024-03-31T01:00:00Z (wall 03:00)",
            "RUN 2024-03-31T01:20:00Z (wall 03:20)"),
        fires(
            "*/20 * * * *",
            BERLIN,
            DstPolicy.DEFAULT,
            "2024-03-31T00:30:00Z",
            "2024-03-31T01:30:00Z"));
    assertEquals(
        List.of(
            "RUN 2024-10-27T00:40:00Z (wall 02:40)",
            "RUN 2024-10-27T01:00:00Z (wall 02:00)",
            "RUN 2024-10-27T01:20:00Z (wall 02:20)"),
        fires(
            "*/20 * * * *",
            BERLIN,
            DstPolicy.DEFAULT,
            "2024-10-27T00:30:00Z",
            "2024-10-27T01:30:00Z"));
  }

  @Test
  void aWholeHourOfMinutesInTheGapCollapsesIntoOneRun() {
    assertEquals(
        List.of("RUN 2024-03-10T06:59:00Z (wall 01:59)", "RUN 2024-03-10T07:00:00Z (wall 02:00)"),
        fires(
            "* 1,2 * * *",
            NEW_YORK,
            DstPolicy.DEFAULT,
            "2024-03-10T06:58:00Z",
            "2024-03-10T09:00:00Z"));
  }

  @Test
  void santiagoMidnightSpringForwardRunsAMidnightJobAtOne() {
    // Chile moves from 00:00 -04 to 01:00 -03 on the first Sunday of September.
    List<String> fires =
        fires(
            "0 0 * * *",
            ZoneId.of("America/Santiago"),
            DstPolicy.DEFAULT,
            "2024-09-07T00:00:00Z",
            "2024-09-09T12:00:00Z");
    assertEquals(
        List.of(
            "RUN 2024-09-07T04:00:00Z (wall 00:00)",
            "RUN 2024-09-08T04:00:00Z (wall 00:00)",
            "RUN 2024-09-09T03:00:00Z (wall 00:00)"),
        fires);
    assertEquals(
        LocalDateTime.of(2024, 9, 8, 1, 0),
        LocalDateTime.ofInstant(
            Instant.parse("2024-09-08T04:00:00Z"), ZoneId.of("America/Santiago")));
  }
}
