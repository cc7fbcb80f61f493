package io.paxcron.bench.launch;

import io.paxcron.api.JobClient;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.server.LocalCluster;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The launch benchmark (a program, not a test): real replica and agent processes on loopback, fsync
 * on, jobs running {@code /bin/true}. It measures, in one run:
 *
 * <ol>
 *   <li><b>Throughput of one agent</b>: {@code --burst-jobs} jobs due every second on one agent;
 *       launches per second recorded over the measuring window.
 *   <li><b>Launch lateness</b>: {@code --jobs} jobs spread over the seconds of a minute, on {@code
 *       --agents} agents. Each run's command is {@code bash -c 'echo "$PAXCRON_RUN_ID
 *       $EPOCHREALTIME" >> starts'}. Lateness = agent start − instant: the time the run's wrapper
 *       (its process group leader, spawned ahead and waiting for the agent's {@code go}) woke and
 *       wrote its pid file, by the file's modification time. Beside it: the time the command itself
 *       read its clock − instant (the fork of the command and bash's own start-up included), and
 *       the ledger's start (the leader's clock when the agent's start report arrives) − instant.
 *   <li><b>Failover gap</b>: the leader is SIGKILLed {@code --kills} times while 20 every-second
 *       jobs run; the gap is the last process start before the kill to the first start of an
 *       instant the old leader had not launched (a launch the new leader chose), by the processes'
 *       own clocks.
 * </ol>
 *
 * Prints a table and writes {@code docs/benchmarks/launch-YYYY-MM-DD.json}.
 */
public final class LaunchBenchmark {

  private record Options(
      int jobs,
      int agents,
      int burstJobs,
      int seconds,
      int kills,
      int runNiceness,
      Path work,
      Path report,
      String command) {}

  private LaunchBenchmark() {}

  public static void main(String[] args) throws Exception {
    Options options = parse(args);
    PrintStream out = System.out;
    String loadAtStart = loadAverage();
    Files.createDirectories(options.work());
    LocalCluster.deleteTree(options.work());
    double launchesPerSecond;
    double agentCores = 0;
    double agentCpuMsPerLaunch = 0;
    List<Long> lateness = new ArrayList<>(); // microseconds, agent start
    List<Long> processLateness = new ArrayList<>(); // microseconds, the process's own clock
    List<Long> ledgerLateness = new ArrayList<>();
    List<Long> gaps = new ArrayList<>();
    try (LocalCluster cluster =
            new LocalCluster(options.work().resolve("throughput"), 3, List.of());
        LogClient probe = cluster.client(1)) {
      cluster.startAll();
      cluster.awaitLeader(probe, Duration.ofSeconds(60));
      cluster.startAgent("bench-solo", agentFlags(options, "--capacity", "1024"));
      try (JobClient client = JobClient.connect(cluster.clientAddresses())) {
        awaitAgents(cluster, 1);
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < options.burstJobs(); i++) {
          jobs.add(job(String.format(Locale.ROOT, "burst-%04d", i), "* * * * * *"));
        }
        putAll(client, jobs);
        Instant from = Instant.now().plusSeconds(5);
        Instant to = from.plusSeconds(options.seconds());
        long agentPid = cluster.agentPid("bench-solo");
        sleepUntil(from);
        long ticksAtFrom = LocalCluster.treeCpuTicks(agentPid);
        sleepUntil(to);
        agentCores =
            (LocalCluster.treeCpuTicks(agentPid) - ticksAtFrom) / 100.0 / options.seconds();
        sleepUntil(to.plusSeconds(5));
        long started = 0;
        java.util.Map<String, Integer> outcomes = new java.util.TreeMap<>();
        for (Job job : jobs) {
          for (RunRecord record : allRecords(client, job.getName())) {
            Instant at = instant(record.getInstant());
            if (at.isBefore(from) || !at.isBefore(to)) {
              continue;
            }
            String outcome = record.getOutcomeText();
            if (record.getOutcome() == Outcome.OUTCOME_LOST) {
              // What the agent said of it once heard from again, and why it gave it up.
              outcome += "(" + record.getAgentTestimony() + ": " + record.getReason() + ")";
            }
            outcomes.merge(outcome, (int) Math.max(1, record.getInstantCount()), Integer::sum);
            if (record.getOutcome() == Outcome.OUTCOME_SUCCEEDED) {
              started++;
            }
          }
        }
        launchesPerSecond = started / (double) options.seconds();
        agentCpuMsPerLaunch = started == 0 ? 0 : agentCores * 1000 / launchesPerSecond;
        out.printf(
            Locale.ROOT,
            "one agent: %d jobs due every second, %.1f launches/s succeeded over %d s"
                + " (outcomes of the %d instants due: %s); the agent with the processes it started"
                + " used %.2f cores, %.2f ms of CPU per succeeded launch%n",
            options.burstJobs(),
            launchesPerSecond,
            options.seconds(),
            (long) options.burstJobs() * options.seconds(),
            outcomes,
            agentCores,
            agentCpuMsPerLaunch);
      }
    }

    try (LocalCluster cluster = new LocalCluster(options.work().resolve("lateness"), 3, List.of());
        LogClient probe = cluster.client(1)) {
      cluster.startAll();
      cluster.awaitLeader(probe, Duration.ofSeconds(60));
      for (int a = 0; a < options.agents(); a++) {
        // Keep every run's directory: the agent-start times are read from them afterwards.
        cluster.startAgent(
            "bench-" + a, agentFlags(options, "--capacity", "256", "--output-retention", "100000"));
      }
      try (JobClient client = JobClient.connect(cluster.clientAddresses())) {
        awaitAgents(cluster, options.agents());
        Path starts = options.work().resolve("starts.log").toAbsolutePath();
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < options.jobs(); i++) {
          jobs.add(
              stamping(
                  String.format(Locale.ROOT, "spread-%04d", i), (i % 60) + " * * * * *", starts));
        }
        putAll(client, jobs);
        Instant healthyFrom = Instant.now().plusSeconds(5);
        Instant healthyTo = healthyFrom.plusSeconds(options.seconds());
        sleepUntil(healthyTo.plusSeconds(5));
        for (Start start : readStarts(starts)) {
          if (!start.instant().isBefore(healthyFrom) && start.instant().isBefore(healthyTo)) {
            processLateness.add(Duration.between(start.instant(), start.at()).toNanos() / 1_000);
          }
        }
        for (int a = 0; a < options.agents(); a++) {
          for (Start start : agentStarts(cluster.agentDataDir("bench-" + a).resolve("runs"))) {
            if (!start.instant().isBefore(healthyFrom) && start.instant().isBefore(healthyTo)) {
              lateness.add(Duration.between(start.instant(), start.at()).toNanos() / 1_000);
            }
          }
        }
        List<RunRecord> records = new ArrayList<>();
        for (Job job : jobs) {
          records.addAll(ledger(client, job.getName()));
        }
        for (RunRecord record : records) {
          Instant at = instant(record.getInstant());
          if (record.hasStartedAt() && !at.isBefore(healthyFrom) && at.isBefore(healthyTo)) {
            ledgerLateness.add(Duration.between(at, instant(record.getStartedAt())).toMillis());
          }
        }
        out.printf(
            Locale.ROOT,
            "%d jobs spread over a minute on %d agents: %d launches measured%n",
            options.jobs(),
            options.agents(),
            lateness.size());

        // Failover: the every-second burst keeps starts coming; kill the leader and look at them.
        Path tickStarts = options.work().resolve("tick-starts.log").toAbsolutePath();
        List<Job> ticking = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
          ticking.add(
              stamping(String.format(Locale.ROOT, "tick-%02d", i), "* * * * * *", tickStarts));
        }
        putAll(client, ticking);
        for (int k = 0; k < options.kills(); k++) {
          LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(8));
          int leader = cluster.awaitLeader(probe, Duration.ofSeconds(60));
          Instant killedAt = Instant.now();
          cluster.kill(leader);
          cluster.awaitLeader(probe, Duration.ofSeconds(60));
          LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(8));
          // The longest time without any process start around the kill (healthy: 1 s, the jobs
          // are due every second). Launches the killed leader chose ahead still start on time.
          List<Instant> around = new ArrayList<>();
          for (Start start : readStarts(tickStarts)) {
            if (!start.at().isBefore(killedAt.minusSeconds(3))
                && start.at().isBefore(killedAt.plusSeconds(8))) {
              around.add(start.at());
            }
          }
          Collections.sort(around);
          long gap = around.isEmpty() ? -1 : 0;
          for (int i = 1; i < around.size(); i++) {
            gap = Math.max(gap, Duration.between(around.get(i - 1), around.get(i)).toMillis());
          }
          gaps.add(gap);
          out.printf(
              Locale.ROOT,
              "leader %d killed: scheduling gap %d ms (the longest time without a process start"
                  + " from 3 s before the kill to 8 s after)%n",
              leader,
              gap);
          cluster.start(leader);
        }
      }
    }

    Collections.sort(lateness);
    double p50 = percentile(lateness, 0.50) / 1000.0;
    double p99 = percentile(lateness, 0.99) / 1000.0;
    double max = lateness.isEmpty() ? -1 : lateness.get(lateness.size() - 1) / 1000.0;
    Collections.sort(processLateness);
    double processP50 = percentile(processLateness, 0.50) / 1000.0;
    double processP99 = percentile(processLateness, 0.99) / 1000.0;
    double processMax =
        processLateness.isEmpty() ? -1 : processLateness.get(processLateness.size() - 1) / 1000.0;
    Collections.sort(ledgerLateness);
    long ledgerP50 = percentile(ledgerLateness, 0.50);
    long ledgerP99 = percentile(ledgerLateness, 0.99);
    long ledgerMax = ledgerLateness.isEmpty() ? -1 : ledgerLateness.getLast();
    long worstGap = gaps.stream().mapToLong(Long::longValue).max().orElse(-1);
    if (gaps.contains(-1L)) {
      worstGap = -1;
    }
    out.println();
    out.println("| measure | value |");
    out.println("|---|---:|");
    out.printf(Locale.ROOT, "| launches per second, one agent | %.1f |%n", launchesPerSecond);
    out.printf(
        Locale.ROOT,
        "| CPU of that agent with the processes it started: cores / ms per launch | %.2f / %.2f |%n",
        agentCores,
        agentCpuMsPerLaunch);
    out.printf(
        Locale.ROOT,
        "| launch lateness p50 / p99 / max (ms), agent start, %d jobs, %d agents"
            + " | %.1f / %.1f / %.1f |%n",
        options.jobs(),
        options.agents(),
        p50,
        p99,
        max);
    out.printf(
        Locale.ROOT,
        "| the command's first line (bash reads its clock) − instant, p50 / p99 / max (ms)"
            + " | %.1f / %.1f / %.1f |%n",
        processP50,
        processP99,
        processMax);
    out.printf(
        Locale.ROOT,
        "| start recorded in the ledger − instant, p50 / p99 / max (ms) | %d / %d / %d |%n",
        ledgerP50,
        ledgerP99,
        ledgerMax);
    out.printf(
        Locale.ROOT,
        "| failover gap, worst of %d leader kills (ms) | %d |%n",
        options.kills(),
        worstGap);
    out.printf(
        Locale.ROOT,
        "| machine load average (1 min), start / end, on %d CPUs | %s / %s |%n",
        Runtime.getRuntime().availableProcessors(),
        loadAtStart,
        loadAverage());
    String json =
        String.format(
            Locale.ROOT,
            """
        {
          "date": "%s",
          "command": "%s",
          "load_average_1m_start_end": [%s, %s],
          "cpus": %d,
          "jobs": %d,
          "agents": %d,
          "run_niceness": %d,
          "burst_jobs_one_agent": %d,
          "launches_per_s_one_agent": %.1f,
          "agent_cores_one_agent": %.2f,
          "agent_cpu_ms_per_launch_one_agent": %.2f,
          "lateness_samples": %d,
          "lateness_p50_ms": %.1f,
          "lateness_p99_ms": %.1f,
          "lateness_max_ms": %.1f,
          "process_lateness_samples": %d,
          "process_lateness_p50_ms": %.1f,
          "process_lateness_p99_ms": %.1f,
          "process_lateness_max_ms": %.1f,
          "ledger_lateness_p50_ms": %d,
          "ledger_lateness_p99_ms": %d,
          "ledger_lateness_max_ms": %d,
          "failover_gaps_ms": %s,
          "failover_gap_ms": %d,
          "lateness_definition": "agent start minus the scheduled instant: the time the run's wrapper (its process group leader) wrote its pid file on being told to run (the file's mtime); process_lateness: the time the command itself read its clock ($EPOCHREALTIME in bash) minus the instant; ledger_lateness: the leader's clock when the start report arrived minus the instant",
          "agent_cpu_definition": "user + system CPU of the one agent's JVM and every process it started (live or reaped), from /proc, over the counted window, divided by the window (cores) and by the launches that succeeded in it (ms)",
          "failover_gap_definition": "the longest time without a process start of 20 every-second jobs, from 3 s before a leader SIGKILL to 8 s after"
        }
        """,
            LocalDate.now(ZoneOffset.UTC),
            options.command(),
            loadAtStart,
            loadAverage(),
            Runtime.getRuntime().availableProcessors(),
            options.jobs(),
            options.agents(),
            options.runNiceness(),
            options.burstJobs(),
            launchesPerSecond,
            agentCores,
            agentCpuMsPerLaunch,
            lateness.size(),
            p50,
            p99,
            max,
            processLateness.size(),
            processP50,
            processP99,
            processMax,
            ledgerP50,
            ledgerP99,
            ledgerMax,
            gaps,
            worstGap);
    Files.createDirectories(options.report().getParent());
    Files.writeString(options.report(), json, StandardCharsets.UTF_8);
    out.println("\nwrote " + options.report());
    LocalCluster.deleteTree(options.work());
  }

  /**
   * When each run's wrapper — the run's process group leader, waiting for the agent's {@code go} —
   * was told to run: it writes its {@code pgid} file first thing then (docs/agent.md), so the
   * file's modification time is the agent's start of the run. Directory names end in {@code
   * _<instant millis>_<attempt>}.
   */
  private static List<Start> agentStarts(Path runs) throws IOException {
    List<Start> starts = new ArrayList<>();
    if (!Files.isDirectory(runs)) {
      return starts;
    }
    try (var dirs = Files.list(runs)) {
      for (Path dir : dirs.toList()) {
        Path pgid = dir.resolve("pgid");
        String[] parts = dir.getFileName().toString().split("_");
        if (parts.length < 3 || !Files.exists(pgid)) {
          continue;
        }
        Instant instant = Instant.ofEpochMilli(Long.parseLong(parts[parts.length - 2]));
        starts.add(new Start(instant, Files.getLastModifiedTime(pgid).toInstant()));
      }
    }
    return starts;
  }

  private static Job job(String name, String schedule) {
    return Job.newBuilder()
        .setName(name)
        .setSchedule(schedule)
        .setConcurrency(Job.Concurrency.CONCURRENCY_ALLOW)
        .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
        .build();
  }

  /** A job whose process appends {@code runId epochSeconds.micros} to {@code file} (O_APPEND). */
  private static Job stamping(String name, String schedule, Path file) {
    return Job.newBuilder()
        .setName(name)
        .setSchedule(schedule)
        .setConcurrency(Job.Concurrency.CONCURRENCY_ALLOW)
        .setCommand(
            Job.Command.newBuilder()
                .addArgv("/bin/bash")
                .addArgv("-c")
                .addArgv("echo \"$PAXCRON_RUN_ID $EPOCHREALTIME\" >> '" + file + "'"))
        .build();
  }

  /** A process start read back from a stamping job's file. */
  private record Start(Instant instant, Instant at) {}

  private static List<Start> readStarts(Path file) throws IOException {
    List<Start> starts = new ArrayList<>();
    if (!Files.exists(file)) {
      return starts;
    }
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String[] parts = line.trim().split(" ");
      if (parts.length != 2 || !parts[0].contains("@")) {
        continue;
      }
      Instant instant = Instant.parse(parts[0].substring(parts[0].indexOf('@') + 1));
      String[] clock = parts[1].split("[.,]");
      Instant at =
          Instant.ofEpochSecond(Long.parseLong(clock[0]), Long.parseLong(clock[1]) * 1_000);
      starts.add(new Start(instant, at));
    }
    return starts;
  }

  private static void putAll(JobClient client, List<Job> jobs) {
    for (int from = 0; from < jobs.size(); from += 100) {
      client.apply(jobs.subList(from, Math.min(jobs.size(), from + 100)), java.util.Map.of());
    }
  }

  /** Waits until the replica that leads lists {@code agents} agents (asks every replica). */
  private static void awaitAgents(LocalCluster cluster, int agents) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      for (String address : cluster.clientAddresses()) {
        try (JobClient one = JobClient.connect(List.of(address))) {
          var status = one.status();
          if (status.getRole().equals("LEADER") && status.getAgentsCount() >= agents) {
            return;
          }
        } catch (RuntimeException e) {
          // Not answering (starting, or electing): ask the next one.
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    }
    throw new IllegalStateException(agents + " agents did not register within 60 s");
  }

  private static void sleepUntil(Instant when) {
    while (Instant.now().isBefore(when)) {
      LockSupport.parkNanos(Duration.between(Instant.now(), when).toNanos());
    }
  }

  private static List<RunRecord> ledger(JobClient client, String job) {
    List<RunRecord> records = new ArrayList<>();
    for (RunRecord record : allRecords(client, job)) {
      if (record.getOutcome() == Outcome.OUTCOME_SUCCEEDED) {
        records.add(record);
      }
    }
    return records;
  }

  /** Every ledger record of {@code job}, open and terminal, whatever the outcome. */
  private static List<RunRecord> allRecords(JobClient client, String job) {
    List<RunRecord> records = new ArrayList<>();
    String token = "";
    do {
      ListRunsResponse page = client.listRuns(job, 100, token);
      records.addAll(page.getRecordsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return records;
  }

  /**
   * The machine's 1-minute load average (the other work the numbers competed with), or -1 where
   * /proc/loadavg is missing.
   */
  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "-1";
    }
  }

  private static long percentile(List<Long> sorted, double q) {
    if (sorted.isEmpty()) {
      return -1;
    }
    int index = (int) Math.ceil(q * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }

  private static Instant instant(com.google.protobuf.Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }

  private static Options parse(String[] args) throws IOException {
    int jobs = 1_000;
    int agents = 2;
    int burst = 200;
    int seconds = 60;
    int kills = 3;
    int runNiceness = 0;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length || !args[i + 1].matches("[0-9]{1,7}")) {
        usage("flag " + flag + " needs a whole number");
      }
      int value = Integer.parseInt(args[++i]);
      switch (flag) {
        case "--jobs" -> jobs = value;
        case "--agents" -> agents = value;
        case "--burst-jobs" -> burst = value;
        case "--seconds" -> seconds = value;
        case "--kills" -> kills = value;
        case "--run-niceness" -> runNiceness = value;
        default -> usage("unknown flag " + flag);
      }
    }
    if (jobs < 1 || agents < 1 || burst < 1 || seconds < 5 || kills < 0 || runNiceness > 19) {
      usage(
          "--jobs, --agents and --burst-jobs must be >= 1, --seconds >= 5, --kills >= 0,"
              + " --run-niceness 0..19");
    }
    String command = "ops/bench/launch/run " + String.join(" ", args);
    return new Options(
        jobs,
        agents,
        burst,
        seconds,
        kills,
        runNiceness,
        Path.of("ops/bench/launch/target/work"),
        Path.of("docs/benchmarks/launch-" + LocalDate.now(ZoneOffset.UTC) + ".json"),
        command.strip());
  }

  /** The agents' flags: {@code flags}, and the runs' niceness when one is asked for. */
  private static List<String> agentFlags(Options options, String... flags) {
    List<String> all = new ArrayList<>(List.of(flags));
    if (options.runNiceness() > 0) {
      all.addAll(List.of("--run-niceness", Integer.toString(options.runNiceness())));
    }
    return all;
  }

  private static void usage(String problem) {
    System.err.println(
        "error: "
            + problem
            + "\nusage: ops/bench/launch/run [--jobs N] [--agents N]"
            + " [--burst-jobs N] [--seconds N] [--kills N] [--run-niceness N]");
    System.exit(2);
  }
}
