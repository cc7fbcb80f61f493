package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A state machine driven through encoded commands in consecutive slots, as the log would drive it.
 */
final class Fixture {
  static final Instant T0 = Instant.parse("2024-01-01T00:00:00Z");
  static final Ballot BALLOT = new Ballot(1, 1);
  static final JobCommand ECHO = new JobCommand.Argv(List.of("/bin/echo", "hello"));

  final CronStateMachine machine;
  long slot;

  Fixture() {
    this(new CronStateMachine());
  }

  Fixture(CronStateMachine machine) {
    this.machine = machine;
  }

  static JobSpec.Builder job(String name, String schedule) {
    return JobSpec.builder(name, schedule, ECHO);
  }

  static Instant at(long seconds) {
    return T0.plusSeconds(seconds);
  }

  /** Applies through the byte interface, so every command also goes through the codec. */
  CommandResult apply(CronCommand command) {
    return CronCodec.decodeResult(machine.apply(++slot, CronCodec.encode(command)));
  }

  CommandResult put(JobSpec spec, Instant at) {
    return apply(new CronCommand.PutJob(spec, ExpectedVersion.ANY, Map.of(), at));
  }

  CommandResult tick(Instant at) {
    return apply(new CronCommand.Tick(at));
  }

  CommandResult intent(String job, Instant instant, int attempt, String agent, Instant at) {
    return apply(
        new CronCommand.RunIntent(
            RunId.of(JobName.of(job), instant), attempt, AgentId.of(agent), BALLOT, at));
  }

  CommandResult started(String job, Instant instant, int attempt, String agent, Instant at) {
    return apply(
        new CronCommand.RunStarted(
            RunId.of(JobName.of(job), instant), attempt, AgentId.of(agent), at));
  }

  CommandResult finished(String job, Instant instant, int attempt, Outcome outcome, Instant at) {
    return apply(
        new CronCommand.RunFinished(RunId.of(JobName.of(job), instant), attempt, outcome, at));
  }

  /** Runs one instant through intent, start and success. */
  void runToSuccess(String job, Instant instant, String agent) {
    Instant at = instant.plus(Duration.ofMillis(10));
    require(intent(job, instant, 1, agent, at));
    require(started(job, instant, 1, agent, at));
    require(finished(job, instant, 1, Outcome.SUCCEEDED, at.plusMillis(10)));
  }

  static void require(CommandResult result) {
    if (!result.applied()) {
      throw new AssertionError("expected APPLIED, got " + result);
    }
  }

  /** The job's ledger, oldest first, as strings like {@code job@2024-01-01T00:01:00Z SUCCEEDED}. */
  List<String> ledger(String job) {
    return machine.ledger(JobName.of(job)).reversed().stream().map(LedgerRecord::toString).toList();
  }
}
