package io.paxcron.schedule;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The documented semantics, executed the slow and obvious way: step through every local wall-clock
 * minute (or second) with java.time, test each field naively, and map each matching local time to
 * real instants with {@link ZoneRules#getValidOffsets}. Shares nothing with the evaluator except
 * the parsed field masks.
 */
final class BruteForceOracle {
  record Event(Instant instant, boolean run) {
    @Override
    public String toString() {
      return (run ? "RUN " : "SKIP(DST_GAP) ") + instant;
    }
  }

  private BruteForceOracle() {}

  static boolean bit(long mask, int index) {
    return (mask >>> index & 1) != 0;
  }

  static boolean matches(CronMatcher m, LocalDateTime t) {
    if (!bit(m.seconds, t.getSecond())
        || !bit(m.minutes, t.getMinute())
        || !bit(m.hours, t.getHour())
        || !bit(m.months, t.getMonthValue())) {
      return false;
    }
    if (m.years != null) {
      int index = t.getYear() - 1970;
      if (index < 0 || index >= 130 || !bit(m.years[index / 64], index % 64)) {
        return false;
      }
    }
    LocalDate date = t.toLocalDate();
    boolean byDayOfMonth = bit(m.daysOfMonth, date.getDayOfMonth()) || dayOfMonthSpecial(m, date);
    boolean byDayOfWeek =
        bit(m.daysOfWeek, date.getDayOfWeek().getValue() % 7) || dayOfWeekSpecial(m, date);
    return m.eitherDayField ? byDayOfMonth || byDayOfWeek : byDayOfMonth && byDayOfWeek;
  }

  private static boolean dayOfMonthSpecial(CronMatcher m, LocalDate date) {
    LocalDate last = date.with(TemporalAdjusters.lastDayOfMonth());
    for (int offset = 0; offset <= 30; offset++) {
      if (bit(m.lastDayOffsets, offset) && date.equals(last.minusDays(offset))) {
        return true;
      }
    }
    if (m.lastWeekday) {
      LocalDate weekday = last;
      while (weekday.getDayOfWeek() == DayOfWeek.SATURDAY
          || weekday.getDayOfWeek() == DayOfWeek.SUNDAY) {
        weekday = weekday.minusDays(1);
      }
      if (date.equals(weekday)) {
        return true;
      }
    }
    for (int target = 1; target <= 31; target++) {
      if (!bit(m.nearestWeekdays, target) || target > last.getDayOfMonth()) {
        continue;
      }
      LocalDate day = date.withDayOfMonth(target);
      LocalDate nearest =
          switch (day.getDayOfWeek()) {
            case SATURDAY -> target == 1 ? day.plusDays(2) : day.minusDays(1);
            case SUNDAY -> target == last.getDayOfMonth() ? day.minusDays(2) : day.plusDays(1);
            default -> day;
          };
      if (date.equals(nearest)) {
        return true;
      }
    }
    return false;
  }

  private static boolean dayOfWeekSpecial(CronMatcher m, LocalDate date) {
    int weekday = date.getDayOfWeek().getValue() % 7;
    if (bit(m.lastDaysOfWeek, weekday) && date.plusWeeks(1).getMonth() != date.getMonth()) {
      return true;
    }
    for (int ordinal = 1; ordinal <= 5; ordinal++) {
      if (bit(m.nthDaysOfWeek, weekday * 8 + ordinal)
          && date.equals(
              date.with(TemporalAdjusters.dayOfWeekInMonth(ordinal, date.getDayOfWeek())))) {
        return true;
      }
    }
    return false;
  }

  /** The local times in {@code [from, to)} that match, stepping by {@code step}. */
  static List<LocalDateTime> localMatches(
      CronExpression expression, LocalDateTime from, LocalDateTime to, Duration step) {
    CronMatcher m = expression.matcher();
    List<LocalDateTime> result = new ArrayList<>();
    for (LocalDateTime t = from; t.isBefore(to); t = t.plus(step)) {
      if (matches(m, t)) {
        result.add(t);
      }
    }
    return result;
  }

  /** The events with instants strictly inside {@code (after, before)}. */
  static List<Event> events(
      CronExpression expression, ZoneId zone, DstPolicy policy, Instant after, Instant before) {
    Duration step = expression.hasSeconds() ? Duration.ofSeconds(1) : Duration.ofMinutes(1);
    LocalDateTime from =
        LocalDateTime.ofInstant(after, ZoneOffset.UTC)
            .minusHours(27)
            .truncatedTo(ChronoUnit.MINUTES);
    LocalDateTime to = LocalDateTime.ofInstant(before, ZoneOffset.UTC).plusHours(27);
    return events(
        expression, zone, policy, localMatches(expression, from, to, step), after, before);
  }

  static List<Event> events(
      CronExpression expression,
      ZoneId zone,
      DstPolicy policy,
      List<LocalDateTime> matches,
      Instant after,
      Instant before) {
    ZoneRules rules = zone.getRules();
    boolean everyHour = expression.matcher().hours == (1L << 24) - 1;
    TreeMap<Instant, Boolean> events = new TreeMap<>();
    for (LocalDateTime local : matches) {
      List<ZoneOffset> offsets = rules.getValidOffsets(local);
      if (offsets.size() == 1) {
        events.put(local.toInstant(offsets.get(0)), true);
      } else if (offsets.size() == 2) {
        Instant first =
            local.toInstant(offsets.get(0)).isBefore(local.toInstant(offsets.get(1)))
                ? local.toInstant(offsets.get(0))
                : local.toInstant(offsets.get(1));
        Instant second =
            first.equals(local.toInstant(offsets.get(0)))
                ? local.toInstant(offsets.get(1))
                : local.toInstant(offsets.get(0));
        events.put(first, true);
        if (everyHour || policy.overlap() == DstPolicy.Overlap.RUN_TWICE) {
          events.put(second, true);
        }
      } else if (!everyHour) {
        ZoneOffsetTransition transition = rules.getTransition(local);
        Instant end = transition.getInstant();
        if (policy.gap() == DstPolicy.Gap.RUN_AFTER_GAP) {
          events.put(end, true);
        } else {
          events.merge(end, false, Boolean::logicalOr);
        }
      }
    }
    List<Event> result = new ArrayList<>();
    for (Map.Entry<Instant, Boolean> entry : events.entrySet()) {
      if (entry.getKey().isAfter(after) && entry.getKey().isBefore(before)) {
        result.add(new Event(entry.getKey(), entry.getValue()));
      }
    }
    return result;
  }

  /**
   * What the evaluator says for the same window, by calling {@link CronExpression#next} repeatedly.
   */
  static List<Event> evaluate(
      CronExpression expression,
      ZoneId zone,
      DstPolicy policy,
      Instant after,
      Instant before,
      int maxEvents) {
    List<Event> result = new ArrayList<>();
    Instant cursor = after;
    while (result.size() <= maxEvents) {
      NextFire fire = expression.next(cursor, zone, policy);
      if (fire instanceof NextFire.Exhausted || !fire.instant().isBefore(before)) {
        break;
      }
      if (!fire.instant().isAfter(cursor)) {
        throw new AssertionError("next(" + cursor + ") returned " + fire + ", not strictly after");
      }
      result.add(new Event(fire.instant(), fire instanceof NextFire.Run));
      cursor = fire.instant();
    }
    return result;
  }
}
