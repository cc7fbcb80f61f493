package io.paxcron.scheduler.sim;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * A checker that cannot fail proves nothing: each deliberately broken variant of the launch
 * protocol must be caught by the whole-system checkers within {@link #MAX_SEEDS} seeds, and by the
 * checker the variant is about. The number of seeds each needed is printed (docs/testing.md records
 * them).
 */
class PlantedSystemBugsAreCaughtTest {

  static final int MAX_SEEDS = 300;

  @Test
  void dispatchBeforeTheIntentIsChosenIsCaught() {
    caught(
        SystemSimulation.Options.of(1).withBug(SystemBug.DISPATCH_BEFORE_CHOSEN),
        "dispatch before the intent");
  }

  @Test
  void agentWithoutFencingIsCaught() {
    caught(
        SystemSimulation.Options.of(1).withBug(SystemBug.NO_AGENT_FENCING),
        "the agent is not fenced");
  }

  @Test
  void reconciliationThatAlwaysResendsIsCaught() {
    caught(
        SystemSimulation.Options.of(1).withBug(SystemBug.RECONCILE_ALWAYS_RESENDS),
        "dispatch before the intent");
  }

  @Test
  void reconciliationThatAlwaysResendsLaunchesAnAtMostOnceRunTwice() {
    caught(
        SystemSimulation.Options.of(1)
            .withBug(SystemBug.RECONCILE_ALWAYS_RESENDS)
            .withoutIntentCheck(),
        "launched twice");
  }

  @Test
  void agentThatStartsTheProcessBeforePersistingTheLaunchIsCaught() {
    caught(
        SystemSimulation.Options.of(1).withBug(SystemBug.AGENT_STARTS_BEFORE_PERSIST),
        "before persisting the launch");
  }

  @Test
  void leaderThatAcknowledgesAReportBeforeItIsChosenIsCaught() {
    caught(
        SystemSimulation.Options.of(1).withBug(SystemBug.REPORT_ACKNOWLEDGED_BEFORE_CHOSEN),
        "a report acknowledged before it is chosen");
  }

  @Test
  void questionMarkResolvedByEachReplicaIsCaught() {
    caught(
        SystemSimulation.Options.of(1).withBug(SystemBug.QUESTION_MARK_RESOLVED_PER_REPLICA),
        "? must be resolved once, by the leader");
  }

  @Test
  void batchAppliedPartlyIsCaught() {
    caught(
        SystemSimulation.Options.of(1).withBug(SystemBug.BATCH_APPLIED_PARTLY), "applied partly");
  }

  private static void caught(SystemSimulation.Options template, String expected) {
    SystemSimulation.Result found = null;
    long startNanos = System.nanoTime();
    for (long seed = 1; seed <= MAX_SEEDS && found == null; seed++) {
      SystemSimulation.Result result = new SystemSimulation(template.withSeed(seed)).run();
      if (!result.ok()) {
        found = result;
      }
    }
    String variant = template.bug() + (template.intentCheck() ? "" : " (intent check off)");
    assertNotNull(found, variant + " survived " + MAX_SEEDS + " seeds: the checkers are too weak");
    System.out.printf(
        "planted bug %s caught at seed %d (%d seeds, %.1f s): %s%n",
        variant,
        found.seed(),
        found.seed(),
        (System.nanoTime() - startNanos) / 1e9,
        found.violation());
    assertTrue(
        found.violation().contains(expected),
        variant
            + " was caught, but not by the checker it is about: "
            + found.violation()
            + "\n    replay: "
            + found.replayCommand());
  }
}
