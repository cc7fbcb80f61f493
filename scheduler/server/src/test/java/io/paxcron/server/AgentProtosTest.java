package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.paxcron.paxos.Ballot;
import io.paxcron.proto.v1.LaunchSpec;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunState;
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.AgentId;
import io.paxcron.scheduler.AgentRunState;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.RunDetail;
import io.paxcron.scheduler.RunId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AgentProtosTest {

  private static final Instant AT = Instant.parse("2024-01-01T00:00:10Z");
  private static final RunId RUN = RunId.of(JobName.of("a"), AT);

  private static RunState.Builder state(RunState.State state) {
    return RunState.newBuilder()
        .setRunId(RUN.toString())
        .setAttempt(2)
        .setBallot(AgentProtos.fence(0, new Ballot(4, 1)))
        .setState(state);
  }

  @Test
  void launchSpecCarriesTheCommandAsArgvOrShell() {
    JobSpec argv =
        JobSpec.builder("a", "* * * * *", new JobCommand.Argv(List.of("/bin/echo", "hi")))
            .env(Map.of("K", "v"))
            .workingDirectory("/tmp")
            .timeout(Duration.ofSeconds(90))
            .build();
    LaunchSpec spec = AgentProtos.launchSpec(argv);
    assertEquals(List.of("/bin/echo", "hi"), spec.getArgvList());
    assertEquals("", spec.getShell());
    assertEquals(Map.of("K", "v"), spec.getEnvMap());
    assertEquals("/tmp", spec.getWorkingDirectory());
    assertEquals(90, spec.getTimeout().getSeconds());
    LaunchSpec shell =
        AgentProtos.launchSpec(
            JobSpec.builder("b", "* * * * *", new JobCommand.Shell("echo $X")).build());
    assertEquals("echo $X", shell.getShell());
    assertEquals(0, shell.getArgvCount());
  }

  @Test
  void eachRunStateBecomesTheDispatchersAnswer() {
    Ballot asked = new Ballot(4, 1);
    assertEquals(
        Optional.of(new AgentAnswer.Unknown(AgentId.of("x"), RUN, 2, asked)),
        AgentProtos.answer(AgentId.of("x"), 0, state(RunState.State.UNKNOWN).build()));
    assertEquals(
        Optional.of(
            new AgentAnswer.Known(AgentId.of("x"), RUN, 2, asked, AgentRunState.RUNNING, null)),
        AgentProtos.answer(AgentId.of("x"), 0, state(RunState.State.RUNNING).build()));
    assertEquals(
        Optional.of(
            new AgentAnswer.Known(
                AgentId.of("x"),
                RUN,
                2,
                asked,
                AgentRunState.FINISHED,
                io.paxcron.scheduler.Outcome.failed(3))),
        AgentProtos.answer(
            AgentId.of("x"),
            0,
            state(RunState.State.FINISHED)
                .setOutcome(Outcome.OUTCOME_FAILED)
                .setExitCode(3)
                .build()));
    assertEquals(
        Optional.of(new AgentAnswer.NeverStarted(AgentId.of("x"), RUN, 2, "lease lapsed")),
        AgentProtos.answer(
            AgentId.of("x"),
            0,
            state(RunState.State.NEVER_STARTED).setReason("lease lapsed").build()));
    assertEquals(
        Optional.of(new AgentAnswer.Fenced(AgentId.of("x"), AgentProtos.ABOVE_EVERY_BALLOT)),
        AgentProtos.answer(
            AgentId.of("x"),
            0,
            state(RunState.State.FENCED)
                .setHighestSeen(AgentProtos.fence(1, new Ballot(1, 1)))
                .build()));
    assertEquals(
        Optional.empty(),
        AgentProtos.answer(AgentId.of("x"), 0, state(RunState.State.FINISHED).build()),
        "a finish without an outcome an agent may report says nothing");
    assertTrue(
        AgentProtos.answer(
                AgentId.of("x"), 0, state(RunState.State.RUNNING).setRunId("not a run").build())
            .isEmpty());
  }

  @Test
  void finishDetailKeepsTheEndOfALongTail() {
    byte[] output = new byte[1500];
    output[1499] = 'z';
    RunDetail detail =
        AgentProtos.detail(
            state(RunState.State.FINISHED)
                .setOutputTail(ByteString.copyFrom(output))
                .setReason("cannot switch user")
                .build());
    assertEquals(RunDetail.MAX_OUTPUT_TAIL_BYTES, detail.outputTail().length);
    assertEquals('z', detail.outputTail()[RunDetail.MAX_OUTPUT_TAIL_BYTES - 1]);
    assertEquals("cannot switch user", detail.reason());
  }
}
