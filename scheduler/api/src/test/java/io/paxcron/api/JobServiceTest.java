package io.paxcron.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.paxcron.proto.v1.ApplyJobsRequest;
import io.paxcron.proto.v1.ClusterServiceGrpc;
import io.paxcron.proto.v1.ClusterStatusRequest;
import io.paxcron.proto.v1.DeleteJobRequest;
import io.paxcron.proto.v1.FieldViolation;
import io.paxcron.proto.v1.GetJobRequest;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.JobServiceGrpc;
import io.paxcron.proto.v1.ListJobsRequest;
import io.paxcron.proto.v1.ListJobsResponse;
import io.paxcron.proto.v1.ListRunsRequest;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.MembersRequest;
import io.paxcron.proto.v1.MembersResponse;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.PauseJobRequest;
import io.paxcron.proto.v1.PutJobRequest;
import io.paxcron.proto.v1.PutJobResponse;
import io.paxcron.proto.v1.ResumeJobRequest;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.proto.v1.SkipReason;
import io.paxcron.proto.v1.TriggerJobRequest;
import io.paxcron.proto.v1.TriggerJobResponse;
import io.paxcron.proto.v1.VersionConflict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** JobService over gRPC (in-process) on a real cron state machine, called through raw stubs. */
class JobServiceTest {
  private static final long CLIENT = 42;

  private final ApiHarness harness = new ApiHarness();
  private final JobServiceGrpc.JobServiceBlockingStub jobs = harness.stub();
  private long requestId;

  @AfterEach
  void close() {
    harness.close();
  }

  private PutJobResponse put(Job.Builder job) {
    return jobs.put(
        PutJobRequest.newBuilder()
            .setClientId(CLIENT)
            .setRequestId(++requestId)
            .setJob(job)
            .build());
  }

  private static com.google.protobuf.Duration seconds(long seconds) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(seconds).build();
  }

  private static List<String> violatedFields(StatusRuntimeException error) {
    return error.getTrailers().get(ApiErrors.FIELD_VIOLATIONS_TRAILER).getViolationsList().stream()
        .map(FieldViolation::getField)
        .toList();
  }

  @Test
  void putThenGetReturnsTheWholeDefinitionWithVersionAndResolvedSchedule() {
    Job.Builder full =
        ApiHarness.job("nightly-backup", "? ? * * *")
            .setSyntax(Job.Syntax.SYNTAX_VIXIE)
            .setZone("Europe/Berlin")
            .setDstPolicy(
                Job.DstPolicy.newBuilder()
                    .setGap(Job.DstPolicy.Gap.GAP_SKIP)
                    .setOverlap(Job.DstPolicy.Overlap.OVERLAP_RUN_TWICE))
            .setCommand(Job.Command.newBuilder().setShell("pg_dump main > /backups/main.sql"))
            .putEnv("PGHOST", "db-1")
            .setWorkingDirectory("/var/backups")
            .putAgentSelector("zone", "eu-1")
            .setTimeout(seconds(1800))
            .setRetries(
                Job.Retries.newBuilder()
                    .setMaxAttempts(3)
                    .setBackoffBase(seconds(5))
                    .setBackoffMax(seconds(60))
                    .setJitterPercent(0))
            .setConcurrency(Job.Concurrency.CONCURRENCY_REPLACE)
            .setMisfire(
                Job.Misfire.newBuilder()
                    .setMode(Job.Misfire.Mode.MODE_RUN_ALL)
                    .setWindow(seconds(600))
                    .setMaxCount(3))
            .setSemantics(Job.Semantics.SEMANTICS_AT_LEAST_ONCE)
            .setHistoryRetention(50);

    PutJobResponse created = put(full);
    Job stored = jobs.get(GetJobRequest.newBuilder().setName("nightly-backup").build()).getJob();

    assertTrue(created.getVersion() > 0);
    assertEquals(created.getVersion(), stored.getVersion());
    assertEquals(created.getVersion(), stored.getCreatedVersion());
    assertEquals(
        full.build(),
        stored.toBuilder()
            .clearVersion()
            .clearCreatedVersion()
            .clearResolvedSchedule()
            .clearChosen()
            .clearNextDue()
            .clearOpenRuns()
            .clearLedgerRecords()
            .build());
    assertFalse(stored.getResolvedSchedule().contains("?"), stored.getResolvedSchedule());
    assertEquals(2, stored.getChosenCount(), stored.getChosenMap().toString());
    assertTrue(
        stored.getChosenMap().containsKey("minute") && stored.getChosenMap().containsKey("hour"));
    assertTrue(stored.hasNextDue());
  }

  @Test
  void absentFieldsTakeTheDocumentedDefaults() {
    put(ApiHarness.job("defaults", "*/5 * * * *"));

    Job stored = jobs.get(GetJobRequest.newBuilder().setName("defaults").build()).getJob();

    assertEquals("UTC", stored.getZone());
    assertEquals(Duration.ofHours(1).toSeconds(), stored.getTimeout().getSeconds());
    assertEquals(1, stored.getRetries().getMaxAttempts());
    assertEquals(Job.Concurrency.CONCURRENCY_FORBID, stored.getConcurrency());
    assertEquals(Job.Misfire.Mode.MODE_RUN_ONCE, stored.getMisfire().getMode());
    assertEquals(Job.Semantics.SEMANTICS_AT_MOST_ONCE, stored.getSemantics());
    assertEquals(100, stored.getHistoryRetention());
    assertEquals("*/5 * * * *", stored.getResolvedSchedule());
  }

  @Test
  void listPagesThroughJobsInNameOrderAndDeleteRemovesAJob() {
    for (String name : List.of("charlie", "alpha", "delta", "bravo")) {
      put(ApiHarness.job(name, "@hourly"));
    }
    List<String> names = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      ListJobsResponse page =
          jobs.list(ListJobsRequest.newBuilder().setPageSize(3).setPageToken(token).build());
      page.getJobsList().forEach(job -> names.add(job.getName()));
      token = page.getNextPageToken();
      pages++;
    } while (!token.isEmpty());
    assertEquals(List.of("alpha", "bravo", "charlie", "delta"), names);
    assertEquals(2, pages);

    jobs.delete(
        DeleteJobRequest.newBuilder()
            .setClientId(CLIENT)
            .setRequestId(++requestId)
            .setName("bravo")
            .build());

    StatusRuntimeException missing =
        assertThrows(
            StatusRuntimeException.class,
            () -> jobs.get(GetJobRequest.newBuilder().setName("bravo").build()));
    assertEquals(Status.Code.NOT_FOUND, missing.getStatus().getCode());
    assertEquals(3, jobs.list(ListJobsRequest.getDefaultInstance()).getJobsCount());
    StatusRuntimeException again =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                jobs.delete(
                    DeleteJobRequest.newBuilder()
                        .setClientId(CLIENT)
                        .setRequestId(++requestId)
                        .setName("bravo")
                        .build()));
    assertEquals(Status.Code.NOT_FOUND, again.getStatus().getCode());
  }

  @Test
  void invalidJobIsRejectedWithEveryFieldPathAndNothingIsProposed() {
    Job.Builder bad =
        ApiHarness.job("Bad_Name", "0 0 32 * *")
            .putEnv("PAXCRON_RUN_ID", "x")
            .setWorkingDirectory("relative/dir")
            .setTimeout(seconds(0))
            .setRetries(Job.Retries.newBuilder().setMaxAttempts(0))
            .setMisfire(Job.Misfire.newBuilder().setMaxCount(5000));
    long slotsBefore = harness.cluster.slots();

    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> put(bad));

    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertEquals(
        List.of(
            "job.name",
            "job.schedule",
            "job.env[PAXCRON_RUN_ID]",
            "job.working_directory",
            "job.timeout",
            "job.retries.max_attempts",
            "job.misfire.max_count"),
        violatedFields(error));
    assertTrue(
        error.getStatus().getDescription().contains("job.schedule: column 5"),
        error.getStatus().getDescription());
    assertEquals(slotsBefore, harness.cluster.slots());
    assertEquals(0, jobs.list(ListJobsRequest.getDefaultInstance()).getJobsCount());
  }

  @Test
  void commandWithBothArgvAndShellAndAMissingSessionAreReportedTogether() {
    Job.Builder both =
        ApiHarness.job("both", "@daily")
            .setCommand(Job.Command.newBuilder().addArgv("/bin/echo").setShell("echo hi"));

    StatusRuntimeException error =
        assertThrows(
            StatusRuntimeException.class,
            () -> jobs.put(PutJobRequest.newBuilder().setJob(both).build()));

    assertEquals(List.of("client_id", "request_id", "job.command"), violatedFields(error));
  }

  @Test
  void applyWithOneInvalidJobChangesNothing() {
    put(ApiHarness.job("existing", "@hourly"));
    long versionBefore =
        jobs.get(GetJobRequest.newBuilder().setName("existing").build()).getJob().getVersion();
    ApplyJobsRequest request =
        ApplyJobsRequest.newBuilder()
            .setClientId(CLIENT)
            .setRequestId(++requestId)
            .addJobs(ApiHarness.job("existing", "@daily"))
            .addJobs(ApiHarness.job("fresh", "*/10 * * * *"))
            .addJobs(ApiHarness.job("broken", "0 0 * * * * * *"))
            .addJobs(ApiHarness.job("also-broken", "@reboot").setHistoryRetention(0))
            .build();

    StatusRuntimeException error =
        assertThrows(StatusRuntimeException.class, () -> jobs.apply(request));

    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertEquals(
        List.of("jobs[2].schedule", "jobs[3].schedule", "jobs[3].history_retention"),
        violatedFields(error));
    Job existing = jobs.get(GetJobRequest.newBuilder().setName("existing").build()).getJob();
    assertEquals("@hourly", existing.getSchedule());
    assertEquals(versionBefore, existing.getVersion());
    assertEquals(1, jobs.list(ListJobsRequest.getDefaultInstance()).getJobsCount());
  }

  @Test
  void applyWithOneStaleVersionChangesNothingAndNamesTheCurrentVersion() {
    long current = put(ApiHarness.job("shared", "@hourly")).getVersion();
    ApplyJobsRequest request =
        ApplyJobsRequest.newBuilder()
            .setClientId(CLIENT)
            .setRequestId(++requestId)
            .addJobs(ApiHarness.job("new-one", "@daily"))
            .addJobs(ApiHarness.job("shared", "@daily"))
            .putExpectedVersions("new-one", 0)
            .putExpectedVersions("shared", current + 5)
            .build();

    StatusRuntimeException error =
        assertThrows(StatusRuntimeException.class, () -> jobs.apply(request));

    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    VersionConflict conflict = error.getTrailers().get(ApiErrors.CONFLICT_TRAILER);
    assertEquals("shared", conflict.getJob());
    assertEquals(current, conflict.getCurrentVersion());
    assertTrue(error.getStatus().getDescription().contains("current version is " + current));
    StatusRuntimeException absent =
        assertThrows(
            StatusRuntimeException.class,
            () -> jobs.get(GetJobRequest.newBuilder().setName("new-one").build()));
    assertEquals(Status.Code.NOT_FOUND, absent.getStatus().getCode());
  }

  @Test
  void applyWithValidateOnlyChecksVersionsAndWritesNothing() {
    long current = put(ApiHarness.job("checked", "@hourly")).getVersion();
    long slotsBefore = harness.cluster.slots();
    ApplyJobsRequest.Builder request =
        ApplyJobsRequest.newBuilder()
            .setClientId(CLIENT)
            .setRequestId(++requestId)
            .setValidateOnly(true)
            .addJobs(ApiHarness.job("checked", "@daily"))
            .addJobs(ApiHarness.job("unborn", "@daily"));

    var ok =
        jobs.apply(
            request
                .putExpectedVersions("checked", current)
                .putExpectedVersions("unborn", 0)
                .build());
    StatusRuntimeException stale =
        assertThrows(
            StatusRuntimeException.class,
            () -> jobs.apply(request.putExpectedVersions("unborn", 3).build()));

    assertEquals(
        List.of(current, 0L), ok.getResultsList().stream().map(r -> r.getVersion()).toList());
    assertEquals(Status.Code.FAILED_PRECONDITION, stale.getStatus().getCode());
    assertEquals(0, stale.getTrailers().get(ApiErrors.CONFLICT_TRAILER).getCurrentVersion());
    assertEquals(slotsBefore, harness.cluster.slots());
    assertEquals(
        "@hourly",
        jobs.get(GetJobRequest.newBuilder().setName("checked").build()).getJob().getSchedule());
  }

  @Test
  void applyWritesEveryJobInOneSlot() {
    var response =
        jobs.apply(
            ApplyJobsRequest.newBuilder()
                .setClientId(CLIENT)
                .setRequestId(++requestId)
                .addJobs(ApiHarness.job("one", "@daily"))
                .addJobs(ApiHarness.job("two", "? * * * *"))
                .putExpectedVersions("one", 0)
                .build());

    assertEquals(2, response.getResultsCount());
    assertEquals(response.getResults(0).getVersion(), response.getResults(1).getVersion());
    assertEquals(2, jobs.list(ListJobsRequest.getDefaultInstance()).getJobsCount());
  }

  @Test
  void applyOfTheDefaultMaximumWritesEveryJobInOneSlotAndOneMoreIsRefusedNamingTheSetting() {
    ApplyJobsRequest.Builder full =
        ApplyJobsRequest.newBuilder().setClientId(CLIENT).setRequestId(++requestId);
    for (int i = 0; i < JobServiceImpl.DEFAULT_MAX_APPLY_JOBS; i++) {
      full.addJobs(ApiHarness.job(String.format("bulk-%04d", i), "? ? * * *"));
    }
    var response = jobs.apply(full.build());
    assertEquals(JobServiceImpl.DEFAULT_MAX_APPLY_JOBS, response.getResultsCount());
    assertEquals(
        1,
        response.getResultsList().stream().map(r -> r.getVersion()).distinct().count(),
        "one slot");

    ApplyJobsRequest.Builder tooMany =
        full.setRequestId(++requestId).addJobs(ApiHarness.job("one-too-many", "@daily"));
    StatusRuntimeException error =
        assertThrows(StatusRuntimeException.class, () -> jobs.apply(tooMany.build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertTrue(
        error.getStatus().getDescription().contains("setting max-apply-jobs"),
        error.getStatus().getDescription());
    assertEquals(
        JobServiceImpl.DEFAULT_MAX_APPLY_JOBS,
        jobs.list(ListJobsRequest.newBuilder().setPageSize(1000).build()).getJobsCount());
  }

  @Test
  void maxApplyJobsOutsideItsRangeIsRefusedNamingTheSetting() {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> new JobServiceImpl(harness.cluster, JobServiceImpl.MAX_APPLY_JOBS + 1));
    assertEquals("max-apply-jobs must be 1..1000, got 1001", error.getMessage());
  }

  @Test
  void applyDeletesNamedJobsInTheSameSlotAsItsPuts() {
    long old = put(ApiHarness.job("old", "@hourly")).getVersion();
    var response =
        jobs.apply(
            ApplyJobsRequest.newBuilder()
                .setClientId(CLIENT)
                .setRequestId(++requestId)
                .addJobs(ApiHarness.job("new", "@daily"))
                .addDeleteNames("old")
                .putExpectedVersions("new", 0)
                .putExpectedVersions("old", old)
                .build());

    assertEquals(
        List.of("new", "old"), response.getResultsList().stream().map(r -> r.getName()).toList());
    assertEquals(response.getResults(0).getVersion(), response.getResults(1).getVersion());
    assertEquals(
        List.of("new"),
        jobs.list(ListJobsRequest.getDefaultInstance()).getJobsList().stream()
            .map(Job::getName)
            .toList());
  }

  @Test
  void applyWithAStaleDeleteChangesNothing() {
    long old = put(ApiHarness.job("old", "@hourly")).getVersion();
    ApplyJobsRequest request =
        ApplyJobsRequest.newBuilder()
            .setClientId(CLIENT)
            .setRequestId(++requestId)
            .addJobs(ApiHarness.job("new", "@daily"))
            .addDeleteNames("old")
            .putExpectedVersions("old", old + 7)
            .build();

    StatusRuntimeException error =
        assertThrows(StatusRuntimeException.class, () -> jobs.apply(request));

    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    assertEquals(
        List.of("old"),
        jobs.list(ListJobsRequest.getDefaultInstance()).getJobsList().stream()
            .map(Job::getName)
            .toList());
  }

  @Test
  void applyRefusesADeleteExpectedToBeAbsentAndANameListedTwice() {
    StatusRuntimeException error =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                jobs.apply(
                    ApplyJobsRequest.newBuilder()
                        .setClientId(CLIENT)
                        .setRequestId(++requestId)
                        .addJobs(ApiHarness.job("twice", "@daily"))
                        .addDeleteNames("twice")
                        .addDeleteNames("gone")
                        .putExpectedVersions("gone", 0)
                        .build()));

    assertEquals(List.of("delete_names[0]", "expected_versions[gone]"), violatedFields(error));
  }

  @Test
  void putWithAStaleExpectedVersionIsRefusedNamingTheCurrentVersion() {
    long first = put(ApiHarness.job("contended", "@hourly")).getVersion();
    long second =
        jobs.put(
                PutJobRequest.newBuilder()
                    .setClientId(CLIENT)
                    .setRequestId(++requestId)
                    .setJob(ApiHarness.job("contended", "@daily"))
                    .setExpectedVersion(first)
                    .build())
            .getVersion();

    StatusRuntimeException error =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                jobs.put(
                    PutJobRequest.newBuilder()
                        .setClientId(CLIENT)
                        .setRequestId(++requestId)
                        .setJob(ApiHarness.job("contended", "@weekly"))
                        .setExpectedVersion(first)
                        .build()));

    assertNotEquals(first, second);
    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    assertEquals(
        "job 'contended': expected version " + first + " but the current version is " + second,
        error.getStatus().getDescription());
    assertEquals(second, error.getTrailers().get(ApiErrors.CONFLICT_TRAILER).getCurrentVersion());
    assertEquals(
        "@daily",
        jobs.get(GetJobRequest.newBuilder().setName("contended").build()).getJob().getSchedule());
  }

  @Test
  void retriedCreateWithTheSameRequestIdIsAppliedOnceAndGetsTheFirstAnswer() {
    PutJobRequest create =
        PutJobRequest.newBuilder()
            .setClientId(CLIENT)
            .setRequestId(++requestId)
            .setJob(ApiHarness.job("once", "@hourly"))
            .setExpectedVersion(0)
            .build();

    long first = jobs.put(create).getVersion();
    harness.clock.advance(Duration.ofSeconds(3));
    long retried = jobs.put(create).getVersion();

    // Applied twice, the create-only put would have been a conflict; the session answers the first
    // result.
    assertEquals(first, retried);
    assertEquals(
        first, jobs.get(GetJobRequest.newBuilder().setName("once").build()).getJob().getVersion());
  }

  @Test
  void retriedTriggerWithTheSameRequestIdStartsOneRun() {
    put(ApiHarness.job("manual", "@yearly"));
    TriggerJobRequest trigger =
        TriggerJobRequest.newBuilder()
            .setClientId(CLIENT)
            .setRequestId(++requestId)
            .setName("manual")
            .build();

    TriggerJobResponse first = jobs.trigger(trigger);
    harness.clock.advance(Duration.ofSeconds(1));
    TriggerJobResponse retried = jobs.trigger(trigger);

    assertEquals(first, retried);
    assertEquals("manual@" + ApiHarness.START + "/manual", first.getRunId());
    ListRunsResponse runs = jobs.listRuns(ListRunsRequest.newBuilder().setJob("manual").build());
    assertEquals(1, runs.getOpenRunsCount());
    assertEquals(first.getRunId(), runs.getOpenRuns(0).getRunId());
    assertEquals(0, runs.getRecordsCount());
  }

  @Test
  void requestIdOlderThanTheSessionsLatestIsRefused() {
    put(ApiHarness.job("first", "@hourly"));
    put(ApiHarness.job("second", "@hourly"));

    StatusRuntimeException error =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                jobs.put(
                    PutJobRequest.newBuilder()
                        .setClientId(CLIENT)
                        .setRequestId(1)
                        .setJob(ApiHarness.job("first", "@daily"))
                        .build()));

    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    assertEquals(
        "@hourly",
        jobs.get(GetJobRequest.newBuilder().setName("first").build()).getJob().getSchedule());
  }

  @Test
  void pauseSkipsDueInstantsResumeRunsThemAgainAndTriggerObeysForbid() {
    put(ApiHarness.job("ticker", "@every 10s"));

    var paused =
        jobs.pause(
            PauseJobRequest.newBuilder()
                .setClientId(CLIENT)
                .setRequestId(++requestId)
                .setName("ticker")
                .build());
    var pausedAgain =
        jobs.pause(
            PauseJobRequest.newBuilder()
                .setClientId(CLIENT)
                .setRequestId(++requestId)
                .setName("ticker")
                .build());
    harness.clock.advance(Duration.ofSeconds(30));
    harness.finishDueRuns("ticker", io.paxcron.scheduler.Outcome.SUCCEEDED);
    assertTrue(jobs.get(GetJobRequest.newBuilder().setName("ticker").build()).getJob().getPaused());
    var resumed =
        jobs.resume(
            ResumeJobRequest.newBuilder()
                .setClientId(CLIENT)
                .setRequestId(++requestId)
                .setName("ticker")
                .build());
    harness.clock.advance(Duration.ofSeconds(10));
    int finished = harness.finishDueRuns("ticker", io.paxcron.scheduler.Outcome.SUCCEEDED);

    assertTrue(paused.getChanged());
    assertFalse(pausedAgain.getChanged());
    assertTrue(resumed.getChanged());
    assertEquals(1, finished);
    List<RunRecord> records =
        jobs.listRuns(ListRunsRequest.newBuilder().setJob("ticker").build()).getRecordsList();
    assertEquals(Outcome.OUTCOME_SUCCEEDED, records.get(0).getOutcome());
    assertEquals(Outcome.OUTCOME_SKIPPED, records.get(1).getOutcome());
    assertEquals(SkipReason.SKIP_REASON_PAUSED, records.get(1).getSkipReason());
    assertEquals(3, records.get(1).getInstantCount());
    assertEquals("SKIPPED(PAUSED)", records.get(1).getOutcomeText());

    // A manual run while another run of a forbid job is open is recorded SKIPPED(OVERLAP).
    jobs.trigger(
        TriggerJobRequest.newBuilder()
            .setClientId(CLIENT)
            .setRequestId(++requestId)
            .setName("ticker")
            .build());
    harness.clock.advance(Duration.ofSeconds(1));
    TriggerJobResponse second =
        jobs.trigger(
            TriggerJobRequest.newBuilder()
                .setClientId(CLIENT)
                .setRequestId(++requestId)
                .setName("ticker")
                .build());
    RunRecord newest =
        jobs.listRuns(ListRunsRequest.newBuilder().setJob("ticker").build()).getRecords(0);
    assertEquals(second.getRunId(), newest.getRunId());
    assertEquals(SkipReason.SKIP_REASON_OVERLAP, newest.getSkipReason());
  }

  @Test
  void pauseOfAMissingJobIsNotFound() {
    StatusRuntimeException error =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                jobs.pause(
                    PauseJobRequest.newBuilder()
                        .setClientId(CLIENT)
                        .setRequestId(++requestId)
                        .setName("ghost")
                        .build()));

    assertEquals(Status.Code.NOT_FOUND, error.getStatus().getCode());
  }

  @Test
  void listRunsPagesThroughTheLedgerNewestFirst() {
    put(ApiHarness.job("pager", "@every 10s").setConcurrency(Job.Concurrency.CONCURRENCY_ALLOW));
    for (int i = 0; i < 5; i++) {
      harness.clock.advance(Duration.ofSeconds(10));
      assertEquals(1, harness.finishDueRuns("pager", io.paxcron.scheduler.Outcome.failed(i + 1)));
    }

    List<RunRecord> seen = new ArrayList<>();
    List<Integer> pageSizes = new ArrayList<>();
    String token = "";
    do {
      ListRunsResponse page =
          jobs.listRuns(
              ListRunsRequest.newBuilder()
                  .setJob("pager")
                  .setPageSize(2)
                  .setPageToken(token)
                  .build());
      seen.addAll(page.getRecordsList());
      pageSizes.add(page.getRecordsCount());
      token = page.getNextPageToken();
    } while (!token.isEmpty());

    assertEquals(List.of(2, 2, 1), pageSizes);
    assertEquals(List.of(5, 4, 3, 2, 1), seen.stream().map(RunRecord::getExitCode).toList());
    for (int i = 1; i < seen.size(); i++) {
      assertTrue(seen.get(i - 1).getSequence() > seen.get(i).getSequence());
    }
    StatusRuntimeException foreign =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                jobs.listRuns(
                    ListRunsRequest.newBuilder()
                        .setJob("other")
                        .setPageToken(firstToken())
                        .build()));
    assertEquals(List.of("page_token"), violatedFields(foreign));
  }

  private String firstToken() {
    return jobs.listRuns(ListRunsRequest.newBuilder().setJob("pager").setPageSize(1).build())
        .getNextPageToken();
  }

  @Test
  void followerAnswersNotLeaderWithTheLeaderTrailer() {
    String follower = harness.startFollower();

    StatusRuntimeException error =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                harness
                    .stub(follower)
                    .put(
                        PutJobRequest.newBuilder()
                            .setClientId(CLIENT)
                            .setRequestId(1)
                            .setJob(ApiHarness.job("redirected", "@daily"))
                            .build()));

    assertEquals(Status.Code.FAILED_PRECONDITION, error.getStatus().getCode());
    assertEquals("1=" + harness.leaderName, error.getTrailers().get(ApiErrors.LEADER_TRAILER));
  }

  @Test
  void clusterServiceReportsStatusAndMembersOfTheAnsweringReplica() {
    String follower = harness.startFollower();
    var cluster = ClusterServiceGrpc.newBlockingStub(harness.channel(follower));

    var status = cluster.status(ClusterStatusRequest.getDefaultInstance());
    MembersResponse members = cluster.members(MembersRequest.getDefaultInstance());

    assertEquals(2, status.getReplicaId());
    assertEquals("FOLLOWER", status.getRole());
    assertEquals(harness.leaderName, status.getLeaderAddress());
    assertEquals(2, members.getMembersCount());
    assertTrue(members.getMembers(0).getLeader());
    assertTrue(members.getMembers(1).getSelf());
  }
}
