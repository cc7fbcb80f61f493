package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.paxcron.api.JobClient;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dispatch on real replica processes: jobs with second-level schedules run as real processes on two
 * agents connected over agent.proto (test-scope {@link ScriptedAgent}s; the product's agent is the
 * worker-agent module); the leader is SIGKILLed; afterwards every scheduled instant of the observed
 * window has exactly one terminal ledger record (SUCCEEDED, or SKIPPED/LOST around the failover)
 * and no instant has two.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DispatchOnRealClusterTest {

  /** Instants younger than this at the end may still be open. */
  private static final Duration SETTLE = Duration.ofSeconds(4);

  private static final int MIN_INSTANTS = 12;

  @TempDir Path work;

  private static Job job(
      String name, String schedule, Job.Command command, Job.Semantics semantics) {
    return Job.newBuilder()
        .setName(name)
        .setSchedule(schedule)
        .setCommand(command)
        .setSemantics(semantics)
        .build();
  }

  @Test
  void everyScheduledInstantIsAccountedForExactlyOnceAcrossALeaderKill() throws Exception {
    java.nio.file.Files.createDirectories(work.resolve("agents"));
    try (LocalCluster cluster = new LocalCluster(work, 3, List.of("--state-machine", "cron"));
        LogClient probe = cluster.client(1);
        ScriptedAgent agentOne =
            new ScriptedAgent(
                "agent-1", Map.of(), 256, cluster.clientAddresses(), work.resolve("agents"));
        ScriptedAgent agentTwo =
            new ScriptedAgent(
                "agent-2", Map.of(), 256, cluster.clientAddresses(), work.resolve("agents"));
        JobClient client = JobClient.connect(cluster.clientAddresses())) {
      cluster.startAll();
      int leader = cluster.awaitLeader(probe, Duration.ofSeconds(60));
      agentOne.start(0);
      agentTwo.start(1);
      Job.Command argvTrue = Job.Command.newBuilder().addArgv("/bin/true").build();
      Job.Command shellCheck =
          Job.Command.newBuilder()
              .setShell(
                  "test -n \"$PAXCRON_RUN_ID\" && test -n \"$PAXCRON_SCHEDULED_TIME\""
                      + " && test -n \"$PAXCRON_ATTEMPT\"")
              .build();
      List<Job> jobs =
          List.of(
              job("every-2s-a", "*/2 * * * * *", argvTrue, Job.Semantics.SEMANTICS_AT_MOST_ONCE),
              job("every-2s-b", "*/2 * * * * *", shellCheck, Job.Semantics.SEMANTICS_AT_LEAST_ONCE),
              job("every-1s", "* * * * * *", argvTrue, Job.Semantics.SEMANTICS_AT_MOST_ONCE),
              // Runs longer than its period: overlaps are SKIPPED; the run in flight when the
              // leader
              // dies is adopted by the new leader from its agent.
              job(
                  "slow-2s",
                  "*/2 * * * * *",
                  Job.Command.newBuilder().setShell("sleep 3").build(),
                  Job.Semantics.SEMANTICS_AT_MOST_ONCE));
      Map<String, Instant> createdAfter = new TreeMap<>();
      for (Job job : jobs) {
        Instant before = Instant.now();
        client.put(job);
        createdAfter.put(job.getName(), before);
      }
      Instant windowStart = Instant.now().plusSeconds(1);

      // Runs happen in real time: wait until the every-second job has recorded a few, kill the
      // leader, and wait until the new leader has recorded a few more.
      awaitRecords(client, "every-1s", 5);
      cluster.kill(leader);
      int newLeader = cluster.awaitLeader(probe, Duration.ofSeconds(30));
      assertTrue(newLeader != leader);
      awaitRecords(client, "every-1s", ledger(client, "every-1s").size() + 5);
      // Five records can come fast after the kill (a stretch the new leader records at once covers
      // several instants), so also wait until the window is long enough to hold the 12 instants
      // checked below, whatever the failover took.
      awaitInstant(client, "every-1s", windowStart.plus(SETTLE).plusSeconds(MIN_INSTANTS));
      Instant windowEnd = Instant.now().minus(SETTLE);

      Map<Outcome, Integer> byOutcome = new EnumMap<>(Outcome.class);
      int instants = 0;
      for (Job job : jobs) {
        int step = job.getSchedule().startsWith("*/2") ? 2 : 1;
        List<RunRecord> records = ledger(client, job.getName());
        // Which record covers each instant (a skipped stretch covers several).
        Map<Instant, List<RunRecord>> covered = new TreeMap<>();
        for (RunRecord record : records) {
          Instant first = instant(record.getInstant());
          assertTrue(
              !first.isBefore(createdAfter.get(job.getName()).truncatedTo(ChronoUnit.SECONDS)),
              job.getName() + ": record before the job existed: " + record);
          assertTrue(
              record.getOutcome() == Outcome.OUTCOME_SUCCEEDED
                  || record.getOutcome() == Outcome.OUTCOME_SKIPPED
                  || record.getOutcome() == Outcome.OUTCOME_LOST,
              job.getName() + ": unexpected outcome " + record);
          Instant last =
              record.hasLastInstant() && record.getInstantCount() > 1
                  ? instant(record.getLastInstant())
                  : first;
          long count = 0;
          for (Instant at = first; !at.isAfter(last); at = at.plusSeconds(step)) {
            covered.computeIfAbsent(at, k -> new ArrayList<>()).add(record);
            count++;
          }
          assertEquals(
              Math.max(1, record.getInstantCount()),
              count,
              job.getName() + ": stretch size " + record);
          byOutcome.merge(record.getOutcome(), (int) count, Integer::sum);
        }
        for (Map.Entry<Instant, List<RunRecord>> entry : covered.entrySet()) {
          if (entry.getValue().size() != 1) {
            fail(
                job.getName()
                    + ": instant "
                    + entry.getKey()
                    + " has "
                    + entry.getValue().size()
                    + " records: "
                    + entry.getValue());
          }
        }
        Instant at = windowStart.truncatedTo(ChronoUnit.SECONDS);
        while (at.getEpochSecond() % step != 0) {
          at = at.plusSeconds(1);
        }
        for (; !at.isAfter(windowEnd); at = at.plusSeconds(step)) {
          instants++;
          if (!covered.containsKey(at)) {
            fail(job.getName() + ": instant " + at + " has no record; ledger " + covered.keySet());
          }
        }
      }
      System.out.println(
          "DispatchOnRealClusterTest: leader "
              + leader
              + " killed, new leader "
              + newLeader
              + "; instants checked "
              + instants
              + "; records by outcome "
              + byOutcome);
      assertTrue(instants >= MIN_INSTANTS, "too few instants observed: " + instants);
      assertTrue(
          byOutcome.getOrDefault(Outcome.OUTCOME_SUCCEEDED, 0) >= instants / 3,
          "most instants should have run: " + byOutcome);
    }
  }

  /**
   * Polls the job's ledger (a condition, not a fixed sleep) until it holds {@code count} records.
   */
  private static void awaitRecords(JobClient client, String job, int count) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (ledger(client, job).size() < count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(job + " recorded fewer than " + count + " runs within 60 s");
      }
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  /** Waits until {@code job} has a record of an instant at or after {@code at}. */
  private static void awaitInstant(JobClient client, String job, Instant at) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (ledger(client, job).stream()
        .noneMatch(
            record ->
                !instant(record.hasLastInstant() ? record.getLastInstant() : record.getInstant())
                    .isBefore(at))) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(job + " recorded no instant at or after " + at + " within 60 s");
      }
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  private static List<RunRecord> ledger(JobClient client, String job) {
    List<RunRecord> records = new ArrayList<>();
    String token = "";
    do {
      ListRunsResponse page = client.listRuns(job, 100, token);
      records.addAll(page.getRecordsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return records;
  }

  private static Instant instant(com.google.protobuf.Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }
}
