package io.paxcron.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.agent.core.LaunchKey;
import io.paxcron.proto.v1.Launch;
import io.paxcron.proto.v1.LaunchSpec;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RunProcesses} with its real spawning helper ({@code perl spawn.pl}) and real processes:
 * what a run sees, what it records, and what happens when the helper dies under the agent.
 */
final class RunProcessesTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private RunProcesses processes;

  @AfterEach
  void close() {
    if (processes != null) {
      processes.close();
    }
  }

  private RunProcesses processes() throws Exception {
    processes =
        new RunProcesses(
            dir.resolve("data"), AgentOptions.of(List.of("127.0.0.1:1"), "agent-t", dir));
    return processes;
  }

  private static LaunchKey key(int n) {
    return new LaunchKey(
        RunId.of(new JobName("job-" + n), Instant.parse("2026-03-01T02:00:00Z").plusSeconds(n)), 1);
  }

  private static Launch launch(LaunchSpec.Builder spec) {
    return Launch.newBuilder().setSpec(spec).build();
  }

  /** Polls until the run ends (real processes: bounded by WAIT). */
  private RunProcesses.Exit awaitExit(LaunchKey key) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      List<RunProcesses.Exit> exits = new ArrayList<>();
      processes.poll(Instant.now(), exits::add);
      for (RunProcesses.Exit exit : exits) {
        if (exit.key().equals(key)) {
          return exit;
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    throw new AssertionError(key + " did not end within " + WAIT);
  }

  private String output(LaunchKey key) throws Exception {
    return Files.readString(processes.directory(key).resolve("output"));
  }

  @Test
  void aRunGetsItsEnvironmentStdinAndWorkingDirectoryAndItsExitStatusIsRecorded() throws Exception {
    processes();
    LaunchKey key = key(1);
    Optional<String> refused =
        processes.start(
            key,
            launch(
                LaunchSpec.newBuilder()
                    .setShell(
                        "read line; echo \"$line|$GREETING|$PAXCRON_JOB|$PAXCRON_ATTEMPT|$(pwd)\";"
                            + " exit 3")
                    .setStdin("from stdin\n")
                    .putEnv("GREETING", "hello world")
                    .setWorkingDirectory(dir.toString())),
            Instant.now());
    assertEquals(Optional.empty(), refused);
    RunProcesses.Exit exit = awaitExit(key);
    assertEquals(Outcome.failed(3), exit.outcome(), exit.reason());
    assertEquals("from stdin|hello world|job-1|1|" + dir + "\n", output(key));
    assertEquals(
        "3", Files.readString(processes.directory(key).resolve("status")).strip(), "status file");
    long pgid = Long.parseLong(Files.readString(processes.directory(key).resolve("pgid")).strip());
    assertTrue(pgid > 1, "the wrapper recorded its pid");
  }

  @Test
  void aCommandThatCannotBeExecutedFailsWith127AndSaysWhy() throws Exception {
    processes();
    // A directory passes the agent's check (it is "executable"); the kernel refuses to exec it.
    Path directory = Files.createDirectories(dir.resolve("not-a-program"));
    LaunchKey key = key(2);
    assertEquals(
        Optional.empty(),
        processes.start(
            key, launch(LaunchSpec.newBuilder().addArgv(directory.toString())), Instant.now()));
    RunProcesses.Exit exit = awaitExit(key);
    assertEquals(Outcome.failed(127), exit.outcome(), exit.reason());
    assertTrue(output(key).contains("cannot start '" + directory + "'"), output(key));
  }

  @Test
  void aStoppedRunEndsWithTheSignalsStatusAndItsChildrenDieWithIt() throws Exception {
    processes();
    LaunchKey key = key(3);
    Path child = dir.resolve("child-pid");
    processes.start(
        key,
        launch(LaunchSpec.newBuilder().setShell("sleep 60 & echo $! > " + child + "; wait")),
        Instant.now());
    // Stopped at once, most likely before its wrapper recorded its pid: the SIGTERM waits for it.
    processes.stop(key, Instant.now());
    RunProcesses.Exit exit = awaitExit(key);
    assertEquals(Outcome.failed(143), exit.outcome(), exit.reason());
    if (Files.exists(child)) {
      long sleeper = Long.parseLong(Files.readString(child).strip());
      ProcessHandle.of(sleeper)
          .ifPresent(
              process -> {
                try {
                  process.onExit().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                  throw new AssertionError("the command's child outlived the stop", e);
                }
              });
    }
  }

  @Test
  void aRunPreparedOnAHelperThatDiedIsForkedAgainByANewHelperAtItsInstant() throws Exception {
    processes();
    LaunchKey key = key(4);
    Path marker = dir.resolve("ran");
    Launch launch = launch(LaunchSpec.newBuilder().setShell("echo once >> " + marker));
    processes.prepare(key, launch);
    assertEquals(1, processes.preparedCount());
    ProcessHandle helper = ProcessHandle.of(processes.helperPid()).orElseThrow();
    helper.destroyForcibly();
    helper.onExit().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertEquals(Optional.empty(), processes.start(key, launch, Instant.now()));
    RunProcesses.Exit exit = awaitExit(key);
    assertEquals(Outcome.SUCCEEDED, exit.outcome(), exit.reason());
    assertEquals(List.of("once"), Files.readAllLines(marker));
    assertFalse(helper.pid() == processes.helperPid(), "a new helper took the dead one's place");
  }

  @Test
  void aPreparedRunGivenUpNeverRunsAndItsDirectoryGoes() throws Exception {
    processes();
    LaunchKey key = key(5);
    Path marker = dir.resolve("ran");
    processes.prepare(key, launch(LaunchSpec.newBuilder().setShell("touch " + marker)));
    processes.discardPrepared(k -> true);
    assertEquals(0, processes.preparedCount());
    processes.close();
    processes = null;
    assertFalse(Files.exists(marker), "a discarded run ran");
    assertFalse(Files.exists(RunProcesses.directoryName(dir.resolve("data/runs"), key)));
  }

  @Test
  void aRunWhoseWrapperNeverRecordsItsPidIsGivenUpAfterTheGraceAndSaysItMayHaveRun()
      throws Exception {
    processes();
    LaunchKey key = key(6);
    ProcessHandle helper = ProcessHandle.of(processes.helperPid()).orElseThrow();
    // A stopped helper never reads the request: no wrapper, no pid file, no status.
    signal(helper, "STOP");
    try {
      Instant startedAt = Instant.now();
      assertEquals(
          Optional.empty(),
          processes.start(key, launch(LaunchSpec.newBuilder().setShell("true")), startedAt));
      List<RunProcesses.Exit> exits = new ArrayList<>();
      processes.poll(startedAt.plus(RunProcesses.NO_PROCESS_GIVE_UP).minusMillis(1), exits::add);
      assertEquals(List.of(), exits, "given up before the grace ran out");
      processes.poll(startedAt.plus(RunProcesses.NO_PROCESS_GIVE_UP), exits::add);
      assertEquals(1, exits.size());
      assertEquals(Outcome.failed(137), exits.getFirst().outcome());
      assertTrue(exits.getFirst().reason().contains("may have run partly"), exits.toString());
    } finally {
      signal(helper, "CONT");
    }
  }

  @Test
  void aWaitingWrapperIsToldToRunWithoutTheHelper() throws Exception {
    processes();
    LaunchKey key = key(7);
    Path marker = dir.resolve("ran");
    Launch launch = launch(LaunchSpec.newBuilder().setShell("touch " + marker));
    processes.prepare(key, launch);
    Path wrapper = processes.directory(key).resolve("wrapper");
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!Files.exists(wrapper) && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // a real fork, bounded by WAIT
    }
    assertTrue(Files.exists(wrapper), "the waiting wrapper recorded its pid");
    ProcessHandle helper = ProcessHandle.of(processes.helperPid()).orElseThrow();
    signal(helper, "STOP"); // a helper that reads nothing: the go must not need it
    try {
      assertEquals(Optional.empty(), processes.start(key, launch, Instant.now()));
      RunProcesses.Exit exit = awaitExit(key);
      assertEquals(Outcome.SUCCEEDED, exit.outcome(), exit.reason());
      assertTrue(Files.exists(marker));
    } finally {
      signal(helper, "CONT");
    }
  }

  private static void signal(ProcessHandle process, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
    assertEquals(0, kill.waitFor(), "kill -" + signal);
  }
}
