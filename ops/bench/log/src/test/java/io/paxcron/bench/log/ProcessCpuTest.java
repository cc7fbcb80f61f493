package io.paxcron.bench.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ProcessCpuTest {

  /** Work that the JIT cannot remove: a running hash over many rounds. */
  private static long burn(long rounds) {
    long hash = 17;
    for (long i = 0; i < rounds; i++) {
      hash = hash * 31 + (i ^ (hash >>> 7));
    }
    return hash;
  }

  @Test
  void cpuThisJvmUsesIsCounted() {
    ProcessCpu before = ProcessCpu.self();
    long sink = 0;
    // Clock-tick resolution: work until the kernel has charged at least one tick, bounded.
    for (int i = 0; i < 2_000 && ProcessCpu.self().cpuNanos() == before.cpuNanos(); i++) {
      sink += burn(1_000_000);
    }
    ProcessCpu used = ProcessCpu.self().minus(before);
    assertTrue(used.cpuNanos() > 0, "no CPU counted after busy work (" + sink + ")");
  }

  /** The scheduler state of {@code pid} ('R', 'S', ...), or '?' if it cannot be read. */
  private static char state(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (java.io.IOException e) {
      return '?';
    }
  }

  @Test
  @Timeout(60)
  void switchesOfAProcessAndItsChildrenAreCounted() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/task")), "needs Linux /proc");
    // A shell waiting for its child, and the child waiting on its input: a process asleep in the
    // kernel got there by switching out at least once.
    Process shell = new ProcessBuilder("/bin/sh", "-c", "cat; true").start();
    try {
      ProcessHandle child = null;
      while (child == null || state(shell.pid()) != 'S' || state(child.pid()) != 'S') {
        Thread.onSpinWait();
        child = shell.toHandle().children().findFirst().orElse(null);
      }
      long shellSwitches = ProcessCpu.contextSwitches(shell.pid());
      long childSwitches = ProcessCpu.contextSwitches(child.pid());
      assertTrue(shellSwitches >= 1 && childSwitches >= 1, shellSwitches + ", " + childSwitches);
      long counted = ProcessCpu.of(List.of(shell.toHandle())).contextSwitches();
      assertTrue(counted >= shellSwitches + childSwitches, counted + " < both");
    } finally {
      shell.getOutputStream().close();
      shell.waitFor();
    }
  }

  @Test
  void anUnknownCountStaysUnknownInADifference() {
    assertEquals(-1, new ProcessCpu(10, 5).minus(new ProcessCpu(5, -1)).contextSwitches());
    assertEquals(new ProcessCpu(5, 3), new ProcessCpu(10, 5).minus(new ProcessCpu(5, 2)));
    assertEquals(0, ProcessCpu.of(List.of()).cpuNanos());
  }
}
