package io.paxcron.fault.harness;

import io.paxcron.fault.checker.CheckerMain;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * {@code ops/fault/run [--minutes N] [--seed S] [--nemesis LIST] [--out DIR] [--plant BUG]}: a
 * Jepsen-style run of real processes. Five replicas, each in its own network namespace, three
 * agents, the workload of {@link Workload}, the seeded faults of {@link Nemesis}; then it heals
 * everything, waits, reads the ledger, stops the cluster and runs the checker, which writes the
 * report and prints the {@code FAULT ...} line. Exit status: the checker's (0 clean, 1 anomalies),
 * 2 for a bad command line or a machine that cannot run it.
 */
public final class FaultRun {
  static final int REPLICAS = 5;
  static final int AGENTS = 3;

  /** How long after the heal the ledger is read; longer than every agent and leader lease. */
  static final long SETTLE_MS = 30_000;

  /** The command line, parsed. */
  public record Options(
      double minutes, long seed, String nemeses, Path out, String plant, int diskMegabytes) {}

  private FaultRun() {}

  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(
          "usage: ops/fault/run [--minutes N] [--seed S] [--nemesis all|FAMILY|FAMILY:KIND,...]"
              + " [--out DIR] [--plant agent-forgets] [--disk-mb N]");
      System.exit(2);
      return;
    }
    System.exit(run(options, System.out));
  }

  static Options parse(String[] args) {
    double minutes = 5;
    long seed = System.currentTimeMillis() % 100_000;
    String nemeses = "all";
    Path out = null;
    String plant = "none";
    int disk = 512;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      String value = args[++i];
      try {
        switch (flag) {
          case "--minutes" -> minutes = Double.parseDouble(value);
          case "--seed" -> seed = Long.parseLong(value);
          case "--nemesis" -> nemeses = value;
          case "--out" -> out = Path.of(value);
          case "--plant" -> plant = value;
          case "--disk-mb" -> disk = Integer.parseInt(value);
          default -> throw new IllegalArgumentException("unknown flag " + flag);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(flag + ": '" + value + "' is not a number");
      }
    }
    if (!(minutes > 0 && minutes <= 24 * 60)) {
      throw new IllegalArgumentException("--minutes: " + minutes + " is not in (0, 1440]");
    }
    if (!plant.equals("none") && !plant.equals("agent-forgets")) {
      throw new IllegalArgumentException("--plant: '" + plant + "' is not none or agent-forgets");
    }
    if (disk < 64) {
      throw new IllegalArgumentException("--disk-mb: " + disk + " is below 64");
    }
    Nemesis.parse(nemeses);
    if (out == null) {
      out = Path.of("ops/fault/target/runs/seed-" + seed);
    }
    return new Options(minutes, seed, nemeses, out, plant, disk);
  }

  /** Runs the whole thing; returns the exit status. */
  public static int run(Options options, PrintStream out) throws IOException, InterruptedException {
    List<String> missing = new ArrayList<>();
    if (!"root".equals(System.getProperty("user.name"))) {
      missing.add("root (network namespaces, iptables and tmpfs mounts need it)");
    }
    FaultCluster.toolsPresent(missing);
    if (!missing.isEmpty()) {
      out.println(
          "error: this machine cannot run fault runs; missing: "
              + String.join(", ", missing)
              + " (Debian: apt-get install faketime fiu-utils iptables iproute2)");
      return 2;
    }
    List<String> kinds = Nemesis.parse(options.nemeses());
    Path dir = options.out().toAbsolutePath();
    if (Files.exists(dir)) {
      FaultCluster.deleteTree(dir);
    }
    Path work = dir.resolve("work");
    Path launches = dir.resolve("launches");
    Files.createDirectories(work);
    Files.createDirectories(launches);
    PrintStream harnessLog =
        new PrintStream(
            Files.newOutputStream(dir.resolve("harness.log")), true, StandardCharsets.UTF_8);
    FaultCluster.PrintLog log =
        text -> {
          String line = Instant.now() + " " + text;
          out.println(line);
          harnessLog.println(line);
        };
    log.line(
        String.format(
            Locale.ROOT,
            "fault run: seed %d, %s min, nemeses %s, plant %s, report in %s",
            options.seed(),
            fmt(options.minutes()),
            options.nemeses(),
            options.plant(),
            dir));
    log.line(
        "replay: ops/fault/run --seed "
            + options.seed()
            + " --minutes "
            + fmt(options.minutes())
            + " --nemesis "
            + options.nemeses()
            + (options.plant().equals("none") ? "" : " --plant " + options.plant()));

    Properties run = new Properties();
    Network network = new Network(REPLICAS);
    FaultCluster cluster =
        new FaultCluster(
            work, REPLICAS, options.diskMegabytes(), options.plant().equals("agent-forgets"), log);
    Thread cleanup =
        new Thread(
            () -> {
              cluster.close();
              network.close();
            });
    Runtime.getRuntime().addShutdownHook(cleanup);
    Workload workload = new Workload(cluster, launches, options.seed());
    List<String> jobs;
    Nemesis nemesis;
    long start;
    long heal;
    long read;
    List<String> ledger;
    try {
      network.create();
      cluster.prepare();
      for (int id : cluster.ids()) {
        cluster.start(id);
      }
      int leader = cluster.awaitLeader(Duration.ofSeconds(120));
      log.line("replica " + leader + " leads");
      for (int a = 1; a <= AGENTS; a++) {
        cluster.startAgent("agent-" + a);
      }
      cluster.awaitAgents(AGENTS, Duration.ofSeconds(120));
      jobs = workload.createLedgerJobs();
      workload.startChurn(3, 1);
      start = System.currentTimeMillis();
      log.line("workload running; faults start in 10 s");
      FaultCluster.sleep(10_000);
      nemesis = new Nemesis(cluster, network, options.seed(), kinds, log);
      nemesis.run(start + 10_000 + (long) (options.minutes() * 60_000));
      // Heal whatever is left (every fault heals itself; this is the belt to its braces).
      network.heal();
      for (int id : cluster.ids()) {
        cluster.setClock(id, "+0");
        cluster.signal(id, "CONT");
        if (!cluster.running(id)) {
          cluster.start(id);
        }
      }
      for (String agent : cluster.agentNames()) {
        cluster.signalAgent(agent, "CONT");
        if (!cluster.agentRunning(agent)) {
          cluster.startAgent(agent);
        }
      }
      heal = System.currentTimeMillis();
      log.line(
          "healed; clients run 10 s more, then the final reads; the ledger is read in "
              + SETTLE_MS / 1000
              + " s");
      FaultCluster.sleep(10_000);
      workload.stopChurn();
      workload.finalReads();
      long wait = heal + SETTLE_MS - System.currentTimeMillis();
      if (wait > 0) {
        FaultCluster.sleep(wait);
      }
      read = System.currentTimeMillis();
      ledger = workload.readLedger();
      // Nothing may start after the read, or its launch line would have no record to match.
      for (String agent : cluster.agentNames()) {
        cluster.killAgent(agent);
      }
    } finally {
      workload.stopChurn();
      cluster.close();
      network.close();
      Runtime.getRuntime().removeShutdownHook(cleanup);
    }

    run.setProperty("seed", String.valueOf(options.seed()));
    run.setProperty("minutes", fmt(options.minutes()));
    run.setProperty("nemeses", options.nemeses());
    run.setProperty("plant", options.plant());
    run.setProperty("start_ms", String.valueOf(start));
    run.setProperty("heal_ms", String.valueOf(heal));
    run.setProperty("ledger_read_ms", String.valueOf(read));
    run.setProperty(
        "command",
        "ops/fault/run --seed "
            + options.seed()
            + " --minutes "
            + fmt(options.minutes())
            + " --nemesis "
            + options.nemeses()
            + (options.plant().equals("none") ? "" : " --plant " + options.plant()));
    run.setProperty(
        "setup",
        REPLICAS
            + " replicas (each in its own network namespace, data on its own "
            + options.diskMegabytes()
            + " MiB tmpfs, under libfaketime and libfiu), "
            + AGENTS
            + " agents, "
            + Workload.LEDGER_JOBS.size()
            + " ledger jobs, "
            + Workload.CHURN_JOBS
            + " churn jobs with 3 writers and 1 reader"
            + (options.plant().equals("none") ? "" : "; PLANTED BUG " + options.plant())
            + ".");
    try (var writer =
        Files.newBufferedWriter(dir.resolve("run.properties"), StandardCharsets.UTF_8)) {
      run.store(writer, "fault run");
    }
    Files.write(dir.resolve("history.tsv"), workload.history(), StandardCharsets.UTF_8);
    Files.write(dir.resolve("jobs.tsv"), jobs, StandardCharsets.UTF_8);
    Files.write(dir.resolve("ledger.tsv"), ledger, StandardCharsets.UTF_8);
    Files.write(
        dir.resolve("faults.tsv"),
        nemesis.windows.stream().map(Nemesis.Window::row).toList(),
        StandardCharsets.UTF_8);
    Files.write(dir.resolve("disk.tsv"), nemesis.disks, StandardCharsets.UTF_8);
    harnessLog.close();
    return CheckerMain.checkAndReport(dir);
  }

  static String fmt(double minutes) {
    return minutes == Math.rint(minutes)
        ? String.valueOf((long) minutes)
        : String.format(Locale.ROOT, "%s", minutes);
  }
}
