package io.paxcron.bench.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's CPU time so far and the part of it the hypervisor gave to others ("steal", the
 * eighth field of {@code /proc/stat}'s {@code cpu} line): read at the start and the end of a
 * measured window, {@link #percentSince} is the share of the window's CPU time the host took. On
 * the virtual machines this benchmark runs on, the host takes CPU in bursts of a few seconds
 * (docs/performance.md, twenty-third round); a single client's tail measured during one is the
 * host's, and the point's row says so.
 */
record HostSteal(long stealTicks, long totalTicks) {

  private static final Path PROC_STAT = Path.of("/proc/stat");

  /** Now; ticks of -1 where {@code /proc/stat} cannot be read (not Linux). */
  static HostSteal now() {
    try {
      for (String line : Files.readAllLines(PROC_STAT)) {
        if (line.startsWith("cpu ")) {
          return parse(line);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Unknown: the report says n/a.
    }
    return new HostSteal(-1, -1);
  }

  /** The aggregate {@code cpu} line of {@code /proc/stat}. */
  static HostSteal parse(String cpuLine) {
    String[] fields = cpuLine.trim().split("\\s+");
    if (!fields[0].equals("cpu") || fields.length < 9) {
      throw new IllegalArgumentException("not an aggregate cpu line: " + cpuLine);
    }
    long total = 0;
    // user nice system idle iowait irq softirq steal: guest time is already inside user and nice.
    for (int i = 1; i <= 8; i++) {
      total += Long.parseLong(fields[i]);
    }
    return new HostSteal(Long.parseLong(fields[8]), total);
  }

  /**
   * Percent of the CPU time between {@code earlier} and this reading that was stolen; NaN if
   * unknown.
   */
  double percentSince(HostSteal earlier) {
    long total = totalTicks - earlier.totalTicks;
    if (stealTicks < 0 || earlier.stealTicks < 0 || total <= 0) {
      return Double.NaN;
    }
    return 100.0 * (stealTicks - earlier.stealTicks) / total;
  }
}
