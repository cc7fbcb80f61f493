package io.paxcron.bench.log;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A follower that is alive but slow (a noisy neighbour, a failing disk, a throttled VM): each
 * system's cluster is measured healthy, then with each of its followers in turn starved to {@code
 * --cpu-percent} of one core ({@link CpuThrottle}) — the first {@code --onset} seconds and the rest
 * of the window apart, so that how fast a system routes around the slow member shows. A system that
 * waits for a particular follower slows to that follower's pace; one that waits for the fastest
 * quorum does not. Writes the table to stdout and {@code slow-follower-DATE.json}.
 *
 * <p>Exit status: 0 when every point was measured, 1 when a system failed, 2 for a bad command
 * line.
 */
public final class SlowFollowerBenchmark {

  static final String USAGE =
      """
      usage: ops/bench/slow-follower/run [options]
        --systems LIST      systems, comma-separated (default paxcron,etcd,zookeeper)
        --replicas N        3 or 5 (default 3)
        --clients LIST      client counts, comma-separated (default 1,16)
        --cpu-percent P     a starved follower's share of one core, 1..100 (default 10)
        --prime S           unmeasured load after start, seconds (default 60)
        --warmup S          unmeasured load before the healthy window, seconds (default 5)
        --onset S           the first window after the follower is starved, seconds (default 2)
        --seconds S         the healthy window and the starved one after the onset (default 20)
        --json-dir DIR      where slow-follower-DATE.json goes (default docs/benchmarks)
        --work-dir DIR      the clusters' data (default ops/bench/log/target/work)
        --keep-logs DIR     copy each system's server logs to DIR/SYSTEM/ before it stops
      """;

  record Options(
      List<String> systems,
      int replicas,
      List<Integer> clients,
      int cpuPercent,
      int prime,
      int warmup,
      int onset,
      int seconds,
      Path jsonDir,
      Path workDir,
      Path keepLogs) {

    static Options parse(String[] args) throws BenchmarkOptions.UsageError {
      List<String> systems = List.of("paxcron", "etcd", "zookeeper");
      int replicas = 3;
      List<Integer> clients = List.of(1, 16);
      int cpuPercent = 10;
      int prime = 60;
      int warmup = 5;
      int onset = 2;
      int seconds = 20;
      Path jsonDir = Path.of("docs/benchmarks");
      Path workDir = Path.of("ops/bench/log/target/work");
      Path keepLogs = null;
      for (int i = 0; i < args.length; i++) {
        String flag = args[i];
        if (flag.equals("--help") || flag.equals("-h")) {
          throw new BenchmarkOptions.UsageError("");
        }
        if (i + 1 >= args.length) {
          throw new BenchmarkOptions.UsageError(flag + " needs a value");
        }
        String value = args[++i];
        switch (flag) {
          case "--systems" -> {
            systems = Arrays.asList(value.split(","));
            for (String system : systems) {
              if (!List.of("paxcron", "etcd", "zookeeper").contains(system)) {
                throw new BenchmarkOptions.UsageError(
                    "--systems: unknown system '" + system + "' (paxcron, etcd, zookeeper)");
              }
            }
          }
          case "--replicas" -> {
            replicas = number(flag, value, 3, 5);
            if (replicas != 3 && replicas != 5) {
              throw new BenchmarkOptions.UsageError("--replicas must be 3 or 5, got " + value);
            }
          }
          case "--clients" -> {
            List<Integer> counts = new ArrayList<>();
            for (String count : value.split(",")) {
              counts.add(number(flag, count, 1, LogBenchmark.MAX_CONNECTIONS * 8));
            }
            clients = List.copyOf(counts);
          }
          case "--cpu-percent" -> cpuPercent = number(flag, value, 1, 100);
          case "--prime" -> prime = number(flag, value, 0, 3600);
          case "--warmup" -> warmup = number(flag, value, 0, 3600);
          case "--onset" -> onset = number(flag, value, 1, 3600);
          case "--seconds" -> seconds = number(flag, value, 1, 3600);
          case "--json-dir" -> jsonDir = Path.of(value);
          case "--work-dir" -> workDir = Path.of(value);
          case "--keep-logs" -> keepLogs = Path.of(value);
          default -> throw new BenchmarkOptions.UsageError("unknown option " + flag);
        }
      }
      return new Options(
          systems,
          replicas,
          clients,
          cpuPercent,
          prime,
          warmup,
          onset,
          seconds,
          jsonDir,
          workDir,
          keepLogs);
    }

    private static int number(String flag, String value, int min, int max)
        throws BenchmarkOptions.UsageError {
      int parsed;
      try {
        parsed = Integer.parseInt(value.strip());
      } catch (NumberFormatException e) {
        throw new BenchmarkOptions.UsageError(flag + ": '" + value + "' is not a whole number");
      }
      if (parsed < min || parsed > max) {
        throw new BenchmarkOptions.UsageError(
            flag + ": " + parsed + " is outside " + min + ".." + max);
      }
      return parsed;
    }
  }

  /** One measured window: {@code phase} is "healthy", or which follower was starved and when. */
  record Point(String phase, RunResult result) {}

  /** What a SIGTERM or Ctrl-C must undo: the running cluster and a follower's throttle. */
  private static volatile LogTarget current;

  private static volatile CpuThrottle currentThrottle;

  private SlowFollowerBenchmark() {}

  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (BenchmarkOptions.UsageError e) {
      if (!e.getMessage().isEmpty()) {
        System.err.println("error: " + e.getMessage());
      }
      System.err.print(USAGE);
      System.exit(e.getMessage().isEmpty() ? 0 : 2);
      return;
    }
    String command =
        System.getProperty(
            "paxcron.bench.command", "SlowFollowerBenchmark " + String.join(" ", args));
    System.exit(run(options, command));
  }

  private static int run(Options options, String command) throws Exception {
    Files.createDirectories(options.workDir());
    Path workRoot =
        Files.createTempDirectory(options.workDir().toAbsolutePath(), "paxcron-bench-slow-");
    Thread cleanup =
        new Thread(
            () -> {
              try {
                CpuThrottle throttle = currentThrottle;
                if (throttle != null) {
                  throttle.close();
                }
              } catch (Exception e) {
                System.err.println("warning: could not undo the CPU throttle: " + e);
              } finally {
                LogTarget target = current;
                if (target != null) {
                  target.close();
                }
                try {
                  LocalCluster.deleteRecursively(workRoot);
                } catch (java.io.IOException e) {
                  System.err.println("warning: could not delete " + workRoot + ": " + e);
                }
              }
            },
            "benchmark-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    List<Point> points = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    Duration measured = Duration.ofSeconds(options.seconds());
    Duration onset = Duration.ofSeconds(options.onset());
    try {
      for (String system : options.systems()) {
        Path dir = Files.createDirectories(workRoot.resolve(system));
        try (LogTarget target =
            LogBenchmark.newTarget(system, options.replicas(), LogBenchmark.MAX_CONNECTIONS)) {
          current = target;
          System.err.println(system + ": starting " + options.replicas() + " replicas ...");
          target.start(dir);
          int most = options.clients().stream().mapToInt(Integer::intValue).max().orElse(1);
          System.err.printf(
              "%s: priming with %d clients for %d s%n", system, most, options.prime());
          ClosedLoop.run(target, most, Duration.ZERO, Duration.ofSeconds(options.prime()));
          for (int clients : options.clients()) {
            RunResult healthy =
                ClosedLoop.run(target, clients, Duration.ofSeconds(options.warmup()), measured);
            points.add(report(new Point("healthy", healthy)));
            List<ProcessHandle> followers = target.followerProcesses();
            List<ProcessHandle> servers = target.serverProcesses();
            for (ProcessHandle follower : followers) {
              String name = "replica " + (servers.indexOf(follower) + 1);
              CpuThrottle throttle = CpuThrottle.of(List.of(follower), options.cpuPercent());
              currentThrottle = throttle;
              System.err.printf(
                  "%s: %s (pid %d) starved to %d %% of a core at %s%n",
                  system, name, follower.pid(), options.cpuPercent(), java.time.Instant.now());
              try {
                points.add(
                    report(
                        new Point(
                            name + " starved, first " + options.onset() + " s",
                            ClosedLoop.run(target, clients, Duration.ZERO, onset))));
                points.add(
                    report(
                        new Point(
                            name + " starved, then",
                            ClosedLoop.run(target, clients, Duration.ZERO, measured))));
              } finally {
                throttle.close();
                currentThrottle = null;
              }
              // Unmeasured: the starved member catches up before the next one is starved.
              ClosedLoop.run(target, clients, Duration.ZERO, Duration.ofSeconds(options.warmup()));
            }
          }
          keepLogs(options, system, dir);
        } catch (Exception e) {
          failures.add(system + ": " + e);
          System.err.println("FAILED " + system + ": " + e);
          e.printStackTrace(System.err);
        } finally {
          current = null;
        }
      }
    } finally {
      LocalCluster.deleteRecursively(workRoot);
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException shutdownInProgress) {
        // The hook is running; it undoes the same.
      }
    }
    System.out.print(markdown(options, points));
    Files.createDirectories(options.jsonDir());
    Path json = options.jsonDir().resolve("slow-follower-" + LocalDate.now() + ".json");
    Files.writeString(json, json(options, command, points, failures));
    System.err.println("wrote " + json.toAbsolutePath());
    return failures.isEmpty() ? 0 : 1;
  }

  /** Copies the server logs the target wrote in {@code dir} (its {@code *.log} files). */
  private static void keepLogs(Options options, String system, Path dir) throws Exception {
    if (options.keepLogs() == null) {
      return;
    }
    Path into = Files.createDirectories(options.keepLogs().resolve(system));
    try (var logs = Files.newDirectoryStream(dir, "*.log")) {
      for (Path log : logs) {
        Files.copy(
            log,
            into.resolve(log.getFileName()),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    System.err.println(system + ": server logs copied to " + into);
  }

  private static Point report(Point point) {
    RunResult r = point.result();
    System.err.printf(
        Locale.ROOT,
        "%s: %d clients, %s: %.0f ops/s, p50 %.3f ms, p99 %.3f ms, max %.1f ms (load %s)%n",
        r.system(),
        r.clients(),
        point.phase(),
        r.throughputOps(),
        r.p50Millis(),
        r.p99Millis(),
        r.maxMillis(),
        LogBenchmark.loadAverage());
    return point;
  }

  static String markdown(Options options, List<Point> points) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "%d replicas; a starved follower gets %d %% of one core%n%n",
            options.replicas(),
            options.cpuPercent()));
    out.append("| system | clients | window | ops/s | p50 ms | p99 ms | × healthy ops/s |\n");
    out.append("|---|---:|---|---:|---:|---:|---:|\n");
    RunResult healthy = null;
    for (Point point : points) {
      RunResult r = point.result();
      if (point.phase().equals("healthy")) {
        healthy = r;
      }
      out.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %s | %,.0f | %.3f | %.2f | %.2f |%n",
              r.system(),
              r.clients(),
              point.phase(),
              r.throughputOps(),
              r.p50Millis(),
              r.p99Millis(),
              healthy == null ? Double.NaN : r.throughputOps() / healthy.throughputOps()));
    }
    return out.toString();
  }

  private static String json(
      Options options, String command, List<Point> points, List<String> failures) {
    StringBuilder out = new StringBuilder("{\n");
    out.append("  \"date\": \"").append(LocalDate.now()).append("\",\n");
    out.append("  \"command\": \"").append(escape(command)).append("\",\n");
    out.append("  \"cpus\": ").append(Runtime.getRuntime().availableProcessors()).append(",\n");
    out.append("  \"replicas\": ").append(options.replicas()).append(",\n");
    out.append("  \"starved_cpu_percent\": ").append(options.cpuPercent()).append(",\n");
    out.append("  \"onset_seconds\": ").append(options.onset()).append(",\n");
    out.append("  \"window_seconds\": ").append(options.seconds()).append(",\n");
    out.append("  \"results\": [\n");
    for (int i = 0; i < points.size(); i++) {
      RunResult r = points.get(i).result();
      out.append(
          String.format(
              Locale.ROOT,
              "    {\"system\": \"%s\", \"clients\": %d, \"window\": \"%s\", \"throughput_ops\":"
                  + " %.1f, \"p50_ms\": %.4f, \"p99_ms\": %.4f, \"p999_ms\": %.4f,"
                  + " \"max_ms\": %.4f}%s%n",
              r.system(),
              r.clients(),
              escape(points.get(i).phase()),
              r.throughputOps(),
              r.p50Millis(),
              r.p99Millis(),
              r.p999Millis(),
              r.maxMillis(),
              i + 1 < points.size() ? "," : ""));
    }
    out.append("  ],\n  \"failures\": [");
    for (int i = 0; i < failures.size(); i++) {
      out.append(i == 0 ? "" : ", ").append('"').append(escape(failures.get(i))).append('"');
    }
    return out.append("]\n}\n").toString();
  }

  private static String escape(String text) {
    return text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
