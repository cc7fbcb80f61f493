package io.paxcron.cli.crontab;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people write them in crontab annotations and flags: {@code 90s}, {@code 5m}, {@code
 * 1h30m}, {@code 2d}.
 */
public final class Durations {
  private static final Pattern DURATION =
      Pattern.compile("(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");

  private Durations() {}

  /** The duration, or null when the text is malformed, zero or too large. */
  public static Duration parse(String text) {
    Matcher matcher = DURATION.matcher(text);
    if (text.isEmpty() || !matcher.matches()) {
      return null;
    }
    long seconds = 0;
    long[] unit = {86_400, 3600, 60, 1};
    try {
      for (int group = 1; group <= 4; group++) {
        if (matcher.group(group) != null) {
          seconds =
              Math.addExact(
                  seconds,
                  Math.multiplyExact(Long.parseLong(matcher.group(group)), unit[group - 1]));
        }
      }
    } catch (ArithmeticException | NumberFormatException e) {
      return null;
    }
    return seconds == 0 ? null : Duration.ofSeconds(seconds);
  }
}
