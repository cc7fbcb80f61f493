package io.paxcron.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.Launch;
import io.paxcron.proto.v1.LaunchSpec;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.RunReport;
import io.paxcron.proto.v1.RunState;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
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
      } finally {
        agentProcess.destroyForcibly();
        agentProcess.waitFor();
      }
      assertEquals(137, agentProcess.exitValue(), "the agent died of SIGKILL");

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
            register.getRegister().getRuns(0).getState(),
            "the job outlived its agent");
        RunState finished =
            leader
                .await(
                    "finish report",
                    m -> m.hasReport() && m.getReport().getKind() == RunReport.Kind.FINISHED,
                    WAIT)
                .getReport()
                .getState();
        assertEquals(
            5, finished.getExitCode(), "the real exit status, read from the run's status file");
        assertEquals("done\n", finished.getOutputTail().toString(StandardCharsets.UTF_8));
        assertTrue(restarted.openLaunches().isEmpty());
      } finally {
        restarted.close();
      }
    }
  }
}
