package io.paxcron.scheduler.sim;

import io.paxcron.schedule.DstPolicy;
import io.paxcron.schedule.ScheduleField;
import io.paxcron.scheduler.JobSpec;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The second-level schedules the simulated API clients write, each with its own oracle of the
 * instants it fires at. The oracle is written independently of {@code paxcron-schedule} (a
 * predicate on the epoch second), so the ledger check does not trust the evaluator it checks — the
 * Chronos checker computes its targets from {@code start + k * interval} the same way.
 *
 * <p>Most run in UTC. Three run in {@code America/New_York} with an hour field that is not {@code
 * *} (wall-clock jobs: hour-{@code *} jobs follow real time and ignore the DST policy), whose
 * oracle applies the DST rules of docs/crontab.md with the JDK's zone rules: a spring-forward gap's
 * matching local times collapse into one record at the first instant after the gap; a repeated
 * local time (fall back) fires again only under {@code RUN_TWICE}. Runs whose calendar starts just
 * before a transition ({@link SystemFaultPlan#CALENDAR_STARTS}) cross it under faults.
 */
enum SimSchedule {
  EVERY_2S_CRON("*/2 * * * * *") {
    @Override
    boolean firesAt(long epochSecond) {
      return Math.floorMod(epochSecond, 60) % 2 == 0;
    }
  },
  EVERY_3S_CRON("*/3 * * * * *") {
    @Override
    boolean firesAt(long epochSecond) {
      return Math.floorMod(epochSecond, 60) % 3 == 0;
    }
  },
  EVERY_5S_CRON("*/5 * * * * *") {
    @Override
    boolean firesAt(long epochSecond) {
      return Math.floorMod(epochSecond, 60) % 5 == 0;
    }
  },
  LIST_CRON("7,19,37,50 * * * * *") {
    @Override
    boolean firesAt(long epochSecond) {
      long second = Math.floorMod(epochSecond, 60);
      return second == 7 || second == 19 || second == 37 || second == 50;
    }
  },
  EVERY_2S("@every 2s") {
    @Override
    boolean firesAt(long epochSecond) {
      return Math.floorMod(epochSecond, 2) == 0;
    }
  },
  EVERY_3S("@every 3s") {
    @Override
    boolean firesAt(long epochSecond) {
      return Math.floorMod(epochSecond, 3) == 0;
    }
  },
  EVERY_5S("@every 5s") {
    @Override
    boolean firesAt(long epochSecond) {
      return Math.floorMod(epochSecond, 5) == 0;
    }
  },
  /**
   * Every 2 s of the local hours 00-02 in New York, default DST policy: the spring-forward gap
   * becomes one run at 03:00 EDT; the repeated 01:xx does not run again.
   */
  NEW_YORK_EVERY_2S("*/2 * 0-2 * * *", "America/New_York", DstPolicy.DEFAULT) {
    @Override
    boolean firesAt(long epochSecond) {
      return firesInZone(epochSecond, local -> local.getHour() <= 2 && local.getSecond() % 2 == 0);
    }
  },
  /** Every 3 s of the local hours 00-02 in New York; the repeated 01:xx runs again. */
  NEW_YORK_EVERY_3S_TWICE(
      "*/3 * 0-2 * * *",
      "America/New_York",
      new DstPolicy(DstPolicy.Gap.RUN_AFTER_GAP, DstPolicy.Overlap.RUN_TWICE)) {
    @Override
    boolean firesAt(long epochSecond) {
      return firesInZone(epochSecond, local -> local.getHour() <= 2 && local.getSecond() % 3 == 0);
    }
  },
  /**
   * Every 4 s during the local hours 01 and 02 in New York: the spring-forward gap (02:xx) becomes
   * one {@code SKIPPED(DST_GAP)} record at 03:00 EDT; the repeated 01:xx runs once.
   */
  NEW_YORK_NIGHT_SKIP_GAP(
      "*/4 * 1-2 * * *",
      "America/New_York",
      new DstPolicy(DstPolicy.Gap.SKIP, DstPolicy.Overlap.RUN_ONCE)) {
    @Override
    boolean firesAt(long epochSecond) {
      return firesInZone(
          epochSecond,
          local -> (local.getHour() == 1 || local.getHour() == 2) && local.getSecond() % 4 == 0);
    }
  },
  /** Once a minute, at a second the leader chooses ({@code ?}: "any value; spread the load"). */
  QUESTION_SECOND("? * * * * *") {
    @Override
    boolean firesAt(long epochSecond) {
      throw new IllegalStateException("'? * * * * *' fires at the second the leader chose");
    }

    @Override
    boolean firesAt(long epochSecond, Map<ScheduleField, Integer> chosen) {
      Integer second = chosen.get(ScheduleField.SECOND);
      if (second == null) {
        throw new IllegalStateException("'? * * * * *' applied without a chosen second");
      }
      return Math.floorMod(epochSecond, 60) == second;
    }
  };

  final String text;

  /** The job's zone, {@code null} for the default (UTC). */
  final String zone;

  /** The job's DST policy, {@code null} for the default. */
  final DstPolicy dstPolicy;

  SimSchedule(String text) {
    this(text, null, null);
  }

  SimSchedule(String text, String zone, DstPolicy dstPolicy) {
    this.text = text;
    this.zone = zone;
    this.dstPolicy = dstPolicy;
  }

  /** Whether the schedule fires at the start of this epoch second (UTC). */
  abstract boolean firesAt(long epochSecond);

  /** The same, for a job whose {@code ?} fields hold {@code chosen} (the leader's values). */
  boolean firesAt(long epochSecond, Map<ScheduleField, Integer> chosen) {
    return firesAt(epochSecond);
  }

  /** The schedule a simulated client wrote into {@code spec}: its text, zone and DST policy. */
  static SimSchedule of(JobSpec spec) {
    for (SimSchedule schedule : values()) {
      if (schedule.text.equals(spec.schedule())
          && ZoneId.of(schedule.zone == null ? "UTC" : schedule.zone).equals(zoneOf(spec))
          && (schedule.dstPolicy == null ? DstPolicy.DEFAULT : schedule.dstPolicy)
              .equals(spec.dstPolicy())) {
        return schedule;
      }
    }
    throw new IllegalArgumentException(
        "not a simulator schedule: '" + spec.schedule() + "' in " + spec.zone());
  }

  private static ZoneId zoneOf(JobSpec spec) {
    return spec.zone() == null || spec.zone().isEmpty() ? ZoneId.of("UTC") : ZoneId.of(spec.zone());
  }

  /**
   * Whether a wall-clock schedule of this enum's zone, matching {@code matches} on local time, has
   * an instant at {@code epochSecond} (a run or a {@code SKIPPED(DST_GAP)} record).
   */
  boolean firesInZone(long epochSecond, Predicate<LocalDateTime> matches) {
    ZoneId id = ZoneId.of(zone);
    ZoneRules rules = id.getRules();
    Instant instant = Instant.ofEpochSecond(epochSecond);
    ZoneOffsetTransition last = rules.previousTransition(instant.plusSeconds(1));
    if (last != null && last.getInstant().equals(instant) && last.isGap()) {
      for (LocalDateTime gap = last.getDateTimeBefore();
          gap.isBefore(last.getDateTimeAfter());
          gap = gap.plusSeconds(1)) {
        if (matches.test(gap)) {
          return true;
        }
      }
    }
    LocalDateTime local = LocalDateTime.ofInstant(instant, id);
    if (!matches.test(local)) {
      return false;
    }
    List<ZoneOffset> offsets = rules.getValidOffsets(local);
    if (offsets.size() == 2 && rules.getOffset(instant).equals(offsets.get(1))) {
      return dstPolicy.overlap() == DstPolicy.Overlap.RUN_TWICE;
    }
    return true;
  }
}
