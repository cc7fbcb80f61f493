package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.api.JobClient;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.Job;
import io.paxcron.server.InProcessCli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes on real {@code paxcron server} processes, through the CLI: a 3-replica cluster
 * gets a fourth replica started empty with {@code --join} ({@code members add}: learner, catch-up,
 * vote), loses the leader ({@code members remove}: the removed process stops by itself and says
 * why, another replica takes over), and every job written before, between and after the changes is
 * on the new replica. Then every other original replica is replaced by a new process with a new
 * data directory while an agent given only the original addresses keeps running an every-second
 * job, also after a restart. The long version ({@code -Dmembership.full=true}) then grows to five
 * and shrinks to three.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class MembershipOnRealClusterTest {

  @TempDir static Path work;

  private static Result paxcron(String addresses, String... args) {
    return InProcessCli.run(Map.of("PAXCRON_CLUSTER", addresses), work, args);
  }

  private static String addresses(LocalCluster cluster, List<Integer> ids) {
    List<String> addresses = new ArrayList<>();
    for (int id : ids) {
      addresses.add(cluster.members().get(id).clientAddress());
    }
    return String.join(",", addresses);
  }

  private static void putJob(String addresses, String name) {
    try (JobClient client = JobClient.connect(List.of(addresses.split(",")))) {
      client.put(
          Job.newBuilder()
              .setName(name)
              .setSchedule("0 3 * * *")
              .setCommand(Job.Command.newBuilder().setShell("true"))
              .build());
    }
  }

  private static List<String> jobs(String addresses) {
    try (JobClient client = JobClient.connect(List.of(addresses.split(",")))) {
      return client.listAll().stream().map(Job::getName).sorted().toList();
    }
  }

  /** The ledger of {@code job}, every page. */
  private static List<io.paxcron.proto.v1.RunRecord> ledger(String addresses, String job) {
    try (JobClient client = JobClient.connect(List.of(addresses.split(",")))) {
      List<io.paxcron.proto.v1.RunRecord> records = new ArrayList<>();
      String token = "";
      do {
        io.paxcron.proto.v1.ListRunsResponse page = client.listRuns(job, 100, token);
        records.addAll(page.getRecordsList());
        token = page.getNextPageToken();
      } while (!token.isEmpty());
      return records;
    }
  }

  private static long succeeded(String addresses) {
    return ledger(addresses, TICK).stream()
        .filter(r -> r.getOutcome() == io.paxcron.proto.v1.Outcome.OUTCOME_SUCCEEDED)
        .count();
  }

  /** Waits until the every-second job has run at least {@code more} more times. */
  private static long awaitRuns(String addresses, long before, long more) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      long now = succeeded(addresses);
      if (now >= before + more) {
        return now;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "the every-second job ran " + (now - before) + " times in 30 s, expected " + more);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    }
  }

  static final String TICK = "tick";

  private static void awaitExit(LocalCluster cluster, int id, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (cluster.exitCode(id).isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "replica " + id + " did not stop within " + timeout + "\n" + logs(cluster));
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

  /** The last lines of every replica's log, for a failure message. */
  private static String logs(LocalCluster cluster) {
    StringBuilder out = new StringBuilder();
    for (LocalCluster.Member member : cluster.members().values()) {
      try {
        List<String> lines = Files.readAllLines(member.logFile());
        out.append("--- replica ").append(member.id()).append('\n');
        for (String line : lines.subList(Math.max(0, lines.size() - 15), lines.size())) {
          out.append(line).append('\n');
        }
      } catch (java.io.IOException e) {
        out.append("--- replica ").append(member.id()).append(": no log\n");
      }
    }
    return out.toString();
  }

  private static void replace(LocalCluster cluster, List<Integer> live, int old, int fresh)
      throws Exception {
    cluster.addJoiner(fresh);
    cluster.start(fresh);
    Result replaced =
        paxcron(
            addresses(cluster, live),
            "members",
            "replace",
            String.valueOf(old),
            String.valueOf(fresh),
            cluster.memberAddress(fresh));
    assertEquals(0, replaced.exit(), replaced + "\n" + logs(cluster));
    awaitExit(cluster, old, Duration.ofSeconds(30));
    assertEquals(0, cluster.exitCode(old).orElseThrow());
    String said = Files.readString(cluster.members().get(old).logFile());
    assertTrue(said.contains("was removed from the cluster"), said);
    live.remove(Integer.valueOf(old));
    live.add(fresh);
  }

  private static void assertBackupRestoresTheConfiguration(
      LocalCluster cluster, List<Integer> live, Path backups) {
    Result backup =
        captured("backup", "now", "--cluster", addresses(cluster, live), "--timeout", "30s");
    assertEquals(0, backup.exit(), backup.toString());
    Result outside =
        captured(
            "restore",
            "--from",
            backups.toString(),
            "--data-dir",
            work.resolve("restored-1").toString(),
            "--id",
            "1");
    assertEquals(Paxcron.EXIT_FAILED, outside.exit(), outside.toString());
    assertTrue(
        outside.err().contains("replica 1 is not a member of the configuration")
            && outside.err().contains("paxcron members"),
        outside.toString());
    assertTrue(!Files.exists(work.resolve("restored-1")), outside.toString());
    int member = live.get(0);
    Result restored =
        captured(
            "restore",
            "--from",
            backups.toString(),
            "--data-dir",
            work.resolve("restored-" + member).toString(),
            "--id",
            String.valueOf(member));
    assertEquals(0, restored.exit(), restored.toString());
    String[] address = cluster.memberAddress(member).split(":");
    assertTrue(
        restored.out().contains("configuration restored (as of slot ")
            && restored
                .out()
                .contains(
                    member
                        + " ("
                        + address[0]
                        + ", peer port "
                        + address[1]
                        + ", client port "
                        + address[2]
                        + ")")
            && restored.out().contains("paxcron members add|remove|replace"),
        restored.toString());
    for (int gone : List.of(1, 2, 3)) {
      assertTrue(
          !restored.out().contains("voters " + gone + " ")
              && !restored.out().contains(", " + gone + " ("),
          restored.toString());
    }
  }

  /**
   * {@code paxcron args} with System.out and System.err captured (the backup commands use them).
   */
  private static synchronized Result captured(String... args) {
    java.io.PrintStream oldOut = System.out;
    java.io.PrintStream oldErr = System.err;
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
    System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      int exit = Paxcron.run(args);
      return new Result(
          exit,
          out.toString(java.nio.charset.StandardCharsets.UTF_8),
          err.toString(java.nio.charset.StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void aJoiningReplicaIsAddedAndTheLeaderIsRemovedWhileJobsStayWritable() throws Exception {
    Path backups = work.resolve("backups");
    try (LocalCluster cluster =
        new LocalCluster(
            work.resolve("cluster"),
            3,
            List.of("--backup-target", backups.toString(), "--backup-interval", "1h"))) {
      cluster.startAll();
      int leader;
      try (LogClient probe = cluster.client(1)) {
        leader = cluster.awaitLeader(probe, Duration.ofSeconds(60));
      }
      List<Integer> live = new ArrayList<>(List.of(1, 2, 3));
      putJob(addresses(cluster, live), "before");
      // An every-second job runs on a real agent throughout: it keeps launching across the changes.
      // The agent is given the original replicas' addresses only; it follows the membership the
      // leader tells it (docs/membership.md).
      List<String> originals = List.of(addresses(cluster, live).split(","));
      Path agentData = cluster.agentDataDir("member-agent");
      cluster.startAgent("member-agent", originals, agentData, List.of("--capacity", "8"));
      try (JobClient client = JobClient.connect(List.of(addresses(cluster, live).split(",")))) {
        client.put(
            Job.newBuilder()
                .setName(TICK)
                .setSchedule("* * * * * *")
                .setCommand(Job.Command.newBuilder().setShell("true"))
                .build());
      }
      long runs = awaitRuns(addresses(cluster, live), 0, 3);

      replace(cluster, live, leader, 4);
      putJob(addresses(cluster, live), "after-replacing-the-leader");
      runs = awaitRuns(addresses(cluster, live), runs, 3);
      Result list = paxcron(addresses(cluster, live), "members", "list");
      assertEquals(0, list.exit(), list.toString());
      for (int id : live) {
        assertTrue(list.out().contains(cluster.members().get(id).clientAddress()), list.out());
      }
      assertTrue(!list.out().contains(cluster.members().get(leader).clientAddress()), list.out());

      int member = live.get(0);
      Result refused =
          paxcron(
              addresses(cluster, live),
              "members",
              "add",
              String.valueOf(member),
              cluster.memberAddress(member));
      assertEquals(1, refused.exit(), refused.toString());
      assertTrue(
          refused.err().contains("replica " + member + " is already a voter"), refused.toString());

      // Every original replica is replaced by a new process with a new data directory.
      int next = 5;
      for (int old : List.of(1, 2, 3)) {
        if (live.contains(old)) {
          replace(cluster, live, old, next++);
          putJob(addresses(cluster, live), "after-replacing-" + old);
        }
      }
      // The agent, given only the original addresses (all gone now), keeps running the job ...
      runs = awaitRuns(addresses(cluster, live), runs, 3);
      assertTrue(cluster.agentRunning("member-agent"));
      // ... and, restarted with the same addresses, finds the members it learned.
      cluster.killAgent("member-agent");
      cluster.startAgent("member-agent", originals, agentData, List.of("--capacity", "8"));
      runs = awaitRuns(addresses(cluster, live), runs, 3);
      String agentLog = Files.readString(work.resolve("cluster").resolve("agent-member-agent.log"));
      assertTrue(agentLog.contains("members learned earlier"), agentLog);

      // A backup carries the configuration; a restore says which one and refuses a replica
      // outside it (docs/backup.md).
      assertBackupRestoresTheConfiguration(cluster, live, backups);

      if (Boolean.getBoolean("membership.full")) {
        for (int grow = 0; grow < 2; grow++) {
          int fresh = next++;
          cluster.addJoiner(fresh);
          cluster.start(fresh);
          Result added =
              paxcron(
                  addresses(cluster, live),
                  "members",
                  "add",
                  String.valueOf(fresh),
                  cluster.memberAddress(fresh));
          assertEquals(0, added.exit(), added.toString());
          live.add(fresh);
        }
        assertEquals(5, live.size());
        for (int shrink = 0; shrink < 2; shrink++) {
          int gone = live.get(0);
          Result removed =
              paxcron(addresses(cluster, live), "members", "remove", String.valueOf(gone));
          assertEquals(0, removed.exit(), removed.toString());
          awaitExit(cluster, gone, Duration.ofSeconds(30));
          live.remove(0);
        }
        putJob(addresses(cluster, live), "after-shrinking");
        runs = awaitRuns(addresses(cluster, live), runs, 3);
      }

      putJob(addresses(cluster, live), "last");
      // Nothing ran twice: every run of the every-second job has one record and one attempt.
      List<io.paxcron.proto.v1.RunRecord> records = ledger(addresses(cluster, live), TICK);
      java.util.Set<String> runIds = new java.util.HashSet<>();
      for (io.paxcron.proto.v1.RunRecord record : records) {
        assertTrue(runIds.add(record.getRunId()), "two records for " + record.getRunId());
        if (record.getOutcome() == io.paxcron.proto.v1.Outcome.OUTCOME_SUCCEEDED) {
          assertEquals(1, record.getAttempts(), record.toString());
        }
      }
      List<String> jobs = jobs(addresses(cluster, live));
      assertTrue(jobs.contains("before") && jobs.contains("last"), jobs.toString());
      // Every member applies everything: the new processes caught up from empty data dirs.
      try (LogClient probe = cluster.client(2)) {
        long lastApplied = -1;
        for (int id : live) {
          lastApplied =
              Math.max(
                  lastApplied, cluster.status(probe, id).map(s -> s.getAppliedSlot()).orElse(-1L));
        }
        for (int id : live) {
          cluster.awaitApplied(probe, id, lastApplied, Duration.ofSeconds(30));
        }
      }
    }
  }
}
