package io.paxcron.server;

import io.paxcron.api.JobClient;
import io.paxcron.api.JobClientException;
import io.paxcron.api.RunWatch;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.ClusterStatusResponse;
import io.paxcron.proto.v1.RunRecord;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The quick-start demo: three {@code paxcron server} processes and one {@code paxcron agent}
 * process on localhost (free ports, a temporary data dir), {@code examples/crontab} applied with
 * the CLI, every ledger record printed as the cluster records it, the leader killed with SIGKILL
 * while jobs run, and scheduling going on under the new leader. It prints the CLI commands and
 * dashboard addresses to try, and stops everything on Ctrl-C — or, without a terminal, after {@code
 * --seconds} (default 90).
 */
public final class LocalDemo {

  private static final DateTimeFormatter CLOCK =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());
  private static final Duration BEFORE_KILL = Duration.ofSeconds(25);

  private LocalDemo() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    long seconds = 90;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--seconds") && i + 1 < args.length && args[i + 1].matches("[0-9]{1,6}")) {
        seconds = Long.parseLong(args[++i]);
      } else {
        System.err.println(
            "usage: ops/demo [--seconds N]   (N: how long to run without a terminal;"
                + " got '"
                + args[i]
                + "')");
        System.exit(2);
      }
    }
    Path crontab = Path.of("examples", "crontab");
    if (!Files.isReadable(crontab)) {
      System.err.println(
          "error: "
              + crontab.toAbsolutePath()
              + " is not readable; run the demo from the"
              + " repository root (ops/demo does)");
      System.exit(2);
    }
    boolean interactive = System.console() != null;
    PrintStream out = System.out;
    Path work = Files.createTempDirectory("paxcron-demo-");
    LocalCluster cluster = new LocalCluster(work, 3, List.of());
    // Beside the server's jar, as ops/paxcron keeps its replicas' archives: from the second demo
    // on, its JVMs start with their classes already parsed (PAXCRON_DEMO_ARCHIVES=off: without).
    Optional<Path> target = serverTarget();
    if (target.isPresent() && !"off".equals(System.getenv("PAXCRON_DEMO_ARCHIVES"))) {
      cluster.classDataArchives(target.get().resolve("cds").resolve("demo"));
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  cluster.close();
                  LocalCluster.deleteTree(work);
                  out.println("\nstopped the replicas and the agent; removed " + work);
                  stopped.countDown();
                },
                "demo-stop"));

    out.println("Paxcron demo: 3 replicas and a worker agent on localhost (data in " + work + ")");
    long start = System.nanoTime();
    cluster.startAll();
    int leader;
    try (LogClient probe = cluster.client(1)) {
      leader = cluster.awaitLeader(probe, Duration.ofSeconds(60));
    }
    out.printf(
        "replica %d was elected leader %d ms after the processes started%n",
        leader, millisSince(start));
    String addresses = String.join(",", cluster.clientAddresses());
    cluster.startAgent("demo-agent", List.of("--label", "host=local", "--capacity", "8"));

    try (JobClient client = JobClient.connect(cluster.clientAddresses())) {
      awaitAgent(cluster);
      out.println("agent demo-agent registered with the leader (label host=local, capacity 8)");
      out.println("\n$ paxcron apply -f examples/crontab");
      int applied =
          Paxcron.run("apply", "-f", crontab.toString(), "--cluster", addresses, "--no-color");
      if (applied != 0 && applied != 2) {
        out.println("apply failed (exit " + applied + "); replica logs in " + work);
        System.exit(1);
      }
      printTryThis(out, cluster, addresses);
      out.println(
          "\nledger records as the cluster records them (time, job, outcome, agent, lateness):");
      Thread watcher = new Thread(() -> watch(client, out), "demo-watch");
      watcher.setDaemon(true);
      watcher.start();

      LockSupport.parkNanos(BEFORE_KILL.toNanos());
      out.printf("%n>>> killing the leader, replica %d, with SIGKILL%n", leader);
      cluster.kill(leader);
      long killed = System.nanoTime();
      int next;
      try (LogClient probe = cluster.client(2)) {
        next = cluster.awaitLeader(probe, Duration.ofSeconds(30));
      }
      out.printf(
          ">>> replica %d holds the lease %d ms later; the agent follows it and scheduling goes"
              + " on. Runs that fell due in between follow their misfire policy.%n%n",
          next, millisSince(killed));
      LockSupport.parkNanos(Duration.ofSeconds(10).toNanos());
      out.printf(
          "%n>>> restarting replica %d from its data dir; it catches up as a follower%n%n", leader);
      cluster.start(leader);

      if (interactive) {
        out.println("(press Ctrl-C to stop)");
        stopped.await();
      } else {
        long remaining = Math.max(0, seconds - (System.nanoTime() - start) / 1_000_000_000L);
        if (!stopped.await(remaining, TimeUnit.SECONDS)) {
          printTryThis(out, cluster, addresses);
          System.exit(0);
        }
      }
    }
  }

  private static void printTryThis(PrintStream out, LocalCluster cluster, String addresses) {
    out.println("\ntry it while the demo runs (in another terminal, from the repository root):");
    out.println("  export PAXCRON_CLUSTER=" + addresses);
    out.println("  ops/paxcron jobs                      # the jobs, with every ? resolved");
    out.println("  ops/paxcron runs always-fails         # one job's ledger");
    out.println("  ops/paxcron watch                     # records as they are recorded");
    out.println("  ops/paxcron status                    # replicas, the leader and the agents");
    out.println(
        "  dashboard: "
            + cluster.members().values().iterator().next().httpUrl()
            + "/   (every replica serves it: "
            + String.join(", ", cluster.members().values().stream().map(m -> m.httpUrl()).toList())
            + ")");
  }

  /**
   * Waits until the replica that leads lists the agent (it dials any replica, follows redirects).
   */
  private static void awaitAgent(LocalCluster cluster) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      for (String address : cluster.clientAddresses()) {
        try (JobClient one = JobClient.connect(List.of(address))) {
          ClusterStatusResponse status = one.status();
          if (status.getRole().equals("LEADER") && status.getAgentsCount() > 0) {
            return;
          }
        } catch (RuntimeException e) {
          // Not answering (starting, or electing): ask the next one.
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    }
    throw new IllegalStateException("the agent did not register within 60 s");
  }

  /** Prints every ledger record until the process ends (the stream follows leader changes). */
  private static void watch(JobClient client, PrintStream out) {
    try (RunWatch watch = client.watchRuns("", 0)) {
      while (true) {
        RunRecord record = watch.next();
        Instant instant =
            Instant.ofEpochSecond(record.getInstant().getSeconds(), record.getInstant().getNanos());
        String late = "";
        if (record.hasStartedAt()) {
          Instant started =
              Instant.ofEpochSecond(
                  record.getStartedAt().getSeconds(), record.getStartedAt().getNanos());
          late = Duration.between(instant, started).toMillis() + " ms";
        }
        String count = record.getInstantCount() > 1 ? " x" + record.getInstantCount() : "";
        out.printf(
            "  %s  %-16s %-18s %-11s %s%n",
            CLOCK.format(instant),
            record.getJob(),
            record.getOutcomeText() + count,
            record.getAgentId(),
            late);
      }
    } catch (JobClientException e) {
      // The demo is stopping.
    }
  }

  /**
   * The server module's {@code target} directory: the one holding the server jar on this class
   * path, if it runs from one (as ops/demo runs it), else empty.
   */
  private static Optional<Path> serverTarget() {
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path path = Path.of(entry).toAbsolutePath();
      Path parent = path.getParent();
      if (path.getFileName().toString().startsWith("paxcron-server-")
          && path.toString().endsWith(".jar")
          && parent != null
          && parent.getFileName().toString().equals("target")) {
        return Optional.of(parent);
      }
    }
    return Optional.empty();
  }

  private static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
