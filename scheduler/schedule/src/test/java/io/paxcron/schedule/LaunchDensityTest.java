package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LaunchDensityTest {
  static final Instant REFERENCE = Instant.parse("2024-03-20T12:00:00Z");
  static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

  @Test
  void removingEveryJobAddedInAnyOrderLeavesTheEmptyDensity() {
    long seed = Seeds.seed();
    SplittableRandom random = new SplittableRandom(seed);
    String[] texts = {
      "0 5 * * *", "*/15 * * * *", "30 2 1 * *", "0 0 * * 1-5", "15 * * * * *", "0 9 * 3 *"
    };
    List<Schedule> added = new ArrayList<>();
    LaunchDensity density = new LaunchDensity();
    for (int i = 0; i < 200; i++) {
      Schedule schedule =
          i % 7 == 0
              ? EverySchedule.parse("@every " + (1 + random.nextInt(600)) + "s")
              : CronExpression.parse(texts[random.nextInt(texts.length)]);
      density.add(schedule, BERLIN, REFERENCE);
      added.add(schedule);
    }
    for (int i = added.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      Schedule swap = added.get(i);
      added.set(i, added.get(j));
      added.set(j, swap);
    }
    for (Schedule schedule : added.subList(0, 100)) {
      density.remove(schedule, BERLIN, REFERENCE);
    }
    LaunchDensity rebuilt = new LaunchDensity();
    for (Schedule schedule : added.subList(100, 200)) {
      rebuilt.add(schedule, BERLIN, REFERENCE);
    }
    String replay = Seeds.replay();
    assertArrayEquals(rebuilt.histogram(), density.histogram(), replay);
    assertEquals(rebuilt.peakLaunchesPerMinute(), density.peakLaunchesPerMinute(), replay);
    for (int second = 0; second < 60; second++) {
      assertEquals(rebuilt.secondLoad(second), density.secondLoad(second), replay);
    }
    for (Schedule schedule : added.subList(100, 200)) {
      density.remove(schedule, BERLIN, REFERENCE);
    }
    assertEquals(0, density.launchesPerWeek(), replay);
    assertEquals(0, density.peakLaunchesPerMinute(), replay);
  }

  @Test
  void thePeakFallsWhenTheBusiestJobIsRemoved() {
    LaunchDensity density = new LaunchDensity();
    CronExpression busy = CronExpression.parse("* * * * * *");
    density.add(CronExpression.parse("0 5 * * *"), BERLIN, REFERENCE);
    density.add(busy, BERLIN, REFERENCE);
    assertEquals(61, density.peakLaunchesPerMinute());
    density.remove(busy, BERLIN, REFERENCE);
    assertEquals(1, density.peakLaunchesPerMinute());
  }

  @Test
  void removingAJobThatWasNeverAddedIsABrokenInvariant() {
    LaunchDensity density = new LaunchDensity();
    IllegalStateException error =
        assertThrows(
            IllegalStateException.class,
            () -> density.remove(CronExpression.parse("0 5 * * *"), BERLIN, REFERENCE));
    // 05:00 in Berlin on 2024-03-20 (UTC+1) is 04:00 UTC; Sunday 04:00 is minute 240 of the week.
    assertEquals(
        "removed a job that was not added: minute 240 went below zero", error.getMessage());
  }

  @Test
  void jobsThatRunEveryMinuteCountInEveryMinuteOfTheWeekLikeAnyOther() {
    LaunchDensity density = new LaunchDensity();
    density.add(CronExpression.parse("* * * * *"), BERLIN, REFERENCE);
    density.add(CronExpression.parse("*/20 * * * * *"), BERLIN, REFERENCE);
    density.add(CronExpression.parse("0 5 * * *"), BERLIN, REFERENCE);
    long[] expected = new long[LaunchDensity.MINUTES_PER_WEEK];
    java.util.Arrays.fill(expected, 4);
    for (int day = 0; day < 7; day++) {
      expected[day * 1440 + 4 * 60]++; // 05:00 in Berlin is 04:00 UTC
    }
    LaunchDensity same = LaunchDensity.ofHistogram(expected);
    assertArrayEquals(expected, density.histogram());
    assertEquals(5, density.peakLaunchesPerMinute());
    assertEquals(same.launchesPerWeek(), density.launchesPerWeek());
    assertEquals(4, density.launchesInMinute(9_999));
    for (int minute : new int[] {0, 240, 1439}) {
      assertEquals(same.maxOfMinuteOfDay(minute), density.maxOfMinuteOfDay(minute));
      assertEquals(same.sumOfMinuteOfDay(minute), density.sumOfMinuteOfDay(minute));
      assertEquals(same.maxOfMinuteOfHour(minute % 60), density.maxOfMinuteOfHour(minute % 60));
      assertEquals(same.sumOfMinuteOfHour(minute % 60), density.sumOfMinuteOfHour(minute % 60));
    }
    density.remove(CronExpression.parse("* * * * *"), BERLIN, REFERENCE);
    density.remove(CronExpression.parse("*/20 * * * * *"), BERLIN, REFERENCE);
    assertEquals(1, density.peakLaunchesPerMinute());
    assertEquals(7, density.launchesPerWeek());
    assertThrows(
        IllegalStateException.class,
        () -> density.remove(CronExpression.parse("* * * * *"), BERLIN, REFERENCE));
  }

  @Test
  void addingSeveralJobsOfOneScheduleAtOnceEqualsAddingThemOneByOne() {
    String[] texts = {"0 5 * * *", "*/15 * * * *", "30 2 1 * *", "15 * * * * *", "@every 7s"};
    LaunchDensity oneByOne = new LaunchDensity();
    LaunchDensity grouped = new LaunchDensity();
    for (int t = 0; t < texts.length; t++) {
      Schedule schedule = Schedule.parse(texts[t]);
      for (int job = 0; job <= t * 3; job++) {
        oneByOne.add(schedule, BERLIN, REFERENCE);
      }
      grouped.add(schedule, BERLIN, REFERENCE, t * 3 + 1);
    }
    assertArrayEquals(oneByOne.histogram(), grouped.histogram());
    assertEquals(oneByOne.peakLaunchesPerMinute(), grouped.peakLaunchesPerMinute());
    for (int minute = 0; minute < 1440; minute++) {
      assertEquals(oneByOne.maxOfMinuteOfDay(minute), grouped.maxOfMinuteOfDay(minute));
      assertEquals(oneByOne.sumOfMinuteOfDay(minute), grouped.sumOfMinuteOfDay(minute));
    }
    for (int second = 0; second < 60; second++) {
      assertEquals(oneByOne.secondLoad(second), grouped.secondLoad(second));
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> grouped.add(Schedule.parse("0 5 * * *"), BERLIN, REFERENCE, 0));
  }
}
