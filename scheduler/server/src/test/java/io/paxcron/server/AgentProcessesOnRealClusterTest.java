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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker agent as users run it (issue: agents with a durable fence and restart safety): three
 * replica processes and two {@code paxcron agent} processes with different labels. Every job runs
 * every second (or every four, for a three-second job) and appends {@code runId attempt agent} to
 * its own file with {@code O_APPEND} ({@code >>}). The leader is SIGKILLed, then agent {@code b}
 * while its three-second job runs; both come back on their data dirs.
 *
 * <p>Checked afterwards: no at-most-once run started twice (each run id at most once in the files,
 * always on an agent carrying the job's labels), and every scheduled instant of the observed window
 * has exactly one ledger record.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class AgentProcessesOnRealClusterTest {

  /** Instants younger than this at the end may still be open. */
  private static final Duration SETTLE = Duration.ofSeconds(6);

  @TempDir Path work;

  @Test
  void atMostOnceRunsStartOnceAndEveryInstantHasOneRecordAcrossLeaderAndAgentKills()
      throws Exception {
    Path files = Files.createDirectories(work.resolve("files"));
    try (LocalCluster cluster = new LocalCluster(work.resolve("cluster"), 3, List.of());
        LogClient probe = cluster.client(1)) {
      cluster.startAll();
      int leader = cluster.awaitLeader(probe, Duration.ofSeconds(60));
      cluster.startAgent("agent-a", List.of("--label", "zone=a", "--capacity", "16"));
      cluster.startAgent("agent-b", List.of("--label", "zone=b", "--capacity", "16"));
      List<Job> jobs =
          List.of(
              job("tick-a", "* * * * * *", "zone", "a", append(files, "tick-a")),
              job("tick-b", "* * * * * *", "zone", "b", append(files, "tick-b")),
              // Started on agent-b, still running when agent-b is killed: its wrapper outlives the
              // agent, and the restarted agent reports the outcome it left in the run's directory.
              job(
                  "slow-b",
                  "*/4 * * * * *",
                  "zone",
                  "b",
                  append(files, "slow-b") + " && sleep 3 && " + append(files, "slow-b-done")));
      Map<String, Instant> createdAt = new TreeMap<>();
      try (JobClient client = JobClient.connect(cluster.clientAddresses())) {
        for (Job job : jobs) {
          createdAt.put(job.getName(), Instant.now());
          client.put(job);
        }
        Instant windowStart = Instant.now().plusSeconds(2).truncatedTo(ChronoUnit.SECONDS);

        await("tick-a ran five times", () -> lines(files, "tick-a").size() >= 5);
        cluster.kill(leader);
        int newLeader = cluster.awaitLeader(probe, Duration.ofSeconds(30));
        int afterFailover = lines(files, "tick-b").size();
        await(
            "tick-b runs under the new leader",
            () -> lines(files, "tick-b").size() >= afterFailover + 3);

        // Kill agent-b while slow-b sleeps: its start line is written and its done line is not.
        await(
            "slow-b is running",
            () -> lines(files, "slow-b").size() > lines(files, "slow-b-done").size());
        cluster.killAgent("agent-b");
        cluster.start(leader);
        cluster.startAgent("agent-b", List.of("--label", "zone=b", "--capacity", "16"));
        int beforeReturn = lines(files, "tick-b").size();
        await(
            "the restarted agent-b runs tick-b again",
            () -> lines(files, "tick-b").size() >= beforeReturn + 5);
        // Runs happen in real time: observe at least 25 s of instants, however fast the steps went.
        Instant observedUntil = windowStart.plus(Duration.ofSeconds(25)).plus(SETTLE);
        await("25 s of instants observed", () -> Instant.now().isAfter(observedUntil));
        Instant windowEnd = Instant.now().minus(SETTLE).truncatedTo(ChronoUnit.SECONDS);

        // At most once: every run id appears at most once, on an agent that carries the labels.
        for (Job job : jobs) {
          String name = job.getName();
          Map<String, Integer> starts = new TreeMap<>();
          for (String line : lines(files, name)) {
            String[] words = line.split(" ");
            assertEquals(3, words.length, name + ": malformed line '" + line + "'");
            assertEquals("1", words[1], name + ": an at-most-once run had attempt " + words[1]);
            assertEquals(
                "agent-" + job.getAgentSelectorMap().get("zone"),
                words[2],
                name + ": ran on an agent without its labels");
            starts.merge(words[0], 1, Integer::sum);
          }
          starts.forEach(
              (runId, count) -> assertEquals(1, count, runId + " started " + count + " times"));
        }

        // Every instant of the window: exactly one ledger record.
        Map<Outcome, Integer> byOutcome = new EnumMap<>(Outcome.class);
        int instants = 0;
        for (Job job : jobs) {
          int step = job.getSchedule().startsWith("*/4") ? 4 : 1;
          Map<Instant, List<RunRecord>> covered = new TreeMap<>();
          for (RunRecord record : ledger(client, job.getName())) {
            Instant first = instant(record.getInstant());
            Instant last = record.getInstantCount() > 1 ? instant(record.getLastInstant()) : first;
            for (Instant at = first; !at.isAfter(last); at = at.plusSeconds(step)) {
              covered.computeIfAbsent(at, k -> new ArrayList<>()).add(record);
              byOutcome.merge(record.getOutcome(), 1, Integer::sum);
            }
          }
          Instant at = windowStart;
          while (at.getEpochSecond() % step != 0) {
            at = at.plusSeconds(1);
          }
          for (; !at.isAfter(windowEnd); at = at.plusSeconds(step)) {
            instants++;
            List<RunRecord> records = covered.get(at);
            if (records == null || records.size() != 1) {
              fail(
                  job.getName()
                      + ": instant "
                      + at
                      + " has "
                      + (records == null ? 0 : records.size())
                      + " records; ledger instants "
                      + covered.keySet());
            }
          }
        }
        System.out.println(
            "AgentProcessesOnRealClusterTest: leader "
                + leader
                + " killed (new leader "
                + newLeader
                + "), agent-b killed with slow-b running; "
                + instants
                + " instants checked, records by outcome "
                + byOutcome
                + ", slow-b started "
                + lines(files, "slow-b").size()
                + " finished "
                + lines(files, "slow-b-done").size());
        assertTrue(instants >= 40, "too few instants observed: " + instants);
        assertTrue(
            byOutcome.getOrDefault(Outcome.OUTCOME_SUCCEEDED, 0) >= instants / 2,
            "most instants should have run: " + byOutcome);
      }
    }
  }

  private static Job job(String name, String schedule, String label, String value, String shell) {
    return Job.newBuilder()
        .setName(name)
        .setSchedule(schedule)
        .putAgentSelector(label, value)
        .setConcurrency(Job.Concurrency.CONCURRENCY_ALLOW)
        .setSemantics(Job.Semantics.SEMANTICS_AT_MOST_ONCE)
        .setCommand(Job.Command.newBuilder().setShell(shell))
        .build();
  }

  /** A shell command appending "runId attempt agent" to the file of {@code name}. */
  private static String append(Path files, String name) {
    return "printf '%s %s %s\\n' \"$PAXCRON_RUN_ID\" \"$PAXCRON_ATTEMPT\" \"$PAXCRON_AGENT\" >> '"
        + files.resolve(name + ".log")
        + "'";
  }

  private static List<String> lines(Path files, String name) {
    Path file = files.resolve(name + ".log");
    try {
      return Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      throw new AssertionError("cannot read " + file, e);
    }
  }

  /** Polls a condition on real processes (not a fixed sleep) for up to 90 s. */
  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 90 s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
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
