package io.paxcron.server;

import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.StatusReply;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiFunction;
import java.util.stream.Stream;

/**
 * A cluster of real {@code paxcron server} processes on loopback, for the demo and the integration
 * tests. Each replica is its own JVM started with this JVM's class path; {@link #kill} is SIGKILL.
 *
 * <p>{@code peerAddress} decides how replica {@code from} reaches replica {@code to}'s peer port —
 * directly, or through a proxy a test controls to cut links.
 */
public final class LocalCluster implements AutoCloseable {

  /** One replica's ports and directories. */
  public record Member(
      int id, int peerPort, int clientPort, int httpPort, Path dataDir, Path logFile) {
    public String clientAddress() {
      return "127.0.0.1:" + clientPort;
    }

    /** The dashboard, /metrics, /healthz and /readyz of this replica. */
    public String httpUrl() {
      return "http://127.0.0.1:" + httpPort;
    }
  }

  private final Path workDir;
  private final String clusterId;
  private final Map<Integer, Member> members = new TreeMap<>();
  private final Map<Integer, Process> processes = new TreeMap<>();
  private final Map<String, Process> agents = new TreeMap<>();
  private final BiFunction<Integer, Integer, Integer> peerPortSeenBy;
  private final List<String> extraFlags;
  private List<String> replicaJvmFlags = List.of("-Xmx256m");

  private int agentNiceness;
  private Path archives;

  /** Processes started without an archive of their own: they write one as they exit normally. */
  private final java.util.Set<String> archivesToWrite =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final java.util.Set<Integer> joining = new java.util.TreeSet<>();

  /**
   * @param replicas how many replicas (ids 1..replicas)
   * @param peerPortSeenBy (from, to) → the port {@code from} dials to reach {@code to}, or null to
   *     dial {@code to}'s own peer port
   * @param extraFlags added to every server's command line (e.g. --snapshot-every-entries 20)
   */
  public LocalCluster(
      Path workDir,
      int replicas,
      BiFunction<Integer, Integer, Integer> peerPortSeenBy,
      List<String> extraFlags) {
    this.workDir = workDir;
    this.clusterId = "local";
    this.peerPortSeenBy = peerPortSeenBy;
    this.extraFlags = List.copyOf(extraFlags);
    // A test or benchmark stopped by a signal does not reach close(): its replicas and agents
    // would go on running (and loading the machine) after it.
    Runtime.getRuntime().addShutdownHook(new Thread(this::killEverything, "local-cluster-cleanup"));
    try {
      Files.createDirectories(workDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + workDir, e);
    }
    for (int id = 1; id <= replicas; id++) {
      members.put(
          id,
          new Member(
              id,
              freePort(),
              freePort(),
              freePort(),
              workDir.resolve("replica-" + id),
              workDir.resolve("replica-" + id + ".log")));
    }
  }

  public LocalCluster(Path workDir, int replicas, List<String> extraFlags) {
    this(workDir, replicas, (from, to) -> null, extraFlags);
  }

  /**
   * Replaces the JVM flags of replicas started from now on (default {@code -Xmx256m}), e.g. a
   * larger heap for a benchmark that loads a million jobs.
   */
  public LocalCluster replicaJvmFlags(List<String> flags) {
    this.replicaJvmFlags = List.copyOf(flags);
    return this;
  }

  /**
   * Starts agents, and so the processes they start, at {@code niceness} (1-19, with {@code nice}):
   * on one shared machine the replicas then get the CPU first, as they would with the agents on
   * hosts of their own. 0 (the default) starts them as this process.
   */
  public LocalCluster agentNiceness(int niceness) {
    if (niceness < 0 || niceness > 19) {
      throw new IllegalArgumentException("niceness must be 0..19, got " + niceness);
    }
    this.agentNiceness = niceness;
    return this;
  }

  /**
   * Starts every replica and agent with a class-data archive of its own under {@code directory}
   * (written by the JVM when the process first exits normally, used from the next start on): a JVM
   * then starts with its classes already parsed, as {@code ops/paxcron} starts replicas. The JVM
   * does not replace an archive that no longer matches the class path, it runs without one, so a
   * stamp of the JDK and of the class path's files (names, sizes, times) is kept beside them and
   * the archives are deleted when it changes.
   */
  public LocalCluster classDataArchives(Path directory) throws IOException {
    Files.createDirectories(directory);
    StringBuilder stamp = new StringBuilder(System.getProperty("java.home")).append('\n');
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path path = Path.of(entry);
      if (Files.isRegularFile(path)) {
        stamp
            .append(path.toAbsolutePath())
            .append(' ')
            .append(Files.size(path))
            .append(' ')
            .append(Files.getLastModifiedTime(path).toMillis())
            .append('\n');
      }
    }
    Path stampFile = directory.resolve("stamp");
    String previous = Files.exists(stampFile) ? Files.readString(stampFile) : "";
    if (!previous.contentEquals(stamp)) {
      try (var stale = Files.newDirectoryStream(directory, "*.jsa")) {
        for (Path archive : stale) {
          Files.deleteIfExists(archive);
        }
      }
      Files.writeString(stampFile, stamp);
    }
    this.archives = directory;
    return this;
  }

  private List<String> archiveFlags(String name) {
    if (archives == null) {
      return List.of();
    }
    Path archive = archives.resolve(name + ".jsa");
    if (!Files.exists(archive)) {
      archivesToWrite.add(name);
    }
    return List.of(
        "-XX:SharedArchiveFile=" + archive,
        "-XX:+AutoCreateSharedArchive",
        "-Xlog:cds=off",
        "-Xlog:cds+dynamic=off");
  }

  /**
   * When a process started without its class-data archive, lets every JVM exit normally first
   * (SIGTERM, up to 10 s): a JVM writes its archive as it exits normally. Once every archive exists
   * the processes are killed at once, as without archives.
   */
  private void letArchivesBeWritten() {
    if (archives == null || archivesToWrite.isEmpty()) {
      return;
    }
    List<Process> all = new ArrayList<>(agents.values());
    all.addAll(processes.values());
    all.forEach(Process::destroy);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (Process process : all) {
      try {
        process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** The process id of running agent {@code name}, for inspecting it (its CPU time). */
  public long agentPid(String name) {
    Process process = agents.get(name);
    if (process == null || !process.isAlive()) {
      throw new IllegalStateException("agent " + name + " is not running");
    }
    return process.pid();
  }

  /**
   * CPU time (user + system, in clock ticks of 10 ms, from Linux's {@code /proc}) that process
   * {@code pid} and every live descendant have spent, with the children each has reaped: for an
   * agent, the JVM and every process it started (wrappers, commands). A process that exits while it
   * is read is left out (its time moves to its parent's reaped total).
   */
  public static long treeCpuTicks(long pid) {
    long ticks = processCpuTicks(pid);
    List<ProcessHandle> descendants =
        ProcessHandle.of(pid).map(p -> p.descendants().toList()).orElse(List.of());
    for (ProcessHandle descendant : descendants) {
      ticks += processCpuTicks(descendant.pid());
    }
    return ticks;
  }

  /** utime + stime + cutime + cstime (fields 14-17 of /proc/PID/stat); 0 if it is gone. */
  private static long processCpuTicks(long pid) {
    String stat;
    try {
      stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    } catch (IOException e) {
      return 0;
    }
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = 0;
    for (int field = 14; field <= 17; field++) {
      ticks += Long.parseLong(fields[field - 3]);
    }
    return ticks;
  }

  /** The process id of running replica {@code id}, for inspecting it (jcmd). */
  public long pid(int id) {
    Process process = processes.get(id);
    if (process == null || !process.isAlive()) {
      throw new IllegalStateException("replica " + id + " is not running");
    }
    return process.pid();
  }

  /**
   * A new replica with fresh ports and directories, not started: {@link #start} runs it with {@code
   * --join} (docs/membership.md), listing itself and every other replica as peers.
   */
  public Member addJoiner(int id) {
    if (members.containsKey(id)) {
      throw new IllegalArgumentException("replica " + id + " exists");
    }
    Member member =
        new Member(
            id,
            freePort(),
            freePort(),
            freePort(),
            workDir.resolve("replica-" + id),
            workDir.resolve("replica-" + id + ".log"));
    members.put(id, member);
    joining.add(id);
    return member;
  }

  /** {@code host:peer-port:client-port} of replica {@code id}, as membership changes name it. */
  public String memberAddress(int id) {
    Member member = members.get(id);
    return "127.0.0.1:" + member.peerPort() + ":" + member.clientPort();
  }

  /** The process of replica {@code id} exited by itself (or was never started); its exit code. */
  public Optional<Integer> exitCode(int id) {
    Process process = processes.get(id);
    return process == null || process.isAlive()
        ? Optional.empty()
        : Optional.of(process.exitValue());
  }

  public Map<Integer, Member> members() {
    return members;
  }

  public List<String> clientAddresses() {
    return members.values().stream().map(Member::clientAddress).toList();
  }

  /** A free loopback port (bound and released; the race with other processes is acceptable). */
  public static int freePort() {
    // The kernel may hand the same free port out again once its socket is closed, and a cluster
    // asks for nine before any replica binds one: a port is never given twice by this process.
    for (int attempt = 0; ; attempt++) {
      int port;
      try (ServerSocket socket = new ServerSocket(0)) {
        port = socket.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      synchronized (PORTS_GIVEN) {
        if (PORTS_GIVEN.add(port) || attempt >= 100) {
          return port;
        }
      }
    }
  }

  /** Every port {@link #freePort} returned in this process. */
  private static final java.util.Set<Integer> PORTS_GIVEN = new java.util.HashSet<>();

  public void startAll() {
    for (int id : members.keySet()) {
      start(id);
    }
  }

  /** Starts replica {@code id} from its data dir (a new one if missing or wiped). */
  public void start(int id) {
    Member member = members.get(id);
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
    command.addAll(replicaJvmFlags);
    command.addAll(archiveFlags("replica-" + id));
    command.addAll(
        ReplicaCollector.flagsFor(Path.of(System.getProperty("java.home")), replicaJvmFlags));
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            Paxcron.class.getName(),
            "server",
            "--id",
            String.valueOf(id),
            "--cluster-id",
            clusterId,
            "--data-dir",
            member.dataDir().toString(),
            "--http-port",
            String.valueOf(member.httpPort())));
    for (Member peer : members.values()) {
      Integer port = peer.id() == id ? null : peerPortSeenBy.apply(id, peer.id());
      command.add("--peer");
      command.add(
          peer.id()
              + "=127.0.0.1:"
              + (port == null ? peer.peerPort() : port)
              + ":"
              + peer.clientPort());
    }
    command.addAll(extraFlags);
    if (joining.contains(id)) {
      command.add("--join");
    }
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(member.logFile().toFile()))
              .start();
      processes.put(id, process);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start replica " + id, e);
    }
  }

  /**
   * Starts worker agent {@code name} as its own {@code paxcron agent} process, dialing every
   * replica's client address, with its data dir and log under the work dir. Restarting a killed
   * agent under the same name reuses its data dir (its journal), as after a real crash.
   *
   * @param extraFlags added to the agent's command line (e.g. --label zone=a, --capacity 8)
   */
  public void startAgent(String name, List<String> extraFlags) {
    startAgent(name, agentDataDir(name), extraFlags);
  }

  /**
   * Starts worker agent {@code name} on the data dir {@code dataDir} (for example the journal an
   * agent of another cluster left, as when agents are pointed at a cluster restored from a backup).
   */
  public void startAgent(String name, Path dataDir, List<String> extraFlags) {
    startAgent(name, clientAddresses(), dataDir, extraFlags);
  }

  /**
   * Starts worker agent {@code name} given only {@code cluster} (client addresses), for example the
   * addresses of replicas that membership changes have since replaced.
   */
  public void startAgent(String name, List<String> cluster, Path dataDir, List<String> extraFlags) {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx128m"));
    command.addAll(archiveFlags("agent-" + name));
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            Paxcron.class.getName(),
            "agent",
            "--name",
            name,
            "--cluster",
            String.join(",", cluster),
            "--data-dir",
            dataDir.toString()));
    command.addAll(extraFlags);
    if (agentNiceness > 0) {
      command.addAll(0, List.of("nice", "-n", Integer.toString(agentNiceness)));
    }
    try {
      Files.createDirectories(dataDir);
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(
                      workDir.resolve("agent-" + name + ".log").toFile()))
              .start();
      agents.put(name, process);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start agent " + name, e);
    }
  }

  /** The data dir of agent {@code name}: its journal and the runs' output. */
  public Path agentDataDir(String name) {
    return workDir.resolve("agent-" + name);
  }

  /** SIGKILL of agent {@code name}; the processes of its runs live on in their own sessions. */
  public void killAgent(String name) {
    stop(agents.remove(name));
  }

  public boolean agentRunning(String name) {
    Process process = agents.get(name);
    return process != null && process.isAlive();
  }

  private static void stop(Process process) {
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** SIGKILL: no shutdown hook, no flush — whatever was not synced is lost. */
  public void kill(int id) {
    Process process = processes.remove(id);
    if (process != null) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  public boolean running(int id) {
    Process process = processes.get(id);
    return process != null && process.isAlive();
  }

  /** Deletes replica {@code id}'s data dir (it must be stopped). */
  public void wipe(int id) {
    if (running(id)) {
      throw new IllegalStateException("replica " + id + " is running; kill it first");
    }
    deleteTree(members.get(id).dataDir());
  }

  /** The status of replica {@code id}, or empty when it does not answer. */
  public Optional<StatusReply> status(LogClient client, int id) {
    try {
      return Optional.of(client.status(members.get(id).clientAddress()));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Waits until exactly one running replica holds the lease; returns its id. */
  public int awaitLeader(LogClient client, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      int holder = -1;
      int holders = 0;
      for (int id : members.keySet()) {
        if (!running(id)) {
          continue;
        }
        Optional<StatusReply> status = status(client, id);
        if (status.isPresent() && status.get().getHoldsLease()) {
          holder = id;
          holders++;
        }
      }
      if (holders == 1) {
        return holder;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
    throw new IllegalStateException("no leader within " + timeout + "; logs in " + workDir);
  }

  /** Waits until replica {@code id} has applied at least {@code slot}. */
  public void awaitApplied(LogClient client, int id, long slot, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<StatusReply> status = status(client, id);
      if (status.isPresent() && status.get().getAppliedSlot() >= slot) {
        return;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
    throw new IllegalStateException(
        "replica "
            + id
            + " did not apply slot "
            + slot
            + " within "
            + timeout
            + "; status "
            + status(client, id).map(Object::toString).orElse("unreachable"));
  }

  public LogClient client(long clientId) {
    return new LogClient(
        clientId, clientAddresses(), Duration.ofSeconds(1), Duration.ofSeconds(15));
  }

  private void killEverything() {
    try {
      letArchivesBeWritten();
      for (Process process : List.copyOf(agents.values())) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
      for (Process process : List.copyOf(processes.values())) {
        process.destroyForcibly();
      }
    } catch (RuntimeException e) {
      // The maps changed under the hook (the JVM is exiting while the owner works): best effort.
    }
  }

  @Override
  public void close() {
    letArchivesBeWritten();
    for (String name : new ArrayList<>(agents.keySet())) {
      killAgent(name);
    }
    for (int id : new ArrayList<>(processes.keySet())) {
      kill(id);
    }
  }

  public static void deleteTree(Path root) {
    // Runs outlive their agent and may still write into their directories (a wrapper renames its
    // status into place as it ends): files that vanish or appear during the walk are taken in
    // stride and the walk is repeated a few times.
    IOException last = null;
    for (int pass = 0; pass < 10 && Files.exists(root); pass++) {
      try (Stream<Path> paths = Files.walk(root)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(path);
        }
      } catch (java.nio.file.DirectoryNotEmptyException | java.nio.file.NoSuchFileException e) {
        last = e;
      } catch (UncheckedIOException e) {
        last = e.getCause();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete " + root, e);
      }
    }
    if (Files.exists(root)) {
      throw new UncheckedIOException(
          "cannot delete " + root + " (files keep appearing)",
          last == null ? new IOException("still there") : last);
    }
  }
}
