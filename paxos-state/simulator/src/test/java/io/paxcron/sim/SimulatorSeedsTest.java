package io.paxcron.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The real core, in 3- and 5-replica clusters, under each seed's mix of faults: every safety
 * invariant holds after every event, the client history is linearizable, and after the faults heal
 * the cluster finishes every pending command within the liveness bound.
 *
 * <p>{@code -Dsim.seeds=N -Dsim.first=S} choose the seeds; each failure prints its replay command.
 */
class SimulatorSeedsTest {

  static final int CI_SEEDS = 500;

  @Test
  void everySeedKeepsEveryInvariantAndHealsWithinTheLivenessBound() {
    long first = Long.getLong("sim.first", 1);
    long seeds = Long.getLong("sim.seeds", CI_SEEDS);
    List<String> failures = new ArrayList<>();
    long events = 0;
    long acknowledged = 0;
    long reads = 0;
    long leaderChanges = 0;
    long checks = 0;
    long startNanos = System.nanoTime();
    for (long seed = first; seed < first + seeds; seed++) {
      Simulation.Result result = new Simulation(Simulation.Options.of(seed)).run();
      assertTrue(
          result.events() >= 2_000,
          "seed "
              + seed
              + " ran only "
              + result.events()
              + " events; replay: "
              + result.replayCommand());
      events += result.events();
      acknowledged += result.acknowledgedWrites();
      reads += result.reads();
      leaderChanges += result.leaderChanges();
      checks += result.invariantChecks();
      if (!result.ok()) {
        failures.add(
            "seed "
                + seed
                + ": "
                + result.violation()
                + "\n    plan: "
                + result.plan().description()
                + "\n    replay: "
                + result.replayCommand());
      }
    }
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    System.out.printf(
        "simulator: %d seeds, %d events (%.0f events/s), %d acknowledged writes, %d lease reads,"
            + " %d leader changes, %d invariant checks, %d violations%n",
        seeds,
        events,
        events / seconds,
        acknowledged,
        reads,
        leaderChanges,
        checks,
        failures.size());
    assertEquals(List.of(), failures, "violations (replay each with its command)");
    assertTrue(acknowledged > seeds * 10, "clients made too little progress to prove anything");
    assertTrue(leaderChanges > seeds, "too few leader changes: the faults are not biting");
  }

  @Test
  void theSameSeedReplaysTheSameRunEventForEvent() {
    for (long seed : new long[] {3, 17, 42}) {
      java.io.ByteArrayOutputStream first = new java.io.ByteArrayOutputStream();
      java.io.ByteArrayOutputStream second = new java.io.ByteArrayOutputStream();
      Simulation.Result a =
          new Simulation(
                  Simulation.Options.of(seed)
                      .withTrace(
                          new java.io.PrintStream(
                              first, true, java.nio.charset.StandardCharsets.UTF_8),
                          true))
              .run();
      Simulation.Result b =
          new Simulation(
                  Simulation.Options.of(seed)
                      .withTrace(
                          new java.io.PrintStream(
                              second, true, java.nio.charset.StandardCharsets.UTF_8),
                          true))
              .run();
      assertEquals(a, b, "seed " + seed + " must replay identically");
      assertEquals(
          first.toString(java.nio.charset.StandardCharsets.UTF_8),
          second.toString(java.nio.charset.StandardCharsets.UTF_8),
          "seed " + seed + " trace must replay identically");
    }
  }
}
