package io.paxcron.bench.log;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The CPU time and context switches a set of processes have used so far, their descendants
 * included: read at the start and the end of a measured window, the difference is what the window
 * cost. On a machine where every system shares two cores with its clients, throughput follows CPU
 * per command, and CPU per command varies less with the machine's mood than throughput does.
 *
 * <p>CPU is the kernel's user + system time of each process ({@link ProcessHandle.Info}, clock-tick
 * resolution: 10 ms on Linux, ~0.1 % of a 30 s window on two cores). Context switches are summed
 * over every thread under {@code /proc/PID/task} (a thread that exits inside the window takes its
 * count with it; the systems measured keep their threads). Where {@code /proc} is missing, the
 * switches are unknown (-1).
 */
record ProcessCpu(long cpuNanos, long contextSwitches) {

  /** The difference {@code this - earlier}; an unknown count stays unknown. */
  ProcessCpu minus(ProcessCpu earlier) {
    return new ProcessCpu(
        cpuNanos - earlier.cpuNanos,
        contextSwitches < 0 || earlier.contextSwitches < 0
            ? -1
            : contextSwitches - earlier.contextSwitches);
  }

  /** This JVM: the benchmark's clients and the client libraries they call. */
  static ProcessCpu self() {
    return of(List.of(ProcessHandle.current()), /* descendants= */ false);
  }

  /** {@code roots} and every process under them (a wrapper script's JVM, for example). */
  static ProcessCpu of(List<ProcessHandle> roots) {
    return of(roots, /* descendants= */ true);
  }

  private static ProcessCpu of(List<ProcessHandle> roots, boolean descendants) {
    List<ProcessHandle> all = new ArrayList<>();
    for (ProcessHandle root : roots) {
      all.add(root);
      if (descendants) {
        root.descendants().forEach(all::add);
      }
    }
    long cpu = 0;
    long switches = 0;
    for (ProcessHandle process : all) {
      Optional<Duration> used = process.info().totalCpuDuration();
      if (used.isPresent()) {
        cpu += used.get().toNanos();
      }
      long counted = contextSwitches(process.pid());
      switches = switches < 0 || counted < 0 ? -1 : switches + counted;
    }
    return new ProcessCpu(cpu, switches);
  }

  /** Voluntary and involuntary switches of every thread of {@code pid}; -1 without /proc. */
  static long contextSwitches(long pid) {
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    if (!Files.isDirectory(tasks)) {
      return Files.isDirectory(Path.of("/proc/self")) ? 0 : -1;
    }
    long total = 0;
    try (DirectoryStream<Path> threads = Files.newDirectoryStream(tasks)) {
      for (Path thread : threads) {
        try {
          for (String line : Files.readAllLines(thread.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")
                || line.startsWith("nonvoluntary_ctxt_switches:")) {
              total += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
            }
          }
        } catch (NoSuchFileException exited) {
          // The thread ended between the listing and the read.
        }
      }
    } catch (NoSuchFileException exited) {
      return 0;
    } catch (IOException e) {
      return -1;
    }
    return total;
  }
}
