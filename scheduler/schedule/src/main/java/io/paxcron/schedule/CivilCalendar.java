package io.paxcron.schedule;

/**
 * Proleptic Gregorian calendar arithmetic on primitive values, so the evaluator's inner loop
 * allocates nothing. Days are counted from 1970-01-01 (epoch day 0, a Thursday); day-of-week
 * numbers are 0 = Sunday … 6 = Saturday, as in crontab.
 *
 * <p>The day-count conversions use the era decomposition (400-year eras of 146,097 days, years
 * starting on 1 March so the leap day is last) described in H. Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms".
 */
final class CivilCalendar {
  static final int SECONDS_PER_DAY = 86_400;

  private CivilCalendar() {}

  static long epochDay(int year, int month, int day) {
    long y = month <= 2 ? year - 1L : year;
    long era = Math.floorDiv(y, 400);
    long yearOfEra = y - era * 400;
    int shiftedMonth = month > 2 ? month - 3 : month + 9;
    long dayOfYear = (153L * shiftedMonth + 2) / 5 + day - 1;
    long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
    return era * 146_097 + dayOfEra - 719_468;
  }

  /** Returns year, month and day packed as {@code year << 16 | month << 8 | day}. */
  static long civil(long epochDay) {
    long z = epochDay + 719_468;
    long era = Math.floorDiv(z, 146_097);
    long dayOfEra = z - era * 146_097;
    long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
    long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
    long shiftedMonth = (5 * dayOfYear + 2) / 153;
    long day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1;
    long month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
    long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    return year << 16 | month << 8 | day;
  }

  static int year(long packed) {
    return (int) (packed >> 16);
  }

  static int month(long packed) {
    return (int) (packed >> 8) & 0xFF;
  }

  static int day(long packed) {
    return (int) packed & 0xFF;
  }

  static int dayOfWeek(long epochDay) {
    return (int) Math.floorMod(epochDay + 4, 7L);
  }

  static boolean isLeapYear(int year) {
    return (year & 3) == 0 && (year % 100 != 0 || year % 400 == 0);
  }

  static int lengthOfMonth(int year, int month) {
    return switch (month) {
      case 2 -> isLeapYear(year) ? 29 : 28;
      case 4, 6, 9, 11 -> 30;
      default -> 31;
    };
  }
}
