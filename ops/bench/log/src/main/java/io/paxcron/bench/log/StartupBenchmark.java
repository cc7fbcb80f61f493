package io.paxcron.bench.log;

import io.grpc.ManagedChannel;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.StatusReply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Replica start-up time (issue 12): how long a {@code paxcron server} process takes from its
 * process start to serving — answering a status call with the leader it follows — when it restarts
 * into a running 3-replica cluster, as a replica does after a crash or an upgrade.
 *
 * <p>Each mode starts its own cluster: {@code plain} runs {@code java -cp ... Paxcron server} with
 * no tuning; {@code ops} starts each replica the way operators do, through {@code ops/paxcron
 * server} (the JDK lookup, an application class-data-sharing archive per replica that the JVM
 * writes on the first run and maps on later ones, RocksDB's native library unpacked once). The
 * cluster is started, stopped and started again before measuring, so the archives exist; then a
 * follower is stopped (SIGTERM) and restarted {@code --rounds} times. The timer starts just before
 * the process is spawned and stops when the replica's client port answers a status call naming a
 * leader.
 *
 * <p>A program, not a test: {@code ops/bench/startup/run}. Writes a Markdown table on stdout and
 * {@code docs/benchmarks/startup-YYYY-MM-DD.json}.
 */
public final class StartupBenchmark {

  static final int REPLICAS = 3;
  static final Duration SERVE_TIMEOUT = Duration.ofSeconds(60);
  static final String USAGE =
      """
      usage: ops/bench/startup/run [--rounds N] [--modes plain,ops] [--work-dir DIR] [--json-dir DIR]
        --rounds N       restarts measured per mode (default 15, at most 200)
        --modes A,B      plain and/or ops (default plain,ops)
        --work-dir DIR   where the replicas' data go (default ops/bench/startup/target/work)
        --json-dir DIR   where startup-YYYY-MM-DD.json is written (default docs/benchmarks)
      """;

  private StartupBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = 15;
    List<String> modes = List.of("plain", "ops");
    Path workDir = Path.of("ops", "bench", "startup", "target", "work");
    Path jsonDir = Path.of("docs", "benchmarks");
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--help") || flag.equals("-h")) {
        System.err.print(USAGE);
        System.exit(0);
      }
      if (i + 1 >= args.length) {
        fail(flag + ": missing value");
      }
      String value = args[++i];
      switch (flag) {
        case "--rounds" -> {
          try {
            rounds = Integer.parseInt(value);
          } catch (NumberFormatException e) {
            fail("--rounds: '" + value + "' is not a whole number");
          }
          if (rounds < 1 || rounds > 200) {
            fail("--rounds: " + rounds + " outside 1..200");
          }
        }
        case "--modes" -> {
          modes = Arrays.stream(value.split(",", -1)).map(String::strip).toList();
          for (String mode : modes) {
            if (!mode.equals("plain") && !mode.equals("ops")) {
              fail("--modes: unknown mode '" + mode + "' (known: plain, ops)");
            }
          }
        }
        case "--work-dir" -> workDir = Path.of(value);
        case "--json-dir" -> jsonDir = Path.of(value);
        default -> fail("unknown option " + flag);
      }
    }
    String classpath = System.getProperty("paxcron.server.classpath");
    if (classpath == null || classpath.isBlank()) {
      fail("-Dpaxcron.server.classpath is not set: run ops/bench/startup/run");
    }
    Files.createDirectories(workDir);
    Path root = Files.createTempDirectory(workDir.toAbsolutePath(), "paxcron-bench-startup-");
    Map<String, long[]> results = new LinkedHashMap<>();
    Map<String, long[]> firstAnswers = new LinkedHashMap<>();
    try {
      for (String mode : modes) {
        try (Cluster cluster = new Cluster(root.resolve(mode), classpath, mode.equals("ops"))) {
          long[][] measured = cluster.measure(rounds);
          results.put(mode, measured[0]);
          firstAnswers.put(mode, measured[1]);
        }
      }
    } finally {
      LocalCluster.deleteRecursively(root);
    }
    String date = LocalDate.now().toString();
    String command =
        System.getProperty("paxcron.bench.command", "StartupBenchmark " + String.join(" ", args));
    StringBuilder table = new StringBuilder();
    table
        .append("Run ")
        .append(date)
        .append(": `")
        .append(command)
        .append("` (load average at the end ")
        .append(LogBenchmark.loadAverage())
        .append(")\n\n")
        .append(
            "| mode | restarts | to serving: p50 (ms) | p90 (ms) | max (ms) | to first answer: p50 (ms) |\n")
        .append("|---|---:|---:|---:|---:|---:|\n");
    StringBuilder json = new StringBuilder("{\n");
    json.append("  \"date\": ").append(Report.string(date)).append(",\n");
    json.append("  \"command\": ").append(Report.string(command)).append(",\n");
    json.append("  \"cpus\": ").append(Runtime.getRuntime().availableProcessors()).append(",\n");
    json.append("  \"java\": ")
        .append(Report.string(System.getProperty("java.version")))
        .append(",\n");
    json.append("  \"results\": [");
    boolean first = true;
    for (Map.Entry<String, long[]> entry : results.entrySet()) {
      long[] serve = entry.getValue().clone();
      long[] answer = firstAnswers.get(entry.getKey()).clone();
      Arrays.sort(serve);
      Arrays.sort(answer);
      table.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %d | %d | %d | %d |%n",
              entry.getKey(),
              serve.length,
              percentile(serve, 50),
              percentile(serve, 90),
              serve[serve.length - 1],
              percentile(answer, 50)));
      json.append(first ? "\n" : ",\n")
          .append("    {\"mode\": ")
          .append(Report.string(entry.getKey()))
          .append(", \"restarts\": ")
          .append(serve.length)
          .append(", \"serving_p50_ms\": ")
          .append(percentile(serve, 50))
          .append(", \"serving_p90_ms\": ")
          .append(percentile(serve, 90))
          .append(", \"serving_max_ms\": ")
          .append(serve[serve.length - 1])
          .append(", \"first_answer_p50_ms\": ")
          .append(percentile(answer, 50))
          .append(", \"serving_ms\": ")
          .append(Arrays.toString(entry.getValue()))
          .append('}');
      first = false;
    }
    json.append("\n  ]\n}\n");
    System.out.print(table);
    Files.createDirectories(jsonDir);
    Path file = jsonDir.resolve("startup-" + date + ".json");
    Files.writeString(file, json.toString());
    System.err.println("wrote " + file.toAbsolutePath());
  }

  private static long percentile(long[] sorted, double p) {
    int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  private static void fail(String message) {
    System.err.println("error: " + message);
    System.err.print(USAGE);
    System.exit(2);
  }

  /** Three replica processes that this benchmark starts, stops and restarts one at a time. */
  private static final class Cluster implements AutoCloseable {
    private final Path dir;
    private final String classpath;
    private final boolean ops;
    private final Process[] processes = new Process[REPLICAS];
    private final List<String> peerFlags = new ArrayList<>();
    private final List<String> addresses = new ArrayList<>();
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final LogClient probe;
    private final Thread hook;

    Cluster(Path dir, String classpath, boolean ops) throws IOException {
      this.dir = Files.createDirectories(dir);
      this.classpath = classpath;
      this.ops = ops;
      List<Integer> ports = LoopbackPorts.allocate(2 * REPLICAS);
      String host = LoopbackPorts.loopback().getHostAddress();
      for (int i = 0; i < REPLICAS; i++) {
        peerFlags.add("--peer");
        peerFlags.add((i + 1) + "=" + host + ":" + ports.get(2 * i) + ":" + ports.get(2 * i + 1));
        addresses.add(host + ":" + ports.get(2 * i + 1));
      }
      probe =
          new LogClient(
              Long.MAX_VALUE, addresses, Duration.ofMillis(500), Duration.ofSeconds(1), channels);
      hook = new Thread(this::stopAll, "stop-startup-cluster");
      Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Returns {serving millis per restart, first-answer millis per restart}. */
    long[][] measure(int rounds) throws Exception {
      String mode = ops ? "ops" : "plain";
      // The first start creates the class-data archives (ops) and the data directories; the second
      // start is what every later start of an installed replica looks like.
      for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < REPLICAS; i++) {
          launch(i);
        }
        awaitServing(0, System.nanoTime());
        if (pass == 0) {
          stopAll();
        }
      }
      long[] serving = new long[rounds];
      long[] answering = new long[rounds];
      for (int round = 0; round < rounds; round++) {
        int follower = follower();
        stop(follower);
        long start = System.nanoTime();
        launch(follower);
        long[] times = awaitServing(follower, start);
        answering[round] = times[0];
        serving[round] = times[1];
        System.err.printf(
            Locale.ROOT,
            "%s: restart %d of replica %d: first answer %d ms, serving %d ms (load %s)%n",
            mode,
            round + 1,
            follower + 1,
            times[0],
            times[1],
            LogBenchmark.loadAverage());
      }
      return new long[][] {serving, answering};
    }

    private int follower() {
      for (int i = 0; i < REPLICAS; i++) {
        try {
          if (!probe.status(addresses.get(i)).getHoldsLease()) {
            return i;
          }
        } catch (RuntimeException e) {
          return i;
        }
      }
      return REPLICAS - 1;
    }

    private void launch(int index) throws IOException {
      Path replicaDir = Files.createDirectories(dir.resolve("replica-" + (index + 1)));
      List<String> command = new ArrayList<>();
      if (ops) {
        command.add(Path.of("ops", "paxcron").toAbsolutePath().toString());
      } else {
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        if (Runtime.version().feature() >= 24) {
          command.add("--sun-misc-unsafe-memory-access=allow");
        }
        command.add("-cp");
        command.add(classpath);
        command.add("io.paxcron.server.Paxcron");
      }
      command.addAll(
          List.of(
              "server",
              "--id",
              String.valueOf(index + 1),
              "--cluster-id",
              "startup",
              "--data-dir",
              replicaDir.resolve("data").toString()));
      command.addAll(peerFlags);
      ProcessBuilder builder = new ProcessBuilder(command);
      // ops/paxcron takes the JDK this benchmark runs on.
      builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
      processes[index] =
          builder
              .directory(replicaDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(replicaDir.resolve("replica.log").toFile()))
              .start();
    }

    /** Waits until replica {@code index} answers naming a leader; {first answer, serving} in ms. */
    private long[] awaitServing(int index, long startNanos) throws IOException {
      long deadline = startNanos + SERVE_TIMEOUT.toNanos();
      long firstAnswer = -1;
      while (System.nanoTime() < deadline) {
        if (!processes[index].isAlive()) {
          throw new IOException(
              "replica "
                  + (index + 1)
                  + " exited with status "
                  + processes[index].exitValue()
                  + ":\n"
                  + LocalCluster.tail(dir.resolve("replica-" + (index + 1) + "/replica.log"), 20));
        }
        // A channel to a port that refused it waits out gRPC's reconnect backoff (1 s, growing)
        // and fails every call meanwhile: without the reset, this loop would time that backoff,
        // not the replica's start-up.
        ManagedChannel channel = channels.get(addresses.get(index));
        if (channel != null) {
          channel.resetConnectBackoff();
        }
        try {
          StatusReply status = probe.status(addresses.get(index));
          long now = System.nanoTime();
          if (firstAnswer < 0) {
            firstAnswer = TimeUnit.NANOSECONDS.toMillis(now - startNanos);
          }
          if (status.getLeaderId() > 0) {
            return new long[] {firstAnswer, TimeUnit.NANOSECONDS.toMillis(now - startNanos)};
          }
        } catch (RuntimeException e) {
          // Not listening yet.
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
      }
      throw new IOException("replica " + (index + 1) + " did not serve within " + SERVE_TIMEOUT);
    }

    private void stop(int index) throws InterruptedException {
      Process process = processes[index];
      if (process == null) {
        return;
      }
      process.destroy();
      if (!process.waitFor(LocalCluster.STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
      }
      processes[index] = null;
    }

    private void stopAll() {
      try {
        for (int i = 0; i < REPLICAS; i++) {
          stop(i);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void close() {
      for (ManagedChannel channel : channels.values()) {
        channel.shutdownNow();
      }
      stopAll();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shutdownInProgress) {
        // The hook runs stopAll itself.
      }
    }
  }
}
