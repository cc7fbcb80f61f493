package io.paxcron.schedule;

import java.util.Objects;

/**
 * An operating error: the user's schedule input is invalid. Carries the {@link ScheduleError} so
 * callers can report the field, the column and the reason separately (for example as a field path
 * in an API error, or as {@code file:line:col} for crontab files).
 */
public final class InvalidScheduleException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final transient ScheduleError error;

  public InvalidScheduleException(ScheduleError error) {
    super(Objects.requireNonNull(error, "error").message());
    this.error = error;
  }

  InvalidScheduleException(String field, int column, String reason) {
    this(new ScheduleError(field, column, reason));
  }

  public ScheduleError error() {
    return error;
  }
}
