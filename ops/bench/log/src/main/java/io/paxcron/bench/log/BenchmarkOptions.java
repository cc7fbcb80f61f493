package io.paxcron.bench.log;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The command line of {@link LogBenchmark}, validated. */
record BenchmarkOptions(
    int measureSeconds,
    int warmupSeconds,
    int primeSeconds,
    List<Integer> clientCounts,
    List<Integer> replicaCounts,
    List<String> systems,
    int connections,
    Path workDir,
    Path jsonDir,
    Path slowWritesDir,
    int slowOverMicros) {

  static final int MAX_MEASURE_SECONDS = 3_600;
  static final int MAX_WARMUP_SECONDS = 600;
  static final int MAX_PRIME_SECONDS = 600;
  static final int MAX_CLIENTS = 1_024;
  static final int MAX_CLIENT_COUNTS = 16;
  static final int MAX_SLOW_OVER_MICROS = 1_000_000;

  /** Systems that have a {@link LogTarget}. */
  static final List<String> KNOWN_SYSTEMS = List.of("paxcron", "etcd", "zookeeper");

  static final String USAGE =
      """
      usage: ops/bench/log/run [options]
        --seconds N          measured seconds per data point (default 30, at most %d)
        --warmup N           warm-up seconds before each measurement (default 15, at most %d)
        --prime N            seconds of unmeasured load at the largest client count after each
                             cluster starts, before its first point (default 60, at most %d):
                             the JVM systems compile their hot paths under load; without it the
                             first, 1-client point measures the interpreter
        --clients A,B,...    closed-loop client counts (default 1,16,128,512, each at most %d)
        --replicas A,B       cluster sizes, 3 and/or 5 (default 3,5); every system and client
                             count is measured at each size
        --systems X,Y,...    paxcron, etcd, zookeeper (default all three)
        --connections N      connections (gRPC channels, ZooKeeper sessions) per system,
                             shared round-robin by the clients (default 8, at most %d)
        --work-dir DIR       where the clusters' data directories go (default: java.io.tmpdir);
                             it must be on the disk you mean to measure
        --json-dir DIR       where log-YYYY-MM-DD.json is written (default docs/benchmarks)
        --slow-writes DIR    per point, the measured writes slower than --slow-over-us: a line on
                             stderr (how many, in how many episodes, folded over the replicas'
                             50 ms heartbeat and 5 ms tick) and SYSTEM-R-C.txt in DIR (start and
                             duration of each, ns); off by default
        --slow-over-us N     the threshold of --slow-writes (default 700, at most %d)
      """
          .formatted(
              MAX_MEASURE_SECONDS,
              MAX_WARMUP_SECONDS,
              MAX_PRIME_SECONDS,
              MAX_CLIENTS,
              LogBenchmark.MAX_CONNECTIONS,
              MAX_SLOW_OVER_MICROS);

  /** A bad command line: the message names the option and the reason. */
  static final class UsageError extends Exception {
    private static final long serialVersionUID = 1L;

    UsageError(String message) {
      super(message);
    }
  }

  static BenchmarkOptions parse(String... args) throws UsageError {
    int seconds = 30;
    int warmup = 15;
    int prime = 60;
    List<Integer> clients = List.of(1, 16, 128, 512);
    List<Integer> replicas = List.of(3, 5);
    List<String> systems = KNOWN_SYSTEMS;
    int connections = 8;
    Path workDir = Path.of(System.getProperty("java.io.tmpdir"));
    Path jsonDir = Path.of("docs", "benchmarks");
    Path slowWritesDir = null;
    int slowOverMicros = 700;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--help") || flag.equals("-h")) {
        throw new UsageError("");
      }
      if (i + 1 >= args.length) {
        throw new UsageError(
            flag.startsWith("--") ? flag + ": missing value" : "unexpected argument " + flag);
      }
      String value = args[++i];
      switch (flag) {
        case "--seconds" -> seconds = integer(flag, value, 1, MAX_MEASURE_SECONDS);
        case "--warmup" -> warmup = integer(flag, value, 0, MAX_WARMUP_SECONDS);
        case "--prime" -> prime = integer(flag, value, 0, MAX_PRIME_SECONDS);
        case "--clients" -> clients = clientCounts(value);
        case "--replicas" -> replicas = replicaCounts(value);
        case "--systems" -> systems = systems(value);
        case "--connections" -> connections = integer(flag, value, 1, LogBenchmark.MAX_CONNECTIONS);
        case "--work-dir" -> workDir = Path.of(value);
        case "--json-dir" -> jsonDir = Path.of(value);
        case "--slow-writes" -> slowWritesDir = Path.of(value);
        case "--slow-over-us" -> slowOverMicros = integer(flag, value, 1, MAX_SLOW_OVER_MICROS);
        default -> throw new UsageError("unknown option " + flag);
      }
    }
    return new BenchmarkOptions(
        seconds,
        warmup,
        prime,
        clients,
        replicas,
        systems,
        connections,
        workDir,
        jsonDir,
        slowWritesDir,
        slowOverMicros);
  }

  private static int integer(String flag, String value, int min, int max) throws UsageError {
    int parsed;
    try {
      parsed = Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new UsageError(flag + ": '" + value + "' is not a whole number");
    }
    if (parsed < min || parsed > max) {
      throw new UsageError(flag + ": " + parsed + " outside " + min + ".." + max);
    }
    return parsed;
  }

  private static List<Integer> clientCounts(String value) throws UsageError {
    Set<Integer> counts = new LinkedHashSet<>();
    for (String part : value.split(",", -1)) {
      if (!counts.add(integer("--clients", part, 1, MAX_CLIENTS))) {
        throw new UsageError("--clients: " + part.strip() + " given twice");
      }
    }
    if (counts.size() > MAX_CLIENT_COUNTS) {
      throw new UsageError(
          "--clients: more than MAX_CLIENT_COUNTS=" + MAX_CLIENT_COUNTS + " counts");
    }
    return List.copyOf(counts);
  }

  private static List<Integer> replicaCounts(String value) throws UsageError {
    Set<Integer> counts = new LinkedHashSet<>();
    for (String part : value.split(",", -1)) {
      int count = integer("--replicas", part, 3, 5);
      if (count != 3 && count != 5) {
        throw new UsageError("--replicas: " + count + " is neither 3 nor 5");
      }
      if (!counts.add(count)) {
        throw new UsageError("--replicas: " + count + " given twice");
      }
    }
    return List.copyOf(counts);
  }

  private static List<String> systems(String value) throws UsageError {
    List<String> systems = new ArrayList<>();
    for (String part : value.split(",", -1)) {
      String system = part.strip();
      if (!KNOWN_SYSTEMS.contains(system)) {
        throw new UsageError(
            "--systems: unknown system '" + system + "' (known: " + KNOWN_SYSTEMS + ")");
      }
      if (systems.contains(system)) {
        throw new UsageError("--systems: " + system + " given twice");
      }
      systems.add(system);
    }
    return List.copyOf(systems);
  }
}
