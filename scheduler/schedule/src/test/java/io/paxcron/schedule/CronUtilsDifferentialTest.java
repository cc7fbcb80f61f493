package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Our evaluator against cron-utils 9.2.1 (the library the UI uses to describe expressions) on the
 * same expressions, in zones without transitions where both claim the same semantics.
 *
 * <p>Known, documented differences (docs/crontab.md, "Differences from cron-utils"), excluded from
 * the random generator here and asserted against the oracle instead:
 *
 * <ul>
 *   <li>Vixie treats a day field that starts with {@code *} (such as {@code *}{@code /2}) as
 *       unrestricted for the day-of-month/day-of-week rule; cron-utils treats it as restricted.
 *   <li>Across DST transitions cron-utils follows neither Vixie nor our documented policy.
 * </ul>
 */
class CronUtilsDifferentialTest {
  static final int CASES = 400;
  static final int FIRES_PER_CASE = 25;
  static final List<ZoneId> FIXED_ZONES =
      List.of(
          ZoneOffset.UTC,
          ZoneId.of("Asia/Kolkata"),
          ZoneId.of("Asia/Kathmandu"),
          ZoneId.of("Asia/Tokyo"));

  private static final CronParser UNIX =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final CronParser QUARTZ =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ));

  static List<Instant> ours(CronExpression expression, ZoneId zone, Instant after, int count) {
    List<Instant> result = new ArrayList<>();
    Instant cursor = after;
    for (int i = 0; i < count; i++) {
      NextFire fire = expression.next(cursor, zone);
      if (fire instanceof NextFire.Exhausted) {
        break;
      }
      result.add(fire.instant());
      cursor = fire.instant();
    }
    return result;
  }

  static List<Instant> theirs(ExecutionTime executionTime, ZoneId zone, Instant after, int count) {
    List<Instant> result = new ArrayList<>();
    ZonedDateTime cursor = after.atZone(zone);
    for (int i = 0; i < count; i++) {
      Optional<ZonedDateTime> next = executionTime.nextExecution(cursor);
      if (next.isEmpty()) {
        break;
      }
      result.add(next.get().toInstant());
      cursor = next.get();
    }
    return result;
  }

  /** Vixie day fields that mean the same in cron-utils: not starting with * unless exactly *. */
  static String agreedDayField(String field) {
    return field.startsWith("*") && !field.equals("*") ? "*" : field;
  }

  @Test
  void vixieExpressionsFireWhenCronUtilsUnixSaysTheyDo() {
    SplittableRandom random = Seeds.random();
    long start = LocalDateTime.of(2020, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
    long end = LocalDateTime.of(2035, 12, 31, 0, 0).toEpochSecond(ZoneOffset.UTC);
    for (int i = 0; i < CASES; i++) {
      String[] fields = RandomExpressions.vixie(random).split(" ");
      fields[2] = agreedDayField(fields[2]);
      fields[4] = agreedDayField(fields[4]);
      String text = String.join(" ", fields);
      ZoneId zone = FIXED_ZONES.get(random.nextInt(FIXED_ZONES.size()));
      Instant after = Instant.ofEpochSecond(random.nextLong(start, end));
      List<Instant> expected =
          theirs(ExecutionTime.forCron(UNIX.parse(text)), zone, after, FIRES_PER_CASE);
      List<Instant> actual = ours(CronExpression.parse(text), zone, after, FIRES_PER_CASE);
      assertEquals(
          expected,
          actual,
          "'" + text + "' in " + zone + " after " + after + " (case " + i + ")" + Seeds.replay());
    }
  }

  @Test
  void quartzExpressionsFireWhenCronUtilsQuartzSaysTheyDo() {
    SplittableRandom random = Seeds.random().split();
    long start = LocalDateTime.of(2020, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
    long end = LocalDateTime.of(2035, 12, 31, 0, 0).toEpochSecond(ZoneOffset.UTC);
    for (int i = 0; i < CASES; i++) {
      String text = RandomExpressions.quartz(random);
      ZoneId zone = FIXED_ZONES.get(random.nextInt(FIXED_ZONES.size()));
      Instant after = Instant.ofEpochSecond(random.nextLong(start, end));
      List<Instant> expected;
      try {
        expected = theirs(ExecutionTime.forCron(QUARTZ.parse(text)), zone, after, FIRES_PER_CASE);
      } catch (IllegalArgumentException rejected) {
        throw new AssertionError(
            "cron-utils rejects quartz '" + text + "'" + Seeds.replay(), rejected);
      }
      List<Instant> actual =
          ours(CronExpression.parse(text, Syntax.QUARTZ), zone, after, FIRES_PER_CASE);
      assertEquals(
          expected,
          actual,
          "quartz '"
              + text
              + "' in "
              + zone
              + " after "
              + after
              + " (case "
              + i
              + ")"
              + Seeds.replay());
    }
  }

  @Test
  void cronUtilsTreatsStarStepDayFieldsAsRestrictedWhereVixieDoesNot() {
    String text = "0 0 */2 * 1";
    Instant after = Instant.parse("2024-01-01T00:00:00Z");
    List<Instant> cronUtils =
        theirs(ExecutionTime.forCron(UNIX.parse(text)), ZoneOffset.UTC, after, 3);
    List<Instant> actual = ours(CronExpression.parse(text), ZoneOffset.UTC, after, 3);
    // cron-utils: odd days OR Mondays. Vixie: a day field starting with * is "unrestricted", so
    // the fields are ANDed: Mondays that fall on odd days.
    assertEquals(
        List.of(
            Instant.parse("2024-01-03T00:00:00Z"),
            Instant.parse("2024-01-05T00:00:00Z"),
            Instant.parse("2024-01-07T00:00:00Z")),
        cronUtils);
    assertEquals(
        List.of(
            Instant.parse("2024-01-15T00:00:00Z"),
            Instant.parse("2024-01-29T00:00:00Z"),
            Instant.parse("2024-02-05T00:00:00Z")),
        actual);
  }

  @Test
  void cronUtilsDropsASpringForwardWallTimeSilentlyWhereWeRunItAfterTheGap() {
    ZoneId newYork = ZoneId.of("America/New_York");
    String text = "30 2 * * *";
    Instant after = Instant.parse("2024-03-09T12:00:00Z");
    List<Instant> cronUtils = theirs(ExecutionTime.forCron(UNIX.parse(text)), newYork, after, 2);
    List<Instant> actual = ours(CronExpression.parse(text), newYork, after, 2);
    List<BruteForceOracle.Event> oracle =
        BruteForceOracle.events(
            CronExpression.parse(text),
            newYork,
            DstPolicy.DEFAULT,
            after,
            Instant.parse("2024-03-11T12:00:00Z"));
    assertEquals(
        List.of(Instant.parse("2024-03-11T06:30:00Z"), Instant.parse("2024-03-12T06:30:00Z")),
        cronUtils);
    assertEquals(
        List.of(Instant.parse("2024-03-10T07:00:00Z"), Instant.parse("2024-03-11T06:30:00Z")),
        actual);
    assertEquals(oracle.stream().map(BruteForceOracle.Event::instant).toList(), actual);
  }
}
