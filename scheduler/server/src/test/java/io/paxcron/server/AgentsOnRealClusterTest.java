package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.api.JobClient;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader's side of agent.proto against three real replica processes and two agents speaking
 * the protocol over real gRPC: a follower redirects an agent to the leader; runs are placed by
 * labels; a launch's reports become ledger records; a leader SIGKILL while a run is in flight
 * ends with the new leader adopting it from its live agent (SUCCEEDED, not LOST).
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AgentsOnRealClusterTest {

  @TempDir Path work;

  @Test
  void followerRedirectsLabelsPlaceRunsAndANewLeaderAdoptsARunningRun() throws Exception {
    Files.createDirectories(work.resolve("agents"));
    try (LocalCluster cluster = new LocalCluster(work, 3, List.of("--state-machine", "cron"));
        LogClient probe = cluster.client(1)) {
      cluster.startAll();
      int leader = cluster.awaitLeader(probe, Duration.ofSeconds(60));
      List<String> addresses = cluster.clientAddresses();
      int follower = leader == 1 ? 1 : 0;  // index into addresses of a replica that does not lead
      try (ScriptedAgent east = new ScriptedAgent("east", Map.of("zone", "east"), 4, addresses,
              work.resolve("agents"));
          ScriptedAgent west = new ScriptedAgent("west", Map.of("zone", "west"), 4, addresses,
              work.resolve("agents"))) {
        east.start(follower);
        west.start(follower);
        await("both agents registered", () -> east.registered() && west.registered());
        assertTrue(east.events().stream().anyMatch(event -> event.startsWith("redirect to ")),
            "a follower redirects: " + east.events());

        JobClient client = JobClient.connect(addresses);
        client.put(Job.newBuilder().setName("west-only").setSchedule("* * * * * *")
            .putAgentSelector("zone", "west")
            .setCommand(Job.Command.newBuilder().setShell("echo ran on $PAXCRON_AGENT"))
            .build());
        await("west-only ran three times", () -> ledger(client, "west-only").stream()
            .filter(record -> record.getOutcome() == Outcome.OUTCOME_SUCCEEDED).count() >= 3);
        for (RunRecord record : ledger(client, "west-only")) {
          if (record.getOutcome() == Outcome.OUTCOME_SUCCEEDED) {
            assertEquals("west", record.getAgentId(), "placed by labels: " + record);
          }
        }
        assertTrue(east.events().stream().noneMatch(event -> event.contains("west-only")), east.events()::toString);

        // A run that outlives the leader: at-most-once, so only adoption can make it SUCCEEDED.
        client.put(Job.newBuilder().setName("long").setSchedule("@every 1h")
            .setCommand(Job.Command.newBuilder().setShell("sleep 5")).build());
        client.trigger("long");
        await("long started", () -> east.events().stream().anyMatch(e -> e.startsWith("launch long@"))
            || west.events().stream().anyMatch(e -> e.startsWith("launch long@")));
        cluster.kill(leader);
        int newLeader = cluster.awaitLeader(probe, Duration.ofSeconds(30));
        assertTrue(newLeader != leader);
        await("long recorded", () -> !ledger(client, "long").isEmpty());
        RunRecord record = ledger(client, "long").get(0);
        assertEquals(Outcome.OUTCOME_SUCCEEDED, record.getOutcome(), "adopted, not lost: " + record);
        assertEquals(1, record.getAttempts(), "never launched twice: " + record);
      }
    }
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 60 s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
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
}
