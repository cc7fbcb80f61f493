package io.paxcron.bench.log;

/**
 * Latencies in nanoseconds, counted in log-linear buckets in the manner of HdrHistogram: exact
 * below {@link #LINEAR_LIMIT} ns, and above it in buckets whose width is at most 1/1024 of their
 * value, so every reported percentile is within 0.1 % of the recorded value. Memory is fixed (about
 * 270 KiB) whatever the run length.
 *
 * <p>Not thread-safe: each client thread records into its own histogram and the benchmark merges
 * them with {@link #add} after the threads have finished.
 */
final class LatencyHistogram {

  /** Values below this are counted exactly, one bucket per nanosecond. */
  static final long LINEAR_LIMIT = 2048;

  /** The largest latency that can be recorded: one hour. A write has a far shorter timeout. */
  static final long MAX_NANOS = 3_600_000_000_000L;

  private static final int SUB_BUCKET_BITS = 10;
  private static final int HALF = 1 << SUB_BUCKET_BITS;
  private static final int BUCKETS = indexOf(MAX_NANOS) + 1;

  private final long[] counts = new long[BUCKETS];
  private long total;
  private long min = Long.MAX_VALUE;
  private long max;
  private double sum;

  void record(long nanos) {
    if (nanos < 0 || nanos > MAX_NANOS) {
      throw new IllegalArgumentException(
          "latency " + nanos + " ns outside 0..MAX_NANOS=" + MAX_NANOS);
    }
    counts[indexOf(nanos)]++;
    total++;
    min = Math.min(min, nanos);
    max = Math.max(max, nanos);
    sum += nanos;
  }

  void add(LatencyHistogram other) {
    for (int i = 0; i < BUCKETS; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
    min = Math.min(min, other.min);
    max = Math.max(max, other.max);
    sum += other.sum;
  }

  long count() {
    return total;
  }

  long maxNanos() {
    return max;
  }

  long minNanos() {
    return total == 0 ? 0 : min;
  }

  double meanNanos() {
    return total == 0 ? 0 : sum / total;
  }

  /**
   * The smallest recorded value v such that at least {@code percentile} % of the values are ≤ v,
   * reported as the upper end of v's bucket (never above the true maximum).
   */
  long percentileNanos(double percentile) {
    if (!(percentile > 0 && percentile <= 100)) {
      throw new IllegalArgumentException("percentile " + percentile + " outside (0, 100]");
    }
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(percentile / 100.0 * total));
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(max, highestValueAt(i));
      }
    }
    return max;
  }

  static int indexOf(long nanos) {
    if (nanos < LINEAR_LIMIT) {
      return (int) nanos;
    }
    int shift = 63 - Long.numberOfLeadingZeros(nanos) - SUB_BUCKET_BITS;
    return (int) (LINEAR_LIMIT + (long) (shift - 1) * HALF + ((nanos >>> shift) - HALF));
  }

  static long highestValueAt(int index) {
    if (index < LINEAR_LIMIT) {
      return index;
    }
    int above = index - (int) LINEAR_LIMIT;
    int shift = above / HALF + 1;
    long lowest = ((long) (above % HALF) + HALF) << shift;
    return lowest + (1L << shift) - 1;
  }
}
