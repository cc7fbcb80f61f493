package io.paxcron.agent;

import io.paxcron.agent.core.AgentFence;
import io.paxcron.agent.core.LaunchKey;
import io.paxcron.proto.v1.Launch;
import io.paxcron.proto.v1.LaunchSpec;
import io.paxcron.scheduler.Outcome;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Runs launches as real processes, each in its own session and process group, and finds them again
 * after the agent restarts.
 *
 * <p>Each run gets a directory under {@code <data-dir>/runs/}. The agent starts {@code setsid
 * /bin/sh -c WRAPPER}: the wrapper (the session and group leader) records its pid in {@code pgid}
 * (one short write with the shell's builtin echo, no extra process on the start path: a reader that
 * finds it empty reads 0 and looks again), runs the command with stdin from {@code stdin} and
 * stdout+stderr appended to {@code output}, waits for it and writes its exit status to {@code
 * status} as one line (the shell's builtin echo: one short write, no {@code mv} process on every
 * run's path; a status without its newline is one still being written, or one the wrapper died
 * writing, and reads as none) — but only once the agent has written {@code go} to its stdin (a
 * pipe). A launch chosen ahead of its instant gets its wrapper when it is accepted, on a spawning
 * thread off the event loop ({@link #prepare}); at the instant the agent only writes {@code go}, so
 * the command starts within a fork and an exec of its instant instead of behind the spawns of every
 * other run due then. A wrapper whose stdin closes before {@code go} (the agent died, the launch
 * was given up) exits without running anything or writing a file. The wrapper traps SIGTERM, so
 * stopping the group ends the command and still records its status; only SIGKILL of the group loses
 * it. A SIGTERM that reaches the wrapper before the command exists is passed on to the command once
 * it does. The run is therefore independent of the agent: a {@code kill -9} of the agent leaves it
 * running and its status is read after the restart.
 *
 * <p>Output keeps the head: once {@code output} passes {@code outputMaxBytes} it is cut back to
 * that size (while the run goes on, at every poll, and when it ends) and marked {@code truncated}.
 *
 * <p>Threading: {@link #poll}, {@link #start} and {@link #discardPrepared} run on the agent's event
 * loop; exits are handed to the consumer there. Spawning for {@link #prepare} runs on its own
 * threads.
 */
final class RunProcesses {
  private static final String WRAPPER =
      """
            IFS= read -r g || exit 0
            [ "$g" = go ] || exit 0
            t=; trap 't=1' TERM INT HUP
            d=$1; shift
            echo $$ > "$d/pgid"
            "$@" < "$d/stdin" >> "$d/output" 2>&1 &
            c=$!
            [ -z "$t" ] || kill -TERM "$c" 2>/dev/null
            while :; do wait "$c"; rc=$?; kill -0 "$c" 2>/dev/null || break; done
            echo "$rc" > "$d/status"
            """;

  /** A run that ended. */
  record Exit(LaunchKey key, Outcome outcome, String reason, byte[] outputTail) {}

  private static final class Watched {
    final LaunchKey key;
    final Path directory;
    final Instant deadline;
    long pgid;
    Instant termSentAt;
    boolean killSent;
    boolean timedOut;
    boolean cancelled;

    Watched(LaunchKey key, Path directory, Instant deadline) {
      this.key = key;
      this.directory = directory;
      this.deadline = deadline;
    }
  }

  /** A wrapper spawned and waiting for {@code go}, or why the launch cannot run here. */
  private record Spawned(Process wrapper, String refusal) {
    static Spawned refused(String reason) {
      return new Spawned(null, reason);
    }
  }

  private static final byte[] GO = "go\n".getBytes(StandardCharsets.US_ASCII);

  private final Path runsDirectory;
  private final AgentOptions options;
  private final Map<LaunchKey, Watched> watched = new ConcurrentHashMap<>();

  /** Wrappers spawned ahead of their instant, by launch; only the event loop adds and removes. */
  private final Map<LaunchKey, CompletableFuture<Spawned>> prepared = new HashMap<>();

  private final ExecutorService spawner;

  RunProcesses(Path dataDirectory, AgentOptions options) throws IOException {
    this.runsDirectory = dataDirectory.resolve("runs");
    this.options = options;
    Files.createDirectories(runsDirectory);
    AtomicInteger threads = new AtomicInteger();
    this.spawner =
        Executors.newFixedThreadPool(
            SPAWN_THREADS,
            runnable -> {
              Thread thread =
                  new Thread(
                      runnable, "agent-" + options.name() + "-spawn-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Threads spawning wrappers ahead of their instant (spawning is mostly the kernel's fork). */
  private static final int SPAWN_THREADS = 2;

  static Path directoryName(Path runs, LaunchKey key) {
    String job = key.runId().job().value().replaceAll("[^A-Za-z0-9._-]", "_");
    return runs.resolve(
        job
            + "_"
            + key.runId().instant().toEpochMilli()
            + (key.runId().manual() ? "_manual" : "")
            + "_"
            + key.attempt());
  }

  Path directory(LaunchKey key) {
    return directoryName(runsDirectory, key);
  }

  /**
   * Spawns the wrapper of a launch held for its instant, on a spawning thread: at the instant,
   * {@link #start} only tells it to run. Nothing of the command runs before that.
   */
  void prepare(LaunchKey key, Launch launch) {
    prepared.computeIfAbsent(
        key, k -> CompletableFuture.supplyAsync(() -> spawn(k, launch), spawner));
  }

  /**
   * The spawn of the launch's wrapper (started on a spawning thread if it was not prepared ahead):
   * once it is done, {@link #start} only tells the wrapper to run and never waits. Event loop only.
   */
  CompletableFuture<?> wrapperFor(LaunchKey key, Launch launch) {
    prepare(key, launch);
    return prepared.get(key);
  }

  /**
   * Gives up the wrappers prepared for launches that {@code givenUp} says will not start here
   * (their stdin closes, they exit without running anything) and deletes their directories.
   */
  void discardPrepared(Predicate<LaunchKey> givenUp) {
    for (LaunchKey key : List.copyOf(prepared.keySet())) {
      if (givenUp.test(key)) {
        Path directory = directory(key);
        prepared
            .remove(key)
            .thenAcceptAsync(
                spawned -> {
                  if (spawned.wrapper() != null) {
                    closeQuietly(spawned.wrapper());
                  }
                  try {
                    Files.deleteIfExists(directory.resolve("stdin"));
                    Files.deleteIfExists(directory);
                  } catch (IOException e) {
                    // Retention never lists a directory without a status: a leftover is harmless.
                  }
                },
                spawner);
      }
    }
  }

  /** Wrappers prepared and not yet told to run. */
  int preparedCount() {
    return prepared.size();
  }

  /**
   * Starts the launch's process: tells its prepared wrapper to run, or spawns one and tells it.
   *
   * @return empty if it started, else why it cannot run (a bad spec): the run fails with that
   *     reason
   */
  Optional<String> start(LaunchKey key, Launch launch, Instant now) {
    CompletableFuture<Spawned> ahead = prepared.remove(key);
    Spawned spawned = ahead == null ? spawn(key, launch) : ahead.join();
    if (spawned.refusal() == null && !go(spawned.wrapper())) {
      // The waiting wrapper is gone (killed from outside): spawn it again.
      spawned = spawn(key, launch);
      if (spawned.refusal() == null && !go(spawned.wrapper())) {
        return Optional.of("cannot start: the run's wrapper exited before it was told to run");
      }
    }
    if (spawned.refusal() != null) {
      return Optional.of(spawned.refusal());
    }
    Watched run = new Watched(key, directory(key), deadline(now, launch.getSpec()));
    run.pgid = spawned.wrapper().pid();
    watched.put(key, run);
    return Optional.empty();
  }

  private static boolean go(Process wrapper) {
    try (OutputStream stdin = wrapper.getOutputStream()) {
      stdin.write(GO);
      stdin.flush();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void closeQuietly(Process wrapper) {
    try {
      wrapper.getOutputStream().close();
    } catch (IOException e) {
      // It is gone already.
    }
  }

  /** Gives up every prepared wrapper and stops spawning (the agent is closing). */
  void close() {
    discardPrepared(key -> true);
    spawner.shutdown();
  }

  /** Checks the spec and spawns the run's wrapper, which waits on its stdin for {@code go}. */
  private Spawned spawn(LaunchKey key, Launch launch) {
    LaunchSpec spec = launch.getSpec();
    List<String> command = new ArrayList<>();
    if (!spec.getShell().isEmpty()) {
      if (spec.getArgvCount() > 0) {
        return Spawned.refused("spec has both argv and shell; give exactly one");
      }
      command.addAll(List.of("/bin/sh", "-c", spec.getShell()));
    } else if (spec.getArgvCount() > 0) {
      String executable = spec.getArgv(0);
      Optional<String> missing =
          findExecutable(
              executable,
              spec.getEnvMap()
                  .getOrDefault("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin")));
      if (missing.isPresent()) {
        return Spawned.refused(missing.get());
      }
      command.addAll(spec.getArgvList());
    } else {
      return Spawned.refused("spec has neither argv nor shell");
    }
    if (!spec.getWorkingDirectory().isEmpty()
        && !Files.isDirectory(Path.of(spec.getWorkingDirectory()))) {
      return Spawned.refused(
          "working directory '" + spec.getWorkingDirectory() + "' is not a directory");
    }
    if (!spec.getRunAs().isEmpty()) {
      Optional<String> refused = runAsRefusal(spec.getRunAs());
      if (refused.isPresent()) {
        return Spawned.refused(refused.get());
      }
      if (!spec.getRunAs().equals(System.getProperty("user.name"))) {
        command.addAll(0, List.of("runuser", "-u", spec.getRunAs(), "--"));
      }
    }
    Path directory = directory(key);
    try {
      Files.createDirectories(directory);
      Files.writeString(directory.resolve("stdin"), spec.getStdin(), StandardCharsets.UTF_8);
      List<String> argv = new ArrayList<>();
      if (options.runNiceness() > 0) {
        // Below the agent: runs that take every CPU must not delay its heartbeats.
        argv.addAll(List.of("nice", "-n", Integer.toString(options.runNiceness())));
      }
      argv.addAll(List.of("setsid", "/bin/sh", "-c", WRAPPER, "paxcron-run", directory.toString()));
      argv.addAll(command);
      ProcessBuilder builder =
          new ProcessBuilder(argv)
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD);
      if (!spec.getWorkingDirectory().isEmpty()) {
        builder.directory(new File(spec.getWorkingDirectory()));
      }
      Map<String, String> env = builder.environment();
      env.putAll(spec.getEnvMap());
      env.put("PAXCRON_RUN_ID", key.runId().toString());
      env.put("PAXCRON_JOB", key.runId().job().value());
      env.put("PAXCRON_SCHEDULED_TIME", key.runId().instant().toString());
      env.put("PAXCRON_ATTEMPT", Integer.toString(key.attempt()));
      env.put("PAXCRON_AGENT", options.name());
      return new Spawned(builder.start(), null);
    } catch (IOException e) {
      return Spawned.refused("cannot start: " + e.getMessage());
    }
  }

  /**
   * After a restart: watch a run that was started before (its wrapper may have exited meanwhile).
   */
  void adopt(LaunchKey key, Launch launch, Instant startedAt) {
    Watched run = new Watched(key, directory(key), deadline(startedAt, launch.getSpec()));
    run.pgid = readPgid(run.directory);
    watched.put(key, run);
  }

  /**
   * Whether a run directory shows the process started (after a restart, for a launch not known
   * started).
   */
  boolean wasStarted(LaunchKey key) {
    Path directory = directory(key);
    return Files.exists(directory.resolve("pgid")) || Files.exists(directory.resolve("status"));
  }

  /** Cancel: SIGTERM to the group, SIGKILL after the grace period. */
  void stop(LaunchKey key, Instant now) {
    Watched run = watched.get(key);
    if (run != null && run.termSentAt == null) {
      run.cancelled = true;
      terminate(run, now);
    }
  }

  /** Checks every run: deadlines, kills, exits, output bounds. Exits go to {@code onExit}. */
  void poll(Instant now, Consumer<Exit> onExit) {
    for (Watched run : List.copyOf(watched.values())) {
      if (run.pgid == 0) {
        run.pgid = readPgid(run.directory);
      }
      boolean alive =
          run.pgid != 0 && ProcessHandle.of(run.pgid).map(ProcessHandle::isAlive).orElse(false);
      boolean hasStatus = statusOf(run.directory) != null;
      if (alive && !hasStatus) {
        if (run.termSentAt == null && run.deadline != null && !now.isBefore(run.deadline)) {
          run.timedOut = true;
          terminate(run, now);
        } else if (run.termSentAt != null
            && !now.isBefore(run.termSentAt.plus(options.killGrace()))) {
          run.killSent = true;
          signalGroup(run.pgid, "-KILL");
        }
        boundOutput(run.directory);
        continue;
      }
      if (!alive && !hasStatus && run.pgid == 0) {
        continue;
      }
      watched.remove(run.key);
      boolean truncated = boundOutput(run.directory);
      onExit.accept(exit(run, truncated));
    }
  }

  private Exit exit(Watched run, boolean truncated) {
    byte[] tail = tail(run.directory.resolve("output"));
    String note = truncated ? "output cut at " + options.outputMaxBytes() + " bytes" : "";
    Integer code = statusOf(run.directory);
    if (run.timedOut) {
      return new Exit(
          run.key, Outcome.TIMED_OUT, join("timed out; process group stopped", note), tail);
    }
    if (code == null) {
      // No status: the wrapper died of a signal before recording one. If the agent sent only
      // SIGTERM, that was it (the wrapper had not set its trap yet); otherwise assume SIGKILL.
      int signalled = run.termSentAt != null && !run.killSent ? 143 : 137;
      return new Exit(
          run.key,
          Outcome.failed(signalled),
          join("the run's process group was killed before it recorded an exit status", note),
          tail);
    }
    if (code == 0) {
      return new Exit(run.key, Outcome.SUCCEEDED, note, tail);
    }
    return new Exit(
        run.key,
        Outcome.failed(code),
        join(run.cancelled ? "cancelled; exit status " + code : "exit status " + code, note),
        tail);
  }

  /**
   * The exit status the wrapper recorded in {@code status}, or null if there is none yet: no file,
   * or one whose line is not complete (the wrapper's echo opens the file, then writes the line).
   */
  static Integer statusOf(Path directory) {
    try {
      String line = Files.readString(directory.resolve("status"), StandardCharsets.US_ASCII);
      return line.endsWith("\n") ? Integer.valueOf(line.strip()) : null;
    } catch (IOException | NumberFormatException e) {
      return null; // none yet (NoSuchFileException), or unreadable: the run recorded no status
    }
  }

  private static String join(String a, String b) {
    return b.isEmpty() ? a : a + "; " + b;
  }

  private void terminate(Watched run, Instant now) {
    run.termSentAt = now;
    signalGroup(run.pgid, "-TERM");
  }

  private static void signalGroup(long pgid, String signal) {
    if (pgid <= 1) {
      return;
    }
    try {
      Process kill =
          new ProcessBuilder("kill", signal, "--", "-" + pgid)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      kill.waitFor();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill(1): " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Cuts the output back to the head it keeps; returns whether it was ever cut. */
  private boolean boundOutput(Path directory) {
    Path output = directory.resolve("output");
    Path marker = directory.resolve("truncated");
    try {
      if (Files.exists(output) && Files.size(output) > options.outputMaxBytes()) {
        try (RandomAccessFile file = new RandomAccessFile(output.toFile(), "rw")) {
          file.setLength(options.outputMaxBytes());
        }
        if (!Files.exists(marker)) {
          Files.createFile(marker);
        }
      }
      return Files.exists(marker);
    } catch (IOException e) {
      return Files.exists(marker);
    }
  }

  private static byte[] tail(Path output) {
    try (RandomAccessFile file = new RandomAccessFile(output.toFile(), "r")) {
      long length = file.length();
      int size = (int) Math.min(length, AgentFence.MAX_OUTPUT_TAIL_BYTES);
      byte[] tail = new byte[size];
      file.seek(length - size);
      file.readFully(tail);
      return tail;
    } catch (IOException e) {
      return new byte[0];
    }
  }

  /**
   * Reads up to {@code max} bytes of a run's output from {@code offset}; empty if the run has none.
   */
  Optional<OutputSlice> readOutput(LaunchKey key, long offset, int max) {
    Path output = directory(key).resolve("output");
    if (!Files.exists(output)) {
      return Optional.empty();
    }
    try (RandomAccessFile file = new RandomAccessFile(output.toFile(), "r")) {
      long length = file.length();
      long from = Math.min(offset, length);
      byte[] data = new byte[(int) Math.min(max, length - from)];
      file.seek(from);
      file.readFully(data);
      return Optional.of(
          new OutputSlice(
              data,
              from,
              length,
              from + data.length >= length && !watched.containsKey(key),
              Files.exists(directory(key).resolve("truncated"))));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  record OutputSlice(byte[] data, long offset, long size, boolean eof, boolean truncated) {}

  /**
   * Deletes output directories of ended runs beyond the retention count or age (never a watched
   * run's).
   */
  void applyRetention(Instant now) {
    Set<Path> running = new HashSet<>();
    for (Watched run : watched.values()) {
      running.add(run.directory);
    }
    record Ended(Path dir, Instant modified) {}
    try (Stream<Path> entries = Files.list(runsDirectory)) {
      List<Ended> ended =
          entries
              .filter(dir -> !running.contains(dir))
              .filter(
                  dir -> Files.exists(dir.resolve("status")) || Files.exists(dir.resolve("ended")))
              .map(dir -> new Ended(dir, modified(dir)))
              .sorted(Comparator.comparing(Ended::modified).reversed())
              .toList();
      for (int i = 0; i < ended.size(); i++) {
        Ended run = ended.get(i);
        if (i >= options.outputRetentionRuns()
            || run.modified().plus(options.outputRetentionAge()).isBefore(now)) {
          deleteTree(run.dir());
        }
      }
    } catch (IOException e) {
      // Retention is housekeeping: a failure to list is retried at the next pass.
    }
  }

  /** Marks a run directory ended (a run that never had a wrapper), so retention may delete it. */
  void markEnded(LaunchKey key) {
    try {
      Path directory = directory(key);
      Files.createDirectories(directory);
      Files.writeString(directory.resolve("ended"), "");
    } catch (IOException e) {
      // Only retention reads the marker.
    }
  }

  private static Instant modified(Path dir) {
    try {
      return Files.getLastModifiedTime(dir).toInstant();
    } catch (IOException e) {
      return Instant.EPOCH;
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(file);
      }
    }
  }

  int watchedCount() {
    return watched.size();
  }

  private static long readPgid(Path directory) {
    try {
      return Long.parseLong(Files.readString(directory.resolve("pgid")).strip());
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  private static Instant deadline(Instant start, LaunchSpec spec) {
    if (!spec.hasTimeout()
        || (spec.getTimeout().getSeconds() == 0 && spec.getTimeout().getNanos() == 0)) {
      return null;
    }
    return start.plus(
        Duration.ofSeconds(spec.getTimeout().getSeconds(), spec.getTimeout().getNanos()));
  }

  private static Optional<String> findExecutable(String executable, String path) {
    if (executable.contains("/")) {
      return Files.isExecutable(Path.of(executable))
          ? Optional.empty()
          : Optional.of("executable '" + executable + "' does not exist or is not executable");
    }
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, executable))) {
        return Optional.empty();
      }
    }
    return Optional.of("executable '" + executable + "' is not found on PATH " + path);
  }

  private Optional<String> runAsRefusal(String user) {
    if (!options.allowedUsers().contains(user)) {
      return Optional.of("run_as '" + user + "' is not allowed by this agent (--allow-user)");
    }
    String self = System.getProperty("user.name");
    if (user.equals(self)) {
      return Optional.empty();
    }
    if (!"root".equals(self)) {
      return Optional.of(
          "run_as '" + user + "': the agent runs as '" + self + "' and cannot switch users");
    }
    try {
      Process id = new ProcessBuilder("id", "-u", user).redirectErrorStream(true).start();
      if (id.waitFor() != 0) {
        return Optional.of("run_as '" + user + "': no such user");
      }
    } catch (IOException e) {
      return Optional.of("run_as '" + user + "': cannot check the user: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("run_as '" + user + "': interrupted");
    }
    return Optional.empty();
  }
}
