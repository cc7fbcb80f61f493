package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CronParserTest {
  static ScheduleError rejection(String text, Syntax syntax) {
    return assertThrows(
            InvalidScheduleException.class,
            () -> CronExpression.parse(text, syntax),
            "expected '" + text + "' to be rejected")
        .error();
  }

  static void assertRejected(String text, String field, int column, String reason) {
    assertEquals(new ScheduleError(field, column, reason), rejection(text, Syntax.VIXIE), text);
  }

  static void assertQuartzRejected(String text, String field, int column, String reason) {
    assertEquals(new ScheduleError(field, column, reason), rejection(text, Syntax.QUARTZ), text);
  }

  static List<Integer> bits(long mask) {
    List<Integer> values = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      if ((mask >>> i & 1) != 0) {
        values.add(i);
      }
    }
    return values;
  }

  static CronMatcher matcher(String text) {
    return CronExpression.parse(text).matcher();
  }

  @Test
  void fiveFieldsAreMinuteHourDayOfMonthMonthDayOfWeekFiringAtSecondZero() {
    CronMatcher m = matcher("5 4 3 2 1");
    assertEquals(List.of(0), bits(m.seconds));
    assertEquals(List.of(5), bits(m.minutes));
    assertEquals(List.of(4), bits(m.hours));
    assertEquals(List.of(3), bits(m.daysOfMonth));
    assertEquals(List.of(2), bits(m.months));
    assertEquals(List.of(1), bits(m.daysOfWeek));
  }

  @Test
  void sixFieldsStartWithSeconds() {
    CronExpression expression = CronExpression.parse("*/20 5 4 * * *");
    assertTrue(expression.hasSeconds());
    assertEquals(List.of(0, 20, 40), bits(expression.matcher().seconds));
    assertEquals(List.of(5), bits(expression.matcher().minutes));
  }

  @Test
  void rangesStepsAndListsCombine() {
    assertEquals(
        List.of(10, 15, 20, 25, 30, 35, 40, 45, 50), bits(matcher("10-50/5 * * * *").minutes));
    assertEquals(List.of(7, 17, 27, 37, 47, 57), bits(matcher("7/10 * * * *").minutes));
    assertEquals(List.of(0, 5, 10, 15), bits(matcher("0-15/5 * * * *").minutes));
    assertEquals(List.of(1, 2, 3, 30, 45), bits(matcher("1-3,30,45 * * * *").minutes));
    assertEquals(List.of(0, 6, 12, 18), bits(matcher("0 */6 * * *").hours));
  }

  @Test
  void namesAreCaseInsensitiveInMonthAndDayOfWeek() {
    assertEquals(List.of(1, 2, 3), bits(matcher("0 0 * jan-Mar *").months));
    assertEquals(List.of(1, 2, 3, 4, 5), bits(matcher("0 0 * * MON-fri").daysOfWeek));
    assertEquals(List.of(0, 6), bits(matcher("0 0 * * sat,SUN").daysOfWeek));
  }

  @Test
  void dayOfWeekSevenIsSunday() {
    assertEquals(List.of(0), bits(matcher("0 0 * * 7").daysOfWeek));
    assertEquals(List.of(0, 5, 6), bits(matcher("0 0 * * 5-7").daysOfWeek));
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), bits(matcher("0 0 * * *").daysOfWeek));
  }

  @Test
  void dayOfMonthAndDayOfWeekBothRestrictedMatchEither() {
    CronExpression expression = CronExpression.parse("0 0 13 * FRI");
    assertTrue(expression.matcher().eitherDayField);
    // 2024-09-06 is a Friday, 2024-09-13 a Friday the 13th, then Friday 20th.
    List<Instant> fires =
        CronUtilsDifferentialTest.ours(
            expression, ZoneOffset.UTC, Instant.parse("2024-09-01T00:00:00Z"), 3);
    assertEquals(
        List.of(
            Instant.parse("2024-09-06T00:00:00Z"),
            Instant.parse("2024-09-13T00:00:00Z"),
            Instant.parse("2024-09-20T00:00:00Z")),
        fires);
  }

  @Test
  void aDayFieldStartingWithStarCountsAsUnrestrictedSoTheFieldsAreAnded() {
    assertFalse(matcher("0 0 */2 * MON").eitherDayField);
    assertFalse(matcher("0 0 1 * *").eitherDayField);
    assertFalse(matcher("0 0 * * 1").eitherDayField);
  }

  @Test
  void macrosExpandToVixieExpressions() {
    Map<String, String> expected =
        Map.of(
            "@yearly",
            "0 0 1 1 *",
            "@annually",
            "0 0 1 1 *",
            "@monthly",
            "0 0 1 * *",
            "@weekly",
            "0 0 * * 0",
            "@daily",
            "0 0 * * *",
            "@midnight",
            "0 0 * * *",
            "@hourly",
            "0 * * * *");
    expected.forEach(
        (macro, expansion) -> {
          CronMatcher a = matcher(macro);
          CronMatcher b = matcher(expansion);
          assertEquals(
              List.of(b.seconds, b.minutes, b.hours, b.daysOfMonth, b.months, b.daysOfWeek),
              List.of(a.seconds, a.minutes, a.hours, a.daysOfMonth, a.months, a.daysOfWeek),
              macro);
          assertEquals(macro, CronExpression.parse(macro).text());
        });
    assertEquals(List.of(0), bits(matcher("@DAILY").hours));
  }

  @Test
  void questionMarkInAnyVixieFieldLeavesTheExpressionUnresolved() {
    CronExpression expression = CronExpression.parse("? ? ? ? ? ?");
    assertEquals(Set.of(ScheduleField.values()).size() - 1, expression.questionMarks().size());
    assertFalse(expression.isResolved());
    assertThrows(IllegalStateException.class, () -> expression.next(Instant.EPOCH, ZoneOffset.UTC));
  }

  @Test
  void resolvingReplacesOnlyTheQuestionMarksAndKeepsTheLayout() {
    CronExpression expression = CronExpression.parse("?  ?\t* * MON-FRI");
    CronExpression resolved =
        expression.resolve(Map.of(ScheduleField.MINUTE, 17, ScheduleField.HOUR, 3));
    assertEquals("17  3\t* * MON-FRI", resolved.text());
    assertTrue(resolved.isResolved());
    assertThrows(
        IllegalArgumentException.class, () -> expression.resolve(Map.of(ScheduleField.MINUTE, 17)));
    assertThrows(
        IllegalArgumentException.class,
        () -> expression.resolve(Map.of(ScheduleField.MINUTE, 60, ScheduleField.HOUR, 3)));
  }

  @Test
  void outOfRangeValuesAreRejectedAtTheirColumn() {
    assertRejected("0 0 32 * *", "day-of-month", 5, "value 32 out of range 1-31");
    assertRejected("0 0 1,32 * *", "day-of-month", 7, "value 32 out of range 1-31");
    assertRejected("60 * * * *", "minute", 1, "value 60 out of range 0-59");
    assertRejected("0 24 * * *", "hour", 3, "value 24 out of range 0-23");
    assertRejected("0 0 0 * *", "day-of-month", 5, "value 0 out of range 1-31");
    assertRejected("0 0 * 13 *", "month", 7, "value 13 out of range 1-12");
    assertRejected("0 0 * * 8", "day-of-week", 9, "value 8 out of range 0-7");
    assertRejected("0 0 * * 1-9", "day-of-week", 11, "value 9 out of range 0-7");
    assertRejected("60 0 0 * * *", "second", 1, "value 60 out of range 0-59");
  }

  @Test
  void malformedItemsAreRejectedWithTheReason() {
    assertRejected("*/0 * * * *", "minute", 3, "step must be at least 1");
    assertRejected(
        "50-10 * * * *", "minute", 4, "range 50-10 is reversed: start is greater than end");
    assertRejected("1,,2 * * * *", "minute", 3, "empty list element");
    assertRejected("1, * * * *", "minute", 3, "empty list element");
    assertRejected("5x * * * *", "minute", 2, "unexpected character 'x'");
    assertRejected("*5 * * * *", "minute", 2, "unexpected character '5'");
    assertRejected("1- * * * *", "minute", 3, "missing value");
    assertRejected("1/ * * * *", "minute", 3, "missing value");
    assertRejected("0 0 * * MON-XYZ", "day-of-week", 13, "unknown name 'XYZ'; expected SUN-SAT");
    assertRejected("0 0 * FOO *", "month", 7, "unknown name 'FOO'; expected JAN-DEC");
    assertRejected(
        "0 MON * * *", "hour", 3, "unexpected name 'MON': the hour field takes numbers only");
    assertRejected("1234567890 * * * *", "minute", 1, "number 1234567890 has more than 9 digits");
    assertRejected("1,? * * * *", "minute", 3, "? must stand alone in a field");
    assertRejected("0 0 * * 1/MON", "day-of-week", 11, "unexpected character 'M'");
  }

  @Test
  void wrongFieldCountsAndMacrosAreRejected() {
    assertRejected(
        "* * *",
        "expression",
        6,
        "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading second field, found 3");
    assertRejected(
        "0 0 0 1 1 ? 2025",
        "expression",
        13,
        "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading second field, found 7");
    assertRejected("", "expression", 1, "empty schedule");
    assertRejected("   ", "expression", 1, "empty schedule");
    assertRejected(
        "@reboot",
        "expression",
        1,
        "@reboot is not supported: a replicated cron has no single boot to run at");
    assertRejected("@daily 5", "expression", 8, "macro @daily takes no fields");
    assertRejected(
        "@fortnightly",
        "expression",
        1,
        "unknown macro @fortnightly; expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every");
    assertRejected("0 0 * * *\n", "expression", 10, "unexpected character U+000A");
    assertRejected(
        "x".repeat(CronParser.MAX_EXPRESSION_LENGTH + 1),
        "expression",
        CronParser.MAX_EXPRESSION_LENGTH + 1,
        "longer than the maximum of 1024 characters");
  }

  @Test
  void expressionsThatCanNeverFireAreRejected() {
    assertRejected(
        "0 0 30 2 *",
        "day-of-month",
        5,
        "never fires: day-of-month 30 does not occur in any month the month field allows");
    assertRejected(
        "0 0 31 4,6,9,11 *",
        "day-of-month",
        5,
        "never fires: day-of-month 31 does not occur in any month the month field allows");
    CronExpression.parse("0 0 29 2 *");
    CronExpression.parse("0 0 30 2 MON");
    CronExpression.parse("0 0 31 ? *");
  }

  @Test
  void quartzDayRulesAreRejectedInVixieSyntaxWithAHint() {
    assertRejected(
        "0 0 L * *",
        "day-of-month",
        5,
        "'L' is a Quartz day rule (L, W or #), which Vixie syntax does not have; use the quartz syntax");
    assertRejected(
        "0 0 15W * *",
        "day-of-month",
        5,
        "'15W' is a Quartz day rule (L, W or #), which Vixie syntax does not have; use the quartz syntax");
    assertRejected(
        "0 0 * * 5#3",
        "day-of-week",
        9,
        "'5#3' is a Quartz day rule (L, W or #), which Vixie syntax does not have; use the quartz syntax");
  }

  @Test
  void quartzSyntaxAcceptsQuartzAndSpringExpressionsUnchanged() {
    for (String text :
        List.of(
            "0 0 12 * * ?",
            "0 15 10 ? * *",
            "0 15 10 * * ? 2025",
            "0 0/5 14 * * ?",
            "0 0/5 14,18 * * ?",
            "0 0-5 14 * * ?",
            "0 10,44 14 ? 3 WED",
            "0 15 10 ? * MON-FRI",
            "0 15 10 15 * ?",
            "0 15 10 L * ?",
            "0 15 10 L-2 * ?",
            "0 15 10 ? * 6L",
            "0 15 10 ? * 6L 2022-2035",
            "0 15 10 ? * 6#3",
            "0 0 12 1/5 * ?",
            "0 11 11 11 11 ?",
            "0 0 0 LW * ?",
            "0 0 0 15W * ?",
            "0 0 0 ? * L",
            "0 0 0 ? * FRI#2",
            "*/10 * * * * *",
            "0 0 9-17 * * MON-FRI")) {
      CronExpression expression = CronExpression.parse(text, Syntax.QUARTZ);
      assertTrue(expression.isResolved(), text);
      assertFalse(
          expression.next(Instant.parse("2024-01-01T00:00:00Z"), ZoneOffset.UTC)
              instanceof NextFire.Exhausted,
          text);
    }
  }

  @Test
  void quartzDayOfWeekCountsFromOneForSunday() {
    CronMatcher m = CronExpression.parse("0 0 0 ? * 1,7", Syntax.QUARTZ).matcher();
    assertEquals(List.of(0, 6), bits(m.daysOfWeek));
    assertEquals(
        List.of(1, 2, 3, 4, 5),
        bits(CronExpression.parse("0 0 0 ? * MON-FRI", Syntax.QUARTZ).matcher().daysOfWeek));
    assertEquals(
        List.of(6), bits(CronExpression.parse("0 0 0 ? * L", Syntax.QUARTZ).matcher().daysOfWeek));
  }

  @Test
  void quartzSyntaxRejectsWhatQuartzRejects() {
    assertQuartzRejected(
        "0 0 * * *",
        "expression",
        10,
        "expected 6 fields (second minute hour day-of-month month day-of-week) or 7 with a trailing year field, found 5");
    assertQuartzRejected(
        "0 ? 0 * * ?",
        "minute",
        3,
        "? is allowed only in day-of-month and day-of-week in quartz syntax");
    assertQuartzRejected(
        "0 0 0 ? * ?", "day-of-week", 11, "day-of-month and day-of-week cannot both be ?");
    assertQuartzRejected("0 0 0 ? * 0", "day-of-week", 11, "value 0 out of range 1-7");
    assertQuartzRejected("0 0 0 ? * 2#6", "day-of-week", 13, "value 6 out of range 1-5");
    assertQuartzRejected("0 0 0 32W * ?", "day-of-month", 7, "value 32 out of range 1-31");
    assertQuartzRejected("0 0 0 * * ? 1969", "year", 13, "value 1969 out of range 1970-2099");
  }

  @Test
  void aQuartzYearInThePastMeansTheScheduleIsExhausted() {
    CronExpression expression = CronExpression.parse("0 0 0 1 1 ? 2020", Syntax.QUARTZ);
    assertTrue(
        expression.next(Instant.parse("2021-01-01T00:00:00Z"), ZoneOffset.UTC)
            instanceof NextFire.Exhausted);
    assertEquals(
        Instant.parse("2020-01-01T00:00:00Z"),
        expression.next(Instant.parse("2019-06-01T00:00:00Z"), ZoneOffset.UTC).instant());
  }

  @Test
  void errorMessagesNameFieldColumnAndReason() {
    InvalidScheduleException error =
        assertThrows(InvalidScheduleException.class, () -> CronExpression.parse("0 0 1,32 * *"));
    assertEquals("day-of-month: column 7: value 32 out of range 1-31", error.getMessage());
  }

  @Test
  void nextIsStrictlyAfterTheGivenInstantEvenWithinASecond() {
    CronExpression everySecond = CronExpression.parse("* * * * * *");
    assertEquals(
        Instant.parse("2024-01-01T00:00:01Z"),
        everySecond.next(Instant.parse("2024-01-01T00:00:00Z"), ZoneOffset.UTC).instant());
    assertEquals(
        Instant.parse("2024-01-01T00:00:01Z"),
        everySecond.next(Instant.parse("2024-01-01T00:00:00.999Z"), ZoneOffset.UTC).instant());
    assertThrows(
        IllegalArgumentException.class,
        () -> everySecond.next(Instant.parse("+10000-01-01T00:00:00Z"), ZoneOffset.UTC));
  }
}
