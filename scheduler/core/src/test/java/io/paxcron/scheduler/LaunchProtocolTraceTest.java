package io.paxcron.scheduler;

import static io.paxcron.scheduler.Fixture.at;
import static io.paxcron.scheduler.Fixture.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Ballot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Golden traces of the launch protocol (DESIGN §4), in the style of the replica's election and
 * catch-up traces: the leader driver and the cron state machine exchange with one scripted agent,
 * and the log is a test step that applies every proposal at once in the next slot. Each line is one
 * step: {@code @second} and the input, {@code ->} an effect of the leader, {@code =} what the state
 * machine applied, {@code ack} an acknowledged report.
 *
 * <p>The files are under {@code src/test/resources/golden/}; after an intended protocol change,
 * regenerate with {@code mvn -q -pl scheduler/core test -Dtest=LaunchProtocolTraceTest
 * -Dgolden.update=true} and read the diff.
 */
final class LaunchProtocolTraceTest {
  private static final Path GOLDEN = Path.of("src", "test", "resources", "golden");
  private static final RunId RUN = RunId.of(JobName.of("backup"), at(3600));
  private static final Ballot FIRST = new Ballot(1, 1);
  private static final Ballot SECOND = new Ballot(2, 2);

  /** One leader (a replica's driver) over the shared applied state, and the trace. */
  private final Fixture log = new Fixture();

  private final StringBuilder trace = new StringBuilder();
  private LeaderDriver leader;
  private Instant now = at(0);
  private boolean agentConnected = true;

  private void line(String text) {
    trace.append(text).append('\n');
  }

  private List<AgentInfo> agents() {
    return agentConnected
        ? List.of(new AgentInfo(AgentId.of("agent-1"), Map.of(), 4, now.plusSeconds(10)))
        : List.of();
  }

  private void lead(int replica, Ballot ballot) {
    leader = new LeaderDriver(log.machine, DispatcherConfig.DEFAULT, new SplittableRandom(replica));
    LeaderDriver.Transition started =
        leader.onLeadership(
            now, new LeaderDriver.Leadership(true, ballot, true, true), this::agents);
    line("@" + seconds() + " replica " + replica + " leads under " + started.started().get());
    carryOut(started.effects());
  }

  private void tick(long second) {
    now = at(second);
    line("@" + second + " tick");
    carryOut(leader.onTick(now, true, agents()));
  }

  private void agentSays(AgentAnswer answer) {
    line("@" + seconds() + " agent-1: " + describe(answer));
    carryOut(leader.onAgentAnswer(now, true, answer));
  }

  private void agentReports(AgentAnswer report) {
    line("@" + seconds() + " agent-1 reports " + describe(report));
    LeaderDriver.ReportStep step = leader.onReport(now, true, report);
    if (step.acknowledge()) {
      line("  ack " + describe(report));
    }
    carryOut(step.effects());
  }

  /** Prints the effects; proposals are chosen and applied at once, which may yield more. */
  private void carryOut(List<DispatchEffect> effects) {
    List<CronCommand> proposed = new ArrayList<>();
    for (DispatchEffect effect : effects) {
      switch (effect) {
        case DispatchEffect.Propose propose -> {
          for (CronCommand command : propose.commands()) {
            line("  -> propose " + describe(command));
            proposed.add(command);
          }
        }
        case DispatchEffect.Launch launch ->
            line(
                "  -> Launch "
                    + launch.runId()
                    + " #"
                    + launch.attempt()
                    + " to "
                    + launch.agentId()
                    + " fence "
                    + launch.ballot());
        case DispatchEffect.GetRun getRun ->
            line(
                "  -> GetRun "
                    + getRun.runId()
                    + " #"
                    + getRun.attempt()
                    + " to "
                    + getRun.agentId()
                    + " fence "
                    + getRun.ballot());
        case DispatchEffect.AcknowledgeReport acknowledged ->
            line("  -> ack " + describe(acknowledged.report()));
        case DispatchEffect.Cancel cancel ->
            line(
                "  -> Cancel "
                    + cancel.runId()
                    + " #"
                    + cancel.attempt()
                    + " to "
                    + cancel.agentId());
      }
    }
    for (CronCommand command : proposed) {
      CommandResult result = log.apply(command);
      line("  = slot " + log.slot + " " + describe(command) + ": " + result.status());
      for (LedgerRecord record : log.machine.ledger(RUN.job())) {
        boolean ends =
            command instanceof CronCommand.RunFinished || command instanceof CronCommand.RecordLost;
        if (ends && record.runId().equals(RUN)) {
          line("  = ledger " + record);
        }
      }
    }
    if (!proposed.isEmpty()) {
      carryOut(leader.onApplied(now, true));
    }
  }

  private long seconds() {
    return now.getEpochSecond() - Fixture.T0.getEpochSecond();
  }

  private static String describe(CronCommand command) {
    return switch (command) {
      case CronCommand.RunIntent intent ->
          "RunIntent "
              + intent.runId()
              + " #"
              + intent.attempt()
              + " on "
              + intent.agentId()
              + " under "
              + intent.ballot();
      case CronCommand.RunStarted started ->
          "RunStarted " + started.runId() + " #" + started.attempt() + " on " + started.agentId();
      case CronCommand.RunFinished finished ->
          "RunFinished " + finished.runId() + " #" + finished.attempt() + " " + finished.outcome();
      case CronCommand.RecordLost lost -> "RecordLost " + lost.runId() + " #" + lost.attempt();
      default -> command.getClass().getSimpleName();
    };
  }

  private static String describe(AgentAnswer answer) {
    return switch (answer) {
      case AgentAnswer.Started started -> "Started " + started.runId() + " #" + started.attempt();
      case AgentAnswer.Finished finished ->
          "Finished " + finished.runId() + " #" + finished.attempt() + " " + finished.outcome();
      case AgentAnswer.Known known ->
          "Known " + known.runId() + " #" + known.attempt() + " " + known.state();
      case AgentAnswer.Unknown unknown -> "Unknown " + unknown.runId() + " #" + unknown.attempt();
      default -> answer.toString();
    };
  }

  private void putBackupJob() {
    putBackupJob(Semantics.AT_LEAST_ONCE);
  }

  private void putBackupJob(Semantics semantics) {
    log.put(job("backup", "@every 1h").semantics(semantics).build(), at(0));
    line("@0 PutJob backup '@every 1h' " + semantics + " applied");
  }

  @Test
  void aRunGoesFromIntentToLaunchToReportsToTheLedgerAndEachReportIsAcknowledgedOnlyOnceChosen() {
    putBackupJob();
    lead(1, FIRST);
    tick(3600);
    now = at(3601);
    agentReports(new AgentAnswer.Started(AgentId.of("agent-1"), RUN, 1));
    agentReports(new AgentAnswer.Started(AgentId.of("agent-1"), RUN, 1));
    now = at(3605);
    agentReports(new AgentAnswer.Finished(AgentId.of("agent-1"), RUN, 1, Outcome.SUCCEEDED));
    agentReports(new AgentAnswer.Finished(AgentId.of("agent-1"), RUN, 1, Outcome.SUCCEEDED));
    assertGolden("launch");
  }

  @Test
  void aNewLeaderAsksTheAgentAboutARunItInheritedAndAdoptsItWhileTheAgentRunsIt() {
    putBackupJob();
    lead(1, FIRST);
    tick(3600);
    now = at(3601);
    agentReports(new AgentAnswer.Started(AgentId.of("agent-1"), RUN, 1));
    line("@3601 replica 1 stops leading: " + leader.stop().get());
    now = at(3603);
    lead(2, SECOND);
    tick(3604);
    agentSays(
        new AgentAnswer.Known(AgentId.of("agent-1"), RUN, 1, SECOND, AgentRunState.RUNNING, null));
    tick(3605);
    now = at(3606);
    agentReports(new AgentAnswer.Finished(AgentId.of("agent-1"), RUN, 1, Outcome.SUCCEEDED));
    agentReports(new AgentAnswer.Finished(AgentId.of("agent-1"), RUN, 1, Outcome.SUCCEEDED));
    assertGolden("failover-adopt");
  }

  @Test
  void aNewLeaderLaunchesAgainWhenTheAgentNeverHeardOfTheLaunchAndItsFenceNowBarsTheOldOne() {
    putBackupJob();
    lead(1, FIRST);
    tick(3600);
    line("@3600 replica 1 stops leading: " + leader.stop().get());
    now = at(3603);
    lead(2, SECOND);
    tick(3604);
    agentSays(new AgentAnswer.Unknown(AgentId.of("agent-1"), RUN, 1, SECOND));
    assertGolden("failover-relaunch");
  }

  @Test
  void aNewLeaderRecordsAnAtMostOnceRunLostWhenItsAgentStaysUnreachablePastItsLease() {
    putBackupJob(Semantics.AT_MOST_ONCE);
    lead(1, FIRST);
    tick(3600);
    now = at(3601);
    agentReports(new AgentAnswer.Started(AgentId.of("agent-1"), RUN, 1));
    line("@3601 replica 1 stops leading: " + leader.stop().get() + "; agent-1 is cut off");
    agentConnected = false;
    now = at(3603);
    lead(2, SECOND);
    for (long second = 3604; second <= 3612; second += 4) {
      tick(second);
    }
    assertGolden("failover-lost");
  }

  private void assertGolden(String name) {
    Path file = GOLDEN.resolve(name + ".txt");
    String actual = trace.toString();
    try {
      if (Boolean.getBoolean("golden.update")) {
        Files.createDirectories(GOLDEN);
        Files.writeString(file, actual, StandardCharsets.UTF_8);
        return;
      }
      assertTrue(
          Files.exists(file),
          "golden file "
              + file
              + " is missing; create it with mvn -q -pl scheduler/core test"
              + " -Dtest=LaunchProtocolTraceTest -Dgolden.update=true and read it");
      assertEquals(
          Files.readString(file, StandardCharsets.UTF_8),
          actual,
          "the launch protocol trace changed; if intended, regenerate with -Dgolden.update=true"
              + " and review the diff");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot access golden file " + file, e);
    }
  }
}
