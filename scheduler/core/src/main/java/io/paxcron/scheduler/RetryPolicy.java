package io.paxcron.scheduler;

import java.time.Duration;
import java.util.Objects;

/**
 * How a failed attempt (non-zero exit or timeout) is retried, for {@link Semantics#AT_LEAST_ONCE}
 * jobs. The delay before attempt {@code n + 1} is {@code min(backoffMax, backoffBase * 2^(n-1))}
 * plus a jitter drawn by the leader's dispatcher from {@code [0, delay * jitterPercent / 100]}. The
 * replicated state holds only the deterministic part; the jitter is the dispatcher's input.
 *
 * @param maxAttempts attempts per run including the first; 1 means no retry
 * @param backoffBase delay before the first retry
 * @param backoffMax largest delay between attempts
 * @param jitterPercent jitter as a percentage of the delay, 0-100
 */
public record RetryPolicy(
    int maxAttempts, Duration backoffBase, Duration backoffMax, int jitterPercent) {
  public static final int DEFAULT_MAX_ATTEMPTS = 1;
  public static final Duration DEFAULT_BACKOFF_BASE = Duration.ofSeconds(10);
  public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofMinutes(10);
  public static final int DEFAULT_JITTER_PERCENT = 20;

  /** No retries: one attempt per run. */
  public static final RetryPolicy NONE =
      new RetryPolicy(
          DEFAULT_MAX_ATTEMPTS, DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_MAX, DEFAULT_JITTER_PERCENT);

  public RetryPolicy {
    Objects.requireNonNull(backoffBase, "backoffBase");
    Objects.requireNonNull(backoffMax, "backoffMax");
  }

  /**
   * The deterministic delay after failed attempt {@code failedAttempt} (1-based), before jitter.
   */
  public Duration backoffAfter(int failedAttempt) {
    if (failedAttempt < 1) {
      throw new IllegalArgumentException("failedAttempt is 1-based, got " + failedAttempt);
    }
    Duration delay = backoffBase;
    for (int i = 1; i < failedAttempt && delay.compareTo(backoffMax) < 0; i++) {
      delay = delay.multipliedBy(2);
    }
    return delay.compareTo(backoffMax) > 0 ? backoffMax : delay;
  }
}
