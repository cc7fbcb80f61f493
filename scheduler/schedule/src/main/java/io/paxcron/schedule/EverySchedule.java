package io.paxcron.schedule;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.Locale;
import java.util.Objects;

/**
 * {@code @every <duration>}: fires at every whole multiple of the period since the Unix epoch
 * (1970-01-01T00:00:00Z). Anchoring to the epoch rather than to the job's creation makes the fire
 * times a function of the schedule alone, identical on every replica and after failover. The zone
 * and DST policy do not matter: an interval is measured in real seconds.
 *
 * <p>Durations are written as one or more {@code <number><unit>} parts with units {@code d}, {@code
 * h}, {@code m}, {@code s}, each at most once and largest first, e.g. {@code 90s}, {@code 1h30m},
 * {@code 2d}.
 *
 * @param text the schedule as written
 * @param period the interval, between {@link #MIN_PERIOD} and {@link #MAX_PERIOD}
 */
public record EverySchedule(String text, Duration period) implements Schedule {
  public static final Duration MIN_PERIOD = Duration.ofSeconds(1);
  public static final Duration MAX_PERIOD = Duration.ofDays(31);

  public EverySchedule {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(period, "period");
    if (period.compareTo(MIN_PERIOD) < 0
        || period.compareTo(MAX_PERIOD) > 0
        || period.getNano() != 0) {
      throw new IllegalArgumentException(
          "period must be whole seconds from "
              + MIN_PERIOD
              + " to "
              + MAX_PERIOD
              + ", got "
              + period);
    }
  }

  /**
   * Parses {@code @every <duration>}.
   *
   * @throws InvalidScheduleException with the column and reason if the text is invalid
   */
  public static EverySchedule parse(String text) {
    Objects.requireNonNull(text, "text");
    if (text.length() > CronParser.MAX_EXPRESSION_LENGTH) {
      throw new InvalidScheduleException(
          "expression",
          CronParser.MAX_EXPRESSION_LENGTH + 1,
          "longer than the maximum of " + CronParser.MAX_EXPRESSION_LENGTH + " characters");
    }
    var words = CronParser.words(text);
    if (words.isEmpty() || !words.get(0).text().equalsIgnoreCase("@every")) {
      throw new InvalidScheduleException(
          "expression", words.isEmpty() ? 1 : words.get(0).column(), "expected @every <duration>");
    }
    if (words.size() == 1) {
      throw new InvalidScheduleException(
          "duration",
          text.length() + 1,
          "missing duration after @every, e.g. @every 90s or @every 1h30m");
    }
    if (words.size() > 2) {
      throw new InvalidScheduleException(
          "duration", words.get(2).column(), "unexpected text after the duration");
    }
    String duration = words.get(1).text().toLowerCase(Locale.ROOT);
    int column = words.get(1).column();
    String units = "dhms";
    long[] secondsPerUnit = {86_400, 3_600, 60, 1};
    long total = 0;
    int lastUnit = -1;
    int index = 0;
    while (index < duration.length()) {
      int start = index;
      while (index < duration.length() && Character.isDigit(duration.charAt(index))) {
        index++;
      }
      if (index == start) {
        throw new InvalidScheduleException("duration", column + index, "expected a number");
      }
      if (index - start > CronParser.MAX_DIGITS) {
        throw new InvalidScheduleException(
            "duration",
            column + start,
            "number has more than " + CronParser.MAX_DIGITS + " digits");
      }
      if (index == duration.length()) {
        throw new InvalidScheduleException(
            "duration",
            column + index,
            "missing unit after " + duration.substring(start) + "; expected d, h, m or s");
      }
      int unit = units.indexOf(duration.charAt(index));
      if (unit < 0) {
        throw new InvalidScheduleException(
            "duration",
            column + index,
            "unknown unit '" + duration.charAt(index) + "'; expected d, h, m or s");
      }
      if (unit <= lastUnit) {
        throw new InvalidScheduleException(
            "duration",
            column + index,
            "units must appear at most once, largest first (d, h, m, s)");
      }
      lastUnit = unit;
      total += Long.parseLong(duration.substring(start, index)) * secondsPerUnit[unit];
      index++;
    }
    if (total < MIN_PERIOD.getSeconds() || total > MAX_PERIOD.getSeconds()) {
      throw new InvalidScheduleException(
          "duration",
          column,
          "duration "
              + total
              + "s out of range "
              + MIN_PERIOD.getSeconds()
              + "s-"
              + MAX_PERIOD.getSeconds()
              + "s (1s to 31d)");
    }
    return new EverySchedule(text, Duration.ofSeconds(total));
  }

  @Override
  public NextFire next(Instant after, ZoneId zone, DstPolicy policy) {
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(policy, "policy");
    long periodSeconds = period.getSeconds();
    long second = (Math.floorDiv(after.getEpochSecond(), periodSeconds) + 1) * periodSeconds;
    Instant instant = Instant.ofEpochSecond(second);
    return new NextFire.Run(instant, LocalDateTime.ofInstant(instant, zone));
  }
}
