package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.api.JobClient;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.Job;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every replica of a real cluster serves /metrics, /healthz and /readyz on its HTTP port: the
 * etcd-style consensus families and the scheduler's own exist, and they move as the cluster works
 * (a run increments the outcome counter, a paused job's skips increment its reason's).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class MetricsOnRealClusterTest {

  @TempDir Path work;

  static final List<String> FAMILIES =
      List.of(
          "paxcron_server_has_leader",
          "paxcron_server_is_leader",
          "paxcron_server_leader_changes_seen_total",
          "paxcron_server_proposals_committed_total",
          "paxcron_server_proposals_applied_total",
          "paxcron_server_proposals_pending",
          "paxcron_server_proposals_failed_total",
          "paxcron_disk_wal_fsync_duration_seconds_bucket",
          "paxcron_network_peer_round_trip_time_seconds_bucket",
          "paxcron_server_slot_chosen",
          "paxcron_server_slot_applied",
          "paxcron_snapshot_slot",
          "paxcron_snapshot_size_bytes",
          "paxcron_snapshot_last_taken_timestamp_seconds",
          "paxcron_backup_last_success_timestamp_seconds",
          "paxcron_runs_total",
          "paxcron_launch_lateness_seconds_bucket",
          "paxcron_runs_in_flight",
          "paxcron_jobs",
          "paxcron_jobs_question_mark_resolved",
          "paxcron_agents");

  /** Sample lines of the text format: "name{labels}" to value. */
  static Map<String, Double> parse(String text) {
    Map<String, Double> samples = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
    return samples;
  }

  static double sum(Map<String, Double> samples, String prefix) {
    return samples.entrySet().stream()
        .filter(e -> e.getKey().startsWith(prefix))
        .mapToDouble(Map.Entry::getValue)
        .sum();
  }

  @Test
  void everyReplicaExportsTheFamiliesAndTheyMoveAsRunsAreRecorded() {
    try (LocalCluster cluster = new LocalCluster(work, 3, List.of("--state-machine", "cron"));
        LogClient log = cluster.client(1)) {
      cluster.startAll();
      int leader = cluster.awaitLeader(log, Duration.ofSeconds(60));
      cluster.startAgent("metrics-agent", List.of("--capacity", "16"));
      String leaderUrl = cluster.members().get(leader).httpUrl();
      try (JobClient client = JobClient.connect(cluster.clientAddresses())) {
        client.put(
            Job.newBuilder()
                .setName("ticker")
                .setSchedule("* * * * * *")
                .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
                .build());
        client.put(
            Job.newBuilder()
                .setName("spread")
                .setSchedule("? ? * * *")
                .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
                .build());

        HttpProbe.await(
            leaderUrl + "/metrics",
            Duration.ofSeconds(60),
            answer ->
                answer.status() == 200
                    && sum(parse(answer.body()), "paxcron_runs_total{outcome=\"SUCCEEDED\"") >= 1);
        Map<String, Double> first = parse(HttpProbe.get(leaderUrl + "/metrics").body());
        for (String family : FAMILIES) {
          assertTrue(
              first.keySet().stream().anyMatch(name -> name.startsWith(family)),
              family + " is missing from /metrics of replica " + leader + ": " + first.keySet());
        }
        assertEquals(1.0, first.get("paxcron_server_has_leader"));
        assertEquals(1.0, first.get("paxcron_server_is_leader"));
        assertTrue(first.get("paxcron_server_leader_changes_seen_total") >= 1);
        assertEquals(1.0, first.get("paxcron_jobs_question_mark_resolved"));
        assertTrue(first.get("paxcron_disk_wal_fsync_duration_seconds_count") > 0);
        assertTrue(
            sum(first, "paxcron_network_peer_round_trip_time_seconds_count") > 0,
            "the leader measured no round trip to its peers");

        // Counters move: more runs, more chosen and applied slots, more syncs. The run counter
        // follows the ledger a moment behind the slots, so a run can be counted after the first
        // read without a new slot: wait for both to move.
        double runs = sum(first, "paxcron_runs_total{outcome=\"SUCCEEDED\"");
        double committed = first.get("paxcron_server_proposals_committed_total");
        Map<String, Double> later =
            parse(
                HttpProbe.await(
                        leaderUrl + "/metrics",
                        Duration.ofSeconds(30),
                        answer -> {
                          if (answer.status() != 200) {
                            return false;
                          }
                          Map<String, Double> now = parse(answer.body());
                          return sum(now, "paxcron_runs_total{outcome=\"SUCCEEDED\"") > runs
                              && now.get("paxcron_server_proposals_committed_total") > committed;
                        })
                    .body());
        assertTrue(later.get("paxcron_server_proposals_committed_total") > committed);
        assertTrue(later.get("paxcron_server_proposals_applied_total") > committed - 1);
        assertTrue(later.get("paxcron_launch_lateness_seconds_count") >= 1);

        // A paused job's instants are recorded SKIPPED(PAUSED), and the reason's counter moves.
        client.pause("ticker");
        HttpProbe.await(
            leaderUrl + "/metrics",
            Duration.ofSeconds(30),
            answer ->
                sum(
                        parse(answer.body()),
                        "paxcron_runs_total{outcome=\"SKIPPED\",reason=\"PAUSED\"}")
                    >= 1);

        for (LocalCluster.Member member : cluster.members().values()) {
          Map<String, Double> samples = parse(HttpProbe.get(member.httpUrl() + "/metrics").body());
          assertEquals(
              member.id() == leader ? 1.0 : 0.0,
              samples.get("paxcron_server_is_leader"),
              "is_leader of replica " + member.id());
          assertEquals(1.0, samples.get("paxcron_server_has_leader"));
          HttpProbe.Answer live = HttpProbe.get(member.httpUrl() + "/healthz");
          assertEquals(200, live.status(), live.body());
          assertTrue(live.body().contains("\"loopMillis\""), live.body());
          HttpProbe.await(
              member.httpUrl() + "/readyz",
              Duration.ofSeconds(10),
              answer -> answer.status() == 200);
        }
      }
    }
  }

  @Test
  void theJsonApiNamesTheBadFieldAndRefusesActionsWithoutTheHeader() {
    try (LocalCluster cluster = new LocalCluster(work, 3, List.of("--state-machine", "cron"));
        LogClient log = cluster.client(1)) {
      cluster.startAll();
      cluster.awaitLeader(log, Duration.ofSeconds(60));
      String url = cluster.members().get(2).httpUrl();
      try (JobClient client = JobClient.connect(cluster.clientAddresses())) {
        client.put(
            Job.newBuilder()
                .setName("nightly")
                .setSchedule("0 3 * * *")
                .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
                .build());
      }
      HttpProbe.Answer badSize = HttpProbe.get(url + "/api/jobs?size=100000");
      assertEquals(400, badSize.status(), badSize.body());
      assertTrue(badSize.body().contains("\"field\":\"size\""), badSize.body());

      HttpProbe.Answer noHeader = HttpProbe.post(url + "/api/job/pause?name=nightly", false);
      assertEquals(403, noHeader.status(), noHeader.body());

      HttpProbe.Answer missing = HttpProbe.post(url + "/api/job/pause?name=no-such-job", true);
      assertEquals(409, missing.status(), missing.body());
      assertTrue(missing.body().contains("no-such-job"), missing.body());

      HttpProbe.Answer paused = HttpProbe.post(url + "/api/job/pause?name=nightly", true);
      assertEquals(200, paused.status(), paused.body());
      HttpProbe.await(
          url + "/api/jobs?state=paused",
          Duration.ofSeconds(10),
          answer -> answer.body().contains("\"name\":\"nightly\""));

      HttpProbe.Answer notFound = HttpProbe.get(url + "/api/job?name=no-such-job");
      assertEquals(404, notFound.status(), notFound.body());
    }
  }
}
