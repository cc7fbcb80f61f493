package io.paxcron.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.GetRun;
import io.paxcron.proto.v1.Launch;
import io.paxcron.proto.v1.LaunchSpec;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunReport;
import io.paxcron.proto.v1.RunState;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a real agent process while its job runs, then a restart on the same data
 * directory.
 */
final class AgentKilledTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String RUN = "nightly@2026-03-01T02:00:00Z";
  private static final String HELD = "hourly@2026-03-01T03:00:00Z";

  /**
   * Waits until a wrapper process whose arguments mention {@code path} exists ({@code present}) or
   * none does (it is not a child of this JVM: it belonged to the agent process).
   */
  private static void awaitWrappers(Path path, boolean present) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      boolean found =
          ProcessHandle.allProcesses()
              .anyMatch(
                  process -> {
                    List<String> args = List.of(process.info().arguments().orElse(new String[0]));
                    return args.contains("paxcron-run")
                        && args.stream().anyMatch(a -> a.startsWith(path.toString()));
                  });
      if (found == present) {
        return;
      }
      Thread.sleep(10); // polling the process table, bounded by WAIT
    }
    throw new AssertionError(
        (present ? "no wrapper appeared" : "a wrapper is still there") + " for " + path);
  }

  @TempDir Path dir;

  @Test
  void agentKilledWithSigkillFindsItsRunningJobAfterRestartAndReportsItsRealOutcome()
      throws Exception {
    Path data = dir.resolve("data");
    try (ScriptedLeader leader = new ScriptedLeader()) {
      String java = ProcessHandle.current().info().command().orElse("java");
      Process agentProcess =
          new ProcessBuilder(
                  java,
                  "-cp",
                  System.getProperty("java.class.path"),
                  "io.paxcron.agent.AgentMain",
                  "--cluster",
                  leader.address(),
                  "--name",
                  "agent-k",
                  "--data-dir",
                  data.toString(),
                  "--heartbeat-interval",
                  "100ms")
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("agent.log").toFile())
              .start();
      try {
        leader.await("Register of the agent process", AgentMessage::hasRegister, WAIT);
        leader.send(
            LeaderMessage.newBuilder()
                .setLaunch(
                    Launch.newBuilder()
                        .setRunId(RUN)
                        .setAttempt(1)
                        .setBallot(ScriptedLeader.BALLOT)
                        .setSpec(
                            LaunchSpec.newBuilder()
                                .setJob("nightly")
                                .setShell("sleep 3; echo done; exit 5")))
                .build());
        leader.await(
            "start report",
            m -> m.hasReport() && m.getReport().getKind() == RunReport.Kind.STARTED,
            WAIT);
        // A launch held for its instant: its wrapper waits, spawned ahead, for the agent's word.
        Instant heldAt = Instant.now().plusSeconds(8);
        leader.send(
            LeaderMessage.newBuilder()
                .setLaunch(
                    Launch.newBuilder()
                        .setRunId(HELD)
                        .setAttempt(1)
                        .setBallot(ScriptedLeader.BALLOT)
                        .setStartAt(
                            Timestamp.newBuilder()
                                .setSeconds(heldAt.getEpochSecond())
                                .setNanos(heldAt.getNano()))
                        .setSpec(
                            LaunchSpec.newBuilder()
                                .setJob("hourly")
                                .setShell("echo ran >> " + dir.resolve("held-ran"))))
                .build());
        leader.await(
            "LaunchReply of the held launch",
            m -> m.hasLaunchReply() && m.getLaunchReply().getRunId().equals(HELD),
            WAIT);
        awaitWrappers(data.resolve("runs").resolve("hourly_"), true);
      } finally {
        agentProcess.destroyForcibly();
        agentProcess.waitFor();
      }
      assertEquals(137, agentProcess.exitValue(), "the agent died of SIGKILL");
      // The held launch's wrapper lost its agent before it was told to run: it exits unrun.
      awaitWrappers(data.resolve("runs").resolve("hourly_"), false);
      assertFalse(Files.exists(dir.resolve("held-ran")), "a held launch ran without its agent");

      WorkerAgent restarted =
          new WorkerAgent(
              AgentOptions.of(List.of(leader.address()), "agent-k", data)
                  .withHeartbeatInterval(Duration.ofMillis(100)),
              new PrintStream(OutputStream.nullOutputStream()));
      restarted.start();
      try {
        AgentMessage register =
            leader.await("Register after the restart", AgentMessage::hasRegister, WAIT);
        assertEquals(
            RunState.State.RUNNING,
            register.getRegister().getRunsList().stream()
                .filter(run -> run.getRunId().equals(RUN))
                .findFirst()
                .orElseThrow()
                .getState(),
            "the job outlived its agent");
        RunState finished =
            leader
                .await(
                    "finish report",
                    m ->
                        m.hasReport()
                            && m.getReport().getKind() == RunReport.Kind.FINISHED
                            && m.getReport().getState().getRunId().equals(RUN),
                    WAIT)
                .getReport()
                .getState();
        assertEquals(
            5, finished.getExitCode(), "the real exit status, read from the run's status file");
        assertEquals("done\n", finished.getOutputTail().toString(StandardCharsets.UTF_8));
        // The restarted agent still holds the launch; once a leader confirms it (as a real leader
        // does for every launch a registration lists), it starts at its instant, once.
        leader.send(
            LeaderMessage.newBuilder()
                .setGetRun(
                    GetRun.newBuilder()
                        .setRunId(HELD)
                        .setAttempt(1)
                        .setBallot(ScriptedLeader.BALLOT))
                .build());
        assertEquals(
            Outcome.OUTCOME_SUCCEEDED,
            leader
                .await(
                    "finish report of the held launch",
                    m ->
                        m.hasReport()
                            && m.getReport().getKind() == RunReport.Kind.FINISHED
                            && m.getReport().getState().getRunId().equals(HELD),
                    WAIT)
                .getReport()
                .getState()
                .getOutcome());
        assertEquals(List.of("ran"), Files.readAllLines(dir.resolve("held-ran")));
        assertTrue(restarted.openLaunches().isEmpty());
      } finally {
        restarted.close();
      }
    }
  }
}
