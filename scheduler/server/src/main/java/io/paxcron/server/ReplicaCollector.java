package io.paxcron.server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The garbage collector a replica process runs with: Shenandoah where the JDK has it, else the
 * JDK's default (G1). A replica's leader lease is 400 ms; on a loaded 2-core machine loading
 * 100,000 jobs, G1's young-generation pauses reached 150-430 ms, as long as the lease, while
 * Shenandoah's pauses stayed under 5 ms in the same benchmark (docs/performance.md, "Fifth round").
 * Shenandoah also keeps compressed references, so a job's heap grows little (ZGC's would double).
 * {@code ops/paxcron server} makes the same choice.
 */
public final class ReplicaCollector {

  private static final String LOW_PAUSE = "-XX:+UseShenandoahGC";
  private static volatile Boolean available;

  private ReplicaCollector() {}

  /**
   * The collector flags to add to a replica's command line: none if {@code flags} already choose a
   * collector (two would stop the JVM) or the JDK at {@code javaHome} lacks Shenandoah.
   */
  public static List<String> flagsFor(Path javaHome, List<String> flags) {
    for (String flag : flags) {
      if (flag.startsWith("-XX:+Use") && flag.endsWith("GC")) {
        return List.of();
      }
    }
    return available(javaHome) ? List.of(LOW_PAUSE) : List.of();
  }

  private static boolean available(Path javaHome) {
    Boolean known = available;
    if (known == null) {
      known = probe(javaHome);
      available = known;
    }
    return known;
  }

  /** Whether {@code java -XX:+UseShenandoahGC -version} starts (builds without it refuse). */
  private static boolean probe(Path javaHome) {
    try {
      Process process =
          new ProcessBuilder(
                  javaHome.resolve("bin").resolve("java").toString(), LOW_PAUSE, "-version")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return false;
      }
      return process.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
