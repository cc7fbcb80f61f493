package io.paxcron.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.simkit.PlantedBug;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Membership changes during faults: an operator adds spares as learners, promotes them, removes
 * learners and voters (the leader too) and sometimes crashes the leader right after it accepted a
 * change, all while the seed's faults run. Every safety invariant — judged against the voters of
 * each slot's configuration, which the checker derives from what it saw chosen — holds, the client
 * history is linearizable, and the cluster heals. A change that takes effect without the rule is
 * caught.
 *
 * <p>{@code -Dsim.membership.seeds=N -Dsim.first=S} choose the seeds; each failure prints its
 * replay command ({@code ops/soak ... --membership}).
 */
class MembershipChangesTest {

  static final int CI_SEEDS = 200;
  static final int MAX_SEEDS_TO_CATCH = 100;

  @Test
  void membershipChangesDuringFaultsKeepEveryInvariantAndHeal() {
    long first = Long.getLong("sim.first", 1);
    long seeds = Long.getLong("sim.membership.seeds", CI_SEEDS);
    List<String> failures = new ArrayList<>();
    long changes = 0;
    long acknowledged = 0;
    long withChanges = 0;
    for (long seed = first; seed < first + seeds; seed++) {
      Simulation.Result result =
          new Simulation(Simulation.Options.of(seed).withMembershipChanges(true)).run();
      changes += result.membershipChanges();
      withChanges += result.membershipChanges() > 0 ? 1 : 0;
      acknowledged += result.acknowledgedWrites();
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
    System.out.printf(
        "membership: %d seeds, %d chosen configuration changes (%d seeds with at least one), %d"
            + " acknowledged writes, %d violations%n",
        seeds, changes, withChanges, acknowledged, failures.size());
    assertEquals(List.of(), failures, "violations (replay each with its command)");
    assertTrue(changes >= 2 * seeds, "too few changes were chosen to prove anything: " + changes);
  }

  @Test
  void aChangeThatGovernsTheNextSlotInsteadOfTheWindowIsCaught() {
    Simulation.Options template =
        Simulation.Options.of(1)
            .withMembershipChanges(true)
            .withPlantedBug(PlantedBug.RECONFIGURATION_WITHOUT_DELAY);
    Simulation.Result found = null;
    for (long seed = 1; seed <= MAX_SEEDS_TO_CATCH && found == null; seed++) {
      Simulation.Result result = new Simulation(template.withSeed(seed)).run();
      if (!result.ok()) {
        found = result;
      }
    }
    assertNotNull(
        found,
        "RECONFIGURATION_WITHOUT_DELAY survived "
            + MAX_SEEDS_TO_CATCH
            + " seeds: checkers too weak");
    System.out.printf(
        "planted bug RECONFIGURATION_WITHOUT_DELAY caught at seed %d: %s%n",
        found.seed(), found.violation());
  }
}
