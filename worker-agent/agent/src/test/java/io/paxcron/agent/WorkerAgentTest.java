package io.paxcron.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.Cancel;
import io.paxcron.proto.v1.FenceBallot;
import io.paxcron.proto.v1.GetOutput;
import io.paxcron.proto.v1.GetRun;
import io.paxcron.proto.v1.Launch;
import io.paxcron.proto.v1.LaunchReply;
import io.paxcron.proto.v1.LaunchSpec;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunReport;
import io.paxcron.proto.v1.RunState;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent against a scripted leader over real gRPC on loopback, running real processes. */
final class WorkerAgentTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final FenceBallot LOW = ScriptedLeader.BALLOT;
  private static final FenceBallot HIGH =
      FenceBallot.newBuilder().setRound(9).setReplicaId(2).build();

  @TempDir Path dir;

  private ScriptedLeader leader;
  private final List<WorkerAgent> agents = new ArrayList<>();
  private final PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());

  @BeforeEach
  void startLeader() throws IOException {
    leader = new ScriptedLeader();
  }

  @AfterEach
  void stop() throws Exception {
    agents.forEach(WorkerAgent::close);
    leader.close();
    // Runs outlive their agent by design; end them so none writes into the test's directory
    // while JUnit deletes it.
    for (ProcessHandle run : ProcessHandle.current().descendants().toList()) {
      run.destroyForcibly();
      run.onExit().get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }

  private AgentOptions options() {
    return AgentOptions.of(List.of(leader.address()), "agent-a", dir.resolve("data"))
        .withHeartbeatInterval(Duration.ofMillis(100))
        .withKillGrace(Duration.ofSeconds(3));
  }

  private WorkerAgent start(AgentOptions options) throws Exception {
    WorkerAgent agent = new WorkerAgent(options, quiet);
    agents.add(agent);
    agent.start();
    leader.await("Register", AgentMessage::hasRegister, WAIT);
    return agent;
  }

  private static String runId(int second) {
    return "backup@2026-03-01T00:00:" + String.format("%02d", second) + "Z";
  }

  private static LeaderMessage launch(String runId, FenceBallot ballot, LaunchSpec spec) {
    return LeaderMessage.newBuilder()
        .setLaunch(
            Launch.newBuilder().setRunId(runId).setAttempt(1).setBallot(ballot).setSpec(spec))
        .build();
  }

  private static LaunchSpec shell(String command) {
    return LaunchSpec.newBuilder().setJob("backup").setShell(command).build();
  }

  private LaunchReply launchReply(String runId) throws InterruptedException {
    return leader
        .await(
            "LaunchReply for " + runId,
            m -> m.hasLaunchReply() && m.getLaunchReply().getRunId().equals(runId),
            WAIT)
        .getLaunchReply();
  }

  private static Predicate<AgentMessage> report(String runId, RunReport.Kind kind) {
    return m ->
        m.hasReport()
            && m.getReport().getKind() == kind
            && m.getReport().getState().getRunId().equals(runId);
  }

  private RunState finished(String runId) throws InterruptedException {
    return leader
        .await("finish report of " + runId, report(runId, RunReport.Kind.FINISHED), WAIT)
        .getReport()
        .getState();
  }

  @Test
  void launchRunsARealCommandAndReportsStartAndFinishWithExitCodeAndOutputTail() throws Exception {
    start(options());
    leader.send(
        launch(runId(1), LOW, shell("echo hello from $PAXCRON_JOB $PAXCRON_ATTEMPT; exit 3")));
    assertEquals(LaunchReply.Status.ACCEPTED, launchReply(runId(1)).getStatus());
    leader.await("start report", report(runId(1), RunReport.Kind.STARTED), WAIT);
    RunState state = finished(runId(1));
    assertEquals(RunState.State.FINISHED, state.getState());
    assertEquals(Outcome.OUTCOME_FAILED, state.getOutcome());
    assertEquals(3, state.getExitCode());
    assertEquals("hello from backup 1\n", state.getOutputTail().toString(StandardCharsets.UTF_8));
  }

  @Test
  void whileAJournalWriteTakesLongTheAgentKeepsHeartbeatingAndRepliesOnlyOnceItIsDurable()
      throws Exception {
    // On a busy disk an fsync took 50-100 ms and the agent's loop spent 15 of 20 s in them; with
    // the fsync on the loop its heartbeats stopped and its lease lapsed again and again.
    WorkerAgent agent = start(options());
    CountDownLatch disk = new CountDownLatch(1);
    agent.holdJournalWrites(disk);
    leader.send(launch(runId(1), ScriptedLeader.BALLOT, shell("true")));
    int before = leader.heartbeats();
    assertFalse(
        leader.arrives(AgentMessage::hasLaunchReply, Duration.ofSeconds(1)),
        "no reply before the launch's record is durable");
    int sent = leader.heartbeats() - before;
    assertTrue(sent >= 3, "heartbeats while the write is held (100 ms interval): " + sent);
    disk.countDown();
    assertEquals(LaunchReply.Status.ACCEPTED, launchReply(runId(1)).getStatus());
    assertEquals(RunState.State.FINISHED, finished(runId(1)).getState());
  }

  @Test
  void environmentCarriesRunIdScheduledTimeAndAttempt() throws Exception {
    start(options());
    leader.send(
        launch(
            runId(2),
            LOW,
            shell("echo $PAXCRON_RUN_ID $PAXCRON_SCHEDULED_TIME $PAXCRON_ATTEMPT $GREETING")
                .toBuilder()
                .putEnv("GREETING", "hi")
                .build()));
    RunState state = finished(runId(2));
    assertEquals(Outcome.OUTCOME_SUCCEEDED, state.getOutcome());
    assertEquals(
        runId(2) + " 2026-03-01T00:00:02Z 1 hi\n",
        state.getOutputTail().toString(StandardCharsets.UTF_8));
  }

  @Test
  void repeatLaunchReturnsTheCurrentStateAndRunsNothingTwice() throws Exception {
    start(options());
    Path marker = dir.resolve("runs.txt");
    LeaderMessage once = launch(runId(3), LOW, shell("echo ran >> " + marker));
    leader.send(once);
    assertEquals(LaunchReply.Status.ACCEPTED, launchReply(runId(3)).getStatus());
    finished(runId(3));
    leader.send(once);
    LaunchReply repeat = launchReply(runId(3));
    assertEquals(LaunchReply.Status.REPEAT, repeat.getStatus());
    assertEquals(RunState.State.FINISHED, repeat.getState().getState());
    assertEquals(List.of("ran"), Files.readAllLines(marker));
  }

  @Test
  void getRunRaisesTheFenceAndALowerBallotLaunchIsFenced() throws Exception {
    start(options());
    leader.send(
        LeaderMessage.newBuilder()
            .setGetRun(GetRun.newBuilder().setRunId(runId(4)).setAttempt(1).setBallot(HIGH))
            .build());
    RunState unknown = leader.await("RunState", AgentMessage::hasRunState, WAIT).getRunState();
    assertEquals(RunState.State.UNKNOWN, unknown.getState());
    leader.send(launch(runId(4), LOW, shell("true")));
    LaunchReply fenced = launchReply(runId(4));
    assertEquals(LaunchReply.Status.FENCED, fenced.getStatus());
    assertEquals(HIGH, fenced.getHighestSeen());
  }

  @Test
  void fullCapacityRefusesTheLaunchAsBackPressure() throws Exception {
    start(options().withCapacity(1));
    leader.send(launch(runId(5), LOW, shell("sleep 5")));
    assertEquals(LaunchReply.Status.ACCEPTED, launchReply(runId(5)).getStatus());
    leader.send(launch(runId(6), LOW, shell("true")));
    LaunchReply refused = launchReply(runId(6));
    assertEquals(LaunchReply.Status.CAPACITY, refused.getStatus());
    assertTrue(refused.getReason().contains("capacity of 1"), refused.getReason());
    leader.send(
        LeaderMessage.newBuilder()
            .setCancel(Cancel.newBuilder().setRunId(runId(5)).setAttempt(1).setBallot(LOW))
            .build());
  }

  @Test
  void timeoutStopsTheWholeProcessGroupChildrenOfTheChildToo() throws Exception {
    start(options());
    Path pidFile = dir.resolve("grandchild.pid");
    leader.send(
        launch(
            runId(7),
            LOW,
            shell("sleep 300 & echo $! > " + pidFile + "; wait").toBuilder()
                .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
                .build()));
    RunState state = finished(runId(7));
    assertEquals(Outcome.OUTCOME_TIMED_OUT, state.getOutcome());
    long grandchild = Long.parseLong(Files.readString(pidFile).strip());
    assertTrue(
        awaitDead(grandchild),
        "the child of the child (pid " + grandchild + ") was killed with its group");
  }

  @Test
  void timeoutEscalatesToSigkillOfTheGroupWhenItIgnoresSigterm() throws Exception {
    start(options().withKillGrace(Duration.ofMillis(300)));
    leader.send(
        launch(
            runId(19),
            LOW,
            shell("trap '' TERM; sleep 30").toBuilder()
                .setTimeout(com.google.protobuf.Duration.newBuilder().setNanos(500_000_000))
                .build()));
    long startNanos = System.nanoTime();
    RunState state = finished(runId(19));
    assertEquals(Outcome.OUTCOME_TIMED_OUT, state.getOutcome(), state.getReason());
    assertTrue(
        System.nanoTime() - startNanos < Duration.ofSeconds(9).toNanos(),
        "killed long before sleep 30 ended");
  }

  @Test
  void cancelStopsTheRunAndItsFinishIsReported() throws Exception {
    // A grace no loaded machine outlasts: the exit status must be SIGTERM's, never SIGKILL's (3 s
    // ran out once on a machine busy with a build and a soak: 137).
    start(options().withKillGrace(Duration.ofSeconds(60)));
    leader.send(launch(runId(8), LOW, shell("sleep 30")));
    leader.await("start report", report(runId(8), RunReport.Kind.STARTED), WAIT);
    leader.send(
        LeaderMessage.newBuilder()
            .setCancel(Cancel.newBuilder().setRunId(runId(8)).setAttempt(1).setBallot(LOW))
            .build());
    assertTrue(
        leader
            .await("CancelReply", AgentMessage::hasCancelReply, WAIT)
            .getCancelReply()
            .getSignalled());
    RunState state = finished(runId(8));
    assertEquals(Outcome.OUTCOME_FAILED, state.getOutcome());
    assertEquals(143, state.getExitCode(), "128 + SIGTERM: " + state.getReason());
  }

  /** The wrapper process the agent spawned for {@code runId}'s directory, once it exists. */
  private ProcessHandle awaitWrapper(String directoryPart) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      for (ProcessHandle child : ProcessHandle.current().children().toList()) {
        String[] args = child.info().arguments().orElse(new String[0]);
        if (List.of(args).contains("paxcron-run")
            && List.of(args).stream().anyMatch(a -> a.contains(directoryPart))) {
          return child;
        }
      }
      Thread.sleep(5); // polling a process table, bounded by WAIT
    }
    throw new AssertionError("no wrapper for " + directoryPart + " within " + WAIT);
  }

  private static com.google.protobuf.Timestamp timestamp(java.time.Instant at) {
    return com.google.protobuf.Timestamp.newBuilder()
        .setSeconds(at.getEpochSecond())
        .setNanos(at.getNano())
        .build();
  }

  @Test
  void aLaunchHeldForItsInstantHasItsWrapperReadyAheadAndRunsItsCommandOnlyAtTheInstant()
      throws Exception {
    start(options());
    Path marker = dir.resolve("started-at");
    java.time.Instant startAt = java.time.Instant.now().plusSeconds(2);
    leader.send(
        LeaderMessage.newBuilder()
            .setLaunch(
                Launch.newBuilder()
                    .setRunId(runId(20))
                    .setAttempt(1)
                    .setBallot(LOW)
                    .setStartAt(timestamp(startAt))
                    .setSpec(shell("date +%s%N > " + marker)))
            .build());
    assertEquals(LaunchReply.Status.ACCEPTED, launchReply(runId(20)).getStatus());
    awaitWrapper("backup_");
    java.time.Instant seen = java.time.Instant.now();
    assertTrue(seen.isBefore(startAt), "the wrapper was not ready ahead of the instant");
    assertFalse(Files.exists(marker), "the command ran before its instant");
    leader.await("start report", report(runId(20), RunReport.Kind.STARTED), WAIT);
    assertEquals(Outcome.OUTCOME_SUCCEEDED, finished(runId(20)).getOutcome());
    long ranAtNanos = Long.parseLong(Files.readString(marker).strip());
    long startAtNanos = startAt.getEpochSecond() * 1_000_000_000L + startAt.getNano();
    assertTrue(
        ranAtNanos >= startAtNanos,
        "the command ran " + (startAtNanos - ranAtNanos) / 1_000_000 + " ms before its instant");
  }

  @Test
  void aHeldLaunchCancelledBeforeItsInstantEndsItsWaitingWrapperAndRunsNothing() throws Exception {
    start(options());
    Path marker = dir.resolve("ran");
    leader.send(
        LeaderMessage.newBuilder()
            .setLaunch(
                Launch.newBuilder()
                    .setRunId(runId(21))
                    .setAttempt(1)
                    .setBallot(LOW)
                    .setStartAt(timestamp(java.time.Instant.now().plusSeconds(5)))
                    .setSpec(shell("touch " + marker)))
            .build());
    assertEquals(LaunchReply.Status.ACCEPTED, launchReply(runId(21)).getStatus());
    ProcessHandle wrapper = awaitWrapper("backup_");
    leader.send(
        LeaderMessage.newBuilder()
            .setCancel(Cancel.newBuilder().setRunId(runId(21)).setAttempt(1).setBallot(LOW))
            .build());
    assertEquals(RunState.State.NEVER_STARTED, finished(runId(21)).getState());
    wrapper.onExit().get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    assertFalse(Files.exists(marker), "a cancelled held launch ran its command");
    assertFalse(
        leader.arrives(report(runId(21), RunReport.Kind.STARTED), Duration.ofMillis(500)),
        "a cancelled held launch reported a start");
  }

  @Test
  void badWorkingDirectoryOrMissingExecutableFailsTheRunWithTheReason() throws Exception {
    start(options());
    leader.send(
        launch(
            runId(9), LOW, shell("true").toBuilder().setWorkingDirectory("/no/such/dir").build()));
    RunState state = finished(runId(9));
    assertEquals(Outcome.OUTCOME_FAILED, state.getOutcome());
    assertTrue(state.getReason().contains("working directory '/no/such/dir'"), state.getReason());
    leader.send(
        launch(
            runId(10),
            LOW,
            LaunchSpec.newBuilder().setJob("backup").addArgv("no-such-program-xyz").build()));
    state = finished(runId(10));
    assertEquals(Outcome.OUTCOME_FAILED, state.getOutcome());
    assertTrue(state.getReason().contains("'no-such-program-xyz' is not found"), state.getReason());
    leader.send(launch(runId(11), LOW, shell("true").toBuilder().setRunAs("root").build()));
    state = finished(runId(11));
    assertTrue(state.getReason().contains("not allowed by this agent"), state.getReason());
  }

  @Test
  void stdinTextReachesTheProcessAndOutputIsServedInChunks() throws Exception {
    start(options());
    leader.send(
        launch(runId(12), LOW, shell("cat").toBuilder().setStdin("line one\nline two\n").build()));
    RunState state = finished(runId(12));
    assertEquals("line one\nline two\n", state.getOutputTail().toString(StandardCharsets.UTF_8));
    leader.send(
        LeaderMessage.newBuilder()
            .setGetOutput(
                GetOutput.newBuilder()
                    .setRequestId(7)
                    .setRunId(runId(12))
                    .setAttempt(1)
                    .setOffset(5)
                    .setMaxBytes(3))
            .build());
    var chunk = leader.await("OutputChunk", AgentMessage::hasOutput, WAIT).getOutput();
    assertTrue(chunk.getFound());
    assertEquals("one", chunk.getData().toString(StandardCharsets.UTF_8));
    assertEquals(18, chunk.getSize());
    assertFalse(chunk.getEof());
  }

  @Test
  void outputPastTheBoundKeepsTheHeadAndIsMarkedTruncated() throws Exception {
    AgentOptions base = options();
    start(
        new AgentOptions(
            base.cluster(),
            base.name(),
            base.labels(),
            base.capacity(),
            base.dataDir(),
            1024,
            base.outputRetentionRuns(),
            base.outputRetentionAge(),
            base.allowedUsers(),
            base.heartbeatInterval(),
            base.killGrace(),
            base.runNiceness(),
            base.seed()));
    leader.send(
        launch(
            runId(16),
            LOW,
            shell("echo first; head -c 5000 /dev/zero | tr '\\0' x; echo; echo last")));
    RunState state = finished(runId(16));
    assertEquals(Outcome.OUTCOME_SUCCEEDED, state.getOutcome());
    assertTrue(state.getReason().contains("output cut at 1024 bytes"), state.getReason());
    leader.send(
        LeaderMessage.newBuilder()
            .setGetOutput(GetOutput.newBuilder().setRequestId(8).setRunId(runId(16)).setAttempt(1))
            .build());
    var chunk = leader.await("OutputChunk", AgentMessage::hasOutput, WAIT).getOutput();
    assertEquals(1024, chunk.getSize());
    assertTrue(chunk.getTruncated());
    assertTrue(chunk.getEof());
    assertTrue(
        chunk.getData().toString(StandardCharsets.UTF_8).startsWith("first\nxxx"),
        "the head is kept");
  }

  @Test
  void runsGoBelowTheAgentByTheRunNiceness() throws Exception {
    start(options().withRunNiceness(7));
    // nice(1) without arguments prints the niceness it runs at; the agent runs at this JVM's.
    String stat = Files.readString(Path.of("/proc/self/stat"), StandardCharsets.UTF_8);
    // Fields after the command's closing parenthesis start at field 3; niceness is field 19.
    String own = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16];
    leader.send(launch(runId(17), LOW, shell("nice")));
    assertEquals(Outcome.OUTCOME_SUCCEEDED, finished(runId(17)).getOutcome());
    leader.send(
        LeaderMessage.newBuilder()
            .setGetOutput(GetOutput.newBuilder().setRequestId(10).setRunId(runId(17)).setAttempt(1))
            .build());
    var chunk = leader.await("OutputChunk", AgentMessage::hasOutput, WAIT).getOutput();
    assertEquals(
        Math.min(19, Integer.parseInt(own) + 7) + "\n",
        chunk.getData().toString(StandardCharsets.UTF_8));
  }

  @Test
  void aRunNicenessOutOfRangeIsRefusedNamingTheFlag() {
    IllegalArgumentException refused =
        assertThrows(IllegalArgumentException.class, () -> options().withRunNiceness(20));
    assertEquals("--run-niceness: must be 0..19, got 20", refused.getMessage());
  }

  @Test
  void outputRetentionKeepsOnlyTheNewestEndedRuns() throws Exception {
    AgentOptions base = options();
    start(
        new AgentOptions(
            base.cluster(),
            base.name(),
            base.labels(),
            base.capacity(),
            base.dataDir(),
            base.outputMaxBytes(),
            2,
            base.outputRetentionAge(),
            base.allowedUsers(),
            base.heartbeatInterval(),
            base.killGrace(),
            base.runNiceness(),
            base.seed()));
    for (int second = 20; second < 24; second++) {
      leader.send(launch(runId(second), LOW, shell("echo " + second)));
      finished(runId(second));
    }
    // Retention runs right after the finish is reported: poll for it with a bound.
    long deadline = System.nanoTime() + WAIT.toNanos();
    long kept;
    do {
      try (var dirs = Files.list(dir.resolve("data").resolve("runs"))) {
        kept = dirs.count();
      }
      if (kept > 2) {
        java.util.concurrent.locks.LockSupport.parkNanos(
            java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(20));
      }
    } while (kept > 2 && System.nanoTime() < deadline);
    assertEquals(2, kept, "the two newest ended runs keep their output");
    leader.send(
        LeaderMessage.newBuilder()
            .setGetOutput(GetOutput.newBuilder().setRequestId(9).setRunId(runId(20)).setAttempt(1))
            .build());
    assertFalse(leader.await("OutputChunk", AgentMessage::hasOutput, WAIT).getOutput().getFound());
  }

  @Test
  void whenItsLeaseLapsesTheAgentSaysHowLongAgoAndWhatBecameOfItsHeartbeats() throws Exception {
    leader.lease = Duration.ofMillis(300);
    java.io.ByteArrayOutputStream said = new java.io.ByteArrayOutputStream();
    WorkerAgent agent =
        new WorkerAgent(options(), new PrintStream(said, true, StandardCharsets.UTF_8));
    agents.add(agent);
    agent.start();
    leader.await("Register", AgentMessage::hasRegister, WAIT);
    leader.arrives(m -> false, Duration.ofMillis(300)); // heartbeats acknowledged: a lease
    leader.grantLease = false; // the leader hears the heartbeats and answers none
    leader.await("Register after the lease lapsed", AgentMessage::hasRegister, WAIT);
    String log = said.toString(StandardCharsets.UTF_8);
    assertTrue(
        log.matches(
            "(?s).*the lease lapsed \\d+ ms ago: no heartbeat acknowledged in time \\(\\d+"
                + " unanswered, the oldest sent \\d+ ms ago, the newest \\d+ ms ago; the last"
                + " acknowledgement came \\d+ ms ago, \\d+ ms after its heartbeat, \\d+ ms of them"
                + " in this agent's inbox; heartbeats since went out at most \\d+ ms apart\\).*"),
        log);
  }

  @Test
  void noProcessStartsOnceTheLeaseLapsedUntilALeaderConfirmsTheLaunch() throws Exception {
    leader.lease = Duration.ofMillis(300);
    start(options());
    leader.arrives(m -> false, Duration.ofMillis(300));
    leader.grantLease = false;
    leader.arrives(m -> false, Duration.ofMillis(700));
    leader.send(launch(runId(13), LOW, shell("true")));
    assertEquals(LaunchReply.Status.ACCEPTED, launchReply(runId(13)).getStatus());
    assertFalse(
        leader.arrives(report(runId(13), RunReport.Kind.STARTED), Duration.ofSeconds(1)),
        "accepted while the lease had lapsed: it must not start");
    leader.grantLease = true;
    assertFalse(
        leader.arrives(report(runId(13), RunReport.Kind.STARTED), Duration.ofSeconds(1)),
        "the lease holds again but no leader confirmed the launch");
    leader.send(
        LeaderMessage.newBuilder()
            .setGetRun(GetRun.newBuilder().setRunId(runId(13)).setAttempt(1).setBallot(LOW))
            .build());
    assertEquals(
        RunState.State.ACCEPTED,
        leader.await("RunState", AgentMessage::hasRunState, WAIT).getRunState().getState());
    leader.await("start after confirmation", report(runId(13), RunReport.Kind.STARTED), WAIT);
  }

  @Test
  void onceTheGivenAddressesAreGoneTheAgentDialsTheMembersTheLeaderNamedAlsoAfterARestart()
      throws Exception {
    try (ScriptedLeader successor = new ScriptedLeader()) {
      // The replica the agent was given names the cluster's members: the replica that replaced it.
      leader.members = List.of(successor.address());
      AgentOptions given = options();
      WorkerAgent first = start(given);
      // Registered is on its way when Register arrives here: close the leader only once the agent
      // has taken the members it names (it keeps them in its data directory).
      Path kept = dir.resolve("data").resolve(ClusterMembers.FILE);
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (!Files.exists(kept)) {
        assertTrue(System.nanoTime() < deadline, "the agent never kept the members it was told");
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
      }
      leader.close();
      successor.await("Register at the member the leader named", AgentMessage::hasRegister, WAIT);
      first.close();
      agents.remove(first);
      assertTrue(
          Files.readString(dir.resolve("data").resolve(ClusterMembers.FILE))
              .contains(successor.address()));
      // Restarted with only the (dead) address it was given, it finds the members it learned.
      WorkerAgent second = new WorkerAgent(given, quiet);
      agents.add(second);
      second.start();
      successor.await("Register after a restart", AgentMessage::hasRegister, WAIT);
    }
  }

  @Test
  void restartedAgentFindsItsRunningJobAndReportsItsRealOutcomeOnce() throws Exception {
    WorkerAgent first = start(options());
    leader.send(launch(runId(14), LOW, shell("sleep 3; echo done; exit 4")));
    leader.await("start report", report(runId(14), RunReport.Kind.STARTED), WAIT);
    first.close();
    agents.remove(first);
    WorkerAgent second = new WorkerAgent(options(), quiet);
    agents.add(second);
    second.start();
    AgentMessage register = leader.await("re-Register", AgentMessage::hasRegister, WAIT);
    assertEquals(RunState.State.RUNNING, register.getRegister().getRuns(0).getState());
    RunState state = finished(runId(14));
    assertEquals(4, state.getExitCode());
    assertEquals("done\n", state.getOutputTail().toString(StandardCharsets.UTF_8));
    List<Integer> laterExitCodes = new ArrayList<>();
    long settle = System.nanoTime() + Duration.ofMillis(600).toNanos();
    while (System.nanoTime() < settle) {
      leader.arrives(
          m -> {
            if (report(runId(14), RunReport.Kind.FINISHED).test(m)) {
              laterExitCodes.add(m.getReport().getState().getExitCode());
            }
            return false;
          },
          Duration.ofMillis(100));
    }
    assertTrue(
        laterExitCodes.stream().allMatch(code -> code == 4),
        "a re-send that crossed the acknowledgement is fine, a different outcome never: "
            + laterExitCodes);
    assertFalse(
        leader.arrives(report(runId(14), RunReport.Kind.FINISHED), Duration.ofMillis(500)),
        "an acknowledged finish is not reported again");
  }

  @Test
  void aLaunchWhoseAgentDiedAsItWasAboutToStartIsNeverStartedAgain() throws Exception {
    io.paxcron.agent.core.LaunchKey key =
        new io.paxcron.agent.core.LaunchKey(WorkerAgent.parseRunId(runId(17)), 1);
    Path marker = dir.resolve("ran.txt");
    Launch launch = launch(runId(17), LOW, shell("echo ran >> " + marker)).getLaunch();
    AgentJournal.Opened opened = AgentJournal.open(dir.resolve("data"));
    opened
        .journal()
        .append(
            List.of(
                new io.paxcron.agent.core.JournalRecord.Accepted(
                    key, WorkerAgent.fromProto(LOW), null, launch.toByteArray()),
                new io.paxcron.agent.core.JournalRecord.Starting(key, java.time.Instant.now())));
    opened.journal().close();
    start(options());
    RunState state = finished(runId(17));
    assertEquals(137, state.getExitCode());
    assertTrue(state.getReason().contains("died while starting"), state.getReason());
    leader.send(launch(runId(17), LOW, shell("echo ran >> " + marker)));
    assertEquals(LaunchReply.Status.REPEAT, launchReply(runId(17)).getStatus());
    assertFalse(Files.exists(marker), "nothing launched it again");
  }

  @Test
  void runAsIsRefusedUnlessTheAgentsOwnPolicyListsTheUserAndRootIsNoException() throws Exception {
    String self = System.getProperty("user.name");
    AgentOptions base = options();
    start(
        new AgentOptions(
            base.cluster(),
            base.name(),
            base.labels(),
            base.capacity(),
            base.dataDir(),
            base.outputMaxBytes(),
            base.outputRetentionRuns(),
            base.outputRetentionAge(),
            java.util.Set.of("paxcron-no-such-user"),
            base.heartbeatInterval(),
            base.killGrace(),
            base.runNiceness(),
            base.seed()));
    java.nio.file.Path marker = dir.resolve("ran");
    String touch = "touch " + marker;
    int second = 40;
    for (String user : List.of("root", "nobody", self, "paxcron-no-such-user")) {
      String run = runId(second++);
      leader.send(launch(run, LOW, shell(touch).toBuilder().setRunAs(user).build()));
      RunState state = finished(run);
      assertEquals(Outcome.OUTCOME_FAILED, state.getOutcome(), user + ": " + state.getReason());
      assertEquals(127, state.getExitCode(), user + ": " + state.getReason());
      String expected =
          user.equals("paxcron-no-such-user")
              ? ("root".equals(self) ? "no such user" : "cannot switch users")
              : "is not allowed by this agent (--allow-user)";
      assertTrue(state.getReason().contains(expected), user + ": " + state.getReason());
    }
    assertTrue(java.nio.file.Files.notExists(marker), "a refused run_as ran its command");
  }

  @Test
  void runAsTheAgentsOwnUserRunsWhenListed() throws Exception {
    String self = System.getProperty("user.name");
    AgentOptions base = options();
    start(
        new AgentOptions(
            base.cluster(),
            base.name(),
            base.labels(),
            base.capacity(),
            base.dataDir(),
            base.outputMaxBytes(),
            base.outputRetentionRuns(),
            base.outputRetentionAge(),
            java.util.Set.of(self),
            base.heartbeatInterval(),
            base.killGrace(),
            base.runNiceness(),
            base.seed()));
    leader.send(launch(runId(18), LOW, shell("id -un").toBuilder().setRunAs(self).build()));
    RunState state = finished(runId(18));
    assertEquals(Outcome.OUTCOME_SUCCEEDED, state.getOutcome(), state.getReason());
    assertEquals(self + "\n", state.getOutputTail().toString(StandardCharsets.UTF_8));
  }

  @Test
  void anUnacknowledgedReportIsSentAgainOncePerResendIntervalNotWithEveryHeartbeat()
      throws Exception {
    leader.acknowledgeReports = false;
    start(options()); // heartbeats every 100 ms
    leader.send(launch(runId(30), LOW, shell("exit 0")));
    AgentMessage first =
        leader.await("the finish report", report(runId(30), RunReport.Kind.FINISHED), WAIT);
    assertEquals(RunState.State.FINISHED, first.getReport().getState().getState());
    long sentAt = System.nanoTime();
    // A leader whose log lags acknowledges late; ten heartbeats must not bring ten copies.
    Duration quiet =
        WorkerAgent.REPORT_RESEND_AFTER
            .minus(Duration.ofNanos(System.nanoTime() - sentAt))
            .minusMillis(300);
    assertFalse(
        leader.arrives(report(runId(30), RunReport.Kind.FINISHED), quiet),
        "the finish report was sent again before " + WorkerAgent.REPORT_RESEND_AFTER);
    // ... but it is sent again until acknowledged.
    leader.await("the finish report, sent again", report(runId(30), RunReport.Kind.FINISHED), WAIT);
  }

  @Test
  void afterTheLeaderGoesAwayTheAgentRegistersWithTheNextAddressCarryingItsUnacknowledgedRuns()
      throws Exception {
    try (ScriptedLeader next = new ScriptedLeader()) {
      leader.acknowledgeReports = false;
      AgentOptions options =
          AgentOptions.of(List.of(leader.address(), next.address()), "agent-a", dir.resolve("data"))
              .withHeartbeatInterval(Duration.ofMillis(100));
      start(options);
      leader.send(launch(runId(24), LOW, shell("exit 6")));
      finished(runId(24));
      leader.close();
      AgentMessage register =
          next.await("Register at the next address", AgentMessage::hasRegister, WAIT);
      assertEquals(RunState.State.FINISHED, register.getRegister().getRuns(0).getState());
      assertEquals(6, register.getRegister().getRuns(0).getExitCode());
      assertEquals(
          6,
          next.await("the re-sent finish report", report(runId(24), RunReport.Kind.FINISHED), WAIT)
              .getReport()
              .getState()
              .getExitCode());
    }
  }

  @Test
  void aConnectionSlowToSetUpIsNotTakenForASilentReplica() throws Exception {
    // A restarted agent on a starved machine spends seconds of its first dial loading the gRPC
    // stack. The registration timeout counts from the connection, so the agent waits for the
    // leader behind the slow connection instead of giving up on it after 2 s.
    Duration slow = Duration.ofMillis(WorkerAgent.REGISTRATION_TIMEOUT_MILLIS + 1_000);
    try (SlowProxy proxy = new SlowProxy(leader.address(), slow);
        ScriptedLeader next = new ScriptedLeader()) {
      WorkerAgent agent =
          new WorkerAgent(
              AgentOptions.of(
                      List.of(proxy.address(), next.address()), "agent-a", dir.resolve("data"))
                  .withHeartbeatInterval(Duration.ofMillis(100)),
              quiet);
      agents.add(agent);
      agent.start();
      leader.await("Register through the slow connection", AgentMessage::hasRegister, WAIT);
      assertEquals(0, next.registrations, "the agent gave up on the slow connection");
    }
  }

  @Test
  void anAddressThatAcceptsButNeverSpeaksIsLeftAfterTheConnectTimeout() throws Exception {
    try (SlowProxy silent = new SlowProxy(leader.address(), null)) {
      WorkerAgent agent =
          new WorkerAgent(
              AgentOptions.of(
                      List.of(silent.address(), leader.address()), "agent-a", dir.resolve("data"))
                  .withHeartbeatInterval(Duration.ofMillis(100)),
              quiet);
      agents.add(agent);
      agent.start();
      leader.await(
          "Register at the next address",
          AgentMessage::hasRegister,
          WAIT.plusMillis(WorkerAgent.CONNECT_TIMEOUT_MILLIS));
    }
  }

  @Test
  void agentFollowsARedirectToTheLeader() throws Exception {
    try (ScriptedLeader follower = new ScriptedLeader()) {
      follower.redirectTo = leader.address();
      AgentOptions options =
          AgentOptions.of(List.of(follower.address()), "agent-a", dir.resolve("data"))
              .withHeartbeatInterval(Duration.ofMillis(100));
      start(options);
      leader.send(launch(runId(15), LOW, shell("true")));
      assertEquals(LaunchReply.Status.ACCEPTED, launchReply(runId(15)).getStatus());
      // The run's wrapper outlives the agent by design; let it end before the directory goes.
      finished(runId(15));
    }
  }

  private static boolean awaitDead(long pid) throws Exception {
    var handle = ProcessHandle.of(pid);
    if (handle.isEmpty()) {
      return true;
    }
    try {
      handle.get().onExit().get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    }
  }
}
