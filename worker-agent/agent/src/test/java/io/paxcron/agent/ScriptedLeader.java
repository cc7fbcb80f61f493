package io.paxcron.agent;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.AgentServiceGrpc;
import io.paxcron.proto.v1.FenceBallot;
import io.paxcron.proto.v1.HeartbeatAck;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.Redirect;
import io.paxcron.proto.v1.Registered;
import io.paxcron.proto.v1.ReportAck;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A protocol test driver: a real {@code AgentService} gRPC server on loopback that plays the leader
 * by script. It answers Register and (while {@link #grantLease} is set) heartbeats itself,
 * acknowledges reports when {@link #acknowledgeReports} is set, and hands every other agent message
 * to the test.
 */
final class ScriptedLeader implements AutoCloseable {
  /** The ballot this leader acknowledges heartbeats with. */
  static final FenceBallot BALLOT =
      FenceBallot.newBuilder().setGeneration(0).setRound(1).setReplicaId(1).build();

  private final Server server;
  private final LinkedBlockingQueue<AgentMessage> received = new LinkedBlockingQueue<>();
  private volatile StreamObserver<LeaderMessage> agent;
  volatile boolean grantLease = true;
  volatile boolean acknowledgeReports = true;
  volatile Duration lease = Duration.ofSeconds(5);
  volatile String redirectTo;
  volatile int registrations;

  /** The members' addresses named in Registered and Redirect. */
  volatile java.util.List<String> members = java.util.List.of();

  ScriptedLeader() throws IOException {
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(
                new AgentServiceGrpc.AgentServiceImplBase() {
                  @Override
                  public StreamObserver<AgentMessage> connect(
                      StreamObserver<LeaderMessage> responses) {
                    return new StreamObserver<>() {
                      @Override
                      public void onNext(AgentMessage message) {
                        onAgentMessage(responses, message);
                      }

                      @Override
                      public void onError(Throwable error) {}

                      @Override
                      public void onCompleted() {
                        responses.onCompleted();
                      }
                    };
                  }
                })
            .build()
            .start();
  }

  String address() {
    return "127.0.0.1:" + server.getPort();
  }

  private synchronized void onAgentMessage(
      StreamObserver<LeaderMessage> responses, AgentMessage message) {
    switch (message.getBodyCase()) {
      case REGISTER -> {
        if (redirectTo != null) {
          responses.onNext(
              LeaderMessage.newBuilder()
                  .setRedirect(
                      Redirect.newBuilder()
                          .setLeaderAddress(redirectTo)
                          .setLeaderId(2)
                          .addAllMembers(members))
                  .build());
          responses.onCompleted();
          return;
        }
        registrations++;
        agent = responses;
        responses.onNext(
            LeaderMessage.newBuilder()
                .setRegistered(
                    Registered.newBuilder()
                        .setLeaderId(1)
                        .setBallot(BALLOT)
                        .setHeartbeatInterval(
                            com.google.protobuf.Duration.newBuilder().setNanos(100_000_000))
                        .setLeaderLease(com.google.protobuf.Duration.newBuilder().setSeconds(10))
                        .addAllMembers(members))
                .build());
        received.add(message);
      }
      case HEARTBEAT -> {
        heartbeats++;
        if (grantLease) {
          responses.onNext(
              LeaderMessage.newBuilder()
                  .setHeartbeatAck(
                      HeartbeatAck.newBuilder()
                          .setSequence(message.getHeartbeat().getSequence())
                          .setLease(
                              com.google.protobuf.Duration.newBuilder()
                                  .setSeconds(lease.getSeconds())
                                  .setNanos(lease.getNano()))
                          .setBallot(BALLOT))
                  .build());
        }
      }
      case REPORT -> {
        if (acknowledgeReports) {
          responses.onNext(
              LeaderMessage.newBuilder()
                  .setReportAck(
                      ReportAck.newBuilder()
                          .setRunId(message.getReport().getState().getRunId())
                          .setAttempt(message.getReport().getState().getAttempt())
                          .setKind(message.getReport().getKind()))
                  .build());
        }
        received.add(message);
      }
      default -> received.add(message);
    }
  }

  private int heartbeats;

  /** How many heartbeats the agent has sent so far. */
  synchronized int heartbeats() {
    return heartbeats;
  }

  /** Sends to the agent on its current stream. */
  synchronized void send(LeaderMessage message) {
    if (agent == null) {
      throw new IllegalStateException("no agent connected");
    }
    agent.onNext(message);
  }

  /**
   * The first received message matching {@code match} within {@code within}; fails the test
   * otherwise.
   */
  AgentMessage await(String what, Predicate<AgentMessage> match, Duration within)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      AgentMessage message = received.poll(Math.max(left, 0), TimeUnit.NANOSECONDS);
      if (message == null) {
        throw new AssertionError("no " + what + " within " + within);
      }
      if (match.test(message)) {
        return message;
      }
    }
  }

  /** Whether a matching message arrives within {@code within} (for "nothing happens" checks). */
  boolean arrives(Predicate<AgentMessage> match, Duration within) throws InterruptedException {
    try {
      await("", match, within);
      return true;
    } catch (AssertionError e) {
      return false;
    }
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
