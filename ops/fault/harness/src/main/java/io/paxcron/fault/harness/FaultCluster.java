package io.paxcron.fault.harness;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.paxcron.api.JobClient;
import io.paxcron.proto.v1.ClusterStatusResponse;
import io.paxcron.server.Paxcron;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Five {@code paxcron server} processes, each in its own network namespace with its data dir on its
 * own small tmpfs, started under libfaketime (so the nemesis can move its wall clock) and libfiu
 * (so it can fail its fsyncs); and the {@code paxcron agent} processes in the harness's namespace.
 * Kills are SIGKILL, pauses SIGSTOP/SIGCONT.
 */
final class FaultCluster implements AutoCloseable {
  static final int PEER_PORT = 7001;
  static final int CLIENT_PORT = 7101;
  static final String FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
  static final String FIU_DIR = "/usr/lib/fiu";

  private final Path work;
  private final int replicas;
  private final int diskMegabytes;
  private final boolean agentForgets;
  private final Map<Integer, Process> servers = new TreeMap<>();
  private final Map<String, Process> agents = new TreeMap<>();
  private final Map<Integer, JobClient> probes = new TreeMap<>();
  private final PrintLog log;

  /**
   * @param agentForgets the planted bug: an agent's data dir (its launch journal and fence) is
   *     wiped whenever it is restarted, as if it lived on ephemeral storage
   */
  FaultCluster(Path work, int replicas, int diskMegabytes, boolean agentForgets, PrintLog log) {
    this.work = work;
    this.replicas = replicas;
    this.diskMegabytes = diskMegabytes;
    this.agentForgets = agentForgets;
    this.log = log;
  }

  interface PrintLog {
    void line(String text);
  }

  static boolean toolsPresent(List<String> missing) {
    if (!Files.exists(Path.of(FAKETIME_LIB))) {
      missing.add("faketime (libfaketime: " + FAKETIME_LIB + ")");
    }
    if (!Files.exists(Path.of(FIU_DIR, "fiu_posix_preload.so")) || !Shell.available("fiu-ctrl")) {
      missing.add("fiu-utils (libfiu and fiu-ctrl)");
    }
    if (!Shell.available("iptables")) {
      missing.add("iptables");
    }
    if (!Shell.available("ip")) {
      missing.add("iproute2");
    }
    return missing.isEmpty();
  }

  List<Integer> ids() {
    List<Integer> ids = new ArrayList<>();
    for (int id = 1; id <= replicas; id++) {
      ids.add(id);
    }
    return ids;
  }

  List<String> clientAddresses() {
    List<String> addresses = new ArrayList<>();
    for (int id : ids()) {
      addresses.add(Network.address(id) + ":" + CLIENT_PORT);
    }
    return addresses;
  }

  Path dataDir(int id) {
    return work.resolve("replica-" + id);
  }

  Path clockFile(int id) {
    return work.resolve("clock-" + id);
  }

  /** Mounts each replica's tmpfs and sets every clock offset to zero. */
  void prepare() throws IOException {
    for (int id : ids()) {
      Path dir = dataDir(id);
      Files.createDirectories(dir);
      Shell.must(
          "mount",
          "-t",
          "tmpfs",
          "-o",
          "size=" + diskMegabytes + "m",
          "pxf-disk-" + id,
          dir.toString());
      setClock(id, "+0");
    }
  }

  void setClock(int id, String offset) {
    try {
      Files.writeString(clockFile(id), offset + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void start(int id) {
    List<String> command =
        new ArrayList<>(
            List.of(
                "ip",
                "netns",
                "exec",
                Network.namespace(id),
                "env",
                // libfaketime moves CLOCK_REALTIME only: faking CLOCK_MONOTONIC under the JVM
                // stalls its timed waits, and so does libfaketime's "monotonic fix" of
                // pthread_cond_timedwait, which Debian's build turns on by default for this glibc
                // (docs/testing.md, "Fault runs").
                "LD_PRELOAD="
                    + FIU_DIR
                    + "/fiu_run_preload.so "
                    + FIU_DIR
                    + "/fiu_posix_preload.so "
                    + FAKETIME_LIB,
                "FIU_ENABLE=",
                "FIU_CTRL_FIFO=" + work.resolve("fiu-ctrl"),
                "FAKETIME_TIMESTAMP_FILE=" + clockFile(id),
                "FAKETIME_DONT_FAKE_MONOTONIC=1",
                "FAKETIME_FORCE_MONOTONIC_FIX=0",
                "FAKETIME_CACHE_DURATION=1"));
    command.addAll(java("-Xmx256m"));
    command.addAll(
        List.of(
            "server",
            "--id",
            String.valueOf(id),
            "--cluster-id",
            "fault",
            "--data-dir",
            dataDir(id).toString(),
            // Private namespaces on one machine: plaintext without auth, said out loud
            // (docs/security.md); the fault runs test consensus and launches, not TLS.
            "--insecure"));
    for (int peer : ids()) {
      command.add("--peer");
      command.add(peer + "=" + Network.address(peer) + ":" + PEER_PORT + ":" + CLIENT_PORT);
    }
    servers.put(id, launch(command, work.resolve("replica-" + id + ".log")));
  }

  private static List<String> java(String heap) {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
    if (Runtime.version().feature() >= 24) {
      command.add("--sun-misc-unsafe-memory-access=allow");
    }
    command.addAll(
        List.of(heap, "-cp", System.getProperty("java.class.path"), Paxcron.class.getName()));
    return command;
  }

  private static Process launch(List<String> command, Path logFile) {
    try {
      return new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  void startAgent(String name) {
    Path dataDir = work.resolve("agent-" + name);
    try {
      if (agentForgets && Files.exists(dataDir)) {
        log.line("planted bug: agent " + name + " restarts with an empty data dir");
        deleteTree(dataDir);
      }
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> command = new ArrayList<>(java("-Xmx128m"));
    command.addAll(
        List.of(
            "agent",
            "--name",
            name,
            "--cluster",
            String.join(",", clientAddresses()),
            "--data-dir",
            dataDir.toString(),
            "--capacity",
            "64"));
    agents.put(name, launch(command, work.resolve("agent-" + name + ".log")));
  }

  List<String> agentNames() {
    return new ArrayList<>(agents.keySet());
  }

  boolean running(int id) {
    Process process = servers.get(id);
    return process != null && process.isAlive();
  }

  Optional<Process> process(int id) {
    return Optional.ofNullable(servers.get(id));
  }

  boolean agentRunning(String name) {
    Process process = agents.get(name);
    return process != null && process.isAlive();
  }

  void kill(int id) {
    stop(servers.get(id));
  }

  void killAgent(String name) {
    stop(agents.get(name));
  }

  void signal(int id, String signal) {
    Process process = servers.get(id);
    if (process != null && process.isAlive()) {
      Shell.run("kill", "-" + signal, String.valueOf(process.pid()));
    }
  }

  void signalAgent(String name, String signal) {
    Process process = agents.get(name);
    if (process != null && process.isAlive()) {
      Shell.run("kill", "-" + signal, String.valueOf(process.pid()));
    }
  }

  /** Makes every fsync and fdatasync of replica {@code id} fail (libfiu, at once). */
  void failFsync(int id) {
    Process process = servers.get(id);
    Shell.must(
        "fiu-ctrl",
        "-f",
        work.resolve("fiu-ctrl").toString(),
        "-c",
        "enable name=posix/io/sync/*",
        String.valueOf(process.pid()));
  }

  /** Fills replica {@code id}'s filesystem; returns the filler file. */
  Path fillDisk(int id) throws IOException {
    Path filler = dataDir(id).resolve("fault-filler");
    byte[] block = new byte[1 << 20];
    try (var out = Files.newOutputStream(filler)) {
      while (true) {
        out.write(block);
      }
    } catch (IOException expected) {
      // ENOSPC: the filesystem is full, which is the point.
    }
    return filler;
  }

  private static void stop(Process process) {
    if (process != null && process.isAlive()) {
      Shell.run("kill", "-CONT", String.valueOf(process.pid()));
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The status of replica {@code id}, or empty when it does not answer within half a second. */
  Optional<ClusterStatusResponse> status(int id) {
    JobClient probe =
        probes.computeIfAbsent(
            id,
            i ->
                new JobClient(
                    1_000_000L + i,
                    List.of(Network.address(i) + ":" + CLIENT_PORT),
                    address -> NettyChannelBuilder.forTarget(address).usePlaintext().build(),
                    new JobClient.Settings(Duration.ofMillis(500), 1, Duration.ZERO, Duration.ZERO),
                    JobClient.Sleeper.SYSTEM,
                    new Random(i)));
    try {
      return Optional.of(probe.status());
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The replica that holds the lease now, or empty. */
  Optional<Integer> leader() {
    for (int id : ids()) {
      if (running(id)) {
        Optional<ClusterStatusResponse> status = status(id);
        if (status.isPresent() && status.get().getHoldsLease()) {
          return Optional.of(id);
        }
      }
    }
    return Optional.empty();
  }

  int awaitLeader(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<Integer> leader = leader();
      if (leader.isPresent()) {
        return leader.get();
      }
      sleep(100);
    }
    throw new IllegalStateException("no leader within " + timeout + "; logs in " + work);
  }

  void awaitAgents(int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<Integer> leader = leader();
      if (leader.isPresent()) {
        Optional<ClusterStatusResponse> status = status(leader.get());
        if (status.isPresent() && status.get().getAgentsCount() >= count) {
          return;
        }
      }
      sleep(200);
    }
    throw new IllegalStateException(count + " agents did not register within " + timeout);
  }

  /**
   * Waits until the cluster has recovered from a fault: a replica holds the leader's lease and
   * every agent is registered with it and healthy. Returns how long that took, or -1 if it did not
   * happen within {@code timeout}.
   */
  long awaitRecovered(int agentCount, Duration timeout) {
    long begin = System.nanoTime();
    long deadline = begin + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<Integer> leader = leader();
      if (leader.isPresent()) {
        Optional<ClusterStatusResponse> status = status(leader.get());
        if (status.isPresent()
            && status.get().getAgentsList().stream()
                    .filter(agent -> agent.getState().equals("HEALTHY"))
                    .count()
                >= agentCount) {
          return (System.nanoTime() - begin) / 1_000_000;
        }
      }
      sleep(200);
    }
    return -1;
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    for (JobClient probe : probes.values()) {
      probe.close();
    }
    for (String name : new ArrayList<>(agents.keySet())) {
      killAgent(name);
    }
    for (int id : new ArrayList<>(servers.keySet())) {
      kill(id);
    }
    for (int id : ids()) {
      Shell.run("umount", "-l", dataDir(id).toString());
    }
  }

  /**
   * Deletes {@code root} and everything under it, taking in stride files that runs still write
   * ({@link io.paxcron.server.LocalCluster#deleteTree}).
   */
  static void deleteTree(Path root) throws IOException {
    try {
      io.paxcron.server.LocalCluster.deleteTree(root);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
