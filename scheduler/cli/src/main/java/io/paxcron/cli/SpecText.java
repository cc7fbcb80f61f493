package io.paxcron.cli;

import io.paxcron.schedule.DstPolicy;
import io.paxcron.scheduler.MisfirePolicy;
import io.paxcron.scheduler.RetryPolicy;
import java.time.Duration;
import java.util.Locale;

/**
 * Job-spec values as people write them ({@code 1h30m}, {@code at-most-once}), the same in plans and
 * in {@code job}.
 */
final class SpecText {
  private SpecText() {}

  static String duration(Duration duration) {
    if (duration.isNegative() || duration.getNano() != 0 || duration.isZero()) {
      return duration.toString();
    }
    long seconds = duration.getSeconds();
    StringBuilder out = new StringBuilder();
    long[] units = {86_400, 3600, 60, 1};
    String[] names = {"d", "h", "m", "s"};
    for (int i = 0; i < units.length; i++) {
      if (seconds >= units[i]) {
        out.append(seconds / units[i]).append(names[i]);
        seconds %= units[i];
      }
    }
    return out.toString();
  }

  static String enumText(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  static String dst(DstPolicy policy) {
    return "gap " + enumText(policy.gap()) + ", overlap " + enumText(policy.overlap());
  }

  static String retries(RetryPolicy retries) {
    return retries.maxAttempts() == 1
        ? "none (1 attempt)"
        : retries.maxAttempts()
            + " attempts, backoff "
            + duration(retries.backoffBase())
            + ".."
            + duration(retries.backoffMax())
            + ", jitter "
            + retries.jitterPercent()
            + "%";
  }

  static String misfire(MisfirePolicy misfire) {
    return enumText(misfire.mode())
        + " within "
        + duration(misfire.window())
        + ", at most "
        + misfire.maxCount();
  }
}
