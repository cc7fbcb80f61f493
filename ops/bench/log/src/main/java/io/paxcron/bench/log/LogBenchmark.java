package io.paxcron.bench.log;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The replicated-log benchmark of issue 3: the same closed-loop workload of 256-byte durable writes
 * against each system's 3-replica (and, on request, 5-replica) cluster on loopback, one system
 * after the other, each at every client count; then the Markdown table on stdout and the JSON file.
 *
 * <p>Exit status: 0 when every data point was measured, 1 when a system failed (the others are
 * still reported), 2 for a bad command line.
 */
public final class LogBenchmark {

  static final int VALUE_BYTES = 256;
  static final int MAX_CONNECTIONS = 128;

  /** The target being measured, for the shutdown hook; null between systems. */
  private static volatile LogTarget current;

  private LogBenchmark() {}

  public static void main(String[] args) throws Exception {
    BenchmarkOptions options;
    try {
      options = BenchmarkOptions.parse(args);
    } catch (BenchmarkOptions.UsageError e) {
      if (!e.getMessage().isEmpty()) {
        System.err.println("error: " + e.getMessage());
      }
      System.err.print(BenchmarkOptions.USAGE);
      System.exit(e.getMessage().isEmpty() ? 0 : 2);
      return;
    }
    String command =
        System.getProperty("paxcron.bench.command", "LogBenchmark " + String.join(" ", args));
    System.exit(run(options, command));
  }

  static LogTarget newTarget(String system, int replicas, int connections) {
    return switch (system) {
      case "etcd" -> new EtcdTarget(replicas, connections);
      case "zookeeper" -> new ZooKeeperTarget(replicas, connections);
      case "paxcron" -> new PaxcronTarget(replicas, connections);
      default -> throw new IllegalArgumentException("no target for system " + system);
    };
  }

  private static int run(BenchmarkOptions options, String command) throws Exception {
    Files.createDirectories(options.workDir());
    // Processes are started in their own directories, so every path handed to them is absolute;
    // the report names the work directory as it was given (relative to the repository by run).
    Path workRoot =
        Files.createTempDirectory(options.workDir().toAbsolutePath(), "paxcron-bench-log-");
    // On SIGTERM or Ctrl-C: stop the running cluster (its own hook may be doing the same; close
    // is idempotent and waits for it), then remove the run's directory.
    Thread cleanup =
        new Thread(
            () -> {
              try {
                LogTarget target = current;
                if (target != null) {
                  target.close();
                }
              } finally {
                try {
                  LocalCluster.deleteRecursively(workRoot);
                } catch (IOException e) {
                  System.err.println("warning: could not delete " + workRoot + ": " + e);
                }
              }
            },
            "benchmark-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      Map<String, String> machine = machine(workRoot);
      System.err.println("measuring the physical floor in " + workRoot + " ...");
      PhysicalFloor floor = PhysicalFloor.measure(workRoot);
      System.err.printf(
          Locale.ROOT,
          "floor: fsync %.3f ms, loopback round trip %.3f ms%n",
          floor.fsyncMedianNanos() / 1e6,
          floor.roundTripMedianNanos() / 1e6);
      CarrierCost carrier = CarrierCost.measure();
      System.err.printf(
          Locale.ROOT,
          "carrier: gRPC stream round trip %.3f ms, %.1f µs of CPU; plain socket %.3f ms, %.1f µs%n",
          carrier.grpcMedianNanos() / 1e6,
          carrier.grpcCpuNanos() / 1e3,
          carrier.socketMedianNanos() / 1e6,
          carrier.socketCpuNanos() / 1e3);

      Map<String, String> versions = new LinkedHashMap<>();
      List<RunResult> results = new ArrayList<>();
      List<String> failures = new ArrayList<>();
      Duration warmup = Duration.ofSeconds(options.warmupSeconds());
      Duration measured = Duration.ofSeconds(options.measureSeconds());
      for (int replicas : options.replicaCounts()) {
        for (String system : options.systems()) {
          Path dir = Files.createDirectories(workRoot.resolve(system + "-" + replicas));
          System.err.println(
              system + ": starting a " + replicas + "-replica cluster in " + dir + " ...");
          try (LogTarget target = newTarget(system, replicas, options.connections())) {
            current = target;
            target.start(dir);
            versions.put(system, target.version());
            System.err.println(system + ": ready (" + target.version() + ")");
            prime(target, system, replicas, options);
            for (int clients : options.clientCounts()) {
              System.err.printf(
                  "%s: %d replicas, %d clients, %d s warm-up + %d s measured (load %s) ...%n",
                  system,
                  replicas,
                  clients,
                  options.warmupSeconds(),
                  options.measureSeconds(),
                  loadAverage());
              List<SlowWrites.Recorder> recorders = new ArrayList<>();
              long slowOverNanos = options.slowOverMicros() * 1_000L;
              RunResult result =
                  ClosedLoop.run(
                      target,
                      clients,
                      warmup,
                      measured,
                      options.slowWritesDir() == null
                          ? null
                          : () -> {
                            SlowWrites.Recorder recorder = new SlowWrites.Recorder(slowOverNanos);
                            recorders.add(recorder);
                            return recorder;
                          });
              results.add(result);
              System.err.printf(
                  Locale.ROOT,
                  "%s: %d replicas, %d clients: %.0f ops/s, p50 %.3f ms, p99 %.3f ms,"
                      + " p99.9 %.3f ms (load %s, host steal %.1f %%)%n",
                  system,
                  replicas,
                  clients,
                  result.throughputOps(),
                  result.p50Millis(),
                  result.p99Millis(),
                  result.p999Millis(),
                  loadAverage(),
                  result.hostStealPercent());
              if (options.slowWritesDir() != null) {
                SlowWrites slow = SlowWrites.of(slowOverNanos, recorders);
                Files.createDirectories(options.slowWritesDir());
                slow.writeTo(
                    options
                        .slowWritesDir()
                        .resolve(system + "-" + replicas + "-" + clients + ".txt"));
                System.err.printf(
                    "%s: %d replicas, %d clients: slow writes: %s%n",
                    system,
                    replicas,
                    clients,
                    slow.summary(Math.round(result.throughputOps() * options.measureSeconds())));
              }
            }
          } catch (Exception e) {
            String failure = system + " (" + replicas + " replicas): " + e;
            failures.add(failure);
            System.err.println("FAILED " + failure);
            e.printStackTrace(System.err);
          } finally {
            current = null;
          }
        }
      }

      String date = LocalDate.now().toString();
      Report report =
          new Report(date, command, machine, options, versions, floor, carrier, results, failures);
      System.out.print(report.markdown());
      Files.createDirectories(options.jsonDir());
      Path json = options.jsonDir().resolve("log-" + date + ".json");
      Files.writeString(json, report.json());
      System.err.println("wrote " + json.toAbsolutePath());
      return failures.isEmpty() ? 0 : 1;
    } finally {
      LocalCluster.deleteRecursively(workRoot);
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException shutdownInProgress) {
        // The hook is running; it deletes the same directory.
      }
    }
  }

  private static Map<String, String> machine(Path workRoot) throws IOException {
    Map<String, String> machine = new LinkedHashMap<>();
    machine.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      machine.put(
          "memory_gib",
          String.format(Locale.ROOT, "%.1f", os.getTotalMemorySize() / (double) (1L << 30)));
    }
    machine.put("cpu_model", cpuModel());
    machine.put(
        "os",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    machine.put(
        "java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    FileStore store = Files.getFileStore(workRoot);
    Path here = Path.of("").toAbsolutePath();
    Path shown =
        workRoot.getParent().startsWith(here)
            ? here.relativize(workRoot.getParent())
            : workRoot.getParent();
    machine.put("data_disk", store.name() + " (" + store.type() + ") at " + shown);
    return machine;
  }

  /** The 1-minute load average, so a reader can tell a quiet run from a loaded one. */
  static String loadAverage() {
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return load < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", load);
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
    return "unknown";
  }

  /**
   * Unmeasured load at the largest client count right after a cluster starts, so that every
   * system's first point is measured compiled, not interpreted (the JVMs of Paxcron and ZooKeeper
   * compile their hot paths only after thousands of commands; a 1-client point alone gives them too
   * few in its warm-up). Every system gets the same.
   */
  private static void prime(LogTarget target, String system, int replicas, BenchmarkOptions options)
      throws Exception {
    if (options.primeSeconds() == 0) {
      return;
    }
    int clients = options.clientCounts().stream().mapToInt(Integer::intValue).max().orElse(1);
    System.err.printf(
        "%s: %d replicas, priming with %d clients for %d s (not measured) ...%n",
        system, replicas, clients, options.primeSeconds());
    ClosedLoop.run(target, clients, Duration.ZERO, Duration.ofSeconds(options.primeSeconds()));
  }
}
