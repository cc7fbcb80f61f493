package io.paxcron.api;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.paxcron.proto.v1.ApplyJobsRequest;
import io.paxcron.proto.v1.ApplyJobsResponse;
import io.paxcron.proto.v1.ClusterServiceGrpc;
import io.paxcron.proto.v1.ClusterStatusRequest;
import io.paxcron.proto.v1.ClusterStatusResponse;
import io.paxcron.proto.v1.DeleteJobRequest;
import io.paxcron.proto.v1.DeleteJobResponse;
import io.paxcron.proto.v1.FieldViolations;
import io.paxcron.proto.v1.GetJobRequest;
import io.paxcron.proto.v1.GetRunOutputRequest;
import io.paxcron.proto.v1.GetRunOutputResponse;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.JobServiceGrpc;
import io.paxcron.proto.v1.ListJobsRequest;
import io.paxcron.proto.v1.ListJobsResponse;
import io.paxcron.proto.v1.ListRunsRequest;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.MembersRequest;
import io.paxcron.proto.v1.MembersResponse;
import io.paxcron.proto.v1.PauseJobRequest;
import io.paxcron.proto.v1.PauseJobResponse;
import io.paxcron.proto.v1.PutJobRequest;
import io.paxcron.proto.v1.PutJobResponse;
import io.paxcron.proto.v1.ResumeJobRequest;
import io.paxcron.proto.v1.ResumeJobResponse;
import io.paxcron.proto.v1.TriggerJobRequest;
import io.paxcron.proto.v1.TriggerJobResponse;
import io.paxcron.proto.v1.VersionConflict;
import io.paxcron.scheduler.CronLimits;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * A blocking Java client of the job API that follows the leader and retries safely.
 *
 * <p><b>Sessions.</b> The client is one Paxos client session: {@code clientId} (pick it with {@link
 * #randomClientId()}; never share it between live clients) and a request id that grows by one per
 * state-changing call. A retry of a call — after a timeout, UNAVAILABLE, or a redirect to the
 * leader — reuses the call's request id, so the cluster applies it once and answers the retry with
 * the first answer. State-changing calls are therefore serialized on this object (the session
 * remembers one answer); reads run concurrently.
 *
 * <p><b>Leader-following and retries.</b> A FAILED_PRECONDITION answer with the {@code
 * paxcron-leader} trailer sends the next attempt to the leader it names, at once. UNAVAILABLE,
 * DEADLINE_EXCEEDED (each attempt has {@link Settings#callTimeout()}), RESOURCE_EXHAUSTED and
 * ABORTED move to the next address after a capped exponential backoff with jitter. At most {@link
 * Settings#maxAttempts()} attempts per call.
 *
 * <p><b>Errors</b> are {@link JobClientException}s: {@link
 * JobClientException.InvalidRequestException} with every field violation, {@link
 * JobClientException.JobNotFoundException}, {@link JobClientException.VersionConflictException}
 * with the current version, {@link JobClientException.RejectedException}, and {@link
 * JobClientException.UnavailableException} when the attempts are used up. Thread-safe.
 */
public final class JobClient implements AutoCloseable {
  /** Largest {@link Settings#maxAttempts()} accepted. */
  public static final int MAX_ATTEMPTS_LIMIT = 100;

  /**
   * Most pages {@link #listAll()} reads (enough for {@link CronLimits#MAX_JOBS_CEILING} jobs, the
   * most any cluster may be set to hold).
   */
  public static final int MAX_LIST_PAGES =
      CronLimits.MAX_JOBS_CEILING / JobServiceImpl.MAX_PAGE_SIZE + 1;

  /**
   * How the client times and repeats attempts.
   *
   * @param callTimeout the deadline of each attempt
   * @param maxAttempts attempts per call, 1..{@link #MAX_ATTEMPTS_LIMIT}
   * @param initialBackoff wait before the second attempt
   * @param maxBackoff the cap of the doubling wait
   */
  public record Settings(
      Duration callTimeout, int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    public static final Settings DEFAULT =
        new Settings(Duration.ofSeconds(5), 10, Duration.ofMillis(50), Duration.ofSeconds(2));

    public Settings {
      Objects.requireNonNull(callTimeout, "callTimeout");
      Objects.requireNonNull(initialBackoff, "initialBackoff");
      Objects.requireNonNull(maxBackoff, "maxBackoff");
      if (callTimeout.isNegative() || callTimeout.isZero()) {
        throw new IllegalArgumentException("callTimeout must be positive, got " + callTimeout);
      }
      if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
        throw new IllegalArgumentException(
            "maxAttempts must be 1.."
                + MAX_ATTEMPTS_LIMIT
                + " (MAX_ATTEMPTS_LIMIT), got "
                + maxAttempts);
      }
      if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException(
            "backoff must satisfy 0 <= initialBackoff <= maxBackoff, got "
                + initialBackoff
                + " and "
                + maxBackoff);
      }
    }
  }

  /** Waits between attempts; tests pass one that records instead of waiting. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;

    Sleeper SYSTEM = duration -> TimeUnit.NANOSECONDS.sleep(duration.toNanos());
  }

  private final long clientId;
  private final List<String> addresses;
  private final Function<String, ManagedChannel> channelFactory;
  private final Settings settings;
  private final Sleeper sleeper;
  private final RandomGenerator jitter;
  private final Map<String, ManagedChannel> channels = new LinkedHashMap<>();
  private final Object session = new Object();
  private long nextRequestId = 1;
  private String target;
  private int rotation;

  /**
   * @param clientId this client's session id, non-zero and unique among live clients
   * @param addresses the replicas' client API addresses; the first is tried first
   * @param channelFactory opens a channel to an address (the client closes the channels it opened)
   * @param jitter spreads the backoff; seed it for reproducible tests
   */
  public JobClient(
      long clientId,
      List<String> addresses,
      Function<String, ManagedChannel> channelFactory,
      Settings settings,
      Sleeper sleeper,
      RandomGenerator jitter) {
    if (clientId == 0) {
      throw new IllegalArgumentException("clientId must be non-zero");
    }
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("addresses: at least one replica address is needed");
    }
    this.clientId = clientId;
    this.addresses = List.copyOf(addresses);
    this.channelFactory = Objects.requireNonNull(channelFactory, "channelFactory");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    this.jitter = Objects.requireNonNull(jitter, "jitter");
    this.target = this.addresses.get(0);
  }

  /** A client over plaintext TCP with default settings and a random client id. */
  public static JobClient connect(List<String> addresses) {
    long clientId = randomClientId();
    return new JobClient(
        clientId,
        addresses,
        address -> NettyChannelBuilder.forTarget(address).usePlaintext().build(),
        Settings.DEFAULT,
        Sleeper.SYSTEM,
        RandomGeneratorFactory.<RandomGenerator>of("L64X128MixRandom").create(clientId));
  }

  /** A fresh non-zero session id (64 random bits make collisions between clients negligible). */
  public static long randomClientId() {
    long id;
    do {
      id = new SecureRandom().nextLong();
    } while (id == 0);
    return id;
  }

  public long clientId() {
    return clientId;
  }

  /** The address the next call goes to first (the leader, once one has been learned). */
  public synchronized String target() {
    return target;
  }

  // ------------------------------------------------------------------------------------ writes

  /** Creates or replaces {@code job} whatever its current version. */
  public PutJobResponse put(Job job) {
    return write(
        "Put",
        (stub, id) ->
            stub.put(
                PutJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setJob(job)
                    .build()));
  }

  /**
   * Creates or replaces {@code job} if it is at {@code expectedVersion} (0: only if it does not
   * exist).
   */
  public PutJobResponse put(Job job, long expectedVersion) {
    return write(
        "Put",
        (stub, id) ->
            stub.put(
                PutJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setJob(job)
                    .setExpectedVersion(expectedVersion)
                    .build()));
  }

  /** Writes every job or none; {@code expectedVersions} as in {@link #put(Job, long)}, per name. */
  public ApplyJobsResponse apply(List<Job> jobs, Map<String, Long> expectedVersions) {
    return write(
        "Apply",
        (stub, id) ->
            stub.apply(
                ApplyJobsRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .addAllJobs(jobs)
                    .putAllExpectedVersions(expectedVersions)
                    .build()));
  }

  /**
   * Writes every job and deletes every named job, or does nothing; {@code expectedVersions} as in
   * {@link #put(Job, long)}, per name (for a delete: N >= 1, or absent for any version).
   */
  public ApplyJobsResponse apply(
      List<Job> jobs, List<String> deleteNames, Map<String, Long> expectedVersions) {
    return write(
        "Apply",
        (stub, id) ->
            stub.apply(
                ApplyJobsRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .addAllJobs(jobs)
                    .addAllDeleteNames(deleteNames)
                    .putAllExpectedVersions(expectedVersions)
                    .build()));
  }

  /** Checks every expected version of such an apply against the current state; writes nothing. */
  public ApplyJobsResponse validateApply(
      List<Job> jobs, List<String> deleteNames, Map<String, Long> expectedVersions) {
    return write(
        "Apply",
        (stub, id) ->
            stub.apply(
                ApplyJobsRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .addAllJobs(jobs)
                    .addAllDeleteNames(deleteNames)
                    .putAllExpectedVersions(expectedVersions)
                    .setValidateOnly(true)
                    .build()));
  }

  public DeleteJobResponse delete(String name) {
    return write(
        "Delete",
        (stub, id) ->
            stub.delete(
                DeleteJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setName(name)
                    .build()));
  }

  public DeleteJobResponse delete(String name, long expectedVersion) {
    return write(
        "Delete",
        (stub, id) ->
            stub.delete(
                DeleteJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setName(name)
                    .setExpectedVersion(expectedVersion)
                    .build()));
  }

  public PauseJobResponse pause(String name) {
    return write(
        "Pause",
        (stub, id) ->
            stub.pause(
                PauseJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setName(name)
                    .build()));
  }

  public ResumeJobResponse resume(String name) {
    return write(
        "Resume",
        (stub, id) ->
            stub.resume(
                ResumeJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setName(name)
                    .build()));
  }

  public TriggerJobResponse trigger(String name) {
    return write(
        "Trigger",
        (stub, id) ->
            stub.trigger(
                TriggerJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setName(name)
                    .build()));
  }

  /** One attempt of an {@code AccessService} call (docs/security.md). */
  public interface AccessCall<T> {
    T attempt(
        io.paxcron.proto.v1.AccessServiceGrpc.AccessServiceBlockingStub stub,
        long clientId,
        long requestId);
  }

  /**
   * An {@code AccessService} call with this client's leader-following and retries; a write uses the
   * session's next request id for all its attempts, a read gets 0.
   */
  public <T> T access(String what, boolean write, AccessCall<T> call) {
    Function<Channel, T> attempt;
    if (!write) {
      return call(what, channel -> call.attempt(accessStub(channel), clientId, 0));
    }
    synchronized (session) {
      long requestId = nextRequestId++;
      attempt = channel -> call.attempt(accessStub(channel), clientId, requestId);
      return call(what, attempt);
    }
  }

  private io.paxcron.proto.v1.AccessServiceGrpc.AccessServiceBlockingStub accessStub(
      Channel channel) {
    return io.paxcron.proto.v1.AccessServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(settings.callTimeout().toNanos(), TimeUnit.NANOSECONDS);
  }

  // ------------------------------------------------------------------------------------- reads

  public Job get(String name) {
    return call(
        "Get",
        channel -> jobStub(channel).get(GetJobRequest.newBuilder().setName(name).build()).getJob());
  }

  public ListJobsResponse list(int pageSize, String pageToken) {
    return call(
        "List",
        channel ->
            jobStub(channel)
                .list(
                    ListJobsRequest.newBuilder()
                        .setPageSize(pageSize)
                        .setPageToken(pageToken)
                        .build()));
  }

  /** Every job, in name order, page by page (the pages are separate reads). */
  public List<Job> listAll() {
    List<Job> all = new ArrayList<>();
    String token = "";
    for (int page = 0; page < MAX_LIST_PAGES; page++) {
      ListJobsResponse response = list(JobServiceImpl.MAX_PAGE_SIZE, token);
      all.addAll(response.getJobsList());
      token = response.getNextPageToken();
      if (token.isEmpty()) {
        return all;
      }
    }
    throw new IllegalStateException(
        "more than " + MAX_LIST_PAGES + " pages (MAX_LIST_PAGES) of jobs");
  }

  public ListRunsResponse listRuns(String job, int pageSize, String pageToken) {
    return call(
        "ListRuns",
        channel ->
            jobStub(channel)
                .listRuns(
                    ListRunsRequest.newBuilder()
                        .setJob(job)
                        .setPageSize(pageSize)
                        .setPageToken(pageToken)
                        .build()));
  }

  /**
   * One piece of a run's output as the agent that ran it keeps it.
   *
   * @param attempt the attempt, 0 for the newest
   * @param offset the first byte wanted
   * @param maxBytes at most this many bytes, 0 for the server's default
   */
  public GetRunOutputResponse runOutput(String runId, int attempt, long offset, int maxBytes) {
    return call(
        "GetRunOutput",
        channel ->
            jobStub(channel)
                .getRunOutput(
                    GetRunOutputRequest.newBuilder()
                        .setRunId(runId)
                        .setAttempt(attempt)
                        .setOffset(offset)
                        .setMaxBytes(maxBytes)
                        .build()));
  }

  /**
   * Ledger records of {@code job} (every job if empty) recorded after {@code afterSequence}, as
   * they come.
   */
  public RunWatch watchRuns(String job, long afterSequence) {
    return new RunWatch(this, job, afterSequence);
  }

  public ClusterStatusResponse status() {
    return call(
        "Status",
        channel ->
            ClusterServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(settings.callTimeout().toNanos(), TimeUnit.NANOSECONDS)
                .status(ClusterStatusRequest.getDefaultInstance()));
  }

  /**
   * Asks the leader to take a backup now and waits for it (up to {@code timeout}, since an upload
   * can take longer than an ordinary call).
   */
  public io.paxcron.proto.v1.BackupResponse backup(Duration timeout) {
    return call(
        "Backup",
        channel ->
            ClusterServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .backup(io.paxcron.proto.v1.BackupRequest.getDefaultInstance()));
  }

  public MembersResponse members() {
    return call(
        "Members",
        channel ->
            ClusterServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(settings.callTimeout().toNanos(), TimeUnit.NANOSECONDS)
                .members(MembersRequest.getDefaultInstance()));
  }

  /**
   * Asks the leader for one membership change and waits (up to {@code timeout}) until it is in
   * effect; a refusal is a {@link JobClientException} carrying the leader's reason.
   */
  public io.paxcron.proto.v1.ChangeMembersResponse changeMembers(
      io.paxcron.proto.v1.ChangeMembersRequest request, Duration timeout) {
    return call(
        "ChangeMembers",
        channel ->
            ClusterServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .changeMembers(request));
  }

  // ----------------------------------------------------------------------------------- helpers

  private interface Write<T> {
    T attempt(JobServiceGrpc.JobServiceBlockingStub stub, long requestId);
  }

  /**
   * One state-changing call: one request id for all its attempts, one call at a time per session.
   */
  private <T> T write(String what, Write<T> write) {
    synchronized (session) {
      long requestId = nextRequestId++;
      return call(what, channel -> write.attempt(jobStub(channel), requestId));
    }
  }

  private JobServiceGrpc.JobServiceBlockingStub jobStub(Channel channel) {
    return JobServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(settings.callTimeout().toNanos(), TimeUnit.NANOSECONDS);
  }

  /** What to do after a failed attempt. */
  enum Next {
    /** Try the leader the answer named, at once. */
    FOLLOW_LEADER,
    /** Wait, then try the next address. */
    RETRY,
    /** Give up: the answer is final. */
    FAIL
  }

  /**
   * Runs attempts of one call against the current target until an answer, a final error or the
   * attempt limit.
   */
  <T> T call(String what, Function<Channel, T> attempt) {
    StatusRuntimeException last = null;
    int waits = 0;
    boolean followedLeader = false;
    for (int attemptNumber = 1; attemptNumber <= settings.maxAttempts(); attemptNumber++) {
      String address = target();
      try {
        return attempt.apply(channel(address));
      } catch (StatusRuntimeException e) {
        last = e;
        Next next = next(e, address);
        if (next == Next.FAIL) {
          throw translate(what, e);
        }
        // Follow a redirect at once, but only once in a row: two replicas naming each other
        // (an election in progress) must not turn into a busy loop.
        boolean immediate = next == Next.FOLLOW_LEADER && !followedLeader;
        followedLeader = next == Next.FOLLOW_LEADER;
        if (!immediate && attemptNumber < settings.maxAttempts()) {
          waits++;
          Duration retryAfter = retryAfter(e);
          if (retryAfter != null) {
            pause(retryAfter);
          } else {
            backoff(waits);
          }
        }
      }
    }
    throw new JobClientException.UnavailableException(
        last.getStatus().getCode(),
        what
            + ": no answer after "
            + settings.maxAttempts()
            + " attempts; last: "
            + last.getStatus(),
        last);
  }

  /**
   * Classifies a failed attempt and moves the target: to the leader a not-leader answer names, or
   * to the next address after a transient error.
   */
  Next next(StatusRuntimeException error, String address) {
    Status.Code code = error.getStatus().getCode();
    String leader = leaderAddress(error.getTrailers());
    if (code == Status.Code.FAILED_PRECONDITION && leader != null) {
      synchronized (this) {
        target = leader;
      }
      return leader.equals(address) ? Next.RETRY : Next.FOLLOW_LEADER;
    }
    boolean transientError =
        code == Status.Code.UNAVAILABLE
            || code == Status.Code.DEADLINE_EXCEEDED
            || code == Status.Code.RESOURCE_EXHAUSTED
            || code == Status.Code.ABORTED;
    if (!transientError) {
      return Next.FAIL;
    }
    synchronized (this) {
      if (target.equals(address)) {
        target = addresses.get(++rotation % addresses.size());
      }
    }
    return Next.RETRY;
  }

  private static String leaderAddress(Metadata trailers) {
    String hint = trailers == null ? null : trailers.get(ApiErrors.LEADER_TRAILER);
    if (hint == null) {
      return null;
    }
    int equals = hint.indexOf('=');
    String address = equals < 0 ? hint : hint.substring(equals + 1);
    return address.isEmpty() ? null : address;
  }

  static JobClientException translate(String what, StatusRuntimeException error) {
    Status status = error.getStatus();
    String message = what + ": " + status.getCode() + ": " + status.getDescription();
    Metadata trailers = error.getTrailers() == null ? new Metadata() : error.getTrailers();
    return switch (status.getCode()) {
      case INVALID_ARGUMENT -> {
        FieldViolations violations = trailers.get(ApiErrors.FIELD_VIOLATIONS_TRAILER);
        yield new JobClientException.InvalidRequestException(
            message, violations == null ? List.of() : JobProtos.fromProto(violations), error);
      }
      case NOT_FOUND -> new JobClientException.JobNotFoundException(message, error);
      case FAILED_PRECONDITION -> {
        VersionConflict conflict = trailers.get(ApiErrors.CONFLICT_TRAILER);
        yield conflict != null
            ? new JobClientException.VersionConflictException(
                message, conflict.getJob(), conflict.getCurrentVersion(), error)
            : new JobClientException.RejectedException(message, error);
      }
      default -> new JobClientException(status.getCode(), message, error);
    };
  }

  /**
   * The wait a rate-limited replica asked for (RESOURCE_EXHAUSTED with the trailer {@code
   * paxcron-retry-after-ms}), capped at the maximum backoff; null otherwise.
   */
  private Duration retryAfter(StatusRuntimeException error) {
    Metadata trailers = error.getTrailers();
    String millis =
        trailers == null
            ? null
            : trailers.get(io.paxcron.api.auth.AuthInterceptor.RETRY_AFTER_MILLIS);
    if (error.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED || millis == null) {
      return null;
    }
    try {
      long wait = Math.max(1, Long.parseLong(millis));
      return Duration.ofMillis(Math.min(wait, settings.maxBackoff().toMillis()));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private void pause(Duration wait) {
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new JobClientException(Status.Code.CANCELLED, "interrupted while waiting to retry", e);
    }
  }

  /**
   * Capped exponential backoff with jitter: a random wait in [d/2, d], d = min(max, initial *
   * 2^(n-1)).
   */
  void backoff(int failures) {
    long initial = settings.initialBackoff().toNanos();
    long cap = settings.maxBackoff().toNanos();
    long delay = initial;
    for (int i = 1; i < failures && delay < cap; i++) {
      delay = Math.min(cap, delay * 2);
    }
    delay = Math.min(cap, delay);
    long wait = delay / 2 + (delay / 2 > 0 ? jitter.nextLong(delay / 2 + 1) : 0);
    try {
      sleeper.sleep(Duration.ofNanos(wait));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new JobClientException(Status.Code.CANCELLED, "interrupted while waiting to retry", e);
    }
  }

  synchronized Channel channel(String address) {
    return channels.computeIfAbsent(address, channelFactory);
  }

  Settings settings() {
    return settings;
  }

  @Override
  public void close() {
    List<ManagedChannel> open;
    synchronized (this) {
      open = new ArrayList<>(channels.values());
      channels.clear();
    }
    for (ManagedChannel channel : open) {
      channel.shutdownNow();
    }
  }
}
