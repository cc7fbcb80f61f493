package io.paxcron.api;

import io.grpc.ForwardingServerCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.paxcron.paxos.Ballot;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.JobServiceGrpc;
import io.paxcron.scheduler.AgentId;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.Run;
import io.paxcron.scheduler.RunStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * In-process gRPC servers around a {@link DirectCronCluster} (the leader) and, on request, a
 * follower that answers "not the leader". No sockets, no sleeps: the leader's clock is a {@link
 * ManualClock} and the client's backoff is recorded, not waited.
 */
final class ApiHarness implements AutoCloseable {
  static final Instant START = Instant.parse("2030-01-07T00:00:00Z");

  /** The client's backoff jitter is seeded; tests assert bounds, not exact waits. */
  static final long JITTER_SEED = 20300107;

  final ManualClock clock = new ManualClock(START);
  final String leaderName = InProcessServerBuilder.generateName();
  final DirectCronCluster cluster = new DirectCronCluster(clock, leaderName);
  final List<Duration> backoffs = new CopyOnWriteArrayList<>();

  /** Full method name → how many more answers of that method to lose (the call still runs). */
  final Map<String, AtomicInteger> answersToLose = new ConcurrentHashMap<>();

  private final List<Server> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new CopyOnWriteArrayList<>();

  ApiHarness() {
    start(leaderName, cluster);
  }

  /** Starts a follower that redirects to the leader; returns its address. */
  String startFollower() {
    String name = InProcessServerBuilder.generateName();
    start(name, new NotLeaderCluster(name, leaderName));
    return name;
  }

  private void start(String name, CronCluster backing) {
    try {
      servers.add(
          InProcessServerBuilder.forName(name)
              .addService(
                  ServerInterceptors.intercept(new JobServiceImpl(backing), new LoseAnswers()))
              .addService(new ClusterServiceImpl(backing))
              .build()
              .start());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  ManagedChannel channel(String name) {
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    channels.add(channel);
    return channel;
  }

  JobServiceGrpc.JobServiceBlockingStub stub() {
    return stub(leaderName);
  }

  JobServiceGrpc.JobServiceBlockingStub stub(String name) {
    return JobServiceGrpc.newBlockingStub(channel(name)).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  JobClient client(String... addresses) {
    return new JobClient(
        0x5EED_C11E_47L,
        List.of(addresses),
        this::channel,
        new JobClient.Settings(
            Duration.ofSeconds(10), 5, Duration.ofMillis(50), Duration.ofSeconds(1)),
        duration -> backoffs.add(duration),
        RandomGeneratorFactory.<RandomGenerator>of("L64X128MixRandom").create(JITTER_SEED));
  }

  /**
   * The next {@code count} answers of {@code method} (e.g. "paxcron.v1.JobService/Put") are lost.
   */
  void loseAnswers(String method, int count) {
    answersToLose.put(method, new AtomicInteger(count));
  }

  /** A minimal valid job. */
  static Job.Builder job(String name, String schedule) {
    return Job.newBuilder()
        .setName(name)
        .setSchedule(schedule)
        .setCommand(Job.Command.newBuilder().addArgv("/bin/true"));
  }

  /**
   * Plays the leader's dispatcher and an agent for every due run of {@code job} at the current
   * time: intent chosen, then finished with {@code outcome}. Returns how many runs it finished.
   */
  int finishDueRuns(String job, Outcome outcome) {
    Instant now = clock.instant();
    cluster.applyAsLeader(new CronCommand.Tick(now));
    List<Run> due =
        cluster.read(view -> view.openRuns(JobName.of(job))).join().stream()
            .filter(run -> run.status() == RunStatus.DUE)
            .toList();
    for (Run run : due) {
      cluster.applyAsLeader(
          new CronCommand.RunIntent(run.id(), 1, AgentId.of("agent-1"), new Ballot(1, 1), now));
      cluster.applyAsLeader(new CronCommand.RunFinished(run.id(), 1, outcome, now));
    }
    return due.size();
  }

  @Override
  public void close() {
    for (ManagedChannel channel : channels) {
      channel.shutdownNow();
    }
    for (Server server : servers) {
      server.shutdownNow();
    }
    cluster.close();
  }

  /** Runs the call but replaces its answer with UNAVAILABLE: a reply lost on the way back. */
  private final class LoseAnswers implements ServerInterceptor {
    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
      AtomicInteger remaining = answersToLose.get(call.getMethodDescriptor().getFullMethodName());
      if (remaining == null || remaining.getAndDecrement() <= 0) {
        return next.startCall(call, headers);
      }
      return next.startCall(
          new ForwardingServerCall.SimpleForwardingServerCall<Q, A>(call) {
            @Override
            public void sendMessage(A message) {
              // lost
            }

            @Override
            public void close(Status status, Metadata trailers) {
              super.close(
                  Status.UNAVAILABLE.withDescription("answer lost on the way back (test)"),
                  new Metadata());
            }
          },
          headers);
    }
  }
}
