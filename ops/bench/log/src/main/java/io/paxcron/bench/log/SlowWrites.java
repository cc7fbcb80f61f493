package io.paxcron.bench.log;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The measured writes of one point that took longer than a threshold, and where in time they fall:
 * grouped into <em>episodes</em> (a slow write that starts within {@link #EPISODE_GAP_NANOS} of the
 * previous one's end belongs to the same stall), and the episodes' starts folded over a period — a
 * timer of that period in some server (a heartbeat, a tick) shows as one phase bin well above the
 * others. On a shared machine most of a closed loop's tail is spread evenly; what is periodic has a
 * cause in the code (docs/performance.md, thirteenth round).
 *
 * <p>Threading: one {@link Recorder} per client thread; {@link #of} after they finished.
 */
final class SlowWrites {

  static final long EPISODE_GAP_NANOS = 500_000;

  /** The periods folded in every summary: the replicas' 50 ms heartbeat and their 5 ms tick. */
  static final List<Long> PERIODS_MILLIS = List.of(50L, 5L);

  static final int PHASE_BINS = 10;

  /** One client's slow writes, in the order it made them (so in order of start). */
  static final class Recorder {
    private final long thresholdNanos;
    private long[] starts = new long[256];
    private long[] elapsed = new long[256];
    private int size;

    Recorder(long thresholdNanos) {
      this.thresholdNanos = thresholdNanos;
    }

    void record(long startNanos, long elapsedNanos) {
      if (elapsedNanos <= thresholdNanos) {
        return;
      }
      if (size == starts.length) {
        starts = Arrays.copyOf(starts, 2 * size);
        elapsed = Arrays.copyOf(elapsed, 2 * size);
      }
      starts[size] = startNanos;
      elapsed[size] = elapsedNanos;
      size++;
    }
  }

  private final long thresholdNanos;
  private final long[][] writes;

  private SlowWrites(long thresholdNanos, long[][] writes) {
    this.thresholdNanos = thresholdNanos;
    this.writes = writes;
  }

  /** Every client's slow writes, ordered by start. */
  static SlowWrites of(long thresholdNanos, List<Recorder> recorders) {
    List<long[]> all = new ArrayList<>();
    for (Recorder recorder : recorders) {
      for (int i = 0; i < recorder.size; i++) {
        all.add(new long[] {recorder.starts[i], recorder.elapsed[i]});
      }
    }
    all.sort((a, b) -> Long.compare(a[0], b[0]));
    return new SlowWrites(thresholdNanos, all.toArray(long[][]::new));
  }

  int count() {
    return writes.length;
  }

  /** The start of each episode, ascending. */
  long[] episodeStarts() {
    List<Long> starts = new ArrayList<>();
    long lastEnd = Long.MIN_VALUE;
    for (long[] write : writes) {
      if (starts.isEmpty() || write[0] - lastEnd >= EPISODE_GAP_NANOS) {
        starts.add(write[0]);
        lastEnd = write[0] + write[1];
      } else {
        lastEnd = Math.max(lastEnd, write[0] + write[1]);
      }
    }
    return starts.stream().mapToLong(Long::longValue).toArray();
  }

  /** The episodes' starts folded over {@code periodMillis} into {@link #PHASE_BINS} bins. */
  static int[] fold(long[] episodeStarts, long periodMillis) {
    int[] bins = new int[PHASE_BINS];
    if (episodeStarts.length == 0) {
      return bins;
    }
    long period = periodMillis * 1_000_000;
    for (long start : episodeStarts) {
      long phase = Math.floorMod(start - episodeStarts[0], period);
      bins[(int) (phase * PHASE_BINS / period)]++;
    }
    return bins;
  }

  /** The fullest bin over the mean of the others: ~1 when nothing is periodic. */
  static double peakRatio(int[] bins) {
    int peak = 0;
    int total = 0;
    for (int bin : bins) {
      peak = Math.max(peak, bin);
      total += bin;
    }
    int others = total - peak;
    return others == 0 ? (peak == 0 ? 0 : Double.POSITIVE_INFINITY) : peak / (others / 9.0);
  }

  /** One line for the progress output. */
  String summary(long measuredWrites) {
    long[] episodes = episodeStarts();
    StringBuilder line =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%d writes over %.2f ms (%.2f %%) in %d episodes",
                writes.length,
                thresholdNanos / 1e6,
                measuredWrites == 0 ? 0.0 : 100.0 * writes.length / measuredWrites,
                episodes.length));
    for (long period : PERIODS_MILLIS) {
      int[] bins = fold(episodes, period);
      double peak = peakRatio(bins);
      line.append(
          String.format(
              Locale.ROOT,
              "; by phase of %d ms %s (%s)",
              period,
              Arrays.toString(bins),
              Double.isInfinite(peak) || episodes.length < 2 * PHASE_BINS
                  ? "too few episodes to tell; is the threshold above the point's p50?"
                  : String.format(Locale.ROOT, "peak %.1fx the rest", peak)));
    }
    return line.toString();
  }

  /** Writes "start_ns elapsed_ns" per line (starts on this machine's monotonic clock). */
  void writeTo(Path file) throws IOException {
    try (PrintWriter out =
        new PrintWriter(Files.newBufferedWriter(file, StandardCharsets.US_ASCII))) {
      for (long[] write : writes) {
        out.println(write[0] + " " + write[1]);
      }
    }
  }
}
