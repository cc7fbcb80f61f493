package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class QuestionMarkResolverTest {
  static final Instant REFERENCE = Instant.parse("2024-01-10T00:00:00Z");
  static final int DAILY_JOBS = 10_000;

  static Resolution resolveAndAdd(String name, String text, ZoneId zone, LaunchDensity density) {
    Resolution resolution =
        QuestionMarkResolver.resolve(name, CronExpression.parse(text), zone, REFERENCE, density);
    density.add(resolution.resolved(), zone, REFERENCE);
    return resolution;
  }

  @Test
  void tenThousandDailyQuestionMarkJobsPeakAtTheIdealSevenLaunchesPerMinute() {
    LaunchDensity density = new LaunchDensity();
    for (int i = 0; i < DAILY_JOBS; i++) {
      resolveAndAdd(String.format("job-%05d", i), "? ? * * *", ZoneOffset.UTC, density);
    }
    // 10,000 launches a day over 1,440 minutes: the best possible peak is ceil(6.94) = 7.
    assertEquals(7, density.peakLaunchesPerMinute());
    assertEquals(DAILY_JOBS * 7L, density.launchesPerWeek());
    assertTrue(density.peakToMean() < 1.01, "peak to mean " + density.peakToMean());
  }

  @Test
  void hourlyJobsWithAQuestionMarkMinuteFillTheEmptiestMinutes() {
    LaunchDensity density = new LaunchDensity();
    Set<String> minutes = new HashSet<>();
    for (int i = 0; i < 60; i++) {
      Resolution resolution = resolveAndAdd("hourly-" + i, "? * * * *", ZoneOffset.UTC, density);
      minutes.add(resolution.resolved().text());
    }
    assertEquals(60, minutes.size());
    assertEquals(1, density.peakLaunchesPerMinute());
  }

  @Test
  void existingLoadIsAvoidedWhenChoosing() {
    LaunchDensity density = new LaunchDensity();
    density.add(CronExpression.parse("* 0-22 * * *"), ZoneOffset.UTC, REFERENCE);
    Resolution resolution =
        QuestionMarkResolver.resolve(
            "nightly", CronExpression.parse("0 ? * * *"), ZoneOffset.UTC, REFERENCE, density);
    assertEquals(Map.of(ScheduleField.HOUR, 23), resolution.chosen());
    assertEquals("0 23 * * *", resolution.resolved().text());
    assertEquals("0 ? * * *", resolution.original().text());
  }

  @Test
  void theJobsZoneOffsetPlacesItInTheUtcWeek() {
    LaunchDensity density = new LaunchDensity();
    // Everything but 05:00-05:59 UTC is busy; in New York (UTC-5 in January) that hour is local
    // midnight.
    density.add(CronExpression.parse("* 0-4,6-23 * * *"), ZoneOffset.UTC, REFERENCE);
    Resolution resolution =
        QuestionMarkResolver.resolve(
            "report",
            CronExpression.parse("? ? * * *"),
            ZoneId.of("America/New_York"),
            REFERENCE,
            density);
    assertEquals(0, resolution.chosen().get(ScheduleField.HOUR));
  }

  @Test
  void dayOfWeekQuestionMarkSpreadsWeeklyJobsOverTheWeek() {
    LaunchDensity density = new LaunchDensity();
    Set<Integer> days = new HashSet<>();
    for (int i = 0; i < 7; i++) {
      days.add(
          resolveAndAdd("weekly-" + i, "0 3 * * ?", ZoneOffset.UTC, density)
              .chosen()
              .get(ScheduleField.DAY_OF_WEEK));
    }
    assertEquals(7, days.size());
  }

  @Test
  void dayOfMonthQuestionMarkPicksADayEveryMonthHas() {
    LaunchDensity density = new LaunchDensity();
    Set<Integer> days = new HashSet<>();
    for (int i = 0; i < 28; i++) {
      int day =
          resolveAndAdd("monthly-" + i, "0 0 ? * *", ZoneOffset.UTC, density)
              .chosen()
              .get(ScheduleField.DAY_OF_MONTH);
      assertTrue(day >= 1 && day <= QuestionMarkResolver.MAX_CHOSEN_DAY_OF_MONTH, "day " + day);
      days.add(day);
    }
    assertEquals(28, days.size());
  }

  @Test
  void monthQuestionMarkAvoidsMonthsWithoutTheDay() {
    for (int i = 0; i < 50; i++) {
      Resolution resolution =
          QuestionMarkResolver.resolve(
              "yearly-" + i,
              CronExpression.parse("0 0 31 ? *"),
              ZoneOffset.UTC,
              REFERENCE,
              new LaunchDensity());
      int month = resolution.chosen().get(ScheduleField.MONTH);
      assertTrue(Set.of(1, 3, 5, 7, 8, 10, 12).contains(month), "month " + month);
    }
  }

  @Test
  void secondsQuestionMarkIsResolvedToo() {
    Resolution resolution =
        QuestionMarkResolver.resolve(
            "fast",
            CronExpression.parse("? */5 * * * *"),
            ZoneOffset.UTC,
            REFERENCE,
            new LaunchDensity());
    int second = resolution.chosen().get(ScheduleField.SECOND);
    assertEquals(second + " */5 * * * *", resolution.resolved().text());
  }

  @Test
  void tiesAreBrokenByAStableHashOfJobNameAndField() {
    Resolution a =
        QuestionMarkResolver.resolve(
            "billing-export",
            CronExpression.parse("? ? * * *"),
            ZoneOffset.UTC,
            REFERENCE,
            new LaunchDensity());
    Resolution b =
        QuestionMarkResolver.resolve(
            "billing-import",
            CronExpression.parse("? ? * * *"),
            ZoneOffset.UTC,
            REFERENCE,
            new LaunchDensity());
    // Pinned values: FNV-1a 64 is fixed by its specification, so these never change across JVMs.
    assertEquals(0xaf63dc4c8601ec8cL, StableHash.fnv1a64("a"));
    assertEquals(0x85944171f73967e8L, StableHash.fnv1a64("foobar"));
    assertEquals(0xcbf29ce484222325L, StableHash.fnv1a64(""));
    for (String[] pair :
        new String[][] {{"billing-export", "minute"}, {"", ""}, {"zürich-täglich", "hour"}}) {
      assertEquals(
          StableHash.fnv1a64(pair[0] + "\u0000" + pair[1]),
          StableHash.fnv1a64(pair[0], pair[1]),
          "the hash of name and field without building their string: " + pair[0]);
    }
    assertEquals(
        Map.of(
            ScheduleField.MINUTE,
            StableHash.pick("billing-export", ScheduleField.MINUTE, 60),
            ScheduleField.HOUR,
            StableHash.pick("billing-export", ScheduleField.HOUR, 24)),
        a.chosen());
    assertNotEquals(a.chosen(), b.chosen());
    assertEquals(
        a,
        QuestionMarkResolver.resolve(
            "billing-export",
            CronExpression.parse("? ? * * *"),
            ZoneOffset.UTC,
            REFERENCE,
            new LaunchDensity()));
  }

  @Test
  void resolvedExpressionsAreReturnedUnchangedAndBadInputIsRefused() {
    CronExpression resolved = CronExpression.parse("0 0 * * *");
    assertEquals(
        resolved,
        QuestionMarkResolver.resolve("x", resolved, ZoneOffset.UTC, REFERENCE, new LaunchDensity())
            .resolved());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            QuestionMarkResolver.resolve(
                "", resolved, ZoneOffset.UTC, REFERENCE, new LaunchDensity()));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new LaunchDensity().add(CronExpression.parse("? * * * *"), ZoneOffset.UTC, REFERENCE));
    assertThrows(IllegalArgumentException.class, () -> LaunchDensity.ofHistogram(new long[10]));
  }

  @Test
  void everySchedulesAddTheirLaunchesToTheDensity() {
    LaunchDensity density = new LaunchDensity();
    density.add(Schedule.parse("@every 20s"), ZoneOffset.UTC, REFERENCE);
    assertEquals(3, density.peakLaunchesPerMinute());
    assertEquals(3L * LaunchDensity.MINUTES_PER_WEEK, density.launchesPerWeek());
    LaunchDensity hourly = new LaunchDensity();
    hourly.add(Schedule.parse("@every 1h"), ZoneOffset.UTC, REFERENCE);
    assertEquals(168, hourly.launchesPerWeek());
  }

  @Test
  void aHistogramFromElsewhereSeedsTheDensity() {
    long[] histogram = new long[LaunchDensity.MINUTES_PER_WEEK];
    java.util.Arrays.fill(histogram, 5);
    histogram[0] = 0;
    LaunchDensity density = LaunchDensity.ofHistogram(histogram);
    // Minute 0 of the UTC week is Sunday 00:00.
    Resolution resolution =
        QuestionMarkResolver.resolve(
            "sunday", CronExpression.parse("? ? * * ?"), ZoneOffset.UTC, REFERENCE, density);
    assertEquals(
        Map.of(ScheduleField.MINUTE, 0, ScheduleField.HOUR, 0, ScheduleField.DAY_OF_WEEK, 0),
        resolution.chosen());
  }

  /**
   * The resolver reads the density's per-minute-of-day and per-minute-of-hour aggregates for daily
   * and hourly {@code ?} jobs; they must choose exactly what reading every touched minute chooses,
   * with jobs removed again (the aggregates' maxima go stale) and zones whose offsets are not whole
   * hours.
   */
  @Test
  void aggregatesChooseTheSameValuesAsReadingEveryMinute() {
    java.util.SplittableRandom random = Seeds.random();
    List<String> texts =
        List.of(
            "? ? * * *",
            "? * * * *",
            "0 ? * * *",
            "? 3 * * *",
            "? ? * * 1-5",
            "? ? * * ?",
            "? ? ? * *",
            "? ? * * *",
            "*/5 * * * *",
            "? * * * * *",
            "17 ? * * *");
    List<ZoneId> zones =
        List.of(
            ZoneOffset.UTC,
            ZoneId.of("Asia/Kathmandu"),
            ZoneId.of("America/St_Johns"),
            ZoneId.of("Europe/Berlin"));
    LaunchDensity density = new LaunchDensity();
    List<Object[]> added = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      if (!added.isEmpty() && random.nextInt(5) == 0) {
        Object[] gone = added.remove(random.nextInt(added.size()));
        density.remove((Schedule) gone[0], (ZoneId) gone[1], REFERENCE);
        continue;
      }
      String name = "job-" + i;
      CronExpression expression = CronExpression.parse(texts.get(random.nextInt(texts.size())));
      ZoneId zone = zones.get(random.nextInt(zones.size()));
      Resolution fast =
          QuestionMarkResolver.resolve(name, expression, zone, REFERENCE, density, true);
      Resolution scanned =
          QuestionMarkResolver.resolve(name, expression, zone, REFERENCE, density, false);
      assertEquals(
          scanned.chosen(),
          fast.chosen(),
          "job " + i + " '" + expression.text() + "' in " + zone + Seeds.replay());
      density.add(fast.resolved(), zone, REFERENCE);
      added.add(new Object[] {fast.resolved(), zone});
    }
  }
}
