package io.paxcron.bench.scale;

import io.paxcron.server.LocalCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * CPU time the replicas, the agents and the whole machine have spent, read from Linux's {@code
 * /proc} (user + system, in clock ticks of 10 ms). An agent's time includes every process it
 * started, live or reaped, which is what starting a run costs.
 */
record CpuUse(long nanos, List<Long> replicaTicks, long agentTicks, long machineTicks) {

  /** Clock ticks per second ({@code getconf CLK_TCK}); 100 on every Linux this runs on. */
  private static final double TICKS_PER_SECOND = 100.0;

  /** What was spent between two readings, in cores (CPU seconds per second). */
  record Spent(List<Double> replicaCores, double agentCores, double machineCores) {
    String replicas() {
      List<String> cores = new ArrayList<>();
      for (double core : replicaCores) {
        cores.add(String.format(Locale.ROOT, "%.2f", core));
      }
      return String.join(" / ", cores);
    }
  }

  static CpuUse read(LocalCluster cluster, int agents) throws IOException {
    List<Long> replicas = new ArrayList<>();
    for (int id : cluster.members().keySet()) {
      replicas.add(LocalCluster.treeCpuTicks(cluster.pid(id)));
    }
    long agentTicks = 0;
    for (int a = 0; a < agents; a++) {
      agentTicks += LocalCluster.treeCpuTicks(cluster.agentPid("scale-" + a));
    }
    return new CpuUse(System.nanoTime(), List.copyOf(replicas), agentTicks, readMachineTicks());
  }

  Spent since(CpuUse before) {
    double seconds = (nanos - before.nanos) / 1e9;
    List<Double> replicaCores = new ArrayList<>();
    for (int i = 0; i < replicaTicks.size() && i < before.replicaTicks.size(); i++) {
      replicaCores.add(cores(replicaTicks.get(i) - before.replicaTicks.get(i), seconds));
    }
    return new Spent(
        List.copyOf(replicaCores),
        cores(agentTicks - before.agentTicks, seconds),
        cores(machineTicks - before.machineTicks, seconds));
  }

  private static double cores(long ticks, double seconds) {
    return ticks / TICKS_PER_SECOND / seconds;
  }

  /** Every CPU's busy time: the first line of /proc/stat less idle and iowait. */
  private static long readMachineTicks() throws IOException {
    String[] cpu = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
    long busy = 0;
    for (int i = 1; i < cpu.length && i <= 8; i++) {
      if (i != 4 && i != 5) {
        busy += Long.parseLong(cpu[i]);
      }
    }
    return busy;
  }
}
