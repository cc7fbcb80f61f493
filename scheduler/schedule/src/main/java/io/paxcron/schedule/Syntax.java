package io.paxcron.schedule;

/**
 * Which dialect a schedule expression is written in.
 *
 * <p>The dialects disagree on {@code ?}: in {@link #VIXIE} (the default) it is Google's "any single
 * value, chosen by the cluster"; in {@link #QUARTZ} it is "no specific value" in the day-of-month
 * or day-of-week field. An expression is always parsed in exactly one dialect.
 */
public enum Syntax {
  /**
   * Vixie crontab: 5 fields, or 6 with a leading seconds field; macros; {@code @every}; Google's
   * {@code ?}. Day-of-week 0-7 with 0 and 7 meaning Sunday.
   */
  VIXIE,
  /**
   * Quartz and Spring: 6 or 7 fields (seconds first, optional year last); {@code ?}, {@code L},
   * {@code W}, {@code #}. Day-of-week 1-7 with 1 meaning Sunday.
   */
  QUARTZ
}
