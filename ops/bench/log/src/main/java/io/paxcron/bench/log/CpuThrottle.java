package io.paxcron.bench.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Starves processes of CPU, alive but slow: they (and every descendant and thread) are moved into a
 * cgroup of their own whose CPU quota is {@code percent} of one core, and moved back by {@link
 * #close}. Uses the cgroup v1 {@code cpu} controller ({@code cpu.cfs_quota_us}) or cgroup v2
 * ({@code cpu.max}), whichever is mounted writable; needs root.
 */
final class CpuThrottle implements AutoCloseable {

  private static final long PERIOD_MICROS = 100_000;

  private final Path group;
  private final Path parentProcs;
  private final List<Long> pids = new ArrayList<>();

  private CpuThrottle(Path group, Path parentProcs) {
    this.group = group;
    this.parentProcs = parentProcs;
  }

  /** Throttles {@code processes} to {@code percent} of one core until {@link #close}. */
  static CpuThrottle of(List<ProcessHandle> processes, int percent) throws IOException {
    if (percent < 1 || percent > 100) {
      throw new IllegalArgumentException("percent must be 1..100, got " + percent);
    }
    Path root = cpuControllerRoot();
    Path group =
        Files.createDirectories(
            root.resolve("paxcron-bench-starved-" + ProcessHandle.current().pid()));
    CpuThrottle throttle = new CpuThrottle(group, root.resolve("cgroup.procs"));
    long quota = PERIOD_MICROS * percent / 100;
    if (Files.exists(group.resolve("cpu.max"))) {
      Files.writeString(group.resolve("cpu.max"), quota + " " + PERIOD_MICROS);
    } else {
      Files.writeString(group.resolve("cpu.cfs_period_us"), Long.toString(PERIOD_MICROS));
      Files.writeString(group.resolve("cpu.cfs_quota_us"), Long.toString(quota));
    }
    try {
      for (ProcessHandle process : processes) {
        throttle.move(process.pid());
        for (ProcessHandle child : process.descendants().toList()) {
          throttle.move(child.pid());
        }
      }
    } catch (IOException | RuntimeException e) {
      throttle.close();
      throw e;
    }
    return throttle;
  }

  private synchronized void move(long pid) throws IOException {
    Files.writeString(group.resolve("cgroup.procs"), Long.toString(pid));
    pids.add(pid);
  }

  /** Moves the processes back to the root group (those still alive) and removes the group. */
  @Override
  public synchronized void close() throws IOException {
    for (long pid : pids) {
      if (ProcessHandle.of(pid).isPresent()) {
        Files.writeString(parentProcs, Long.toString(pid));
      }
    }
    pids.clear();
    Files.deleteIfExists(group);
  }

  /** The writable root of the cpu controller, or an error naming what is missing. */
  private static Path cpuControllerRoot() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
      String[] fields = line.split(" ");
      if (fields.length < 4) {
        continue;
      }
      Path mount = Path.of(fields[1]);
      boolean v1Cpu = fields[2].equals("cgroup") && List.of(fields[3].split(",")).contains("cpu");
      boolean v2Cpu =
          fields[2].equals("cgroup2")
              && Files.isReadable(mount.resolve("cgroup.controllers"))
              && Files.readString(mount.resolve("cgroup.controllers")).contains("cpu");
      if ((v1Cpu || v2Cpu) && Files.isWritable(mount)) {
        return mount;
      }
    }
    throw new IOException(
        String.format(
            Locale.ROOT,
            "no writable cgroup cpu controller in /proc/mounts: starving a follower needs root and"
                + " cgroup v1's cpu controller or cgroup v2 with cpu enabled"));
  }
}
