package io.paxcron.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.proto.v1.SkipReason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PaxcronMetricsTest {

  private static String scrape(PaxcronMetrics metrics) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    metrics.scrape("text/plain", out);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void countsLeaderChangesOncePerNewLeader() throws IOException {
    PaxcronMetrics metrics = new PaxcronMetrics(false);
    metrics.onLeaderChanged(2);
    metrics.onLeaderChanged(-1);
    metrics.onLeaderChanged(2);
    metrics.onLeaderChanged(3);
    assertTrue(
        scrape(metrics).contains("paxcron_server_leader_changes_seen_total 2.0"), scrape(metrics));
  }

  @Test
  void ledgerRecordsCountByOutcomeAndReasonAndFeedLateness() throws IOException {
    PaxcronMetrics metrics = new PaxcronMetrics(true);
    metrics.onRecord(
        RunRecord.newBuilder()
            .setJob("a")
            .setOutcome(Outcome.OUTCOME_SKIPPED)
            .setSkipReason(SkipReason.SKIP_REASON_OVERLAP)
            .setInstantCount(4)
            .build(),
        4);
    metrics.onRecord(
        RunRecord.newBuilder()
            .setJob("a")
            .setOutcome(Outcome.OUTCOME_SUCCEEDED)
            .setInstant(Timestamp.newBuilder().setSeconds(100))
            .setStartedAt(Timestamp.newBuilder().setSeconds(100).setNanos(300_000_000))
            .build(),
        1);
    metrics.sample(
        new PaxcronMetrics.Sample(
            new ReplicaProbe.View(1, "LEADER", 1, 8, 7, 0, false),
            List.of(),
            Optional.of(
                new JobCatalog.Read(
                    List.of(
                        Job.newBuilder()
                            .setName("a")
                            .setPaused(true)
                            .putChosen("minute", 3)
                            .build()),
                    0,
                    1))));
    String text = scrape(metrics);
    assertTrue(
        text.contains("paxcron_runs_total{outcome=\"SKIPPED\",reason=\"OVERLAP\"} 4.0"), text);
    assertTrue(text.contains("paxcron_runs_total{outcome=\"SUCCEEDED\",reason=\"\"} 1.0"), text);
    assertTrue(text.contains("paxcron_launch_lateness_seconds_bucket{le=\"0.512\"} 1"), text);
    assertTrue(text.contains("paxcron_launch_lateness_seconds_bucket{le=\"0.256\"} 0"), text);
    assertTrue(text.contains("paxcron_server_is_leader 1.0"), text);
    assertTrue(text.contains("paxcron_server_slot_chosen 7.0"), text);
    assertTrue(text.contains("paxcron_jobs{state=\"paused\"} 1.0"), text);
    assertTrue(text.contains("paxcron_jobs_question_mark_resolved 1.0"), text);
    assertTrue(text.contains("paxcron_job_spec_suspend{job=\"a\"} 1.0"), text);
    assertTrue(text.contains("paxcron_job_last_successful_time_seconds{job=\"a\"} 100.0"), text);
  }

  @Test
  void theJobGaugesComeFromTheTotalsTheStateMachineKeptWithoutAJobList() throws IOException {
    PaxcronMetrics metrics = new PaxcronMetrics(false);
    metrics.sample(
        new PaxcronMetrics.Sample(
            new ReplicaProbe.View(2, "FOLLOWER", -1, 8, 7, 0, false),
            List.of(),
            Optional.empty(),
            Optional.empty(),
            Optional.of(new ReplicaProbe.JobTotals(1_000_000, 250, 600_000, 42))));
    String text = scrape(metrics);
    assertTrue(text.contains("paxcron_jobs{state=\"active\"} 999750.0"), text);
    assertTrue(text.contains("paxcron_jobs{state=\"paused\"} 250.0"), text);
    assertTrue(text.contains("paxcron_jobs_question_mark_resolved 600000.0"), text);
    assertTrue(text.contains("paxcron_runs_in_flight 42.0"), text);
  }

  @Test
  void membersByRoleChangesAndTheLeadersViewOfEachMembersLag() throws IOException {
    PaxcronMetrics metrics = new PaxcronMetrics(false);
    metrics.onMembershipChanges(1);
    metrics.onMembershipChanges(2);
    metrics.onQuorumPeersChanged(List.of(4), "replica 2 answered slowly");
    metrics.sample(
        new PaxcronMetrics.Sample(
            new ReplicaProbe.View(1, "LEADER", 1, 8, 7, 0, false),
            List.of(),
            Optional.empty(),
            Optional.of(
                new ReplicaProbe.Members(
                    List.of(
                        new ReplicaProbe.Member(1, "voter", "h:1", 0),
                        new ReplicaProbe.Member(2, "voter", "h:2", 3),
                        new ReplicaProbe.Member(4, "learner", "h:4", 1500),
                        new ReplicaProbe.Member(5, "voter", "h:5", -1)),
                    "replica 4 promoted to voter: voters [1, 2, 4, 5] from slot 40"))));
    String text = scrape(metrics);
    assertTrue(text.contains("paxcron_members{role=\"voter\"} 3.0"), text);
    assertTrue(text.contains("paxcron_members{role=\"learner\"} 1.0"), text);
    assertTrue(text.contains("paxcron_membership_changes_total 3.0"), text);
    assertTrue(text.contains("paxcron_quorum_peer_changes_total 1.0"), text);
    assertTrue(text.contains("paxcron_membership_change_in_progress 1.0"), text);
    assertTrue(
        text.contains("paxcron_member_lag_slots{member=\"4\",role=\"learner\"} 1500.0"), text);
    assertTrue(text.contains("paxcron_member_lag_slots{member=\"2\",role=\"voter\"} 3.0"), text);
    assertTrue(!text.contains("member=\"5\""), "an unknown lag exports no series: " + text);
  }
}
