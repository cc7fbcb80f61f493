package io.paxcron.schedule;

import java.time.Instant;
import java.time.ZoneId;
import java.util.Locale;
import java.util.Objects;

/**
 * When a job runs: a {@link CronExpression} or an {@link EverySchedule}. Implementations are
 * immutable, thread-safe and pure: time comes in as arguments, never from a clock.
 */
public sealed interface Schedule permits CronExpression, EverySchedule {

  /** The expression as the user wrote it. */
  String text();

  /**
   * The next scheduled instant strictly after {@code after} in {@code zone}, following {@code
   * policy} across daylight-saving transitions.
   */
  NextFire next(Instant after, ZoneId zone, DstPolicy policy);

  /** {@link #next(Instant, ZoneId, DstPolicy)} with {@link DstPolicy#DEFAULT}. */
  default NextFire next(Instant after, ZoneId zone) {
    return next(after, zone, DstPolicy.DEFAULT);
  }

  /** Parses a Vixie expression, a macro, or {@code @every <duration>}. */
  static Schedule parse(String text) {
    return parse(text, Syntax.VIXIE);
  }

  /**
   * Parses a schedule in the given syntax; {@code @every <duration>} is accepted in both.
   *
   * @throws InvalidScheduleException with the field, column and reason if {@code text} is invalid
   */
  static Schedule parse(String text, Syntax syntax) {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(syntax, "syntax");
    String trimmed = text.stripLeading();
    if (trimmed.toLowerCase(Locale.ROOT).startsWith("@every")
        && (trimmed.length() == 6 || trimmed.charAt(6) == ' ' || trimmed.charAt(6) == '\t')) {
      return EverySchedule.parse(text);
    }
    return CronExpression.parse(text, syntax);
  }

  /**
   * Parses like {@link #parse(String, Syntax)}, but also accepts an expression that matches no date
   * at all, such as {@code 0 0 30 2 *} (real crontabs use it to disable a job); its {@code next} is
   * {@link NextFire.Exhausted}. For jobs kept paused; an expression with {@code ?} must still be
   * able to fire, since the cluster resolves it.
   *
   * @throws InvalidScheduleException with the field, column and reason if {@code text} is invalid
   */
  static Schedule parseMayNeverFire(String text, Syntax syntax) {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(syntax, "syntax");
    if (text.stripLeading().startsWith("@")) {
      return parse(text, syntax);
    }
    CronExpression lenient = CronParser.parse(text, syntax, false);
    return lenient.questionMarks().isEmpty() ? lenient : parse(text, syntax);
  }
}
