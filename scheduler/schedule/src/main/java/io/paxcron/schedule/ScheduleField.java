package io.paxcron.schedule;

/**
 * The fields of a schedule expression, with their valid ranges in the {@link Syntax#VIXIE} dialect.
 * {@link Syntax#QUARTZ} numbers day-of-week 1-7 and adds {@link #YEAR}.
 */
public enum ScheduleField {
  SECOND("second", 0, 59),
  MINUTE("minute", 0, 59),
  HOUR("hour", 0, 23),
  DAY_OF_MONTH("day-of-month", 1, 31),
  MONTH("month", 1, 12),
  DAY_OF_WEEK("day-of-week", 0, 7),
  YEAR("year", 1970, 2099);

  private final String label;
  private final int min;
  private final int max;

  ScheduleField(String label, int min, int max) {
    this.label = label;
    this.min = min;
    this.max = max;
  }

  /** The name used in error messages and documentation, e.g. {@code day-of-month}. */
  public String label() {
    return label;
  }

  /** Smallest value accepted in the Vixie dialect. */
  public int min() {
    return min;
  }

  /** Largest value accepted in the Vixie dialect. */
  public int max() {
    return max;
  }
}
