package io.paxcron.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.scheduler.FieldError;
import io.paxcron.scheduler.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * JobClient against in-process servers: leader-following, safe retries, typed errors, watching the
 * ledger.
 */
class JobClientTest {
  private static final String TRIGGER = "paxcron.v1.JobService/Trigger";
  private static final String PUT = "paxcron.v1.JobService/Put";
  private static final String GET = "paxcron.v1.JobService/Get";

  private final ApiHarness harness = new ApiHarness();

  @AfterEach
  void close() {
    harness.close();
  }

  @Test
  void clientThatKnowsOnlyAFollowerFollowsTheLeaderTrailer() {
    String follower = harness.startFollower();
    try (JobClient client = harness.client(follower)) {
      long version = client.put(ApiHarness.job("followed", "@daily").build()).getVersion();

      assertEquals(version, client.get("followed").getVersion());
      assertEquals(harness.leaderName, client.target());
      assertEquals(List.of(), harness.backoffs, "a redirect is followed at once");
    }
  }

  @Test
  void lostAnswerIsRetriedWithTheSameRequestIdAndAppliedOnce() {
    try (JobClient client = harness.client(harness.leaderName)) {
      harness.loseAnswers(PUT, 1);
      long created = client.put(ApiHarness.job("lossy", "@hourly").build(), 0).getVersion();
      harness.loseAnswers(TRIGGER, 2);
      String runId = client.trigger("lossy").getRunId();

      assertEquals(
          created,
          client.get("lossy").getVersion(),
          "the create-only put did not conflict with itself");
      var runs = client.listRuns("lossy", 0, "");
      assertEquals(1, runs.getOpenRunsCount(), "one manual run, not three");
      assertEquals(runId, runs.getOpenRuns(0).getRunId());
      assertEquals(3, harness.backoffs.size());
    }
  }

  @Test
  void invalidRequestThrowsEveryFieldViolation() {
    try (JobClient client = harness.client(harness.leaderName)) {
      Job bad =
          ApiHarness.job("ok-name", "61 * * * *")
              .setRetries(Job.Retries.newBuilder().setMaxAttempts(3))
              .putAgentSelector("zone", "bad value!")
              .build();

      var error =
          assertThrows(JobClientException.InvalidRequestException.class, () -> client.put(bad));

      assertEquals(
          List.of("job.schedule", "job.agent_selector[zone]", "job.retries.max_attempts"),
          error.violations().stream().map(FieldError::path).toList());
      assertTrue(error.violations().get(2).reason().contains("at-least-once"));
      assertEquals(List.of(), harness.backoffs, "an invalid request is not retried");
    }
  }

  @Test
  void conflictAndMissingJobThrowTypedExceptions() {
    try (JobClient client = harness.client(harness.leaderName)) {
      long version = client.put(ApiHarness.job("typed", "@hourly").build()).getVersion();

      var conflict =
          assertThrows(
              JobClientException.VersionConflictException.class,
              () -> client.put(ApiHarness.job("typed", "@daily").build(), 0));
      var missing =
          assertThrows(JobClientException.JobNotFoundException.class, () -> client.delete("nope"));

      assertEquals("typed", conflict.job());
      assertEquals(version, conflict.currentVersion());
      assertEquals(Status.Code.NOT_FOUND, missing.code());
    }
  }

  @Test
  void clientGivesUpAfterItsAttemptsWithCappedBackoff() {
    try (JobClient client = harness.client(harness.leaderName)) {
      client.put(ApiHarness.job("unreachable", "@hourly").build());
      harness.loseAnswers(GET, 100);

      var error =
          assertThrows(
              JobClientException.UnavailableException.class, () -> client.get("unreachable"));

      assertEquals(Status.Code.UNAVAILABLE, error.code());
      assertEquals(4, harness.backoffs.size(), "5 attempts, 4 waits");
      for (Duration wait : harness.backoffs) {
        assertTrue(wait.compareTo(Duration.ofSeconds(1)) <= 0, "capped: " + wait);
      }
      assertTrue(
          harness.backoffs.get(3).compareTo(Duration.ofMillis(200)) >= 0,
          "grows: " + harness.backoffs);
    }
  }

  @Test
  void applyThroughTheClientWritesAllJobs() {
    try (JobClient client = harness.client(harness.leaderName)) {
      client.apply(
          List.of(ApiHarness.job("a", "@daily").build(), ApiHarness.job("b", "@weekly").build()),
          Map.of("a", 0L, "b", 0L));

      assertEquals(List.of("a", "b"), client.listAll().stream().map(Job::getName).toList());
    }
  }

  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void watchDeliversLedgerRecordsAsTheyAreRecordedFromAGivenPosition() {
    try (JobClient client = harness.client(harness.leaderName)) {
      client.put(
          ApiHarness.job("watched", "@every 10s")
              .setConcurrency(Job.Concurrency.CONCURRENCY_ALLOW)
              .build());
      harness.clock.advance(Duration.ofSeconds(10));
      harness.finishDueRuns("watched", Outcome.SUCCEEDED);

      RunRecord first;
      try (RunWatch watch = client.watchRuns("", 0)) {
        first = watch.next();
        assertEquals(io.paxcron.proto.v1.Outcome.OUTCOME_SUCCEEDED, first.getOutcome());

        harness.clock.advance(Duration.ofSeconds(10));
        harness.finishDueRuns("watched", Outcome.failed(7));
        RunRecord second = watch.next();

        assertEquals(7, second.getExitCode());
        assertTrue(second.getSequence() > first.getSequence());
      }
      try (RunWatch resumed = client.watchRuns("watched", first.getSequence())) {
        assertEquals(
            7, resumed.next().getExitCode(), "records up to the position are not repeated");
      }
    }
  }

  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void watchOpenedOnAFollowerMovesToTheLeader() {
    String follower = harness.startFollower();
    try (JobClient client = harness.client(follower)) {
      client.put(ApiHarness.job("remote", "@every 10s").build());
      harness.clock.advance(Duration.ofSeconds(10));
      harness.finishDueRuns("remote", Outcome.SUCCEEDED);

      try (RunWatch watch = client.watchRuns("remote", 0)) {
        assertEquals("SUCCEEDED", watch.next().getOutcomeText());
      }
      assertEquals(harness.leaderName, client.target());
    }
  }

  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void watchSendsAStretchOfSkipsAgainWhenItGrows() {
    try (JobClient client = harness.client(harness.leaderName)) {
      client.put(ApiHarness.job("sleepy", "@every 10s").build());
      client.pause("sleepy");
      harness.clock.advance(Duration.ofSeconds(20));
      harness.finishDueRuns("sleepy", Outcome.SUCCEEDED);

      try (RunWatch watch = client.watchRuns("sleepy", 0)) {
        RunRecord first = watch.next();
        harness.clock.advance(Duration.ofSeconds(30));
        harness.finishDueRuns("sleepy", Outcome.SUCCEEDED);
        RunRecord grown = watch.next();

        assertEquals(2, first.getInstantCount());
        assertEquals(first.getSequence(), grown.getSequence());
        assertEquals(5, grown.getInstantCount());
      }
    }
  }

  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void aWatchOfEveryJobFollowsNewAndGrownRecordsAfterItsFirstDelivery() {
    try (JobClient client = harness.client(harness.leaderName)) {
      client.put(ApiHarness.job("sleepy", "@every 10s").build());
      client.pause("sleepy");
      client.put(
          ApiHarness.job("busy", "@every 10s")
              .setConcurrency(Job.Concurrency.CONCURRENCY_ALLOW)
              .build());
      harness.clock.advance(Duration.ofSeconds(10));
      harness.finishDueRuns("busy", Outcome.SUCCEEDED);

      try (RunWatch watch = client.watchRuns("", 0)) {
        // The first delivery reads every job's ledger; the later ones only what changed.
        List<String> first = List.of(text(watch.next()), text(watch.next()));
        assertEquals(
            List.of("busy SUCCEEDED x1", "sleepy SKIPPED(PAUSED) x1"),
            first.stream().sorted().toList());
        harness.clock.advance(Duration.ofSeconds(10));
        harness.finishDueRuns("busy", Outcome.failed(3));
        List<String> next = List.of(text(watch.next()), text(watch.next()));
        assertEquals(
            List.of("busy FAILED(3) x1", "sleepy SKIPPED(PAUSED) x2"),
            next.stream().sorted().toList());
      }
    }
  }

  private static String text(RunRecord record) {
    return record.getRunId().substring(0, record.getRunId().indexOf('@'))
        + " "
        + record.getOutcomeText()
        + " x"
        + record.getInstantCount();
  }
}
