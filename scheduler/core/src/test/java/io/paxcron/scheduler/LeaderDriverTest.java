package io.paxcron.scheduler;

import static io.paxcron.scheduler.Fixture.at;
import static io.paxcron.scheduler.Fixture.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Ballot;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

final class LeaderDriverTest {
  private static final Ballot FIRST = new Ballot(1, 1);
  private static final Ballot SECOND = new Ballot(2, 2);
  private static final List<AgentInfo> AGENTS =
      List.of(new AgentInfo(AgentId.of("agent-1"), java.util.Map.of(), 4, at(100_000)));

  private final Fixture fixture = new Fixture();
  private final LeaderDriver driver =
      new LeaderDriver(fixture.machine, DispatcherConfig.DEFAULT, new SplittableRandom(7));

  private LeaderDriver.Transition check(
      boolean leader, Ballot ballot, boolean lease, boolean caughtUp) {
    return driver.onLeadership(
        at(1), new LeaderDriver.Leadership(leader, ballot, lease, caughtUp), () -> AGENTS);
  }

  @Test
  void theDispatcherStartsOnlyOnceTheReplicaLeadsWithALeaseAndHasAppliedEverythingChosen() {
    assertEquals(Optional.empty(), check(true, FIRST, false, true).started(), "no lease");
    assertEquals(Optional.empty(), check(true, FIRST, true, false).started(), "not caught up");
    assertEquals(Optional.empty(), check(false, FIRST, true, true).started(), "not leading");
    assertNull(driver.ballot());
    assertEquals(Optional.of(FIRST), check(true, FIRST, true, true).started());
    assertEquals(FIRST, driver.ballot());
    assertEquals(Optional.empty(), check(true, FIRST, true, true).started(), "already leading");
  }

  @Test
  void aNewBallotStopsTheOldLeadershipAndStartsANewSessionFromSequenceOne() {
    check(true, FIRST, true, true);
    long firstSession = driver.sessionId();
    assertEquals(1, driver.nextSequence());
    assertEquals(2, driver.nextSequence());
    LeaderDriver.Transition transition = check(true, SECOND, true, true);
    assertEquals(Optional.of(FIRST), transition.stopped());
    assertEquals(Optional.of(SECOND), transition.started());
    assertNotEquals(firstSession, driver.sessionId());
    assertEquals(1, driver.nextSequence());
  }

  @Test
  void losingLeadershipStopsTheDispatcherAndEndsTheProposalSession() {
    check(true, FIRST, true, true);
    assertEquals(Optional.of(FIRST), check(false, FIRST, true, true).stopped());
    assertNull(driver.ballot());
    assertEquals(0, driver.sessionId());
    assertThrows(IllegalStateException.class, driver::nextSequence);
  }

  @Test
  void aBatchAppliedWhileNotLeadingIsIgnoredAndTheNewLeaderReadsTheAppliedState() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600).minusSeconds(1));
    assertEquals(List.of(), driver.onApplied(at(1), true), "not leading: nothing to read");
    List<DispatchEffect> started = check(true, FIRST, true, true).effects();
    assertEquals(
        1,
        started.stream().filter(DispatchEffect.Launch.class::isInstance).count(),
        "the intent of this ballot, applied before the start, is read from the applied state");
    assertEquals(
        List.of(), driver.onApplied(at(2), true), "and not launched again after the next batch");
  }

  @Test
  void aReportIsAcknowledgedOnlyOnceTheLogHoldsItAndProposedBefore() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    RunId run = RunId.of(JobName.of("a"), at(3600));
    AgentAnswer.Started started = new AgentAnswer.Started(AgentId.of("agent-1"), run, 1);
    assertFalse(driver.onReport(at(3601), true, started).acknowledge(), "not leading: ignored");
    check(true, FIRST, true, true);
    LeaderDriver.ReportStep before = driver.onReport(at(3601), true, started);
    assertFalse(before.acknowledge());
    assertTrue(
        before.effects().stream()
            .anyMatch(
                effect ->
                    effect instanceof DispatchEffect.Propose propose
                        && propose.commands().stream()
                            .anyMatch(CronCommand.RunStarted.class::isInstance)),
        "the report is proposed: " + before.effects());
    fixture.started("a", at(3600), 1, "agent-1", at(3601));
    assertTrue(driver.onReport(at(3602), true, started).acknowledge());
  }

  @Test
  void aReportIsAcknowledgedAsSoonAsTheAppliedLogHoldsItWithoutWaitingForTheAgentToResendIt() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    RunId run = RunId.of(JobName.of("a"), at(3600));
    check(true, FIRST, true, true);
    AgentAnswer.Started started = new AgentAnswer.Started(AgentId.of("agent-1"), run, 1);
    assertFalse(driver.onReport(at(3601), true, started).acknowledge());
    assertEquals(
        List.of(),
        acknowledgements(driver.onApplied(at(3601), true)),
        "a batch that does not hold the start acknowledges nothing");
    fixture.started("a", at(3600), 1, "agent-1", at(3601));
    assertEquals(
        List.of(new DispatchEffect.AcknowledgeReport(started)),
        acknowledgements(driver.onApplied(at(3601), true)),
        "the batch holding the start acknowledges it");
    assertEquals(List.of(), acknowledgements(driver.onApplied(at(3602), true)), "and only once");
  }

  @Test
  void aReportSentAgainBeforeItsRecordIsAppliedIsProposedOnceUntilTheProposalIsDueForARetry() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    RunId run = RunId.of(JobName.of("a"), at(3600));
    check(true, FIRST, true, true);
    AgentAnswer.Finished finished =
        new AgentAnswer.Finished(AgentId.of("agent-1"), run, 1, Outcome.SUCCEEDED);
    assertEquals(1, proposedCommands(driver.onReport(at(3601), true, finished)));
    assertEquals(
        0,
        proposedCommands(driver.onReport(at(3601).plusMillis(500), true, finished)),
        "the agent's resend on its next heartbeat proposes nothing more");
    Instant retry = at(3601).plus(DispatcherConfig.DEFAULT.proposalRetryAfter());
    assertEquals(
        1,
        proposedCommands(driver.onReport(retry, true, finished)),
        "a proposal unanswered for proposalRetryAfter is made again");
  }

  private static List<DispatchEffect> acknowledgements(List<DispatchEffect> effects) {
    return effects.stream().filter(DispatchEffect.AcknowledgeReport.class::isInstance).toList();
  }

  private static long proposedCommands(LeaderDriver.ReportStep step) {
    assertFalse(step.acknowledge());
    return step.effects().stream()
        .filter(DispatchEffect.Propose.class::isInstance)
        .mapToLong(effect -> ((DispatchEffect.Propose) effect).commands().size())
        .sum();
  }

  @Test
  void anAgentIsGrantedALeaseOnlyWhileLeadingWithALease() {
    assertFalse(driver.mayGrantAgentLease(true), "not leading");
    check(true, FIRST, true, true);
    assertTrue(driver.mayGrantAgentLease(true));
    assertFalse(driver.mayGrantAgentLease(false), "lease lapsed");
  }
}
