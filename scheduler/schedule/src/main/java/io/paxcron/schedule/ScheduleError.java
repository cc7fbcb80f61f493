package io.paxcron.schedule;

import java.util.Objects;

/**
 * Why a schedule expression, {@code @every} duration or time-zone id was rejected.
 *
 * @param field the field label ({@code minute}, {@code day-of-month}, …) or {@code expression} when
 *     the problem is the expression as a whole, or {@code time-zone}
 * @param column the 1-based column in the input where the problem starts
 * @param reason what is wrong, in a sentence fragment without the field or column
 */
public record ScheduleError(String field, int column, String reason) {
  public ScheduleError {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(reason, "reason");
    if (column < 1) {
      throw new IllegalArgumentException("column is 1-based, got " + column);
    }
  }

  /**
   * The message shown to users, e.g. {@code day-of-month: column 7: value 32 out of range 1-31}.
   */
  public String message() {
    return field + ": column " + column + ": " + reason;
  }
}
