package io.paxcron.scheduler;

import java.util.SplittableRandom;

/**
 * Seeded randomness for tests: the seed comes from {@code -Dscheduler.seed=N} or a fixed default,
 * and is printed.
 */
final class Seeds {
  private Seeds() {}

  static long seed(String test, long fallback) {
    String property = System.getProperty("scheduler.seed");
    long seed = property == null ? fallback : Long.parseLong(property);
    System.out.println(test + ": seed " + seed + " (replay with -Dscheduler.seed=" + seed + ")");
    return seed;
  }

  static SplittableRandom random(String test, long fallback) {
    return new SplittableRandom(seed(test, fallback));
  }
}
