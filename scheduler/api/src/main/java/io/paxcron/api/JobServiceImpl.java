package io.paxcron.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.paxcron.proto.v1.ApplyJobsRequest;
import io.paxcron.proto.v1.ApplyJobsResponse;
import io.paxcron.proto.v1.ApplyResult;
import io.paxcron.proto.v1.DeleteJobRequest;
import io.paxcron.proto.v1.DeleteJobResponse;
import io.paxcron.proto.v1.GetJobRequest;
import io.paxcron.proto.v1.GetJobResponse;
import io.paxcron.proto.v1.GetRunOutputRequest;
import io.paxcron.proto.v1.GetRunOutputResponse;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.JobServiceGrpc;
import io.paxcron.proto.v1.ListJobsRequest;
import io.paxcron.proto.v1.ListJobsResponse;
import io.paxcron.proto.v1.ListRunsRequest;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.PauseJobRequest;
import io.paxcron.proto.v1.PauseJobResponse;
import io.paxcron.proto.v1.PutJobRequest;
import io.paxcron.proto.v1.PutJobResponse;
import io.paxcron.proto.v1.ResumeJobRequest;
import io.paxcron.proto.v1.ResumeJobResponse;
import io.paxcron.proto.v1.TriggerJobRequest;
import io.paxcron.proto.v1.TriggerJobResponse;
import io.paxcron.proto.v1.WatchRunsRequest;
import io.paxcron.proto.v1.WatchRunsResponse;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronView;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.FieldError;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.JobSpecValidator;
import io.paxcron.scheduler.JobView;
import io.paxcron.scheduler.LedgerRecord;
import io.paxcron.scheduler.RunId;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * {@code JobService} (jobs.proto) over a {@link CronCluster}. Validates every request completely
 * before anything is proposed (DESIGN §1 promise 6), turns each state-changing request into one
 * session command {@code (client_id, request_id)} so that retries are applied once, and answers
 * reads from linearizable reads of the cron state.
 *
 * <p>Threading: gRPC calls it from its executor; it never blocks (everything is a future on the
 * cluster). It reads no clock: the leader stamps writes inside {@link CronCluster#submit}.
 */
public final class JobServiceImpl extends JobServiceGrpc.JobServiceImplBase {
  /** Page size when a request gives none. */
  public static final int DEFAULT_PAGE_SIZE = 100;

  /** Largest page; larger requests are reduced to it. */
  public static final int MAX_PAGE_SIZE = 1000;

  /**
   * Most jobs and deletions one Apply may hold on any replica (the ceiling of the setting {@code
   * max-apply-jobs}): an Apply is one batch in one log command, and a batch holds at most this
   * many.
   */
  public static final int MAX_APPLY_JOBS = JobBatchStateMachine.MAX_BATCH_COMMANDS;

  /**
   * The default of {@code max-apply-jobs}. Large batches are what makes bulk loads fast: a batch
   * costs one log command, one fsync per replica and one round trip however many jobs it holds.
   */
  public static final int DEFAULT_MAX_APPLY_JOBS = MAX_APPLY_JOBS;

  /** Most WatchRuns streams open at once on one replica. */
  public static final int MAX_WATCHES = 1000;

  /** Most records in one WatchRuns message. */
  public static final int MAX_WATCH_BATCH = 500;

  private static final String JOBS_TOKEN = "jobs-after:";
  private static final String RUNS_TOKEN = "runs-before:";

  private final CronCluster cluster;
  private final int maxApplyJobs;
  private final AtomicInteger watches = new AtomicInteger();

  /** A service whose Apply takes up to {@link #DEFAULT_MAX_APPLY_JOBS} entries. */
  public JobServiceImpl(CronCluster cluster) {
    this(cluster, DEFAULT_MAX_APPLY_JOBS);
  }

  /**
   * @param maxApplyJobs most jobs and deletions in one Apply (setting {@code max-apply-jobs},
   *     1..{@link #MAX_APPLY_JOBS})
   */
  public JobServiceImpl(CronCluster cluster, int maxApplyJobs) {
    if (maxApplyJobs < 1 || maxApplyJobs > MAX_APPLY_JOBS) {
      throw new IllegalArgumentException(
          "max-apply-jobs must be 1.." + MAX_APPLY_JOBS + ", got " + maxApplyJobs);
    }
    this.cluster = cluster;
    this.maxApplyJobs = maxApplyJobs;
  }

  // ------------------------------------------------------------------------------------ writes

  @Override
  public void put(PutJobRequest request, StreamObserver<PutJobResponse> response) {
    List<FieldError> errors = sessionErrors(request.getClientId(), request.getRequestId());
    JobSpec spec = null;
    if (!request.hasJob()) {
      errors.add(new FieldError("job", "is required"));
    } else {
      switch (JobProtos.toSpec(request.getJob(), "job")) {
        case JobProtos.Converted.Valid valid -> spec = valid.spec();
        case JobProtos.Converted.Invalid invalid -> errors.addAll(invalid.errors());
      }
    }
    ExpectedVersion expected = expected(request.hasExpectedVersion(), request.getExpectedVersion());
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    String name = spec.name();
    submitOne(
            request.getClientId(),
            request.getRequestId(),
            new JobChange.Put(spec, expected),
            path -> "job." + JobProtos.protoPath(path))
        .thenCompose(
            answer ->
                cluster
                    .read(view -> RequestNames.job(view, name))
                    .thenApply(
                        job -> {
                          PutJobResponse.Builder reply =
                              PutJobResponse.newBuilder()
                                  .setVersion(answer.results().get(0).version());
                          job.ifPresent(view -> reply.setJob(JobProtos.toProto(view)));
                          return reply.build();
                        }))
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void apply(ApplyJobsRequest request, StreamObserver<ApplyJobsResponse> response) {
    List<FieldError> errors = sessionErrors(request.getClientId(), request.getRequestId());
    int count = request.getJobsCount();
    int deletes = request.getDeleteNamesCount();
    if (count + deletes == 0 || count + deletes > maxApplyJobs) {
      errors.add(
          new FieldError(
              "jobs",
              "jobs and delete_names must hold 1.."
                  + maxApplyJobs
                  + " entries together (setting max-apply-jobs), got "
                  + (count + deletes)));
    }
    List<JobChange> changes = new ArrayList<>(count + deletes);
    Map<String, String> pathOf = new HashMap<>();
    for (int i = 0; i < count && i < maxApplyJobs; i++) {
      Job job = request.getJobs(i);
      String earlier = pathOf.putIfAbsent(job.getName(), "jobs[" + i + "]");
      if (earlier != null) {
        errors.add(
            new FieldError(
                "jobs[" + i + "].name",
                "'" + job.getName() + "' appears twice (also " + earlier + ")"));
      }
      switch (JobProtos.toSpec(job, "jobs[" + i + "]")) {
        case JobProtos.Converted.Valid valid ->
            changes.add(
                new JobChange.Put(
                    valid.spec(),
                    request.containsExpectedVersions(job.getName())
                        ? expected(true, request.getExpectedVersionsOrThrow(job.getName()))
                        : ExpectedVersion.ANY));
        case JobProtos.Converted.Invalid invalid -> errors.addAll(invalid.errors());
      }
    }
    for (int i = 0; i < deletes && count + i < maxApplyJobs; i++) {
      String name = request.getDeleteNames(i);
      String path = "delete_names[" + i + "]";
      String earlier = pathOf.putIfAbsent(name, path);
      if (earlier != null) {
        errors.add(new FieldError(path, "'" + name + "' appears twice (also " + earlier + ")"));
      }
      errors.addAll(nameErrors(name, path));
      Long version = request.getExpectedVersionsMap().get(name);
      if (version != null && version == 0) {
        errors.add(
            new FieldError(
                "expected_versions[" + name + "]",
                "0 means 'must not exist', which a"
                    + " delete cannot expect; leave it unset for any version"));
      }
      changes.add(
          new JobChange.Delete(name, expected(version != null, version == null ? 0 : version)));
    }
    for (String name : request.getExpectedVersionsMap().keySet()) {
      if (!pathOf.containsKey(name)) {
        errors.add(
            new FieldError(
                "expected_versions[" + name + "]",
                "no job of that name in jobs or" + " delete_names"));
      }
    }
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    CompletableFuture<ApplyJobsResponse> reply =
        request.getValidateOnly()
            ? cluster.read(view -> checkVersions(view, changes))
            : cluster
                .submit(request.getClientId(), request.getRequestId(), changes)
                .thenApply(answer -> applyResponse(changes, answer));
    reply.whenComplete((result, failure) -> answer(response, result, failure));
  }

  private static ApplyJobsResponse applyResponse(
      List<JobChange> changes, JobBatchStateMachine.Answer answer) {
    List<CommandResult> results = answer.results();
    if (results.size() != changes.size()) {
      throw Status.INTERNAL
          .withDescription(
              "the batch answered "
                  + results.size()
                  + " results for "
                  + changes.size()
                  + " changes")
          .asRuntimeException();
    }
    // Report the most specific failure: an invalid job, then a conflict, then any other refusal.
    for (CommandResult.Status kind :
        List.of(
            CommandResult.Status.MALFORMED,
            CommandResult.Status.INVALID,
            CommandResult.Status.CONFLICT,
            CommandResult.Status.NOT_FOUND,
            CommandResult.Status.REJECTED)) {
      for (int i = 0; i < results.size(); i++) {
        if (results.get(i).status() == kind) {
          int index = i;
          String prefix =
              changes.get(i) instanceof JobChange.Delete
                  ? "delete_names[" + (index - firstDelete(changes)) + "]"
                  : "jobs[" + index + "]";
          throw ApiErrors.forResult(
              changes.get(i).name(),
              withAllConflicts(results, i),
              path -> prefix + "." + JobProtos.protoPath(path));
        }
      }
    }
    ApplyJobsResponse.Builder reply = ApplyJobsResponse.newBuilder();
    for (int i = 0; i < changes.size(); i++) {
      reply.addResults(
          ApplyResult.newBuilder()
              .setName(changes.get(i).name())
              .setVersion(results.get(i).version()));
    }
    return reply.build();
  }

  /** The index of the first delete in {@code changes} (puts come first), or its size. */
  private static int firstDelete(List<JobChange> changes) {
    for (int i = 0; i < changes.size(); i++) {
      if (changes.get(i) instanceof JobChange.Delete) {
        return i;
      }
    }
    return changes.size();
  }

  /**
   * A conflict result whose message names every conflicting job of the batch, not only the first.
   */
  private static CommandResult withAllConflicts(List<CommandResult> results, int first) {
    CommandResult result = results.get(first);
    if (result.status() != CommandResult.Status.CONFLICT) {
      return result;
    }
    StringBuilder message = new StringBuilder(result.message());
    for (int i = first + 1; i < results.size(); i++) {
      if (results.get(i).status() == CommandResult.Status.CONFLICT) {
        message.append("; ").append(results.get(i).message());
      }
    }
    return new CommandResult(
        result.status(), result.version(), message.toString(), result.errors());
  }

  private static ApplyJobsResponse checkVersions(CronView view, List<JobChange> changes) {
    List<CommandResult> results = new ArrayList<>(changes.size());
    for (JobChange change : changes) {
      Optional<JobView> job = RequestNames.job(view, change.name());
      long current = job.map(JobView::version).orElse(0L);
      ExpectedVersion expected =
          switch (change) {
            case JobChange.Put put -> put.expected();
            case JobChange.Delete delete -> delete.expected();
            default ->
                throw new IllegalStateException(
                    "an apply holds puts and deletes only, got " + change);
          };
      boolean matches =
          switch (expected) {
            case ExpectedVersion.Any any -> true;
            case ExpectedVersion.Absent absent -> job.isEmpty();
            case ExpectedVersion.Exactly exactly -> current == exactly.version();
          };
      if (change instanceof JobChange.Delete && job.isEmpty()) {
        results.add(
            new CommandResult(
                CommandResult.Status.NOT_FOUND,
                0,
                "job '" + change.name() + "' does not exist",
                List.of()));
        continue;
      }
      results.add(
          matches
              ? new CommandResult(CommandResult.Status.APPLIED, current, "", List.of())
              : new CommandResult(
                  CommandResult.Status.CONFLICT,
                  current,
                  "job '"
                      + change.name()
                      + "': expected "
                      + describe(expected)
                      + " but the current version is "
                      + current,
                  List.of()));
    }
    return applyResponse(changes, new JobBatchStateMachine.Answer(0, Instant.EPOCH, results));
  }

  private static String describe(ExpectedVersion expected) {
    return switch (expected) {
      case ExpectedVersion.Any any -> "any version";
      case ExpectedVersion.Absent absent -> "no job (version 0)";
      case ExpectedVersion.Exactly exactly -> "version " + exactly.version();
    };
  }

  @Override
  public void delete(DeleteJobRequest request, StreamObserver<DeleteJobResponse> response) {
    List<FieldError> errors = sessionErrors(request.getClientId(), request.getRequestId());
    errors.addAll(nameErrors(request.getName(), "name"));
    if (request.hasExpectedVersion() && request.getExpectedVersion() == 0) {
      errors.add(
          new FieldError(
              "expected_version",
              "0 means 'must not exist', which a delete cannot expect;"
                  + " leave it unset for any version"));
    }
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    submitOne(
            request.getClientId(),
            request.getRequestId(),
            new JobChange.Delete(
                request.getName(),
                expected(request.hasExpectedVersion(), request.getExpectedVersion())),
            JobProtos::protoPath)
        .thenApply(answer -> DeleteJobResponse.newBuilder().setSlot(answer.slot()).build())
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void pause(PauseJobRequest request, StreamObserver<PauseJobResponse> response) {
    List<FieldError> errors = sessionErrors(request.getClientId(), request.getRequestId());
    errors.addAll(nameErrors(request.getName(), "name"));
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    submitOne(
            request.getClientId(),
            request.getRequestId(),
            new JobChange.Pause(request.getName()),
            JobProtos::protoPath)
        .thenApply(
            answer ->
                PauseJobResponse.newBuilder()
                    .setChanged(answer.results().get(0).applied())
                    .setVersion(answer.results().get(0).version())
                    .build())
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void resume(ResumeJobRequest request, StreamObserver<ResumeJobResponse> response) {
    List<FieldError> errors = sessionErrors(request.getClientId(), request.getRequestId());
    errors.addAll(nameErrors(request.getName(), "name"));
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    submitOne(
            request.getClientId(),
            request.getRequestId(),
            new JobChange.Resume(request.getName()),
            JobProtos::protoPath)
        .thenApply(
            answer ->
                ResumeJobResponse.newBuilder()
                    .setChanged(answer.results().get(0).applied())
                    .setVersion(answer.results().get(0).version())
                    .build())
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void trigger(TriggerJobRequest request, StreamObserver<TriggerJobResponse> response) {
    List<FieldError> errors = sessionErrors(request.getClientId(), request.getRequestId());
    errors.addAll(nameErrors(request.getName(), "name"));
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    submitOne(
            request.getClientId(),
            request.getRequestId(),
            new JobChange.Trigger(request.getName()),
            JobProtos::protoPath)
        .thenApply(
            answer -> {
              RunId run =
                  new CronCommand.TriggerJob(JobName.of(request.getName()), answer.stampedAt())
                      .runId();
              return TriggerJobResponse.newBuilder()
                  .setRunId(run.toString())
                  .setInstant(JobProtos.timestamp(run.instant()))
                  .build();
            })
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  /** Submits one change and fails the future with the gRPC error its result calls for. */
  private CompletableFuture<JobBatchStateMachine.Answer> submitOne(
      long clientId, long requestId, JobChange change, UnaryOperator<String> errorPath) {
    return cluster
        .submit(clientId, requestId, List.of(change))
        .thenApply(
            answer -> {
              if (answer.results().size() != 1) {
                throw Status.INTERNAL
                    .withDescription(
                        "one change answered with " + answer.results().size() + " results")
                    .asRuntimeException();
              }
              StatusRuntimeException error =
                  ApiErrors.forResult(change.name(), answer.results().get(0), errorPath);
              if (error != null) {
                throw error;
              }
              return answer;
            });
  }

  // ------------------------------------------------------------------------------------- reads

  @Override
  public void get(GetJobRequest request, StreamObserver<GetJobResponse> response) {
    List<FieldError> errors = nameErrors(request.getName(), "name");
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    cluster
        .read(view -> RequestNames.job(view, request.getName()).map(JobProtos::toProto))
        .thenApply(
            job ->
                GetJobResponse.newBuilder()
                    .setJob(job.orElseThrow(() -> notFound(request.getName())))
                    .build())
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void list(ListJobsRequest request, StreamObserver<ListJobsResponse> response) {
    List<FieldError> errors = new ArrayList<>();
    int pageSize = pageSize(request.getPageSize(), errors);
    String after =
        request.getPageToken().isEmpty()
            ? ""
            : decodeToken(request.getPageToken(), JOBS_TOKEN, errors);
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    // The read only collects the page's views (immutable values) under the lease; building the
    // messages for up to 1,000 jobs happens where the answer completes, off the replica's loop.
    // One more than the page says whether another page follows.
    cluster
        .read(view -> view.jobsAfter(after, pageSize + 1))
        .thenApply(
            page -> {
              ListJobsResponse.Builder reply = ListJobsResponse.newBuilder();
              for (JobView job : page.subList(0, Math.min(pageSize, page.size()))) {
                reply.addJobs(JobProtos.toProto(job));
              }
              if (page.size() > pageSize) {
                reply.setNextPageToken(
                    encodeToken(JOBS_TOKEN, page.get(pageSize - 1).name().value()));
              }
              return reply.build();
            })
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void listRuns(ListRunsRequest request, StreamObserver<ListRunsResponse> response) {
    List<FieldError> errors = new ArrayList<>(nameErrors(request.getJob(), "job"));
    int pageSize = pageSize(request.getPageSize(), errors);
    long before = Long.MAX_VALUE;
    if (!request.getPageToken().isEmpty()) {
      String token =
          decodeToken(request.getPageToken(), RUNS_TOKEN + request.getJob() + "@", errors);
      try {
        before = token.isEmpty() ? before : Long.parseLong(token);
      } catch (NumberFormatException e) {
        errors.add(new FieldError("page_token", "not a token of this job's run list"));
      }
    }
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    long beforeSequence = before;
    cluster
        .read(
            view -> {
              JobName job = JobName.of(request.getJob());
              if (view.job(job).isEmpty()) {
                return Optional.<ListRunsResponse>empty();
              }
              ListRunsResponse.Builder reply = ListRunsResponse.newBuilder();
              if (request.getPageToken().isEmpty()) {
                view.openRuns(job).forEach(run -> reply.addOpenRuns(JobProtos.toProto(run)));
              }
              long last = 0;
              for (LedgerRecord record : view.ledger(job)) {
                if (record.sequence() >= beforeSequence) {
                  continue;
                }
                if (reply.getRecordsCount() == pageSize) {
                  reply.setNextPageToken(
                      encodeToken(RUNS_TOKEN + request.getJob() + "@", Long.toString(last)));
                  break;
                }
                reply.addRecords(JobProtos.toProto(record));
                last = record.sequence();
              }
              return Optional.of(reply.build());
            })
        .thenApply(reply -> reply.orElseThrow(() -> notFound(request.getJob())))
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void watchRuns(WatchRunsRequest request, StreamObserver<WatchRunsResponse> response) {
    if (!request.getJob().isEmpty()) {
      List<FieldError> errors = nameErrors(request.getJob(), "job");
      if (!errors.isEmpty()) {
        response.onError(ApiErrors.invalid(errors));
        return;
      }
    }
    if (watches.incrementAndGet() > MAX_WATCHES) {
      watches.decrementAndGet();
      response.onError(
          Status.RESOURCE_EXHAUSTED
              .withDescription(
                  "this replica serves the maximum of "
                      + MAX_WATCHES
                      + " WatchRuns streams (MAX_WATCHES)")
              .asRuntimeException());
      return;
    }
    new LedgerWatch(
            cluster,
            (ServerCallStreamObserver<WatchRunsResponse>) response,
            request.getJob(),
            request.getAfterSequence(),
            MAX_WATCH_BATCH,
            watches::decrementAndGet)
        .start();
  }

  // ----------------------------------------------------------------------------------- helpers

  /** Largest chunk of output one GetRunOutput returns (agent.proto's GetOutput bound). */
  static final int MAX_OUTPUT_CHUNK_BYTES = 1 << 20;

  /** The chunk size when the request leaves max_bytes at 0. */
  static final int DEFAULT_OUTPUT_CHUNK_BYTES = 64 << 10;

  @Override
  public void getRunOutput(
      GetRunOutputRequest request, StreamObserver<GetRunOutputResponse> response) {
    List<FieldError> errors = new ArrayList<>();
    io.paxcron.scheduler.RunId runId = null;
    try {
      runId = io.paxcron.scheduler.RunId.parse(request.getRunId());
    } catch (IllegalArgumentException e) {
      errors.add(new FieldError("run_id", e.getMessage()));
    }
    if (request.getAttempt() < 0) {
      errors.add(
          new FieldError(
              "attempt", "must be >= 0 (0 means the newest), got " + request.getAttempt()));
    }
    if (Integer.compareUnsigned(request.getMaxBytes(), MAX_OUTPUT_CHUNK_BYTES) > 0) {
      errors.add(
          new FieldError(
              "max_bytes",
              "must be at most "
                  + MAX_OUTPUT_CHUNK_BYTES
                  + ", got "
                  + Integer.toUnsignedString(request.getMaxBytes())));
    }
    if (request.getOffset() < 0) {
      errors.add(
          new FieldError(
              "offset", "must be >= 0, got " + Long.toUnsignedString(request.getOffset())));
    }
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    int maxBytes = request.getMaxBytes() == 0 ? DEFAULT_OUTPUT_CHUNK_BYTES : request.getMaxBytes();
    cluster
        .runOutput(runId, request.getAttempt(), request.getOffset(), maxBytes)
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  private static List<FieldError> sessionErrors(long clientId, long requestId) {
    List<FieldError> errors = new ArrayList<>();
    if (clientId == 0) {
      errors.add(
          new FieldError("client_id", "must be non-zero: a random id the client picks once"));
    }
    if (requestId == 0) {
      errors.add(
          new FieldError("request_id", "must be >= 1: the client numbers its requests 1, 2, 3..."));
    }
    return errors;
  }

  private static List<FieldError> nameErrors(String name, String path) {
    return JobSpecValidator.validateName(name).stream()
        .map(e -> new FieldError(path, e.reason()))
        .toList();
  }

  private static ExpectedVersion expected(boolean present, long version) {
    if (!present) {
      return ExpectedVersion.ANY;
    }
    return version == 0 ? ExpectedVersion.ABSENT : ExpectedVersion.exactly(version);
  }

  private static int pageSize(int requested, List<FieldError> errors) {
    if (requested < 0) {
      errors.add(new FieldError("page_size", "must not be negative, got " + requested));
      return DEFAULT_PAGE_SIZE;
    }
    return requested == 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
  }

  private static String encodeToken(String kind, String position) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((kind + position).getBytes(StandardCharsets.UTF_8));
  }

  /** The position in a page token of {@code kind}, or an error (and "") if it is not one. */
  private static String decodeToken(String token, String kind, List<FieldError> errors) {
    try {
      String text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (text.startsWith(kind)) {
        return text.substring(kind.length());
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    errors.add(new FieldError("page_token", "not a token returned by this call"));
    return "";
  }

  private static StatusRuntimeException notFound(String name) {
    return Status.NOT_FOUND
        .withDescription("job '" + name + "' does not exist")
        .asRuntimeException();
  }

  private static <T> void answer(StreamObserver<T> response, T reply, Throwable failure) {
    if (failure != null) {
      response.onError(ApiErrors.forFailure(failure));
    } else {
      response.onNext(reply);
      response.onCompleted();
    }
  }
}
