package io.paxcron.scheduler.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The whole system — real Paxos replicas, cron state machines, dispatchers and agent fences — under
 * each seed's mix of faults: every invariant holds as events happen, and after the faults heal
 * every due instant is accounted for within the bound and every acknowledged job change is present.
 *
 * <p>{@code -Dsystem.seeds=N -Dsystem.first=S} choose the seeds; each failure prints its replay
 * command.
 */
class SystemSimulationSeedsTest {

  static final int CI_SEEDS = 300;

  @Test
  void everySeedKeepsEveryInvariantAndAccountsForEveryDueInstant() {
    long first = Long.getLong("system.first", 1);
    long seeds = Long.getLong("system.seeds", CI_SEEDS);
    List<String> failures = new ArrayList<>();
    long events = 0;
    int leaderChanges = 0;
    SystemChecker.Counts total = SystemChecker.Counts.ZERO;
    long startNanos = System.nanoTime();
    for (long seed = first; seed < first + seeds; seed++) {
      SystemSimulation.Result result =
          new SystemSimulation(SystemSimulation.Options.of(seed)).run();
      events += result.events();
      leaderChanges += result.leaderChanges();
      total = total.plus(result.counts());
      if (result.ok() && result.counts().intentsRefused() > 0) {
        // After the heal no fault can explain it: the dispatcher and the state machine disagreed
        // about the eligibility rule (seed 109 did, until a late instant waited for its tick).
        failures.add(
            "seed "
                + seed
                + ": "
                + result.counts().intentsRefused()
                + " intents proposed after the heal refused as ineligible"
                + "\n    replay: "
                + result.replayCommand()
                + " --verbose");
      }
      if (!result.ok()) {
        failures.add(
            "seed "
                + seed
                + ": "
                + result.violation()
                + "\n    plan: "
                + result.plan()
                + "\n    replay: "
                + result.replayCommand());
      }
    }
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    System.out.println(SystemSoak.describe(total, seeds, seconds));
    System.out.printf(
        "system: %d events (%.0f events/s), %d leader changes, %d violations%n",
        events, events / seconds, leaderChanges, failures.size());
    assertEquals(List.of(), failures, "violations (replay each with its command)");
    assertTrue(
        total.acknowledged() > seeds * 10, "clients made too little progress to prove anything");
    assertTrue(total.instantsExpected() > seeds * 20, "too few due instants were checked");
    assertTrue(total.runsStarted() > seeds * 20, "agents ran too few launches");
    assertTrue(
        total.lostRuns() > 0 && total.recovered() > 0 && leaderChanges > seeds,
        "the faults are not biting: no LOST runs, no recovered changes or too few leader changes");
  }

  @Test
  void theSameSeedReplaysTheSameRunEventForEvent() {
    for (long seed : new long[] {5, 42}) {
      ByteArrayOutputStream first = new ByteArrayOutputStream();
      ByteArrayOutputStream second = new ByteArrayOutputStream();
      SystemSimulation.Result a =
          new SystemSimulation(
                  SystemSimulation.Options.of(seed)
                      .withTrace(new PrintStream(first, true, StandardCharsets.UTF_8)))
              .run();
      SystemSimulation.Result b =
          new SystemSimulation(
                  SystemSimulation.Options.of(seed)
                      .withTrace(new PrintStream(second, true, StandardCharsets.UTF_8)))
              .run();
      assertEquals(a, b, "seed " + seed + " must replay identically");
      assertEquals(
          first.toString(StandardCharsets.UTF_8),
          second.toString(StandardCharsets.UTF_8),
          "seed " + seed + " trace must replay identically");
      assertTrue(
          first.size() > 10_000, "the trace of seed " + seed + " is too short to prove anything");
    }
  }
}
