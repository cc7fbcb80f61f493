package io.paxcron.scheduler;

import static io.paxcron.scheduler.Fixture.at;
import static io.paxcron.scheduler.Fixture.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.paxcron.scheduler.ReportAcknowledgement.Decision;
import org.junit.jupiter.api.Test;

final class ReportAcknowledgementTest {
  private final Fixture fixture = new Fixture();
  private final RunId run = RunId.of(JobName.of("a"), at(3600));

  private Decision started(int attempt) {
    return ReportAcknowledgement.decide(
        fixture.machine, new AgentAnswer.Started(AgentId.of("agent-1"), run, attempt));
  }

  private Decision finished(int attempt) {
    return ReportAcknowledgement.decide(
        fixture.machine,
        new AgentAnswer.Finished(AgentId.of("agent-1"), run, attempt, Outcome.SUCCEEDED));
  }

  @Test
  void reportsAreProposedUntilTheLogHoldsThemThenAcknowledged() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    assertEquals(Decision.PROPOSE, started(1));
    assertEquals(Decision.PROPOSE, finished(1));
    fixture.started("a", at(3600), 1, "agent-1", at(3601));
    assertEquals(Decision.ACKNOWLEDGE, started(1), "the start is in the log");
    assertEquals(Decision.PROPOSE, finished(1), "the finish is not");
    fixture.finished("a", at(3600), 1, Outcome.SUCCEEDED, at(3602));
    assertEquals(Decision.ACKNOWLEDGE, finished(1), "the run is closed: the log holds its end");
  }

  @Test
  void aReportAboutARunTheAppliedStateHasNeverSeenIsProposedNotAcknowledged() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    assertEquals(Decision.PROPOSE, started(1), "the intent may be chosen but not applied here");
    assertEquals(Decision.PROPOSE, finished(1), "the intent may be chosen but not applied here");
  }

  @Test
  void reportsOfALaterAttemptThanTheAppliedOneAreProposedNotAcknowledged() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    assertEquals(
        Decision.PROPOSE, started(7), "attempt 7's intent is chosen, but not applied here yet");
    assertEquals(Decision.PROPOSE, finished(7), "attempt 7's intent is not applied here yet");
  }

  @Test
  void reportsOfARunDueButNotYetLaunchedHereAreProposedNotAcknowledged() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.tick(at(3600)); // the instant is reached: the run is due, its intent not applied yet
    assertEquals(Decision.PROPOSE, started(1));
    assertEquals(Decision.PROPOSE, finished(1));
  }

  @Test
  void onlyReportsAreJudged() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ReportAcknowledgement.decide(
                fixture.machine,
                new AgentAnswer.Unknown(AgentId.of("agent-1"), run, 1, Fixture.BALLOT)));
  }
}
