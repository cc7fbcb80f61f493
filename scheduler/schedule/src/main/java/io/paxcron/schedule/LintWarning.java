package io.paxcron.schedule;

import java.util.Objects;

/**
 * Something legal but probably unintended in a Vixie-syntax expression.
 *
 * @param kind what the warning is about
 * @param field the field label, or {@code expression}
 * @param column the 1-based column where the suspicious text starts
 * @param message the explanation shown to the user, with the suggested fix
 */
public record LintWarning(Kind kind, String field, int column, String message) {
  public LintWarning {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(message, "message");
  }

  /** The kinds of warning {@link ScheduleLint} reports. */
  public enum Kind {
    /**
     * {@code ?} in day-of-month or day-of-week while the other day field is restricted: Quartz's
     * "no specific value".
     */
    QUARTZ_QUESTION_MARK,
    /** Seven fields: Quartz's trailing year field. */
    QUARTZ_YEAR_FIELD,
    /** {@code L}, {@code W} or {@code #}: Quartz day rules. */
    QUARTZ_DAY_RULE,
    /**
     * Six fields whose day-of-week uses 1-7 with a {@code ?} elsewhere: Quartz numbering (1 =
     * Sunday).
     */
    QUARTZ_DAY_NUMBERING,
    /** Both day fields restricted: Vixie runs on days matching <em>either</em>. */
    DAY_FIELDS_MATCH_EITHER,
    /** A step larger than the field's span ({@code 10-23/24}): only the range's start matches. */
    STEP_LARGER_THAN_SPAN
  }
}
