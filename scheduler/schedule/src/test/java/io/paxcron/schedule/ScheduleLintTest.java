package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduleLintTest {
  static List<LintWarning.Kind> kinds(String text) {
    return ScheduleLint.lint(text).stream().map(LintWarning::kind).toList();
  }

  @Test
  void plainVixieExpressionsGetNoWarnings() {
    for (String text :
        List.of(
            "*/5 * * * *",
            "0 9 * * MON-FRI",
            "? ? * * *",
            "0 0 1 JUL *",
            "0 0 * * SAT",
            "@daily",
            "@every 5m",
            "0 0 ? * *")) {
      assertEquals(List.of(), kinds(text), text);
    }
  }

  @Test
  void questionMarkBesideARestrictedDayFieldLooksLikeQuartz() {
    List<LintWarning> warnings = ScheduleLint.lint("0 12 ? * MON");
    assertEquals(1, warnings.size());
    assertEquals(
        new LintWarning(
            LintWarning.Kind.QUARTZ_QUESTION_MARK, "day-of-month", 6, warnings.get(0).message()),
        warnings.get(0));
    assertEquals(List.of(LintWarning.Kind.QUARTZ_QUESTION_MARK), kinds("0 12 15 * ?"));
    assertEquals(List.of(LintWarning.Kind.QUARTZ_QUESTION_MARK), kinds("0 0 12 ? * MON"));
    assertEquals(List.of(LintWarning.Kind.QUARTZ_QUESTION_MARK), kinds("0 12 ? * ?"));
  }

  @Test
  void sevenFieldsAndQuartzDayRulesAreFlagged() {
    assertEquals(
        List.of(LintWarning.Kind.QUARTZ_QUESTION_MARK, LintWarning.Kind.QUARTZ_YEAR_FIELD),
        kinds("0 15 10 ? * MON 2025"));
    assertEquals(List.of(LintWarning.Kind.QUARTZ_DAY_RULE), kinds("0 0 L * *"));
    assertEquals(List.of(LintWarning.Kind.QUARTZ_DAY_RULE), kinds("0 0 15W * *"));
    assertEquals(List.of(LintWarning.Kind.QUARTZ_DAY_RULE), kinds("0 0 * * 5#3"));
    assertEquals(List.of(LintWarning.Kind.QUARTZ_DAY_RULE), kinds("0 0 * * 5L"));
    assertEquals(10, ScheduleLint.lint("0 0 * * 5#3").get(0).column());
  }

  @Test
  void bothDayFieldsRestrictedWarnsThatEitherMatches() {
    assertEquals(List.of(LintWarning.Kind.DAY_FIELDS_MATCH_EITHER), kinds("0 0 13 * FRI"));
  }

  @Test
  void questionMarkNextToSevenInDayOfWeekWarnsAboutQuartzNumbering() {
    assertEquals(
        List.of(LintWarning.Kind.QUARTZ_QUESTION_MARK, LintWarning.Kind.QUARTZ_DAY_NUMBERING),
        kinds("0 0 0 ? * 7"));
  }

  @Test
  void stepLargerThanTheSpanIsAcceptedAsItsStartAndWarned() {
    List<LintWarning> warnings = ScheduleLint.lint("5 10-23/24 * * *");
    assertEquals(1, warnings.size(), warnings.toString());
    assertEquals(LintWarning.Kind.STEP_LARGER_THAN_SPAN, warnings.get(0).kind());
    assertEquals("hour", warnings.get(0).field());
    assertEquals(9, warnings.get(0).column());
    assertEquals(List.of(LintWarning.Kind.STEP_LARGER_THAN_SPAN), kinds("*/60 * * * *"));
    assertEquals(List.of(), kinds("5 5-23/18 * * *"));
    CronExpression once = CronExpression.parse("5 10-23/24 * * *");
    NextFire first =
        once.next(
            java.time.Instant.parse("2026-01-01T00:00:00Z"),
            java.time.ZoneOffset.UTC,
            DstPolicy.DEFAULT);
    NextFire second =
        once.next(((NextFire.Run) first).instant(), java.time.ZoneOffset.UTC, DstPolicy.DEFAULT);
    assertEquals(java.time.Instant.parse("2026-01-01T10:05:00Z"), ((NextFire.Run) first).instant());
    assertEquals(
        java.time.Instant.parse("2026-01-02T10:05:00Z"), ((NextFire.Run) second).instant());
  }
}
