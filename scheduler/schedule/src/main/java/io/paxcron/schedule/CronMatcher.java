package io.paxcron.schedule;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The compiled form of a fully resolved cron expression: one bit mask per field, and the Quartz day
 * specials. Finds the next matching local wall-clock time without allocating; time-zone and
 * daylight-saving handling live in {@link CronExpression#next}.
 *
 * <p>Local times are "local epoch seconds": the seconds since 1970-01-01T00:00 of the wall clock,
 * as if the zone were UTC. Immutable and thread-safe.
 */
final class CronMatcher {
  /** Returned by {@link #nextLocalMatch} when nothing matches within the search horizon. */
  static final long NONE = Long.MIN_VALUE;

  /**
   * How far ahead {@link #nextLocalMatch} looks. Every expression that fires at all fires at least
   * once in any 400-year Gregorian cycle, so this horizon loses no fire.
   */
  static final int SEARCH_HORIZON_YEARS = 400;

  static final long ALL_HOURS = (1L << 24) - 1;
  static final int FIRST_YEAR = ScheduleField.YEAR.min();
  static final int LAST_YEAR = ScheduleField.YEAR.max();

  final long seconds;
  final long minutes;
  final long hours;

  /** Bits 1-31. */
  final long daysOfMonth;

  /** Bits 1-12. */
  final long months;

  /** Bits 0-6, 0 = Sunday. */
  final long daysOfWeek;

  /** Vixie: both day fields restricted, so a day matches if either matches. Otherwise both must. */
  final boolean eitherDayField;

  /** Bits for years {@value #FIRST_YEAR}+i, or null when any year matches. */
  final long[] years;

  /** Quartz {@code L-n}: bit n set for "n days before the last day" ({@code L} is n = 0). */
  final long lastDayOffsets;

  /** Quartz {@code LW}. */
  final boolean lastWeekday;

  /** Quartz {@code nW}: bit n set for "the weekday nearest day n". */
  final long nearestWeekdays;

  /** Quartz {@code xL}: bit x (0 = Sunday) set for "the last x of the month". */
  final long lastDaysOfWeek;

  /** Quartz {@code x#k}: bit {@code x * 8 + k} set for "the k-th x of the month". */
  final long nthDaysOfWeek;

  private final boolean daySpecials;

  /** For each weekday of the 1st of a month, the days 1-31 whose weekday is in daysOfWeek. */
  private final long[] daysOfWeekByFirstWeekday = new long[7];

  CronMatcher(
      long seconds,
      long minutes,
      long hours,
      long daysOfMonth,
      long months,
      long daysOfWeek,
      boolean eitherDayField,
      long[] years,
      long lastDayOffsets,
      boolean lastWeekday,
      long nearestWeekdays,
      long lastDaysOfWeek,
      long nthDaysOfWeek) {
    this.seconds = seconds;
    this.minutes = minutes;
    this.hours = hours;
    this.daysOfMonth = daysOfMonth;
    this.months = months;
    this.daysOfWeek = daysOfWeek;
    this.eitherDayField = eitherDayField;
    this.years = years == null ? null : years.clone();
    this.lastDayOffsets = lastDayOffsets;
    this.lastWeekday = lastWeekday;
    this.nearestWeekdays = nearestWeekdays;
    this.lastDaysOfWeek = lastDaysOfWeek;
    this.nthDaysOfWeek = nthDaysOfWeek;
    this.daySpecials =
        lastDayOffsets != 0
            || lastWeekday
            || nearestWeekdays != 0
            || lastDaysOfWeek != 0
            || nthDaysOfWeek != 0;
    for (int first = 0; first < 7; first++) {
      long mask = 0;
      for (int day = 1; day <= 31; day++) {
        if ((daysOfWeek >>> ((first + day - 1) % 7) & 1) != 0) {
          mask |= 1L << day;
        }
      }
      daysOfWeekByFirstWeekday[first] = mask;
    }
  }

  boolean matchesEveryHour() {
    return hours == ALL_HOURS;
  }

  boolean matches(long local) {
    return nextLocalMatch(local) == local;
  }

  /**
   * The first local time at or after {@code fromLocal} that matches, or {@link #NONE} if there is
   * none within {@value #SEARCH_HORIZON_YEARS} years.
   */
  long nextLocalMatch(long fromLocal) {
    long epochDay = Math.floorDiv(fromLocal, CivilCalendar.SECONDS_PER_DAY);
    int secondOfDay = (int) (fromLocal - epochDay * CivilCalendar.SECONDS_PER_DAY);
    long ymd = CivilCalendar.civil(epochDay);
    int year = CivilCalendar.year(ymd);
    int month = CivilCalendar.month(ymd);
    int day = CivilCalendar.day(ymd);
    int hour = secondOfDay / 3600;
    int minute = secondOfDay / 60 % 60;
    int second = secondOfDay % 60;
    int lastYear = year + SEARCH_HORIZON_YEARS;
    while (true) {
      if (year > lastYear) {
        return NONE;
      }
      if (years != null && !yearMatches(year)) {
        int next = nextYear(year);
        if (next < 0) {
          return NONE;
        }
        year = next;
        month = 1;
        day = 1;
        hour = minute = second = 0;
        continue;
      }
      long monthBits = months & (-1L << month);
      if (monthBits == 0) {
        year++;
        month = 1;
        day = 1;
        hour = minute = second = 0;
        continue;
      }
      int nextMonth = Long.numberOfTrailingZeros(monthBits);
      if (nextMonth != month) {
        month = nextMonth;
        day = 1;
        hour = minute = second = 0;
      }
      long dayBits = dayMask(year, month) & (-1L << day);
      if (dayBits == 0) {
        month++;
        day = 1;
        hour = minute = second = 0;
        continue;
      }
      int nextDay = Long.numberOfTrailingZeros(dayBits);
      if (nextDay != day) {
        day = nextDay;
        hour = minute = second = 0;
      }
      long hourBits = hours & (-1L << hour);
      if (hourBits == 0) {
        day++;
        hour = minute = second = 0;
        continue;
      }
      int nextHour = Long.numberOfTrailingZeros(hourBits);
      if (nextHour != hour) {
        hour = nextHour;
        minute = second = 0;
      }
      long minuteBits = minutes & (-1L << minute);
      if (minuteBits == 0) {
        hour++;
        minute = second = 0;
        continue;
      }
      int nextMinute = Long.numberOfTrailingZeros(minuteBits);
      if (nextMinute != minute) {
        minute = nextMinute;
        second = 0;
      }
      long secondBits = seconds & (-1L << second);
      if (secondBits == 0) {
        minute++;
        second = 0;
        continue;
      }
      second = Long.numberOfTrailingZeros(secondBits);
      return CivilCalendar.epochDay(year, month, day) * CivilCalendar.SECONDS_PER_DAY
          + hour * 3600L
          + minute * 60L
          + second;
    }
  }

  /** The days (bits 1-31) of the given month on which the expression fires. */
  long dayMask(int year, int month) {
    int length = CivilCalendar.lengthOfMonth(year, month);
    int firstWeekday = CivilCalendar.dayOfWeek(CivilCalendar.epochDay(year, month, 1));
    long inMonth = (1L << (length + 1)) - 2;
    long byDayOfMonth = daysOfMonth & inMonth;
    long byDayOfWeek = daysOfWeekByFirstWeekday[firstWeekday] & inMonth;
    if (daySpecials) {
      byDayOfMonth |= dayOfMonthSpecials(length, firstWeekday);
      byDayOfWeek |= dayOfWeekSpecials(length, firstWeekday);
    }
    return eitherDayField ? byDayOfMonth | byDayOfWeek : byDayOfMonth & byDayOfWeek;
  }

  private long dayOfMonthSpecials(int length, int firstWeekday) {
    long bits = 0;
    for (long offsets = lastDayOffsets; offsets != 0; offsets &= offsets - 1) {
      int day = length - Long.numberOfTrailingZeros(offsets);
      if (day >= 1) {
        bits |= 1L << day;
      }
    }
    if (lastWeekday) {
      int weekday = (firstWeekday + length - 1) % 7;
      int day = weekday == 6 ? length - 1 : weekday == 0 ? length - 2 : length;
      bits |= 1L << day;
    }
    for (long nearest = nearestWeekdays; nearest != 0; nearest &= nearest - 1) {
      int target = Long.numberOfTrailingZeros(nearest);
      if (target > length) {
        continue;
      }
      int weekday = (firstWeekday + target - 1) % 7;
      int day = target;
      if (weekday == 6) {
        day = target > 1 ? target - 1 : target + 2;
      } else if (weekday == 0) {
        day = target < length ? target + 1 : target - 2;
      }
      bits |= 1L << day;
    }
    return bits;
  }

  private long dayOfWeekSpecials(int length, int firstWeekday) {
    long bits = 0;
    int lastWeekdayOfMonth = (firstWeekday + length - 1) % 7;
    for (long last = lastDaysOfWeek; last != 0; last &= last - 1) {
      int weekday = Long.numberOfTrailingZeros(last);
      bits |= 1L << (length - (lastWeekdayOfMonth - weekday + 7) % 7);
    }
    for (long nth = nthDaysOfWeek; nth != 0; nth &= nth - 1) {
      int bit = Long.numberOfTrailingZeros(nth);
      int weekday = bit / 8;
      int ordinal = bit % 8;
      int day = 1 + (weekday - firstWeekday + 7) % 7 + 7 * (ordinal - 1);
      if (day <= length) {
        bits |= 1L << day;
      }
    }
    return bits;
  }

  private boolean yearMatches(int year) {
    if (year < FIRST_YEAR || year > LAST_YEAR) {
      return false;
    }
    int index = year - FIRST_YEAR;
    return (years[index >>> 6] >>> (index & 63) & 1) != 0;
  }

  private int nextYear(int year) {
    for (int candidate = Math.max(year, FIRST_YEAR); candidate <= LAST_YEAR; candidate++) {
      if (yearMatches(candidate)) {
        return candidate;
      }
    }
    return -1;
  }

  static LocalDateTime toLocalDateTime(long local) {
    return LocalDateTime.ofEpochSecond(local, 0, ZoneOffset.UTC);
  }
}
