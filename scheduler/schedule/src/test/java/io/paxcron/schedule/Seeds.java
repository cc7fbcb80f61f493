package io.paxcron.schedule;

import java.util.SplittableRandom;

/**
 * Seeds for randomized tests. The default is fixed so runs are reproducible; {@code
 * -Dschedule.seed=N} replays or explores another seed, and every failure message says how.
 */
final class Seeds {
  static final String PROPERTY = "schedule.seed";
  static final long DEFAULT_SEED = 0x5eed_2024_0310L;

  private Seeds() {}

  static long seed() {
    return Long.getLong(PROPERTY, DEFAULT_SEED);
  }

  static SplittableRandom random() {
    return new SplittableRandom(seed());
  }

  /** A suffix for assertion messages: the seed and how to replay it. */
  static String replay() {
    long seed = seed();
    return " [seed=" + seed + "; replay with -D" + PROPERTY + "=" + seed + "]";
  }
}
