package io.paxcron.schedule;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Chooses concrete values for Google's {@code ?} ("any single value, chosen by the cluster"),
 * flattening the launch-density curve of the whole job set (DESIGN §1 promise 5, §4).
 *
 * <p>Minute, hour and day-of-week are chosen together: every combination is tried and the one whose
 * busiest touched minute of the week is least loaded wins (which minimises the peak of the whole
 * set); among equals, the one with the least total load on its minutes; among equals, the first in
 * an order rotated by a stable hash of job name and field (FNV-1a), so an empty cluster spreads
 * jobs like Jenkins's {@code H}. Second, day-of-month and month are chosen by the least load in
 * {@link LaunchDensity}'s coarse per-second, per-day and per-month counts, with the same hash
 * rotation. A {@code ?} day-of-month is chosen from 1-28 so the job runs every month.
 *
 * <p>Pure: the result depends only on the arguments; the density is read, not changed. The caller
 * (the scheduler state machine, on the leader) adds the resolved job to its density afterwards, so
 * resolving jobs one at a time in creation order is deterministic on every replica.
 */
public final class QuestionMarkResolver {
  /** Longest job name accepted. */
  public static final int MAX_JOB_NAME_LENGTH = 253;

  /** A {@code ?} day-of-month is chosen from 1 to this value, so every month has the day. */
  public static final int MAX_CHOSEN_DAY_OF_MONTH = 28;

  private static final long EVERY_WEEKDAY = CronParser.rangeBits(0, 6);
  private static final long EVERY_HOUR = CronParser.rangeBits(0, 23);

  private QuestionMarkResolver() {}

  /**
   * Resolves every {@code ?} of {@code expression}.
   *
   * @param jobName the job's name (the tie-break hash input)
   * @param expression a Vixie expression; returned unchanged if it has no {@code ?}
   * @param zone the job's zone
   * @param reference the instant (from the replicated log, never a clock) whose zone offset places
   *     the job in the UTC week of {@code density}
   * @param density the launches of all existing jobs
   */
  public static Resolution resolve(
      String jobName,
      CronExpression expression,
      ZoneId zone,
      Instant reference,
      LaunchDensity density) {
    return resolve(jobName, expression, zone, reference, density, true);
  }

  /**
   * {@link #resolve(String, CronExpression, ZoneId, Instant, LaunchDensity)}, reading the density's
   * per-minute-of-day and per-minute-of-hour sums and maxima where a candidate touches exactly one
   * of them ({@code useAggregates}), or always every minute of the week a candidate touches (the
   * reference the tests compare the aggregates with: both choose the same values).
   */
  static Resolution resolve(
      String jobName,
      CronExpression expression,
      ZoneId zone,
      Instant reference,
      LaunchDensity density,
      boolean useAggregates) {
    Objects.requireNonNull(jobName, "jobName");
    Objects.requireNonNull(expression, "expression");
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(reference, "reference");
    Objects.requireNonNull(density, "density");
    if (jobName.isEmpty() || jobName.length() > MAX_JOB_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "job name must have 1 to "
              + MAX_JOB_NAME_LENGTH
              + " characters, got "
              + jobName.length());
    }
    if (expression.isResolved()) {
      return new Resolution(jobName, expression, expression, Map.of());
    }
    var questionMarks = expression.questionMarks();
    Map<ScheduleField, Integer> chosen = new EnumMap<>(ScheduleField.class);
    if (questionMarks.contains(ScheduleField.SECOND)) {
      chosen.put(
          ScheduleField.SECOND,
          leastLoaded(jobName, ScheduleField.SECOND, 0, 59, density::secondLoad).get(0));
    }
    if (questionMarks.contains(ScheduleField.DAY_OF_MONTH)) {
      chosen.put(
          ScheduleField.DAY_OF_MONTH,
          leastLoaded(
                  jobName,
                  ScheduleField.DAY_OF_MONTH,
                  1,
                  MAX_CHOSEN_DAY_OF_MONTH,
                  density::dayOfMonthLoad)
              .get(0));
    }
    chooseTimeOfWeek(jobName, expression, zone, reference, density, chosen, useAggregates);
    if (!questionMarks.contains(ScheduleField.MONTH)) {
      return new Resolution(jobName, expression, expression.resolve(chosen), chosen);
    }
    InvalidScheduleException lastError = null;
    for (int month : leastLoaded(jobName, ScheduleField.MONTH, 1, 12, density::monthLoad)) {
      chosen.put(ScheduleField.MONTH, month);
      try {
        return new Resolution(jobName, expression, expression.resolve(chosen), chosen);
      } catch (InvalidScheduleException neverFires) {
        lastError = neverFires;
      }
    }
    throw Objects.requireNonNull(lastError);
  }

  interface Load {
    long of(int value);
  }

  /** The values from {@code min} to {@code max}, least loaded first, ties in hash-rotated order. */
  private static List<Integer> leastLoaded(
      String jobName, ScheduleField field, int min, int max, Load load) {
    int count = max - min + 1;
    int start = StableHash.pick(jobName, field, count);
    List<Integer> order = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      order.add(min + (start + i) % count);
    }
    order.sort(Comparator.comparingLong(load::of));
    return order;
  }

  private static void chooseTimeOfWeek(
      String jobName,
      CronExpression expression,
      ZoneId zone,
      Instant reference,
      LaunchDensity density,
      Map<ScheduleField, Integer> chosen,
      boolean useAggregates) {
    var questionMarks = expression.questionMarks();
    boolean weekdayOpen = questionMarks.contains(ScheduleField.DAY_OF_WEEK);
    boolean hourOpen = questionMarks.contains(ScheduleField.HOUR);
    boolean minuteOpen = questionMarks.contains(ScheduleField.MINUTE);
    if (!weekdayOpen && !hourOpen && !minuteOpen) {
      return;
    }
    CronMatcher matcher = expression.matcher();
    int offsetMinutes = Math.floorDiv(zone.getRules().getOffset(reference).getTotalSeconds(), 60);
    int[] weekdays = candidates(jobName, ScheduleField.DAY_OF_WEEK, weekdayOpen, 7);
    int[] hours = candidates(jobName, ScheduleField.HOUR, hourOpen, 24);
    int[] minutes = candidates(jobName, ScheduleField.MINUTE, minuteOpen, 60);
    if (useAggregates
        && !weekdayOpen
        && LaunchDensity.weekdaysOf(expression, -1) == EVERY_WEEKDAY
        && (minuteOpen || Long.bitCount(matcher.minutes) == 1)) {
      int[] minuteValues =
          minuteOpen ? minutes : new int[] {Long.numberOfTrailingZeros(matcher.minutes)};
      if (hourOpen || Long.bitCount(matcher.hours) == 1) {
        int[] hourValues = hourOpen ? hours : new int[] {Long.numberOfTrailingZeros(matcher.hours)};
        int best = leastLoadedTimeOfDay(hourValues, minuteValues, offsetMinutes, density);
        if (hourOpen) {
          chosen.put(ScheduleField.HOUR, hourValues[best / minuteValues.length]);
        }
        if (minuteOpen) {
          chosen.put(ScheduleField.MINUTE, minuteValues[best % minuteValues.length]);
        }
        return;
      }
      if (!hourOpen && matcher.hours == EVERY_HOUR) {
        chosen.put(
            ScheduleField.MINUTE,
            minuteValues[leastLoadedMinuteOfHour(minuteValues, offsetMinutes, density)]);
        return;
      }
    }
    long bestMax = Long.MAX_VALUE;
    long bestSum = Long.MAX_VALUE;
    int bestWeekday = -1;
    int bestHour = -1;
    int bestMinute = -1;
    for (int weekday : weekdays) {
      long weekdayBits = LaunchDensity.weekdaysOf(expression, weekday);
      for (int hour : hours) {
        long hourBits = hour >= 0 ? 1L << hour : matcher.hours;
        for (int minute : minutes) {
          long minuteBits = minute >= 0 ? 1L << minute : matcher.minutes;
          long max = 0;
          long sum = 0;
          scan:
          for (long days = weekdayBits; days != 0; days &= days - 1) {
            int day = Long.numberOfTrailingZeros(days);
            for (long hBits = hourBits; hBits != 0; hBits &= hBits - 1) {
              int base =
                  day * LaunchDensity.MINUTES_PER_DAY
                      + Long.numberOfTrailingZeros(hBits) * 60
                      - offsetMinutes;
              for (long mBits = minuteBits; mBits != 0; mBits &= mBits - 1) {
                long load =
                    density.minuteLoad(
                        Math.floorMod(
                            base + Long.numberOfTrailingZeros(mBits),
                            LaunchDensity.MINUTES_PER_WEEK));
                sum += load;
                if (load > max) {
                  max = load;
                  if (max > bestMax) {
                    break scan;
                  }
                }
              }
            }
          }
          if (max < bestMax || max == bestMax && sum < bestSum) {
            bestMax = max;
            bestSum = sum;
            bestWeekday = weekday;
            bestHour = hour;
            bestMinute = minute;
          }
        }
      }
    }
    if (weekdayOpen) {
      chosen.put(ScheduleField.DAY_OF_WEEK, bestWeekday);
    }
    if (hourOpen) {
      chosen.put(ScheduleField.HOUR, bestHour);
    }
    if (minuteOpen) {
      chosen.put(ScheduleField.MINUTE, bestMinute);
    }
  }

  /**
   * For a job that runs every day at one time (hour and minute each chosen or fixed): the index,
   * {@code hourIndex * minutes.length + minuteIndex}, of the first candidate in the given order
   * whose seven minutes of the week have the least largest load, then the least total. Such a
   * candidate touches exactly the seven minutes of one UTC minute of the day (the offset shifts
   * them alike and 1,440 divides the week), so the density's per-minute-of-day maxima and sums are
   * the scan's figures; its load from every-minute jobs is the same for every candidate and left
   * out. 1,440 reads instead of 10,080 for a {@code ? ? * * *} job.
   */
  private static int leastLoadedTimeOfDay(
      int[] hours, int[] minutes, int offsetMinutes, LaunchDensity density) {
    long[] max = density.maxByMinuteOfDay();
    long[] sum = density.sumByMinuteOfDay();
    long bestMax = Long.MAX_VALUE;
    long bestSum = Long.MAX_VALUE;
    int best = -1;
    for (int h = 0; h < hours.length; h++) {
      int base = Math.floorMod(hours[h] * 60 - offsetMinutes, LaunchDensity.MINUTES_PER_DAY);
      for (int m = 0; m < minutes.length; m++) {
        int entry = base + minutes[m];
        if (entry >= LaunchDensity.MINUTES_PER_DAY) {
          entry -= LaunchDensity.MINUTES_PER_DAY;
        }
        long load = max[entry];
        if (load < bestMax || load == bestMax && sum[entry] < bestSum) {
          bestMax = load;
          bestSum = sum[entry];
          best = h * minutes.length + m;
        }
      }
    }
    return best;
  }

  /**
   * For a job that runs every hour of every day at one chosen minute: the index of the first minute
   * in the given order whose 168 minutes of the week have the least largest load, then the least
   * total (the per-minute-of-hour aggregates, as {@link #leastLoadedTimeOfDay}).
   */
  private static int leastLoadedMinuteOfHour(
      int[] minutes, int offsetMinutes, LaunchDensity density) {
    long bestMax = Long.MAX_VALUE;
    long bestSum = Long.MAX_VALUE;
    int best = -1;
    for (int m = 0; m < minutes.length; m++) {
      int entry = Math.floorMod(minutes[m] - offsetMinutes, 60);
      long load = density.maxOfMinuteOfHour(entry);
      long total = density.sumOfMinuteOfHour(entry);
      if (load < bestMax || load == bestMax && total < bestSum) {
        bestMax = load;
        bestSum = total;
        best = m;
      }
    }
    return best;
  }

  /**
   * The values of an open field in hash-rotated order, or the single marker -1 for a fixed field.
   */
  private static int[] candidates(String jobName, ScheduleField field, boolean open, int count) {
    if (!open) {
      return new int[] {-1};
    }
    int start = StableHash.pick(jobName, field, count);
    int[] values = new int[count];
    for (int i = 0; i < count; i++) {
      values[i] = (start + i) % count;
    }
    return values;
  }
}
