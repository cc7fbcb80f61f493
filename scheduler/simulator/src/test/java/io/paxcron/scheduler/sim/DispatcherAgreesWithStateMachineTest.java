package io.paxcron.scheduler.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.ClockBound;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Eligibility: the dispatcher and the state machine decide with one rule, so without faults the
 * dispatcher never proposes an intent the state machine refuses as ineligible — across a winter
 * night and both New York DST transitions (the spring-forward gap is where two copies of the rule
 * once disagreed). An intent refused after a client changed its job in between is not counted.
 *
 * <p>More seeds: {@code ops/soak --scope system --calm --seeds N --verbose} (counted {@code
 * intents-refused}).
 */
class DispatcherAgreesWithStateMachineTest {

  static final int CI_SEEDS = 30;

  @Test
  void withoutFaultsTheDispatcherNeverProposesAnIntentTheStateMachineRefusesAsIneligible() {
    long seeds = CI_SEEDS;
    long refused = 0;
    long dstSeeds = 0;
    long runsStarted = 0;
    List<String> refusals = new ArrayList<>();
    for (long seed = 1; seed <= seeds; seed++) {
      SystemSimulation simulation =
          new SystemSimulation(SystemSimulation.Options.of(seed).withoutFaults());
      SystemSimulation.Result result = simulation.run();
      assertTrue(result.ok(), "seed " + seed + ": " + result.violation());
      runsStarted += result.counts().runsStarted();
      if (!simulation.plan.calendarStart().equals(SystemFaultPlan.CALENDAR_STARTS.get(0))) {
        dstSeeds++;
      }
      if (result.counts().intentsRefused() > 0) {
        refused += result.counts().intentsRefused();
        refusals.add(
            "seed "
                + seed
                + " ("
                + simulation.plan.calendarStart()
                + "): "
                + result.counts().intentsRefused()
                + " refused, first "
                + simulation.checker.firstRefusal()
                + "; replay: "
                + result.replayCommand());
      }
    }
    System.out.printf(
        "calm system: %d seeds (%d across a DST transition), %d runs started, %d intents refused%n",
        seeds, dstSeeds, runsStarted, refused);
    assertTrue(dstSeeds > 0, "no seed crossed a DST transition");
    assertTrue(runsStarted > seeds * 20, "agents ran too few launches to prove anything");
    assertEquals(List.of(), refusals, "intents the state machine refused as ineligible");
  }

  @Test
  void aCalmPlanHasNoFaultButKeepsTheSeedsCalendar() {
    SystemFaultPlan seedPlan = SystemFaultPlan.forSeed(6, new ClockBound(100_000, 25).driftPpm());
    SystemFaultPlan calm = seedPlan.calm();
    assertEquals(seedPlan.calendarStart(), calm.calendarStart());
    assertEquals(seedPlan.agents(), calm.agents());
    assertEquals(0, calm.partitionsPerSecond() + calm.crashesPerSecond() + calm.pausesPerSecond());
    assertEquals(0, calm.cluster().messageLoss() + calm.cluster().messageDuplication());
    assertEquals(0, calm.leaderlessGapMillis());
    assertEquals(0, calm.agentCrashesPerSecond() + calm.agentPartitionsPerSecond());
  }
}
