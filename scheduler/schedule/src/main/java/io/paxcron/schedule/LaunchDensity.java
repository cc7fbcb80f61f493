package io.paxcron.schedule;

import java.time.Instant;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.Objects;

/**
 * How many launches the job set makes in each minute of a week: 10,080 buckets, bucket 0 being
 * Sunday 00:00 UTC. The week is treated as circular (a weekly steady state), which is what {@code
 * ?} resolution flattens.
 *
 * <p>The model is deliberately conservative where a week cannot say exactly: a job restricted by
 * day-of-month (or month) counts on every weekday at its times, since over the months that day
 * lands on each weekday; a job's zone offset is the one in force at the reference instant given to
 * {@link #add}. It also keeps coarse load counts per second-of-minute, day-of-month and month for
 * resolving {@code ?} in those fields.
 *
 * <p>Mutable and not thread-safe: owned by one thread (the scheduler state machine), which adds
 * each job once its {@code ?} values are chosen and removes it (with the same zone and reference)
 * when the job changes or goes, so the density is kept up to date without walking every job.
 */
public final class LaunchDensity {
  public static final int MINUTES_PER_WEEK = 10_080;
  static final int MINUTES_PER_DAY = 1_440;

  private static final long EVERY_WEEKDAY = CronParser.rangeBits(0, 6);
  private static final long EVERY_HOUR = CronParser.rangeBits(0, 23);
  private static final long EVERY_MINUTE_OF_HOUR = CronParser.rangeBits(0, 59);

  private final long[] launchesPerMinute = new long[MINUTES_PER_WEEK];
  private final long[] loadBySecond = new long[60];
  private final long[] loadByDayOfMonth = new long[32];
  private final long[] loadByMonth = new long[13];

  /**
   * Per UTC minute of the day (1,440 entries): the launches of that minute summed over the seven
   * days of the week, and their largest. A {@code ?} job that runs every day at one chosen time
   * ({@code ? ? * * *}) touches exactly the seven minutes of one entry, so {@link
   * QuestionMarkResolver} reads one entry per candidate time instead of seven minutes.
   */
  private final long[] sumByMinuteOfDay = new long[MINUTES_PER_DAY];

  /** The largest of the seven minutes of each entry, or -1 when a removal may have lowered it. */
  private final long[] maxByMinuteOfDay = new long[MINUTES_PER_DAY];

  /** Whether some entry of {@link #maxByMinuteOfDay} is -1. */
  private boolean someMaxOfDayStale;

  /**
   * Per UTC minute of the hour (60 entries): the launches summed over the 168 hours of the week,
   * and their largest. A job that runs every hour at one chosen minute ({@code ? * * * *}) touches
   * exactly the 168 minutes of one entry.
   */
  private final long[] sumByMinuteOfHour = new long[60];

  /** The largest of the 168 minutes of each entry, or -1 when a removal may have lowered it. */
  private final long[] maxByMinuteOfHour = new long[60];

  /**
   * Launches in every minute of the week from jobs that run every minute (every-second and
   * every-minute jobs), kept as one count instead of 10,080 increments per job; every per-minute
   * figure below adds it.
   */
  private long everyMinute;

  /** The most launches in one minute, or -1 when a removal may have lowered it. */
  private long peak;

  private long total;

  /** An empty job set. */
  public LaunchDensity() {}

  /**
   * A density from a histogram measured elsewhere.
   *
   * @param launchesPerMinuteOfWeek {@value #MINUTES_PER_WEEK} non-negative counts, bucket 0 =
   *     Sunday 00:00 UTC
   */
  public static LaunchDensity ofHistogram(long[] launchesPerMinuteOfWeek) {
    if (launchesPerMinuteOfWeek.length != MINUTES_PER_WEEK) {
      throw new IllegalArgumentException(
          "histogram must have "
              + MINUTES_PER_WEEK
              + " buckets, got "
              + launchesPerMinuteOfWeek.length);
    }
    LaunchDensity density = new LaunchDensity();
    for (int minute = 0; minute < MINUTES_PER_WEEK; minute++) {
      if (launchesPerMinuteOfWeek[minute] < 0) {
        throw new IllegalArgumentException(
            "bucket " + minute + " is negative: " + launchesPerMinuteOfWeek[minute]);
      }
      density.addToMinute(minute, launchesPerMinuteOfWeek[minute]);
    }
    return density;
  }

  /** An independent copy. */
  public LaunchDensity copy() {
    LaunchDensity copy = new LaunchDensity();
    System.arraycopy(launchesPerMinute, 0, copy.launchesPerMinute, 0, MINUTES_PER_WEEK);
    System.arraycopy(loadBySecond, 0, copy.loadBySecond, 0, loadBySecond.length);
    System.arraycopy(loadByDayOfMonth, 0, copy.loadByDayOfMonth, 0, loadByDayOfMonth.length);
    System.arraycopy(loadByMonth, 0, copy.loadByMonth, 0, loadByMonth.length);
    System.arraycopy(sumByMinuteOfDay, 0, copy.sumByMinuteOfDay, 0, MINUTES_PER_DAY);
    System.arraycopy(maxByMinuteOfDay, 0, copy.maxByMinuteOfDay, 0, MINUTES_PER_DAY);
    System.arraycopy(sumByMinuteOfHour, 0, copy.sumByMinuteOfHour, 0, 60);
    System.arraycopy(maxByMinuteOfHour, 0, copy.maxByMinuteOfHour, 0, 60);
    copy.everyMinute = everyMinute;
    copy.someMaxOfDayStale = someMaxOfDayStale;
    copy.peak = peak;
    copy.total = total;
    return copy;
  }

  /**
   * Adds one job's launches.
   *
   * @param schedule a resolved schedule (no {@code ?})
   * @param zone the job's zone
   * @param reference the instant whose zone offset places the job's local times in UTC, and whose
   *     week anchors {@code @every} schedules
   * @throws IllegalArgumentException if the schedule still has {@code ?} fields
   */
  public void add(Schedule schedule, ZoneId zone, Instant reference) {
    change(schedule, zone, reference, 1);
  }

  /**
   * Adds {@code jobs} jobs with the same schedule, zone and reference: the same as calling {@link
   * #add(Schedule, ZoneId, Instant)} that many times, at the cost of one call (a restore adds a
   * million jobs that share a few thousand schedules).
   *
   * @throws IllegalArgumentException if the schedule still has {@code ?} fields or {@code jobs} is
   *     not positive
   */
  public void add(Schedule schedule, ZoneId zone, Instant reference, int jobs) {
    if (jobs < 1) {
      throw new IllegalArgumentException("jobs must be >= 1, got " + jobs);
    }
    change(schedule, zone, reference, jobs);
  }

  /**
   * Takes away one job's launches, as {@link #add} added them: the same schedule, zone and
   * reference.
   *
   * @throws IllegalArgumentException if the schedule still has {@code ?} fields
   * @throws IllegalStateException if a count would go below zero (the job was not added so)
   */
  public void remove(Schedule schedule, ZoneId zone, Instant reference) {
    change(schedule, zone, reference, -1);
  }

  private void change(Schedule schedule, ZoneId zone, Instant reference, int sign) {
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(reference, "reference");
    switch (schedule) {
      case CronExpression cron -> addCron(cron, zone, reference, sign);
      case EverySchedule every -> addEvery(every, reference, sign);
    }
  }

  private void addCron(CronExpression cron, ZoneId zone, Instant reference, int sign) {
    if (!cron.isResolved()) {
      throw new IllegalArgumentException(
          "resolve the ? fields of '" + cron.text() + "' before adding it");
    }
    CronMatcher matcher = cron.matcher();
    int offsetMinutes = Math.floorDiv(zone.getRules().getOffset(reference).getTotalSeconds(), 60);
    long perMinute = sign * (long) Long.bitCount(matcher.seconds);
    long weekdays = weekdaysOf(cron, -1);
    if (weekdays == EVERY_WEEKDAY
        && matcher.hours == EVERY_HOUR
        && matcher.minutes == EVERY_MINUTE_OF_HOUR) {
      addToEveryMinute(perMinute);
    } else {
      forEachMinute(
          weekdays,
          matcher.hours,
          matcher.minutes,
          offsetMinutes,
          bucket -> addToMinute(bucket, perMinute));
    }
    for (long bits = matcher.seconds; bits != 0; bits &= bits - 1) {
      count(loadBySecond, Long.numberOfTrailingZeros(bits), sign);
    }
    if (cron.dayOfMonthRestricted()) {
      for (long bits = matcher.daysOfMonth; bits != 0; bits &= bits - 1) {
        count(loadByDayOfMonth, Long.numberOfTrailingZeros(bits), sign);
      }
    }
    if (matcher.months != CronParser.rangeBits(1, 12)) {
      for (long bits = matcher.months; bits != 0; bits &= bits - 1) {
        count(loadByMonth, Long.numberOfTrailingZeros(bits), sign);
      }
    }
  }

  private void addToEveryMinute(long launches) {
    long value = everyMinute + launches;
    if (value < 0) {
      throw new IllegalStateException(
          "removed a job that was not added: the every-minute load went below zero");
    }
    everyMinute = value;
    total += launches * MINUTES_PER_WEEK;
  }

  private static void count(long[] counts, int index, int sign) {
    long value = counts[index] + sign;
    if (value < 0) {
      throw new IllegalStateException("removed a job that was not added: a load went below zero");
    }
    counts[index] = value;
  }

  private void addEvery(EverySchedule every, Instant reference, int sign) {
    long period = every.period().getSeconds();
    long sunday = 3L * CivilCalendar.SECONDS_PER_DAY;
    long weekSeconds = MINUTES_PER_WEEK * 60L;
    long weekStart =
        sunday + Math.floorDiv(reference.getEpochSecond() - sunday, weekSeconds) * weekSeconds;
    for (int minute = 0; minute < MINUTES_PER_WEEK; minute++) {
      long start = weekStart + minute * 60L;
      long fires = Math.floorDiv(start + 59, period) - Math.floorDiv(start - 1, period);
      addToMinute(minute, sign * fires);
    }
  }

  /**
   * The local weekdays (bits 0-6) on which a job may fire, for the density model. A day-of-month
   * restriction lands on every weekday over the months, so it counts as all seven.
   *
   * @param chosenWeekday a weekday being tried for a {@code ?} day-of-week, or -1
   */
  static long weekdaysOf(CronExpression cron, int chosenWeekday) {
    CronMatcher matcher = cron.matcher();
    if (cron.dayOfMonthRestricted() || !cron.dayOfWeekRestricted()) {
      return CronParser.rangeBits(0, 6);
    }
    if (chosenWeekday >= 0) {
      return 1L << chosenWeekday;
    }
    long weekdays = matcher.daysOfWeek | matcher.lastDaysOfWeek;
    for (long nth = matcher.nthDaysOfWeek; nth != 0; nth &= nth - 1) {
      weekdays |= 1L << (Long.numberOfTrailingZeros(nth) / 8);
    }
    return weekdays;
  }

  interface BucketVisitor {
    void visit(int bucket);
  }

  static void forEachMinute(
      long weekdays, long hours, long minutes, int offsetMinutes, BucketVisitor visitor) {
    for (long days = weekdays; days != 0; days &= days - 1) {
      int day = Long.numberOfTrailingZeros(days);
      for (long hourBits = hours; hourBits != 0; hourBits &= hourBits - 1) {
        int hour = Long.numberOfTrailingZeros(hourBits);
        int base = day * MINUTES_PER_DAY + hour * 60 - offsetMinutes;
        for (long minuteBits = minutes; minuteBits != 0; minuteBits &= minuteBits - 1) {
          visitor.visit(
              Math.floorMod(base + Long.numberOfTrailingZeros(minuteBits), MINUTES_PER_WEEK));
        }
      }
    }
  }

  private void addToMinute(int minute, long launches) {
    long value = launchesPerMinute[minute] + launches;
    if (value < 0) {
      throw new IllegalStateException(
          "removed a job that was not added: minute " + minute + " went below zero");
    }
    launchesPerMinute[minute] = value;
    int ofDay = minute % MINUTES_PER_DAY;
    int ofHour = minute % 60;
    sumByMinuteOfDay[ofDay] += launches;
    sumByMinuteOfHour[ofHour] += launches;
    if (launches < 0) {
      peak = -1;
      maxByMinuteOfDay[ofDay] = -1;
      someMaxOfDayStale = true;
      maxByMinuteOfHour[ofHour] = -1;
    } else {
      if (peak >= 0) {
        peak = Math.max(peak, value);
      }
      if (maxByMinuteOfDay[ofDay] >= 0) {
        maxByMinuteOfDay[ofDay] = Math.max(maxByMinuteOfDay[ofDay], value);
      }
      if (maxByMinuteOfHour[ofHour] >= 0) {
        maxByMinuteOfHour[ofHour] = Math.max(maxByMinuteOfHour[ofHour], value);
      }
    }
    total += launches;
  }

  /**
   * The per-minute-of-day maxima (1,440 entries) with every stale one computed again, without the
   * every-minute load; the array itself, to be read and not changed.
   */
  long[] maxByMinuteOfDay() {
    if (someMaxOfDayStale) {
      for (int minuteOfDay = 0; minuteOfDay < MINUTES_PER_DAY; minuteOfDay++) {
        maxOfMinuteOfDay(minuteOfDay);
      }
      someMaxOfDayStale = false;
    }
    return maxByMinuteOfDay;
  }

  /**
   * The per-minute-of-day sums (1,440 entries) without the every-minute load; the array itself, to
   * be read and not changed.
   */
  long[] sumByMinuteOfDay() {
    return sumByMinuteOfDay;
  }

  /** The launches of one UTC minute of the day (0-1439) summed over the seven days of the week. */
  long sumOfMinuteOfDay(int minuteOfDay) {
    return sumByMinuteOfDay[minuteOfDay] + 7 * everyMinute;
  }

  /** The most launches of one UTC minute of the day (0-1439) on any day of the week. */
  long maxOfMinuteOfDay(int minuteOfDay) {
    long max = maxByMinuteOfDay[minuteOfDay];
    if (max < 0) {
      max = 0;
      for (int bucket = minuteOfDay; bucket < MINUTES_PER_WEEK; bucket += MINUTES_PER_DAY) {
        max = Math.max(max, launchesPerMinute[bucket]);
      }
      maxByMinuteOfDay[minuteOfDay] = max;
    }
    return max + everyMinute;
  }

  /** The launches of one UTC minute of the hour (0-59) summed over the 168 hours of the week. */
  long sumOfMinuteOfHour(int minuteOfHour) {
    return sumByMinuteOfHour[minuteOfHour] + 7 * 24 * everyMinute;
  }

  /** The most launches of one UTC minute of the hour (0-59) in any hour of the week. */
  long maxOfMinuteOfHour(int minuteOfHour) {
    long max = maxByMinuteOfHour[minuteOfHour];
    if (max < 0) {
      max = 0;
      for (int bucket = minuteOfHour; bucket < MINUTES_PER_WEEK; bucket += 60) {
        max = Math.max(max, launchesPerMinute[bucket]);
      }
      maxByMinuteOfHour[minuteOfHour] = max;
    }
    return max + everyMinute;
  }

  /** Launches in one minute of the week (0 = Sunday 00:00 UTC). */
  public long launchesInMinute(int minuteOfWeek) {
    Objects.checkIndex(minuteOfWeek, MINUTES_PER_WEEK);
    return launchesPerMinute[minuteOfWeek] + everyMinute;
  }

  /** The most launches in any one minute of the week. */
  public long peakLaunchesPerMinute() {
    if (peak < 0) {
      long most = 0;
      for (long launches : launchesPerMinute) {
        most = Math.max(most, launches);
      }
      peak = most;
    }
    return peak + everyMinute;
  }

  /** Launches per week divided by minutes per week. */
  public double meanLaunchesPerMinute() {
    return (double) total / MINUTES_PER_WEEK;
  }

  /** Peak over mean; 1.0 is perfectly flat. Zero for an empty job set. */
  public double peakToMean() {
    return total == 0 ? 0 : peakLaunchesPerMinute() / meanLaunchesPerMinute();
  }

  public long launchesPerWeek() {
    return total;
  }

  /** A copy of the {@value #MINUTES_PER_WEEK} buckets. */
  public long[] histogram() {
    long[] histogram = Arrays.copyOf(launchesPerMinute, MINUTES_PER_WEEK);
    for (int minute = 0; minute < MINUTES_PER_WEEK; minute++) {
      histogram[minute] += everyMinute;
    }
    return histogram;
  }

  long minuteLoad(int bucket) {
    return launchesPerMinute[bucket] + everyMinute;
  }

  long secondLoad(int second) {
    return loadBySecond[second];
  }

  long dayOfMonthLoad(int day) {
    return loadByDayOfMonth[day];
  }

  long monthLoad(int month) {
    return loadByMonth[month];
  }
}
