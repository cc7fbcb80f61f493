package io.paxcron.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.paxcron.api.auth.AccessRules;
import io.paxcron.api.auth.AccessServiceImpl;
import io.paxcron.api.auth.AccessState;
import io.paxcron.api.auth.AuthInterceptor;
import io.paxcron.api.auth.WriteRateLimiter;
import io.paxcron.proto.v1.AccessServiceGrpc;
import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.AgentServiceGrpc;
import io.paxcron.proto.v1.ApplyJobsRequest;
import io.paxcron.proto.v1.BackupRequest;
import io.paxcron.proto.v1.BootstrapRequest;
import io.paxcron.proto.v1.ClusterServiceGrpc;
import io.paxcron.proto.v1.ClusterStatusRequest;
import io.paxcron.proto.v1.CreateTokenRequest;
import io.paxcron.proto.v1.DeleteJobRequest;
import io.paxcron.proto.v1.GetJobRequest;
import io.paxcron.proto.v1.GetRunOutputRequest;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.JobServiceGrpc;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.ListAuditRequest;
import io.paxcron.proto.v1.ListJobsRequest;
import io.paxcron.proto.v1.ListRunsRequest;
import io.paxcron.proto.v1.ListTokensRequest;
import io.paxcron.proto.v1.MembersRequest;
import io.paxcron.proto.v1.PauseJobRequest;
import io.paxcron.proto.v1.ProposeRequest;
import io.paxcron.proto.v1.ProposeStreamReply;
import io.paxcron.proto.v1.PutJobRequest;
import io.paxcron.proto.v1.ReplicatedLogGrpc;
import io.paxcron.proto.v1.ResumeJobRequest;
import io.paxcron.proto.v1.RevokeTokenRequest;
import io.paxcron.proto.v1.TriggerJobRequest;
import io.paxcron.proto.v1.WatchRunsRequest;
import io.paxcron.proto.v1.WhoAmIRequest;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every role against every API call, through the REAL interceptor, services and replicated state
 * (tokens and audit included) of one in-process replica: a call a role may make is not refused for
 * permissions; a call it may not make is refused with the missing permission named, and the
 * replicated state is byte-for-byte what it was. The replicated log's raw API ({@code
 * ReplicatedLog}) is checked on a real replica in {@code SecurityOnRealReplicaTest}.
 */
class AccessMatrixTest {

  private static final String JOB = "matrix-job";

  private final ManualClock clock = new ManualClock(Instant.parse("2030-01-07T00:00:00Z"));
  private final String name = InProcessServerBuilder.generateName();
  private final SecuredDirectCluster cluster = new SecuredDirectCluster(clock, name);
  private final AtomicLong nanos = new AtomicLong();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private Server server;
  private long requestIds = 1;

  @BeforeEach
  void start() throws IOException {
    AuthInterceptor interceptor =
        new AuthInterceptor(
            new AuthInterceptor.Settings(true, Optional.empty(), Optional.empty()),
            () -> cluster.access().view(),
            new WriteRateLimiter(1000, 1000, nanos::get));
    server =
        InProcessServerBuilder.forName(name)
            .addService(ServerInterceptors.intercept(new JobServiceImpl(cluster), interceptor))
            .addService(ServerInterceptors.intercept(new ClusterServiceImpl(cluster), interceptor))
            .addService(
                ServerInterceptors.intercept(
                    new AccessServiceImpl(cluster, new SecureRandom(), true, false), interceptor))
            .addService(ServerInterceptors.intercept(new EchoAgentService(), interceptor))
            .build()
            .start();
  }

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    server.shutdownNow();
    cluster.close();
  }

  /** Stands in for the leader's agent stream: answers nothing and ends when the agent does. */
  private static final class EchoAgentService extends AgentServiceGrpc.AgentServiceImplBase {
    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<LeaderMessage> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(AgentMessage message) {}

        @Override
        public void onError(Throwable error) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }
  }

  private Channel channel(String token) {
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    channels.add(channel);
    if (token == null) {
      return channel;
    }
    Metadata headers = new Metadata();
    headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + token);
    return ClientInterceptors.intercept(
        channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private String bootstrap() {
    return AccessServiceGrpc.newBlockingStub(channel(null))
        .bootstrap(
            BootstrapRequest.newBuilder()
                .setClientId(7)
                .setRequestId(requestIds++)
                .setName("root")
                .build())
        .getSecret();
  }

  private String token(String admin, String holder, String role, String prefix) {
    return AccessServiceGrpc.newBlockingStub(channel(admin))
        .createToken(
            CreateTokenRequest.newBuilder()
                .setClientId(7)
                .setRequestId(requestIds++)
                .setName(holder)
                .setRole(role)
                .setPrefix(prefix)
                .build())
        .getSecret();
  }

  private static Job job(String name) {
    return Job.newBuilder()
        .setName(name)
        .setSchedule("0 * * * *")
        .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
        .build();
  }

  /** Makes one call of {@code method} as the holder of {@code channel}; its status code. */
  private Status call(String method, Channel channel, long clientId) {
    long id = requestIds++;
    JobServiceGrpc.JobServiceBlockingStub jobs =
        JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    ClusterServiceGrpc.ClusterServiceBlockingStub clusterStub =
        ClusterServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    AccessServiceGrpc.AccessServiceBlockingStub access =
        AccessServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    try {
      switch (method) {
        case "paxcron.v1.JobService/Put" ->
            jobs.put(
                PutJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setJob(job(JOB))
                    .build());
        case "paxcron.v1.JobService/Apply" ->
            jobs.apply(
                ApplyJobsRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .addJobs(job(JOB))
                    .build());
        case "paxcron.v1.JobService/Delete" ->
            jobs.delete(
                DeleteJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setName(JOB)
                    .build());
        case "paxcron.v1.JobService/Get" ->
            jobs.get(GetJobRequest.newBuilder().setName(JOB).build());
        case "paxcron.v1.JobService/List" -> jobs.list(ListJobsRequest.getDefaultInstance());
        case "paxcron.v1.JobService/Pause" ->
            jobs.pause(
                PauseJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setName(JOB)
                    .build());
        case "paxcron.v1.JobService/Resume" ->
            jobs.resume(
                ResumeJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setName(JOB)
                    .build());
        case "paxcron.v1.JobService/Trigger" ->
            jobs.trigger(
                TriggerJobRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setName(JOB)
                    .build());
        case "paxcron.v1.JobService/ListRuns" ->
            jobs.listRuns(ListRunsRequest.newBuilder().setJob(JOB).build());
        case "paxcron.v1.JobService/WatchRuns" ->
            JobServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                .watchRuns(WatchRunsRequest.newBuilder().setJob(JOB).build())
                .hasNext();
        case "paxcron.v1.JobService/GetRunOutput" ->
            jobs.getRunOutput(
                GetRunOutputRequest.newBuilder().setRunId(JOB + "@2030-01-07T00:00:00Z").build());
        case "paxcron.v1.ClusterService/Status" ->
            clusterStub.status(ClusterStatusRequest.getDefaultInstance());
        case "paxcron.v1.ClusterService/Members" ->
            clusterStub.members(MembersRequest.getDefaultInstance());
        case "paxcron.v1.ClusterService/Backup" ->
            clusterStub.backup(BackupRequest.getDefaultInstance());
        case "paxcron.v1.ClusterService/ChangeMembers" ->
            clusterStub.changeMembers(
                io.paxcron.proto.v1.ChangeMembersRequest.newBuilder()
                    .setAction(io.paxcron.proto.v1.ChangeMembersRequest.Action.REMOVE)
                    .setId(9)
                    .build());
        case "paxcron.v1.AccessService/CreateToken" ->
            access.createToken(
                CreateTokenRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setName("made-" + id)
                    .setRole("viewer")
                    .build());
        case "paxcron.v1.AccessService/RevokeToken" ->
            access.revokeToken(
                RevokeTokenRequest.newBuilder()
                    .setClientId(clientId)
                    .setRequestId(id)
                    .setId("0000000000000000")
                    .build());
        case "paxcron.v1.AccessService/ListTokens" ->
            access.listTokens(ListTokensRequest.getDefaultInstance());
        case "paxcron.v1.AccessService/ListAudit" ->
            access.listAudit(ListAuditRequest.getDefaultInstance());
        case "paxcron.v1.AccessService/WhoAmI" -> access.whoAmI(WhoAmIRequest.getDefaultInstance());
        case "paxcron.v1.AgentService/Connect" -> {
          CompletableFuture<Status> ended = new CompletableFuture<>();
          StreamObserver<AgentMessage> out =
              AgentServiceGrpc.newStub(channel)
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .connect(
                      new StreamObserver<>() {
                        @Override
                        public void onNext(LeaderMessage message) {}

                        @Override
                        public void onError(Throwable error) {
                          ended.complete(Status.fromThrowable(error));
                        }

                        @Override
                        public void onCompleted() {
                          ended.complete(Status.OK);
                        }
                      });
          out.onCompleted();
          return ended.join();
        }
        default -> throw new AssertionError("no call for " + method);
      }
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  /**
   * The table: which roles may make each call. Written out, not derived from {@code Role}, so a
   * change to a role's permissions must change this table too.
   */
  private static final Map<String, Set<String>> ALLOWED = new LinkedHashMap<>();

  static {
    Set<String> readers = Set.of("viewer", "operator", "editor", "admin");
    Set<String> operators = Set.of("operator", "editor", "admin");
    Set<String> editors = Set.of("editor", "admin");
    Set<String> admins = Set.of("admin");
    for (String read :
        List.of(
            "JobService/Get",
            "JobService/List",
            "JobService/ListRuns",
            "JobService/WatchRuns",
            "JobService/GetRunOutput",
            "ClusterService/Status",
            "ClusterService/Members")) {
      ALLOWED.put("paxcron.v1." + read, readers);
    }
    for (String operate : List.of("JobService/Pause", "JobService/Resume", "JobService/Trigger")) {
      ALLOWED.put("paxcron.v1." + operate, operators);
    }
    for (String edit : List.of("JobService/Put", "JobService/Apply", "JobService/Delete")) {
      ALLOWED.put("paxcron.v1." + edit, editors);
    }
    for (String admin :
        List.of(
            "ClusterService/Backup",
            "ClusterService/ChangeMembers",
            "AccessService/CreateToken",
            "AccessService/RevokeToken",
            "AccessService/ListTokens",
            "AccessService/ListAudit")) {
      ALLOWED.put("paxcron.v1." + admin, admins);
    }
    ALLOWED.put(
        "paxcron.v1.AccessService/WhoAmI",
        Set.of("viewer", "operator", "editor", "admin", "agent"));
    ALLOWED.put("paxcron.v1.AgentService/Connect", Set.of("agent"));
  }

  @Test
  void everyRoleMayMakeExactlyItsCallsAndARefusedCallChangesNothing() {
    String admin = bootstrap();
    JobServiceGrpc.newBlockingStub(channel(admin))
        .put(PutJobRequest.newBuilder().setClientId(9).setRequestId(1).setJob(job(JOB)).build());
    Map<String, Channel> holders = new LinkedHashMap<>();
    holders.put("anonymous", channel(null));
    holders.put("forged", channel("pxc_0123456789abcdef_not-the-secret"));
    for (String role : List.of("viewer", "operator", "agent", "editor", "admin")) {
      holders.put(role, channel(token(admin, role + "-1", role, "")));
    }
    List<String> problems = new ArrayList<>();
    long clientId = 100;
    for (Map.Entry<String, Set<String>> row : ALLOWED.entrySet()) {
      for (Map.Entry<String, Channel> holder : holders.entrySet()) {
        String method = row.getKey();
        String who = holder.getKey();
        byte[] before = cluster.image();
        Status status = call(method, holder.getValue(), ++clientId);
        boolean allowed = row.getValue().contains(who);
        Status.Code code = status.getCode();
        if (allowed) {
          if (code == Status.Code.PERMISSION_DENIED || code == Status.Code.UNAUTHENTICATED) {
            problems.add(who + " " + method + ": refused: " + status);
          }
          continue;
        }
        Status.Code expected =
            who.equals("anonymous") || who.equals("forged")
                ? Status.Code.UNAUTHENTICATED
                : Status.Code.PERMISSION_DENIED;
        if (code != expected) {
          problems.add(who + " " + method + ": expected " + expected + ", got " + status);
        } else if (expected == Status.Code.PERMISSION_DENIED
            && !status.getDescription().contains("permission '" + permissionOf(method) + "'")) {
          problems.add(who + " " + method + ": refusal does not name the permission: " + status);
        }
        if (!java.util.Arrays.equals(before, cluster.image())) {
          problems.add(who + " " + method + ": a refused call changed the replicated state");
        }
      }
    }
    assertEquals(List.of(), problems);
  }

  private static String permissionOf(String method) {
    return AccessRules.of(method).orElseThrow().permission().text();
  }

  @Test
  void theTableCoversEveryCallOfEveryServedService() {
    Set<String> served = new HashSet<>();
    for (io.grpc.ServiceDescriptor service :
        List.of(
            JobServiceGrpc.getServiceDescriptor(),
            ClusterServiceGrpc.getServiceDescriptor(),
            AccessServiceGrpc.getServiceDescriptor(),
            AgentServiceGrpc.getServiceDescriptor())) {
      service.getMethods().forEach(method -> served.add(method.getFullMethodName()));
    }
    served.remove(AccessRules.BOOTSTRAP);
    assertEquals(served, ALLOWED.keySet());
    for (String method : served) {
      if (!method.equals(AccessRules.WHO_AM_I)) {
        assertTrue(AccessRules.of(method).isPresent(), method + " has no rule");
      }
    }
  }

  @Test
  void aRevokedTokenIsRefusedOnItsVeryNextCall() {
    String admin = bootstrap();
    String operator = token(admin, "ops", "operator", "");
    Channel operatorChannel = channel(operator);
    assertEquals(
        Status.Code.OK, call("paxcron.v1.ClusterService/Status", operatorChannel, 1).getCode());
    String id = operator.split("_")[1];
    AccessServiceGrpc.newBlockingStub(channel(admin))
        .revokeToken(
            RevokeTokenRequest.newBuilder()
                .setClientId(7)
                .setRequestId(requestIds++)
                .setId(id)
                .build());
    Status after = call("paxcron.v1.ClusterService/Status", operatorChannel, 2);
    assertEquals(Status.Code.UNAUTHENTICATED, after.getCode());
    assertTrue(after.getDescription().contains(id), after.getDescription());
  }

  @Test
  void bootstrapWorksOnceAndOnlyForTheFirstToken() {
    bootstrap();
    StatusRuntimeException again =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class, this::bootstrap);
    assertEquals(Status.Code.FAILED_PRECONDITION, again.getStatus().getCode());
    assertTrue(again.getStatus().getDescription().contains("already has tokens"));
  }

  @Test
  void aPrefixLimitsEveryJobCallAndFiltersLists() {
    String admin = bootstrap();
    JobServiceGrpc.JobServiceBlockingStub root = JobServiceGrpc.newBlockingStub(channel(admin));
    root.put(
        PutJobRequest.newBuilder().setClientId(9).setRequestId(1).setJob(job("team-a")).build());
    root.put(
        PutJobRequest.newBuilder().setClientId(9).setRequestId(2).setJob(job("other")).build());
    JobServiceGrpc.JobServiceBlockingStub team =
        JobServiceGrpc.newBlockingStub(channel(token(admin, "team-lead", "editor", "team-")));
    assertEquals(
        List.of("team-a"),
        team.list(ListJobsRequest.getDefaultInstance()).getJobsList().stream()
            .map(Job::getName)
            .toList());
    byte[] before = cluster.image();
    StatusRuntimeException outside =
        org.junit.jupiter.api.Assertions.assertThrows(
            StatusRuntimeException.class,
            () ->
                team.apply(
                    ApplyJobsRequest.newBuilder()
                        .setClientId(11)
                        .setRequestId(1)
                        .addJobs(job("team-b"))
                        .addDeleteNames("other")
                        .build()));
    assertEquals(Status.Code.PERMISSION_DENIED, outside.getStatus().getCode());
    assertEquals(
        "permission 'edit' needed on job other (outside prefix 'team-'); token:team-lead/"
            + "%s has role editor for prefix 'team-'".formatted(tokenId(cluster, "team-lead")),
        outside.getStatus().getDescription());
    assertArrayEquals(before, cluster.image());
    team.put(
        PutJobRequest.newBuilder().setClientId(11).setRequestId(2).setJob(job("team-b")).build());
    assertFalse(
        root.list(ListJobsRequest.getDefaultInstance()).getJobsList().stream()
            .noneMatch(job -> job.getName().equals("team-b")));
  }

  private static String tokenId(SecuredDirectCluster cluster, String holder) {
    return cluster.access().view().tokens().values().stream()
        .filter(token -> token.name().equals(holder))
        .findFirst()
        .orElseThrow()
        .id();
  }

  @Test
  void everyChangeIsAuditedWithWhoWhatWhenAndWhere() {
    String admin = bootstrap();
    String editor = token(admin, "dev", "editor", "");
    clock.advance(java.time.Duration.ofMinutes(5));
    JobServiceGrpc.newBlockingStub(channel(editor))
        .put(
            PutJobRequest.newBuilder()
                .setClientId(21)
                .setRequestId(1)
                .setJob(job("audited"))
                .build());
    List<AccessState.AuditRecord> audit = cluster.access().view().audit();
    assertEquals(
        List.of("AccessService/Bootstrap", "AccessService/CreateToken", "JobService/Put"),
        audit.stream().map(AccessState.AuditRecord::action).toList());
    AccessState.AuditRecord put = audit.get(2);
    assertEquals("token:dev/" + tokenId(cluster, "dev"), put.actor());
    assertEquals("+audited", put.target());
    assertEquals("applied", put.result());
    assertEquals(clock.instant(), put.at());
    assertTrue(put.source().contains(name) || !put.source().isEmpty(), put.source());
    assertEquals(
        3,
        AccessServiceGrpc.newBlockingStub(channel(admin))
            .listAudit(ListAuditRequest.getDefaultInstance())
            .getRecordsCount());
  }

  @Test
  void writesBeyondTheRateAreRefusedWithRetryAdviceWithoutWaiting() throws IOException {
    AtomicLong now = new AtomicLong();
    String limited = InProcessServerBuilder.generateName();
    AuthInterceptor interceptor =
        new AuthInterceptor(
            new AuthInterceptor.Settings(false, Optional.empty(), Optional.empty()),
            () -> AccessState.View.EMPTY,
            new WriteRateLimiter(2, 2, now::get));
    Server limitedServer =
        InProcessServerBuilder.forName(limited)
            .addService(ServerInterceptors.intercept(new JobServiceImpl(cluster), interceptor))
            .build()
            .start();
    try {
      ManagedChannel channel = InProcessChannelBuilder.forName(limited).directExecutor().build();
      channels.add(channel);
      Function<Long, Status> pause = id -> call("paxcron.v1.JobService/Pause", channel, 31);
      call("paxcron.v1.JobService/Put", channel, 30);
      assertEquals(Status.Code.OK, pause.apply(1L).getCode());
      StatusRuntimeException refused =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class,
              () ->
                  JobServiceGrpc.newBlockingStub(channel)
                      .pause(
                          PauseJobRequest.newBuilder()
                              .setClientId(32)
                              .setRequestId(1)
                              .setName(JOB)
                              .build()));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
      assertEquals("500", refused.getTrailers().get(AuthInterceptor.RETRY_AFTER_MILLIS));
      now.addAndGet(TimeUnit.MILLISECONDS.toNanos(500));
      assertEquals(Status.Code.OK, pause.apply(2L).getCode());
    } finally {
      limitedServer.shutdownNow();
    }
  }

  @Test
  void everyCommandOnAStreamOfWritesCountsAgainstTheRateAndTheFirstRefusedEndsTheStream()
      throws IOException {
    AtomicLong now = new AtomicLong();
    String limited = InProcessServerBuilder.generateName();
    AuthInterceptor interceptor =
        new AuthInterceptor(
            new AuthInterceptor.Settings(false, Optional.empty(), Optional.empty()),
            () -> AccessState.View.EMPTY,
            new WriteRateLimiter(2, 2, now::get));
    List<Long> proposed = new ArrayList<>();
    ReplicatedLogGrpc.ReplicatedLogImplBase log =
        new ReplicatedLogGrpc.ReplicatedLogImplBase() {
          @Override
          public StreamObserver<ProposeRequest> proposeStream(
              StreamObserver<ProposeStreamReply> replies) {
            return new StreamObserver<>() {
              @Override
              public void onNext(ProposeRequest request) {
                proposed.add(request.getSequence());
                replies.onNext(
                    ProposeStreamReply.newBuilder().setSequence(request.getSequence()).build());
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {
                replies.onCompleted();
              }
            };
          }
        };
    Server limitedServer =
        InProcessServerBuilder.forName(limited)
            .directExecutor()
            .addService(ServerInterceptors.intercept(log, interceptor))
            .build()
            .start();
    try {
      ManagedChannel channel = InProcessChannelBuilder.forName(limited).directExecutor().build();
      channels.add(channel);
      List<Long> answered = new ArrayList<>();
      AtomicReference<Throwable> ended = new AtomicReference<>();
      StreamObserver<ProposeStreamReply> collect =
          new StreamObserver<>() {
            @Override
            public void onNext(ProposeStreamReply reply) {
              answered.add(reply.getSequence());
            }

            @Override
            public void onError(Throwable t) {
              ended.set(t);
            }

            @Override
            public void onCompleted() {}
          };
      StreamObserver<ProposeRequest> stream =
          ReplicatedLogGrpc.newStub(channel).proposeStream(collect);
      for (long sequence = 1; sequence <= 3; sequence++) {
        stream.onNext(ProposeRequest.newBuilder().setClientId(7).setSequence(sequence).build());
      }
      assertEquals(List.of(1L, 2L), proposed, "the refused command must not reach the log");
      assertEquals(List.of(1L, 2L), answered);
      Status refused = Status.fromThrowable(ended.get());
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getCode(), String.valueOf(ended.get()));
      assertEquals(
          "500", Status.trailersFromThrowable(ended.get()).get(AuthInterceptor.RETRY_AFTER_MILLIS));

      now.addAndGet(TimeUnit.MILLISECONDS.toNanos(500));
      StreamObserver<ProposeRequest> again =
          ReplicatedLogGrpc.newStub(channel).proposeStream(collect);
      again.onNext(ProposeRequest.newBuilder().setClientId(7).setSequence(3).build());
      again.onCompleted();
      assertEquals(List.of(1L, 2L, 3L), proposed);
      assertEquals(List.of(1L, 2L, 3L), answered);
    } finally {
      limitedServer.shutdownNow();
    }
  }
}
