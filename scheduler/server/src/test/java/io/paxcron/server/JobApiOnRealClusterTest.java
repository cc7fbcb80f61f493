package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.api.JobClient;
import io.paxcron.api.JobClientException;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.Job;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job API on real replica processes running the cron state machine: any replica takes calls
 * (the client follows the leader), an acknowledged job survives the leader's SIGKILL, `?` values
 * are chosen once by the leader and kept, and an invalid job is refused naming its fields. Dispatch
 * of runs to agents is covered by {@link DispatchOnRealClusterTest}.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class JobApiOnRealClusterTest {

  @TempDir Path work;

  private static Job job(String name, String schedule) {
    return Job.newBuilder()
        .setName(name)
        .setSchedule(schedule)
        .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
        .build();
  }

  @Test
  void acknowledgedJobsSurviveTheLeadersDeathWithTheirChosenQuestionMarkValues() {
    try (LocalCluster cluster = new LocalCluster(work, 3, List.of("--state-machine", "cron"));
        LogClient probe = cluster.client(1)) {
      cluster.startAll();
      int leader = cluster.awaitLeader(probe, Duration.ofSeconds(60));
      JobClient client = JobClient.connect(cluster.clientAddresses());
      for (int n = 0; n < 20; n++) {
        client.put(job("report-" + n, "? ? * * *"));
      }
      Job before = client.get("report-7");
      assertFalse(before.getResolvedSchedule().contains("?"), before.getResolvedSchedule());

      JobClientException invalid =
          assertThrows(JobClientException.class, () -> client.put(job("bad-job", "0 0 32 * *")));
      assertTrue(invalid.getMessage().contains("schedule"), invalid.getMessage());

      cluster.kill(leader);
      cluster.awaitLeader(probe, Duration.ofSeconds(30));
      assertEquals(20, client.listAll().size());
      Job after = client.get("report-7");
      assertEquals(before.getVersion(), after.getVersion());
      assertEquals(before.getResolvedSchedule(), after.getResolvedSchedule());
    }
  }
}
