package io.paxcron.api.auth;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Per-client token buckets for state-changing calls, so one client cannot fill the leader's log and
 * starve everyone else. A refused call is answered at once ({@code RESOURCE_EXHAUSTED} with the
 * wait), never queued: the limiter never blocks a thread.
 *
 * <p>Time is an input ({@code nanoTime}), so tests drive it. Threading: all methods are
 * synchronized; each takes microseconds. At most {@link #MAX_CLIENTS} buckets are kept (least
 * recently used dropped first), so many one-off clients cannot grow memory.
 */
public final class WriteRateLimiter {
  public static final int MAX_CLIENTS = 10_000;

  private final double perSecond;
  private final double burst;
  private final LongSupplier nanoTime;
  private final Map<String, double[]> buckets =
      new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, double[]> eldest) {
          return size() > MAX_CLIENTS;
        }
      };

  /**
   * @param perSecond writes a client may make per second on average (write-rate-limit)
   * @param burst writes a client may make at once after being idle
   */
  public WriteRateLimiter(double perSecond, double burst, LongSupplier nanoTime) {
    if (!(perSecond > 0) || !(burst >= 1)) {
      throw new IllegalArgumentException(
          "write-rate-limit must be > 0 and its burst >= 1, got " + perSecond + ", " + burst);
    }
    this.perSecond = perSecond;
    this.burst = burst;
    this.nanoTime = nanoTime;
  }

  /** Takes one write from {@code client}'s bucket: empty if allowed, else how long to wait. */
  public synchronized java.util.Optional<Duration> acquire(String client) {
    long now = nanoTime.getAsLong();
    double[] bucket = buckets.computeIfAbsent(client, c -> new double[] {burst, now});
    double elapsedSeconds = Math.max(0, now - (long) bucket[1]) / 1e9;
    bucket[0] = Math.min(burst, bucket[0] + elapsedSeconds * perSecond);
    bucket[1] = now;
    if (bucket[0] >= 1) {
      bucket[0] -= 1;
      return java.util.Optional.empty();
    }
    long waitNanos = (long) Math.ceil((1 - bucket[0]) / perSecond * 1e9);
    return java.util.Optional.of(Duration.ofNanos(waitNanos));
  }
}
