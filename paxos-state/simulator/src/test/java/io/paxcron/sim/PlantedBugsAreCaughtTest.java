package io.paxcron.sim;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.paxcron.simkit.PlantedBug;
import org.junit.jupiter.api.Test;

/**
 * A checker that cannot fail proves nothing: each deliberately broken variant of the protocol or of
 * the driver must be caught by the simulator within {@link #MAX_SEEDS} seeds. The number of seeds
 * each one needed is printed (docs/testing.md records them).
 */
class PlantedBugsAreCaughtTest {

  static final int MAX_SEEDS = 500;

  @Test
  void quorumOfMajorityMinusOneIsCaught() {
    caught(Simulation.Options.of(1).withPlantedBug(PlantedBug.QUORUM_MINUS_ONE));
  }

  @Test
  void newLeaderThatDoesNotAdoptAcceptedValuesIsCaught() {
    caught(Simulation.Options.of(1).withPlantedBug(PlantedBug.NO_PHASE1_ADOPTION));
  }

  @Test
  void leaseWithoutClockDriftMarginIsCaught() {
    caught(Simulation.Options.of(1).withPlantedBug(PlantedBug.LEASE_WITHOUT_DRIFT_MARGIN));
  }

  @Test
  void campaigningWithoutPreVoteIsCaught() {
    caught(Simulation.Options.of(1).withPlantedBug(PlantedBug.NO_PRE_VOTE));
  }

  @Test
  void leaderCountingItsOwnVoteBeforeItsWriteIsDurableIsCaught() {
    caught(Simulation.Options.of(1).withPlantedBug(PlantedBug.LEADER_VOTES_BEFORE_DURABLE));
  }

  @Test
  void replyingBeforePersistingIsCaught() {
    caught(Simulation.Options.of(1).withDriverBug(Simulation.DriverBug.REPLY_BEFORE_PERSIST));
  }

  @Test
  void takingAcceptancesForLearnedOnlyWritesIsCaught() {
    caught(Simulation.Options.of(1).withDriverBug(Simulation.DriverBug.ACCEPTS_AS_LEARNED));
  }

  private static void caught(Simulation.Options template) {
    String variant =
        template.plantedBug() != PlantedBug.NONE
            ? template.plantedBug().name()
            : template.driverBug().name();
    Simulation.Result found = null;
    for (long seed = 1; seed <= MAX_SEEDS && found == null; seed++) {
      Simulation.Result result = new Simulation(template.withSeed(seed)).run();
      if (!result.ok()) {
        found = result;
      }
    }
    assertNotNull(found, variant + " survived " + MAX_SEEDS + " seeds: the checkers are too weak");
    System.out.printf(
        "planted bug %s caught at seed %d (%d seeds): %s%n",
        variant, found.seed(), found.seed(), found.violation());
  }
}
