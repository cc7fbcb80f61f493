package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class EveryScheduleTest {
  static ScheduleError rejection(String text) {
    return assertThrows(InvalidScheduleException.class, () -> Schedule.parse(text), text).error();
  }

  @Test
  void durationsCombineUnitsLargestFirst() {
    assertEquals(Duration.ofSeconds(90), ((EverySchedule) Schedule.parse("@every 90s")).period());
    assertEquals(Duration.ofMinutes(90), ((EverySchedule) Schedule.parse("@every 1h30m")).period());
    assertEquals(
        Duration.ofDays(2).plusSeconds(5),
        ((EverySchedule) Schedule.parse("@every 2d5s")).period());
    assertEquals(Duration.ofSeconds(1), ((EverySchedule) Schedule.parse("@EVERY 1S")).period());
    assertTrue(Schedule.parse("@every 31d") instanceof EverySchedule);
  }

  @Test
  void firesAtMultiplesOfThePeriodSinceTheEpochWhateverTheZone() {
    Schedule schedule = Schedule.parse("@every 90s");
    Instant after = Instant.parse("2024-03-10T06:59:59.5Z");
    NextFire fire = schedule.next(after, ZoneId.of("America/New_York"));
    assertEquals(Instant.ofEpochSecond((after.getEpochSecond() / 90 + 1) * 90), fire.instant());
    assertEquals(
        fire.instant().plusSeconds(90),
        schedule.next(fire.instant(), ZoneId.of("Asia/Kolkata")).instant());
  }

  @Test
  void badDurationsAreRejectedWithTheColumn() {
    assertEquals(
        new ScheduleError("duration", 8, "duration 0s out of range 1s-2678400s (1s to 31d)"),
        rejection("@every 0s"));
    assertEquals(
        new ScheduleError("duration", 8, "duration 2682000s out of range 1s-2678400s (1s to 31d)"),
        rejection("@every 31d1h"));
    assertEquals(
        new ScheduleError("duration", 9, "unknown unit 'x'; expected d, h, m or s"),
        rejection("@every 5x"));
    assertEquals(
        new ScheduleError(
            "duration", 11, "units must appear at most once, largest first (d, h, m, s)"),
        rejection("@every 5m1h"));
    assertEquals(new ScheduleError("duration", 8, "expected a number"), rejection("@every h"));
    assertEquals(
        new ScheduleError("duration", 10, "missing unit after 90; expected d, h, m or s"),
        rejection("@every 90"));
    assertEquals(
        new ScheduleError(
            "duration", 7, "missing duration after @every, e.g. @every 90s or @every 1h30m"),
        rejection("@every"));
    assertEquals(
        new ScheduleError("duration", 11, "unexpected text after the duration"),
        rejection("@every 5m now"));
    assertEquals(
        new ScheduleError("duration", 9, "unknown unit '.'; expected d, h, m or s"),
        rejection("@every 1.5s"));
  }
}
