package io.paxcron.bench.log;

import io.grpc.ManagedChannel;
import io.paxcron.paxos.KeyValueStateMachine;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.StatusReply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Paxcron's replicated log: 3 {@code paxcron server} processes on 127.0.0.1, each with its own
 * RocksDB data dir (every acceptor write synced), started from the class path the run script passes
 * in {@code -Dpaxcron.server.classpath}. A write is one {@code put} of the log's key-value state
 * machine under the client's own key, acknowledged after a majority accepted it durably and the
 * leader applied it; clients share {@code --connections} connections per replica round-robin, as
 * for etcd and ZooKeeper. The write rate limit is set out of reach (see {@link #start}).
 */
final class PaxcronTarget implements LogTarget {

  static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

  /**
   * One call's deadline. A command whose leader stepped down is re-sent (same session sequence, so
   * it is applied at most once) within the write's overall timeout: that is the client library's
   * contract, the same for every Paxcron client, and not a retry of a failed write.
   */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(2);

  /**
   * {@code connections} channel maps (one channel per replica in each), shared round-robin by the
   * clients like the other systems' connections: client N uses map N mod connections.
   */
  private final List<Map<String, ManagedChannel>> channels = new ArrayList<>();

  private final Map<Integer, LogClient> clients = new ConcurrentHashMap<>();
  private final List<String> addresses = new ArrayList<>();
  private final int replicas;
  private LocalCluster cluster;

  PaxcronTarget(int replicas, int connections) {
    this.replicas = replicas;
    for (int i = 0; i < connections; i++) {
      channels.add(new ConcurrentHashMap<>());
    }
  }

  @Override
  public int replicas() {
    return replicas;
  }

  @Override
  public String system() {
    return "paxcron";
  }

  @Override
  public List<ProcessHandle> serverProcesses() {
    LocalCluster running = cluster;
    return running == null ? List.of() : running.handles();
  }

  @Override
  public List<ProcessHandle> followerProcesses() {
    List<ProcessHandle> handles = cluster.handles();
    List<ProcessHandle> followers = new ArrayList<>();
    try (LogClient probe = client(Integer.MAX_VALUE)) {
      for (int i = 0; i < addresses.size(); i++) {
        StatusReply status = probe.status(addresses.get(i));
        if (status.getLeaderId() != status.getReplicaId()) {
          followers.add(handles.get(i));
        }
      }
    }
    return followers;
  }

  @Override
  public String version() {
    return "0.1.0-SNAPSHOT";
  }

  @Override
  public void start(Path workDir) throws Exception {
    String classpath = System.getProperty("paxcron.server.classpath");
    if (classpath == null || classpath.isBlank()) {
      throw new IllegalStateException(
          "-Dpaxcron.server.classpath is not set: run the benchmark"
              + " through ops/bench/log/run, which builds the server and passes its class path");
    }
    cluster = new LocalCluster("paxcron", workDir);
    List<Integer> ports = LoopbackPorts.allocate(2 * replicas);
    String host = LoopbackPorts.loopback().getHostAddress();
    List<String> peerFlags = new ArrayList<>();
    for (int i = 0; i < replicas; i++) {
      peerFlags.add("--peer");
      peerFlags.add((i + 1) + "=" + host + ":" + ports.get(2 * i) + ":" + ports.get(2 * i + 1));
      addresses.add(host + ":" + ports.get(2 * i + 1));
    }
    List<Path> logs = new ArrayList<>();
    for (int i = 0; i < replicas; i++) {
      Path dir = Files.createDirectories(workDir.resolve("replica-" + (i + 1)));
      Path log = workDir.resolve("replica-" + (i + 1) + ".log");
      logs.add(log);
      List<String> command =
          new ArrayList<>(
              List.of(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "--enable-native-access=ALL-UNNAMED",
                  "-Xms512m",
                  "-Xmx512m",
                  "-cp",
                  classpath,
                  "io.paxcron.server.Paxcron",
                  "server",
                  "--id",
                  String.valueOf(i + 1),
                  "--cluster-id",
                  "bench",
                  "--data-dir",
                  dir.resolve("data").toString(),
                  "--state-machine",
                  "kv",
                  // The per-client write rate limit (docs/security.md, default 50/s per address)
                  // would cap every loopback client together at 50 writes/s; etcd and ZooKeeper
                  // run without one. The limiter and the interceptor still run on every call.
                  "--write-rate-limit",
                  "1000000"));
      command.addAll(peerFlags);
      // Extra server flags for a comparison (PAXCRON_BENCH_SERVER_ARGS, e.g. "--proposal-fanout
      // all"); none in the benchmark's own runs.
      String serverArgs = System.getProperty("paxcron.bench.server.args", "").strip();
      if (!serverArgs.isEmpty()) {
        command.addAll(List.of(serverArgs.split("\\s+")));
      }
      // The collector ops/paxcron gives operators' replicas (the run script decides it).
      String replicaJvm = System.getProperty("paxcron.bench.replica.jvm", "").strip();
      if (!replicaJvm.isEmpty()) {
        command.addAll(1, List.of(replicaJvm.split("\\s+")));
      }
      String jfr = System.getProperty("paxcron.bench.jfr");
      if (jfr != null && !jfr.isBlank()) {
        // Profiling (docs/performance.md): one recording per replica, written when it stops.
        Path recording = Path.of(jfr).toAbsolutePath().resolve("replica-" + (i + 1) + ".jfr");
        // PAXCRON_BENCH_JFR_SETTINGS=default samples less (profile's exception and allocation
        // events cost several times the throughput); profile is the default.
        String settings = System.getProperty("paxcron.bench.jfr.settings", "profile");
        command.add(
            1,
            "-XX:StartFlightRecording:settings="
                + settings
                + ",dumponexit=true,filename="
                + recording);
      }
      cluster.launch(command, dir, log);
    }
    awaitLeader(logs);
    write(0, 0, new byte[256]);
  }

  private void awaitLeader(List<Path> logs) throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    try (LogClient probe = client(Integer.MAX_VALUE)) {
      while (System.nanoTime() < deadline) {
        cluster.checkAlive(logs);
        for (String address : addresses) {
          try {
            StatusReply status = probe.status(address);
            if (status.getHoldsLease()) {
              return;
            }
          } catch (RuntimeException e) {
            // Not up yet.
          }
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
      }
    }
    throw new IllegalStateException("no paxcron leader within " + START_TIMEOUT);
  }

  private LogClient client(int client) {
    return new LogClient(
        1L + client,
        addresses,
        CALL_TIMEOUT,
        WRITE_TIMEOUT,
        channels.get(Math.floorMod(client, channels.size())));
  }

  @Override
  public void write(int client, long seq, byte[] value) throws Exception {
    char[] text = new char[value.length];
    for (int i = 0; i < value.length; i++) {
      text[i] = (char) ('a' + (value[i] & 15));
    }
    clients
        .computeIfAbsent(client, this::client)
        .propose(KeyValueStateMachine.put("client-" + client, new String(text)));
  }

  @Override
  public synchronized void close() {
    try {
      for (Map<String, ManagedChannel> connection : channels) {
        for (ManagedChannel channel : connection.values()) {
          channel.shutdownNow();
        }
        connection.clear();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }
}
