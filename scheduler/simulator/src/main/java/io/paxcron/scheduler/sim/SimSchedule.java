package io.paxcron.scheduler.sim;

import io.paxcron.schedule.ScheduleField;
import java.util.Map;

/**
 * The second-level schedules the simulated API clients write, each with its own oracle of the
 * instants it fires at. The oracle is written independently of {@code paxcron-schedule} (a
 * predicate on the epoch second), so the ledger check does not trust the evaluator it checks — the
 * Chronos checker computes its targets from {@code start + k * interval} the same way.
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

  SimSchedule(String text) {
    this.text = text;
  }

  /** Whether the schedule fires at the start of this epoch second (UTC). */
  abstract boolean firesAt(long epochSecond);

  /** The same, for a job whose {@code ?} fields hold {@code chosen} (the leader's values). */
  boolean firesAt(long epochSecond, Map<ScheduleField, Integer> chosen) {
    return firesAt(epochSecond);
  }

  static SimSchedule of(String text) {
    for (SimSchedule schedule : values()) {
      if (schedule.text.equals(text)) {
        return schedule;
      }
    }
    throw new IllegalArgumentException("not a simulator schedule: '" + text + "'");
  }
}
