package io.paxcron.bench.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

  @Test
  void valuesBelowTheLinearLimitAreExact() {
    LatencyHistogram histogram = new LatencyHistogram();
    for (long nanos = 1; nanos <= 100; nanos++) {
      histogram.record(nanos);
    }
    assertEquals(50, histogram.percentileNanos(50));
    assertEquals(99, histogram.percentileNanos(99));
    assertEquals(100, histogram.percentileNanos(99.9));
    assertEquals(100, histogram.percentileNanos(100));
  }

  @Test
  void everyBucketCoversItsValueWithinOneTenthOfAPercent() {
    for (long nanos = LatencyHistogram.LINEAR_LIMIT;
        nanos < LatencyHistogram.MAX_NANOS;
        nanos = nanos * 3 / 2 + 7) {
      int index = LatencyHistogram.indexOf(nanos);
      long highest = LatencyHistogram.highestValueAt(index);
      assertTrue(highest >= nanos, "bucket of " + nanos + " ends at " + highest);
      assertTrue(
          LatencyHistogram.highestValueAt(index - 1) < nanos,
          "previous bucket also holds " + nanos);
      assertTrue((highest - nanos) <= nanos / 1000, "bucket of " + nanos + " too wide: " + highest);
    }
  }

  @Test
  void percentilesOfMillisecondLatenciesMatchASortedArray() {
    LatencyHistogram histogram = new LatencyHistogram();
    long[] sorted = new long[10_000];
    for (int i = 0; i < sorted.length; i++) {
      sorted[i] = 1_000_000L + i * 997L;
      histogram.record(sorted[i]);
    }
    for (double percentile : new double[] {50, 99, 99.9}) {
      long exact = sorted[(int) Math.ceil(percentile / 100 * sorted.length) - 1];
      long reported = histogram.percentileNanos(percentile);
      assertTrue(
          Math.abs(reported - exact) <= exact / 1000,
          percentile + ": " + reported + " vs " + exact);
    }
  }

  @Test
  void mergedHistogramsCountEveryValue() {
    LatencyHistogram first = new LatencyHistogram();
    LatencyHistogram second = new LatencyHistogram();
    first.record(5_000_000);
    second.record(1_000);
    second.record(9_000_000);
    first.add(second);
    assertEquals(3, first.count());
    assertEquals(1_000, first.minNanos());
    assertEquals(9_000_000, first.maxNanos());
  }

  @Test
  void aLatencyBeyondTheLimitIsRejectedNamingTheLimit() {
    LatencyHistogram histogram = new LatencyHistogram();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> histogram.record(LatencyHistogram.MAX_NANOS + 1));
    assertTrue(e.getMessage().contains("MAX_NANOS"));
  }
}
