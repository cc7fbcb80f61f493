package io.paxcron.schedule;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Warnings for Vixie-syntax expressions that look as if they were written for Quartz or Spring,
 * where {@code ?} means "no specific value" rather than "the cluster picks one value". Works on the
 * raw text, so it also explains expressions the Vixie parser rejects (seven fields, {@code L},
 * {@code W}, {@code #}). Pure and stateless.
 */
public final class ScheduleLint {
  private static final String USE_QUARTZ =
      "; if this was written for Quartz or Spring, use --syntax=quartz";

  private ScheduleLint() {}

  /** The warnings for {@code text} read as a Vixie expression, in column order; empty if none. */
  public static List<LintWarning> lint(String text) {
    Objects.requireNonNull(text, "text");
    List<LintWarning> warnings = new ArrayList<>();
    if (text.length() > CronParser.MAX_EXPRESSION_LENGTH) {
      return warnings;
    }
    List<FieldToken> words = CronParser.words(text);
    if (words.isEmpty() || words.get(0).text().startsWith("@")) {
      return warnings;
    }
    List<ScheduleField> fields =
        words.size() == 7
            ? CronParser.fieldsFor(7, Syntax.QUARTZ)
            : CronParser.fieldsFor(words.size(), Syntax.VIXIE);
    if (fields == null) {
      return warnings;
    }
    if (words.size() == 7) {
      FieldToken year = words.get(6);
      warnings.add(
          new LintWarning(
              LintWarning.Kind.QUARTZ_YEAR_FIELD,
              "expression",
              year.column(),
              "7 fields: the last one looks like a Quartz year field; Vixie syntax takes 5 or 6 fields"
                  + USE_QUARTZ));
    }
    FieldToken dayOfMonth = null;
    FieldToken dayOfWeek = null;
    for (int i = 0; i < fields.size(); i++) {
      FieldToken word = words.get(i);
      ScheduleField field = fields.get(i);
      if (field == ScheduleField.DAY_OF_MONTH) {
        dayOfMonth = word;
      } else if (field == ScheduleField.DAY_OF_WEEK) {
        dayOfWeek = word;
      }
      if (field == ScheduleField.DAY_OF_MONTH || field == ScheduleField.DAY_OF_WEEK) {
        dayRules(field, word, warnings);
      }
      largeSteps(field, word, warnings);
    }
    if (dayOfMonth == null || dayOfWeek == null) {
      return warnings;
    }
    boolean dayOfMonthQuestion = dayOfMonth.text().equals("?");
    boolean dayOfWeekQuestion = dayOfWeek.text().equals("?");
    boolean dayOfMonthRestricted = !dayOfMonth.text().startsWith("*");
    boolean dayOfWeekRestricted = !dayOfWeek.text().startsWith("*");
    if (dayOfMonthQuestion && dayOfWeekQuestion) {
      warnings.add(
          new LintWarning(
              LintWarning.Kind.QUARTZ_QUESTION_MARK,
              ScheduleField.DAY_OF_WEEK.label(),
              dayOfWeek.column(),
              "? in both day fields: the cluster picks a day-of-month and a day-of-week, "
                  + "and the job runs on days matching either (about 5 days a month)"
                  + USE_QUARTZ));
    } else if (dayOfMonthQuestion && dayOfWeekRestricted
        || dayOfWeekQuestion && dayOfMonthRestricted) {
      FieldToken question = dayOfMonthQuestion ? dayOfMonth : dayOfWeek;
      ScheduleField field =
          dayOfMonthQuestion ? ScheduleField.DAY_OF_MONTH : ScheduleField.DAY_OF_WEEK;
      warnings.add(
          new LintWarning(
              LintWarning.Kind.QUARTZ_QUESTION_MARK,
              field.label(),
              question.column(),
              "? next to a restricted "
                  + (dayOfMonthQuestion ? "day-of-week" : "day-of-month")
                  + " looks like Quartz's \"no specific value\"; here ? means the cluster picks one "
                  + field.label()
                  + " and the job also runs on that day"
                  + USE_QUARTZ));
    } else if (dayOfMonthRestricted
        && dayOfWeekRestricted
        && !dayOfMonthQuestion
        && !dayOfWeekQuestion
        && !hasDayRule(dayOfMonth)
        && !hasDayRule(dayOfWeek)) {
      warnings.add(
          new LintWarning(
              LintWarning.Kind.DAY_FIELDS_MATCH_EITHER,
              ScheduleField.DAY_OF_WEEK.label(),
              dayOfWeek.column(),
              "both day-of-month and day-of-week are restricted: the job runs on days "
                  + "matching either one (Vixie rule), not both"));
    }
    if (fields.size() >= 6
        && (dayOfMonthQuestion || dayOfWeekQuestion)
        && usesQuartzDayNumbers(dayOfWeek)) {
      warnings.add(
          new LintWarning(
              LintWarning.Kind.QUARTZ_DAY_NUMBERING,
              ScheduleField.DAY_OF_WEEK.label(),
              dayOfWeek.column(),
              "day-of-week "
                  + dayOfWeek.text()
                  + " next to ? may use Quartz numbering "
                  + "(1 = Sunday); in Vixie syntax 0 and 7 are Sunday and 1 is Monday"
                  + USE_QUARTZ));
    }
    warnings.sort((a, b) -> Integer.compare(a.column(), b.column()));
    return List.copyOf(warnings);
  }

  private static void largeSteps(ScheduleField field, FieldToken word, List<LintWarning> warnings) {
    String text = word.text();
    int itemStart = 0;
    for (String item : text.split(",", -1)) {
      int slash = item.indexOf('/');
      if (slash >= 0
          && slash + 1 < item.length()
          && item.length() - slash <= 10
          && item.substring(slash + 1).chars().allMatch(Character::isDigit)) {
        long step = Long.parseLong(item.substring(slash + 1));
        if (step > field.max() - field.min()) {
          String start = item.substring(0, slash);
          warnings.add(
              new LintWarning(
                  LintWarning.Kind.STEP_LARGER_THAN_SPAN,
                  field.label(),
                  word.column() + itemStart + slash + 1,
                  "step "
                      + step
                      + " is larger than the "
                      + field.label()
                      + " span "
                      + field.min()
                      + "-"
                      + field.max()
                      + ": '"
                      + item
                      + "' matches only "
                      + (start.equals("*") ? field.min() : "the start of " + start)));
        }
      }
      itemStart += item.length() + 1;
    }
  }

  private static void dayRules(ScheduleField field, FieldToken word, List<LintWarning> warnings) {
    String upper = word.text().toUpperCase(Locale.ROOT);
    for (int i = 0; i < upper.length(); i++) {
      char c = upper.charAt(i);
      if (c == '#' || (c == 'L' || c == 'W') && !partOfName(upper, i)) {
        String meaning =
            c == '#'
                ? "# (the n-th weekday of the month)"
                : c == 'L' ? "L (last day)" : "W (nearest weekday)";
        warnings.add(
            new LintWarning(
                LintWarning.Kind.QUARTZ_DAY_RULE,
                field.label(),
                word.column() + i,
                meaning + " is a Quartz day rule that Vixie syntax does not have" + USE_QUARTZ));
        return;
      }
    }
  }

  /** Whether the letter at {@code index} belongs to a three-letter name such as JUL, WED or SAT. */
  private static boolean partOfName(String upper, int index) {
    int start = index;
    while (start > 0 && Character.isLetter(upper.charAt(start - 1))) {
      start--;
    }
    int end = index;
    while (end < upper.length() && Character.isLetter(upper.charAt(end))) {
      end++;
    }
    String word = upper.substring(start, end);
    return CronParser.DAY_NAMES.contains(word) || CronParser.MONTH_NAMES.contains(word);
  }

  private static boolean hasDayRule(FieldToken word) {
    String upper = word.text().toUpperCase(Locale.ROOT);
    return upper.contains("#") || upper.matches(".*\\d[LW].*") || upper.startsWith("L");
  }

  private static boolean usesQuartzDayNumbers(FieldToken dayOfWeek) {
    String text = dayOfWeek.text();
    return !text.equals("?") && text.matches("[0-9,/-]+") && text.chars().anyMatch(c -> c == '7');
  }
}
