package io.paxcron.fault.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Fault runs of real processes in the normal build (docs/testing.md, "Fault runs"): a short mixed
 * run with a fixed seed must lose no acknowledged change, start no at-most-once run twice and leave
 * no instant unaccounted; and the same harness against a planted bug must be caught. Each prints
 * its report directory and the command that replays it.
 *
 * <p>They need root (network namespaces, iptables, tmpfs), libfaketime and libfiu; {@code .ci/run}
 * installs the packages. On a machine without them the tests are skipped with the reason.
 */
class FaultRunsTest {
  static final Pattern LINE =
      Pattern.compile(
          "FAULT seed=\\S+ minutes=\\S+ nemeses=\\S+ acknowledged=(\\d+) lost=(\\d+)"
              + " duplicated=(\\d+) unaccounted=(\\d+) anomalies=(\\d+)");

  static void assumeMachineCanRunFaults() {
    List<String> missing = new ArrayList<>();
    if (!"root".equals(System.getProperty("user.name"))) {
      missing.add("root");
    }
    FaultCluster.toolsPresent(missing);
    assumeTrue(missing.isEmpty(), "fault runs skipped: missing " + missing);
  }

  static long[] summary(Path dir) throws Exception {
    String line = Files.readString(dir.resolve("summary.txt")).strip();
    System.out.println(line);
    Matcher m = LINE.matcher(line);
    assertTrue(m.matches(), "summary line: " + line);
    return new long[] {
      Long.parseLong(m.group(1)),
      Long.parseLong(m.group(2)),
      Long.parseLong(m.group(3)),
      Long.parseLong(m.group(4)),
      Long.parseLong(m.group(5))
    };
  }

  @Test
  void aShortMixedRunLosesNoChangeStartsNoRunTwiceAndAccountsForEveryInstant() throws Exception {
    assumeMachineCanRunFaults();
    Path dir = Path.of("target/fault-runs/ci-mixed").toAbsolutePath();
    System.out.println(
        "fault run in CI; replay: ops/fault/run --seed 11 --minutes 1.5 --nemesis all; report: "
            + dir);
    FaultRun.run(new FaultRun.Options(1.5, 11, "all", dir, "none", 512), System.out);
    long[] counts = summary(dir);
    assertTrue(counts[0] > 0, "some changes must have been acknowledged; see " + dir);
    assertEquals(0, counts[1], "lost acknowledged changes; see " + dir.resolve("report.md"));
    assertEquals(0, counts[2], "duplicated at-most-once runs; see " + dir.resolve("report.md"));
    assertEquals(0, counts[3], "unaccounted instants; see " + dir.resolve("report.md"));
  }

  @Test
  void anAgentThatForgetsItsLaunchesIsCaughtStartingRunsTwice() throws Exception {
    assumeMachineCanRunFaults();
    Path dir = Path.of("target/fault-runs/ci-planted").toAbsolutePath();
    System.out.println(
        "planted bug run; replay: ops/fault/run --seed 3 --minutes 1.5 --nemesis kill:agents+leader"
            + " --plant agent-forgets; report: "
            + dir);
    int code =
        FaultRun.run(
            new FaultRun.Options(1.5, 3, "kill:agents+leader", dir, "agent-forgets", 512),
            System.out);
    long[] counts = summary(dir);
    assertEquals(1, code, "the checker must fail the run");
    assertTrue(counts[2] > 0, "the planted bug must show as duplicated runs; see " + dir);
  }
}
