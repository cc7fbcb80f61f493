package io.paxcron.paxos.transport;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Capped exponential backoff with jitter: after the {@code n}-th consecutive failure the next
 * attempt waits {@code min(max, initial × 2^(n-1))}, reduced by a random fraction of at most {@code
 * jitter} of itself. Jitter only ever shortens the wait, so the cap holds exactly; it keeps
 * replicas that lost a peer at the same moment from reconnecting in lockstep.
 *
 * <p>Threading: thread-safe; the injected generator (which need not be) is used under a lock.
 */
final class ReconnectBackoff {

  /** Doubling stops here; 2^30 times any sane initial delay is far past any sane cap. */
  private static final int MAX_DOUBLINGS = 30;

  private final long initialNanos;
  private final long maxNanos;
  private final double jitter;
  private final RandomGenerator random;

  ReconnectBackoff(Duration initial, Duration max, double jitter, RandomGenerator random) {
    this.initialNanos = initial.toNanos();
    this.maxNanos = max.toNanos();
    this.jitter = jitter;
    this.random = random;
  }

  /** The un-jittered delay after {@code failures} consecutive failures (at least 1). */
  Duration ceiling(int failures) {
    if (failures < 1) {
      throw new IllegalArgumentException("failures must be >= 1, got " + failures);
    }
    int doublings = Math.min(failures - 1, MAX_DOUBLINGS);
    long nanos = initialNanos;
    for (int i = 0; i < doublings && nanos < maxNanos; i++) {
      nanos *= 2;
    }
    return Duration.ofNanos(Math.min(nanos, maxNanos));
  }

  /** The delay before the next attempt after {@code failures} consecutive failures. */
  Duration delay(int failures) {
    long ceiling = ceiling(failures).toNanos();
    double fraction;
    synchronized (random) {
      fraction = random.nextDouble();
    }
    return Duration.ofNanos(ceiling - (long) (ceiling * jitter * fraction));
  }
}
