package io.paxcron.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.paxcron.paxos.Ballot;
import io.paxcron.scheduler.Reconciliation.AgentReply;
import io.paxcron.scheduler.Reconciliation.Decision;
import org.junit.jupiter.api.Test;

/**
 * One test per row of the step-4 decision table (DESIGN §4), for both semantics where they differ.
 */
final class ReconciliationTest {

  @Test
  void agentThatKnowsTheLaunchIsAdopted() {
    for (Semantics semantics : Semantics.values()) {
      assertEquals(
          new Decision.Adopt(AgentRunState.RUNNING, null),
          Reconciliation.decide(semantics, new AgentReply.Known(AgentRunState.RUNNING, null)));
      assertEquals(
          new Decision.Adopt(AgentRunState.ACCEPTED, null),
          Reconciliation.decide(semantics, new AgentReply.Known(AgentRunState.ACCEPTED, null)));
    }
  }

  @Test
  void agentThatFinishedTheLaunchIsAdoptedWithItsOutcome() {
    assertEquals(
        new Decision.Adopt(AgentRunState.FINISHED, Outcome.failed(2)),
        Reconciliation.decide(
            Semantics.AT_MOST_ONCE,
            new AgentReply.Known(AgentRunState.FINISHED, Outcome.failed(2))));
    assertThrows(
        IllegalArgumentException.class, () -> new AgentReply.Known(AgentRunState.FINISHED, null));
  }

  @Test
  void agentThatNeverSawTheLaunchGetsTheSameLaunchAgain() {
    for (Semantics semantics : Semantics.values()) {
      assertEquals(
          new Decision.ResendLaunch(), Reconciliation.decide(semantics, new AgentReply.Unknown()));
    }
  }

  @Test
  void unreachableAgentWithinItsLeaseIsWaitedFor() {
    for (Semantics semantics : Semantics.values()) {
      assertEquals(
          new Decision.Wait(), Reconciliation.decide(semantics, new AgentReply.Unreachable(false)));
    }
  }

  @Test
  void atMostOnceRunOnAnAgentUnreachablePastItsLeaseIsRecordedLost() {
    assertEquals(
        new Decision.RecordLost(),
        Reconciliation.decide(Semantics.AT_MOST_ONCE, new AgentReply.Unreachable(true)));
  }

  @Test
  void atLeastOnceRunOnAnAgentUnreachablePastItsLeaseGetsANewAttemptElsewhere() {
    assertEquals(
        new Decision.NewAttempt(),
        Reconciliation.decide(Semantics.AT_LEAST_ONCE, new AgentReply.Unreachable(true)));
  }

  @Test
  void agentFencedByAHigherBallotMakesTheLeaderStepDown() {
    for (Semantics semantics : Semantics.values()) {
      assertEquals(
          new Decision.StepDown(),
          Reconciliation.decide(semantics, new AgentReply.Fenced(new Ballot(9, 2))));
    }
  }
}
