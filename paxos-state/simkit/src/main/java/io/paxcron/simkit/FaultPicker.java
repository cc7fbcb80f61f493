package io.paxcron.simkit;

import java.util.random.RandomGenerator;

/**
 * When the next fault strikes and which kind it is. Faults arrive as one Poisson-like stream whose
 * rate is the sum of every kind's rate per second (the gap is uniform on [1, 2·mean] ms, mean
 * 1/rate); each fault is one kind, picked with probability proportional to its rate.
 */
public final class FaultPicker {
  private final double[] ratesPerSecond;
  private final double total;

  /** {@code ratesPerSecond[i]}: how often fault kind {@code i} strikes; every rate >= 0. */
  public FaultPicker(double... ratesPerSecond) {
    double sum = 0;
    for (int i = 0; i < ratesPerSecond.length; i++) {
      if (ratesPerSecond[i] < 0) {
        throw new IllegalArgumentException(
            "ratesPerSecond[" + i + "] must be >= 0, got " + ratesPerSecond[i]);
      }
      sum += ratesPerSecond[i];
    }
    this.ratesPerSecond = ratesPerSecond.clone();
    this.total = sum;
  }

  /** Whether any fault strikes at all. */
  public boolean any() {
    return total > 0;
  }

  /** Milliseconds until the next fault (call only if {@link #any()}). */
  public long nextDelayMillis(RandomGenerator random) {
    long meanMillis = (long) (1000 / total);
    return 1 + random.nextLong(2 * meanMillis + 1);
  }

  /** The kind of the next fault, an index into the rates. */
  public int pick(RandomGenerator random) {
    double pick = random.nextDouble() * total;
    for (int i = 0; i < ratesPerSecond.length - 1; i++) {
      if ((pick -= ratesPerSecond[i]) < 0) {
        return i;
      }
    }
    return ratesPerSecond.length - 1;
  }
}
