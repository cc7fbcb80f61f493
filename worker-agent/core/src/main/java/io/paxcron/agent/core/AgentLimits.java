package io.paxcron.agent.core;

import java.time.Duration;
import java.util.Objects;

/**
 * The agent core's bounds.
 *
 * @param capacity launches held at once, accepted or running ({@code --capacity}); one more is
 *     refused with {@code CAPACITY} as back-pressure
 * @param maxLaunches launches remembered, ended ones included; only launches whose finish the
 *     leader acknowledged are forgotten to make room, oldest first
 * @param unconfirmedGiveUp how long an accepted launch waits for a leader to confirm it after the
 *     agent's lease lapsed (or the agent restarted) before it is given up as {@code NEVER_STARTED}
 */
public record AgentLimits(int capacity, int maxLaunches, Duration unconfirmedGiveUp) {
  public static final int DEFAULT_MAX_LAUNCHES = 100_000;
  public static final Duration DEFAULT_UNCONFIRMED_GIVE_UP = Duration.ofMinutes(10);

  public AgentLimits {
    Objects.requireNonNull(unconfirmedGiveUp, "unconfirmedGiveUp");
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
    }
    if (maxLaunches < capacity) {
      throw new IllegalArgumentException(
          "maxLaunches must be >= capacity (" + capacity + "), got " + maxLaunches);
    }
    if (unconfirmedGiveUp.isNegative() || unconfirmedGiveUp.isZero()) {
      throw new IllegalArgumentException(
          "unconfirmedGiveUp must be positive, got " + unconfirmedGiveUp);
    }
  }

  /** {@code capacity} with the default table bound and give-up time. */
  public static AgentLimits ofCapacity(int capacity) {
    return new AgentLimits(
        capacity, Math.max(DEFAULT_MAX_LAUNCHES, capacity), DEFAULT_UNCONFIRMED_GIVE_UP);
  }
}
