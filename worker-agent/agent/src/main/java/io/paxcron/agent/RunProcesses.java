package io.paxcron.agent;

import io.paxcron.agent.core.AgentFence;
import io.paxcron.agent.core.LaunchKey;
import io.paxcron.proto.v1.Launch;
import io.paxcron.proto.v1.LaunchSpec;
import io.paxcron.scheduler.Outcome;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Runs launches as real processes, each in its own session and process group, and finds them again
 * after the agent restarts.
 *
 * <p>Each run gets a directory under {@code <data-dir>/runs/}. Every process is forked by the
 * agent's spawning helper ({@code spawn.pl}, one long-lived {@code perl} process per agent; the JVM
 * spawns nothing per run): the helper forks the run's wrapper, which becomes the leader of a new
 * session and process group, waits on a pipe for its go, records its pid in {@code pgid} (written
 * whole and renamed into place), forks and execs the command with stdin from {@code stdin} (or
 * {@code /dev/null}) and stdout+stderr appended to {@code output}, waits for it and records its
 * exit status in {@code status} (renamed into place). A launch chosen ahead of its instant gets its
 * wrapper when it is accepted ({@link #prepare}); at the instant the agent only writes its go, so
 * the command starts within a fork and an exec of its instant instead of behind the forks of every
 * other run due then. A wrapper whose go pipe closes first (the agent died, the launch was given
 * up) exits without running anything or writing a file. The wrapper catches SIGTERM, so stopping
 * the group ends the command and still records its status; only SIGKILL of the group loses it. A
 * SIGTERM that reaches the wrapper before the command exists is passed on to the command once it
 * does. The run is therefore independent of the agent: a {@code kill -9} of the agent (and with it
 * the helper) leaves it running and its status is read after the restart.
 *
 * <p>Output keeps the head: once {@code output} passes {@code outputMaxBytes} it is cut back to
 * that size (while the run goes on, at every poll, and when it ends) and marked {@code truncated}.
 *
 * <p>Threading: everything runs on the agent's event loop; exits are handed to the consumer there.
 * A request to the helper is one small write to its pipe.
 */
final class RunProcesses {
  /** A run whose wrapper recorded no pid this long after it was told to run never started. */
  static final Duration NO_PROCESS_GIVE_UP = Duration.ofSeconds(60);

  /** A run that ended. */
  record Exit(LaunchKey key, Outcome outcome, String reason, byte[] outputTail) {}

  private static final class Watched {
    final LaunchKey key;
    final Path directory;
    final Instant startedAt;
    final Instant deadline;
    long pgid;
    Instant termSentAt;
    boolean termDelivered;
    boolean killSent;
    boolean timedOut;
    boolean cancelled;

    Watched(LaunchKey key, Path directory, Instant startedAt, Instant deadline) {
      this.key = key;
      this.directory = directory;
      this.startedAt = startedAt;
      this.deadline = deadline;
    }
  }

  private final Path runsDirectory;
  private final AgentOptions options;
  private final Map<LaunchKey, Watched> watched = new ConcurrentHashMap<>();
  private final SpawnHelper helper;

  /** Wrappers forked ahead of their instant, by launch, with the helper's id for each. */
  private final Map<LaunchKey, Prepared> prepared = new HashMap<>();

  private record Prepared(long id, byte[] request, long helperGeneration) {}

  private long nextId;

  RunProcesses(Path dataDirectory, AgentOptions options) throws IOException {
    this.runsDirectory = dataDirectory.resolve("runs").toAbsolutePath();
    this.options = options;
    Files.createDirectories(runsDirectory);
    this.helper = new SpawnHelper();
  }

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
   * Forks the wrapper of a launch held for its instant: at the instant, {@link #start} only tells
   * it to run. Nothing of the command runs before that. A launch that cannot run here (a bad spec,
   * the helper gone) is not prepared; {@link #start} says why.
   */
  void prepare(LaunchKey key, Launch launch) {
    if (prepared.containsKey(key)) {
      return;
    }
    Request request = request(key, launch);
    if (request.refusal() != null) {
      return;
    }
    long id = ++nextId;
    byte[] bytes = request.bytes(id);
    try {
      long generation = helper.send(bytes);
      prepared.put(key, new Prepared(id, bytes, generation));
    } catch (IOException e) {
      // start() forks it then, or says why it cannot.
    }
  }

  /**
   * Gives up the wrappers prepared for launches that {@code givenUp} says will not start here
   * (their go pipes close, they exit without running anything) and deletes their directories.
   */
  void discardPrepared(Predicate<LaunchKey> givenUp) {
    for (LaunchKey key : List.copyOf(prepared.keySet())) {
      if (givenUp.test(key)) {
        Prepared wrapper = prepared.remove(key);
        try {
          helper.sendIn(wrapper.helperGeneration(), SpawnHelper.discard(wrapper.id()));
        } catch (IOException e) {
          // The helper is gone, and its waiting wrappers with it.
        }
        Path directory = directory(key);
        try {
          Files.deleteIfExists(directory.resolve("stdin"));
          Files.deleteIfExists(directory);
        } catch (IOException e) {
          // Retention never lists a directory without a status: a leftover is harmless.
        }
      }
    }
  }

  /** The spawning helper's pid (it changes when a dead helper is replaced). */
  long helperPid() {
    return helper.pid();
  }

  /** Wrappers prepared and not yet told to run. */
  int preparedCount() {
    return prepared.size();
  }

  /**
   * Starts the launch's process: tells its prepared wrapper to run, or has one forked and told.
   * Never waits for the process: its pid is read from its {@code pgid} file at the next poll.
   *
   * @return empty if it was told to start, else why it cannot run (a bad spec, no helper): the run
   *     fails with that reason
   */
  Optional<String> start(LaunchKey key, Launch launch, Instant now) {
    Prepared ahead = prepared.remove(key);
    try {
      if (ahead != null && goDirectly(directory(key))) {
        // Told without the helper; it only lets go of the wrapper's pipe now.
        helper.sendIn(ahead.helperGeneration(), SpawnHelper.discard(ahead.id()));
      } else if (ahead == null
          || !helper.sendIn(ahead.helperGeneration(), SpawnHelper.go(ahead.id()))) {
        // Not prepared, or prepared on a helper that has since been replaced: fork it now.
        Request request = request(key, launch);
        if (request.refusal() != null) {
          return Optional.of(request.refusal());
        }
        long id = ++nextId;
        helper.send(request.bytes(id), SpawnHelper.go(id));
      }
    } catch (IOException e) {
      return Optional.of("cannot start: the agent's spawning helper failed: " + e.getMessage());
    }
    Path directory = directory(key);
    watched.put(key, new Watched(key, directory, now, deadline(now, launch.getSpec())));
    return Optional.empty();
  }

  /**
   * Writes the go straight into a waiting wrapper's stdin (its go pipe, reopened through {@code
   * /proc/PID/fd/0}), so the wrapper wakes at once instead of after the helper has been scheduled
   * too. False if the wrapper has not recorded its pid yet or is not the waiting wrapper of this
   * directory any more: the helper is told instead.
   */
  private static boolean goDirectly(Path directory) {
    long pid = readPid(directory.resolve("wrapper"));
    if (pid <= 1) {
      return false;
    }
    Path proc = Path.of("/proc", Long.toString(pid));
    try {
      String commandLine =
          Files.readString(proc.resolve("cmdline"), StandardCharsets.UTF_8).replace('\0', ' ');
      if (!commandLine.strip().equals("paxcron-run " + directory)) {
        return false; // gone, and its pid taken by another process
      }
      try (FileChannel go = FileChannel.open(proc.resolve("fd/0"), StandardOpenOption.WRITE)) {
        return go.write(ByteBuffer.wrap(GO)) == 1;
      }
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static final byte[] GO = {'g'};

  /** Gives up every prepared wrapper and stops the helper (the agent is closing). */
  void close() {
    discardPrepared(key -> true);
    helper.close();
  }

  /** What the helper needs to fork a launch's wrapper, or why the launch cannot run here. */
  private record Request(
      Path directory,
      String workingDirectory,
      String stdin,
      List<String> argv,
      Map<String, String> env,
      String refusal) {
    static Request refused(String reason) {
      return new Request(null, null, null, null, null, reason);
    }

    byte[] bytes(long id) {
      List<String> fields = new ArrayList<>();
      fields.add("P");
      fields.add(Long.toString(id));
      fields.add(directory.toString());
      fields.add(workingDirectory);
      fields.add(stdin);
      fields.add(Integer.toString(argv.size()));
      fields.addAll(argv);
      fields.add(Integer.toString(env.size()));
      env.forEach(
          (key, value) -> {
            fields.add(key);
            fields.add(value);
          });
      return SpawnHelper.encode(fields);
    }
  }

  /**
   * Checks the spec and writes what the run reads ({@code stdin}) into its directory. Event loop.
   */
  private Request request(LaunchKey key, Launch launch) {
    LaunchSpec spec = launch.getSpec();
    List<String> command = new ArrayList<>();
    if (!spec.getShell().isEmpty()) {
      if (spec.getArgvCount() > 0) {
        return Request.refused("spec has both argv and shell; give exactly one");
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
        return Request.refused(missing.get());
      }
      command.addAll(spec.getArgvList());
    } else {
      return Request.refused("spec has neither argv nor shell");
    }
    if (!spec.getWorkingDirectory().isEmpty()
        && !Files.isDirectory(Path.of(spec.getWorkingDirectory()))) {
      return Request.refused(
          "working directory '" + spec.getWorkingDirectory() + "' is not a directory");
    }
    if (!spec.getRunAs().isEmpty()) {
      Optional<String> refused = runAsRefusal(spec.getRunAs());
      if (refused.isPresent()) {
        return Request.refused(refused.get());
      }
      if (!spec.getRunAs().equals(System.getProperty("user.name"))) {
        command.addAll(0, List.of("runuser", "-u", spec.getRunAs(), "--"));
      }
    }
    Path directory = directory(key);
    String stdin = "/dev/null";
    try {
      Files.createDirectories(directory);
      if (!spec.getStdin().isEmpty()) {
        Path file = directory.resolve("stdin");
        Files.writeString(file, spec.getStdin(), StandardCharsets.UTF_8);
        stdin = file.toString();
      }
    } catch (IOException e) {
      return Request.refused("cannot start: " + e.getMessage());
    }
    Map<String, String> env = new LinkedHashMap<>(spec.getEnvMap());
    env.put("PAXCRON_RUN_ID", key.runId().toString());
    env.put("PAXCRON_JOB", key.runId().job().value());
    env.put("PAXCRON_SCHEDULED_TIME", key.runId().instant().toString());
    env.put("PAXCRON_ATTEMPT", Integer.toString(key.attempt()));
    env.put("PAXCRON_AGENT", options.name());
    for (String field : command) {
      if (field.indexOf('\0') >= 0) {
        return Request.refused("the command holds a NUL character, which no process can be given");
      }
    }
    for (Map.Entry<String, String> entry : env.entrySet()) {
      if (entry.getKey().isEmpty()
          || entry.getKey().indexOf('=') >= 0
          || (entry.getKey() + entry.getValue()).indexOf('\0') >= 0) {
        return Request.refused(
            "env '" + entry.getKey().replace("\0", "\\0") + "' cannot be given to a process");
      }
    }
    return new Request(
        directory, spec.getWorkingDirectory(), stdin, List.copyOf(command), env, null);
  }

  /**
   * After a restart: watch a run that was started before (its wrapper may have exited meanwhile).
   */
  void adopt(LaunchKey key, Launch launch, Instant startedAt) {
    Watched run =
        new Watched(key, directory(key), startedAt, deadline(startedAt, launch.getSpec()));
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
      if (run.pgid != 0 && run.termSentAt != null && !run.termDelivered) {
        // Stopped before its wrapper had recorded its pid: the SIGTERM goes out now.
        signalGroup(run, "TERM");
      }
      boolean alive =
          run.pgid != 0 && ProcessHandle.of(run.pgid).map(ProcessHandle::isAlive).orElse(false);
      boolean hasStatus = Files.exists(run.directory.resolve("status"));
      if (alive && !hasStatus) {
        if (run.termSentAt == null && run.deadline != null && !now.isBefore(run.deadline)) {
          run.timedOut = true;
          terminate(run, now);
        } else if (run.termSentAt != null
            && !now.isBefore(run.termSentAt.plus(options.killGrace()))) {
          run.killSent = true;
          signalGroup(run, "KILL");
        }
        boundOutput(run.directory);
        continue;
      }
      if (!alive && !hasStatus && run.pgid == 0) {
        if (now.isBefore(run.startedAt.plus(NO_PROCESS_GIVE_UP))) {
          continue; // told to run; its wrapper has not recorded its pid yet
        }
        watched.remove(run.key);
        onExit.accept(
            new Exit(
                run.key,
                Outcome.failed(137),
                "no process of the run recorded its pid within "
                    + NO_PROCESS_GIVE_UP.toSeconds()
                    + " s of its start (the agent or its spawning helper died as it started it);"
                    + " it may have run partly",
                tail(run.directory.resolve("output"))));
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
    Path status = run.directory.resolve("status");
    Integer code = null;
    try {
      if (Files.exists(status)) {
        code = Integer.parseInt(Files.readString(status).strip());
      }
    } catch (IOException | NumberFormatException e) {
      code = null;
    }
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

  private static String join(String a, String b) {
    return b.isEmpty() ? a : a + "; " + b;
  }

  private void terminate(Watched run, Instant now) {
    run.termSentAt = now;
    if (run.pgid != 0) {
      signalGroup(run, "TERM");
    }
  }

  private void signalGroup(Watched run, String signal) {
    if (run.pgid <= 1) {
      return;
    }
    try {
      helper.send(SpawnHelper.signal(signal, run.pgid));
      if (signal.equals("TERM")) {
        run.termDelivered = true;
      }
    } catch (IOException e) {
      // No helper to signal through: the next poll tries again with a new one.
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
    return readPid(directory.resolve("pgid"));
  }

  private static long readPid(Path file) {
    try {
      return Long.parseLong(Files.readString(file).strip());
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
