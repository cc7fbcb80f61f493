package io.paxcron.cli.crontab;

import java.util.Locale;

/**
 * The two crontab(5) layouts: a user's crontab, or a system crontab with a user field after the
 * schedule.
 */
public enum CrontabFormat {
  /** {@code crontab -e} files: schedule, then command. */
  USER,
  /** {@code /etc/crontab} and {@code /etc/cron.d/*}: schedule, user, then command. */
  SYSTEM;

  /** The flag value, {@code user} or {@code system}. */
  public String flag() {
    return name().toLowerCase(Locale.ROOT);
  }
}
