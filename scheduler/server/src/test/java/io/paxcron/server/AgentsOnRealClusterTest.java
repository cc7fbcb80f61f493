package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.paxcron.api.JobClient;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.AgentServiceGrpc;
import io.paxcron.proto.v1.AgentStatus;
import io.paxcron.proto.v1.ClusterServiceGrpc;
import io.paxcron.proto.v1.ClusterStatusRequest;
import io.paxcron.proto.v1.ClusterStatusResponse;
import io.paxcron.proto.v1.FenceBallot;
import io.paxcron.proto.v1.GetRunOutputRequest;
import io.paxcron.proto.v1.GetRunOutputResponse;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.JobServiceGrpc;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.Register;
import io.paxcron.proto.v1.RunRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader's side of agent.proto against three real replica processes and two agents speaking the
 * protocol over real gRPC: a follower redirects an agent to the leader; runs are placed by labels;
 * a launch's reports become ledger records with the output tail; GetRunOutput fetches the whole
 * output from the agent; Status lists the agents; a launch refused for capacity is re-sent, not
 * dropped; an agent silent past its lease has its run recorded LOST and, heard from again,
 * testifies beside it; a leader SIGKILL while a run is in flight ends with the new leader adopting
 * it from its live agent (SUCCEEDED, not LOST); an agent fenced by a later restore generation
 * refuses.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AgentsOnRealClusterTest {

  @TempDir Path work;

  @Test
  void followerRedirectsLabelsPlaceRunsAndANewLeaderAdoptsARunningRun() throws Exception {
    Files.createDirectories(work.resolve("agents"));
    try (LocalCluster cluster = new LocalCluster(work, 3, List.of("--state-machine", "cron"));
        LogClient probe = cluster.client(1)) {
      cluster.startAll();
      int leader = cluster.awaitLeader(probe, Duration.ofSeconds(60));
      List<String> addresses = cluster.clientAddresses();
      int follower = leader == 1 ? 1 : 0; // index into addresses of a replica that does not lead
      try (ScriptedAgent east =
              new ScriptedAgent(
                  "east", Map.of("zone", "east"), 4, addresses, work.resolve("agents"));
          ScriptedAgent west =
              new ScriptedAgent(
                  "west", Map.of("zone", "west"), 4, addresses, work.resolve("agents"));
          JobClient client = JobClient.connect(addresses)) {
        east.start(follower);
        west.start(follower);
        await("both agents registered", () -> east.registered() && west.registered());
        assertFollowerRedirects(addresses);

        client.put(
            Job.newBuilder()
                .setName("west-only")
                .setSchedule("* * * * * *")
                .putAgentSelector("zone", "west")
                .setCommand(Job.Command.newBuilder().setShell("echo ran on $PAXCRON_AGENT"))
                .build());
        await(
            "west-only ran three times",
            () ->
                ledger(client, "west-only").stream()
                        .filter(record -> record.getOutcome() == Outcome.OUTCOME_SUCCEEDED)
                        .count()
                    >= 3);
        for (RunRecord record : ledger(client, "west-only")) {
          if (record.getOutcome() == Outcome.OUTCOME_SUCCEEDED) {
            assertEquals("west", record.getAgentId(), "placed by labels: " + record);
          }
        }
        assertTrue(
            east.events().stream().noneMatch(event -> event.contains("west-only")),
            east.events()::toString);

        RunRecord ran =
            ledger(client, "west-only").stream()
                .filter(record -> record.getOutcome() == Outcome.OUTCOME_SUCCEEDED)
                .findFirst()
                .orElseThrow();
        assertEquals(
            "ran on west\n",
            ran.getOutputTail().toStringUtf8(),
            "the finish report's tail is in the ledger");

        // The whole output comes from the agent over its stream; a follower points at the leader.
        GetRunOutputResponse output =
            onLeader(
                addresses,
                channel ->
                    JobServiceGrpc.newBlockingStub(channel)
                        .getRunOutput(
                            GetRunOutputRequest.newBuilder().setRunId(ran.getRunId()).build()));
        assertEquals("west", output.getAgentId());
        assertEquals("ran on west\n", output.getData().toStringUtf8());
        assertTrue(output.getEof());
        StatusRuntimeException unknownRun =
            assertThrows(
                StatusRuntimeException.class,
                () ->
                    onLeader(
                        addresses,
                        channel ->
                            JobServiceGrpc.newBlockingStub(channel)
                                .getRunOutput(
                                    GetRunOutputRequest.newBuilder()
                                        .setRunId("west-only@2001-01-01T00:00:00Z")
                                        .build())));
        assertEquals(io.grpc.Status.Code.NOT_FOUND, unknownRun.getStatus().getCode());
        StatusRuntimeException badRequest =
            assertThrows(
                StatusRuntimeException.class,
                () ->
                    onLeader(
                        addresses,
                        channel ->
                            JobServiceGrpc.newBlockingStub(channel)
                                .getRunOutput(
                                    GetRunOutputRequest.newBuilder()
                                        .setRunId("no instant")
                                        .build())));
        assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, badRequest.getStatus().getCode());

        // The leader lists its agents; their heartbeats keep them healthy.
        ClusterStatusResponse status = leaderStatus(addresses);
        assertEquals(
            List.of("east", "west"),
            status.getAgentsList().stream()
                .map(AgentStatus::getName)
                .filter(name -> !name.equals("probe"))
                .toList());
        assertEquals(Map.of("zone", "west"), agent(status, "west").getLabelsMap());
        assertEquals("HEALTHY", agent(status, "east").getState());

        // Back-pressure: west takes one run at a time although it declared four; the second launch
        // is
        // refused for capacity, re-sent, and runs once the first is done. Nothing is dropped.
        west.acceptAtMost(1);
        for (String name : List.of("first", "second")) {
          client.put(
              Job.newBuilder()
                  .setName(name)
                  .setSchedule("@every 1h")
                  .putAgentSelector("zone", "west")
                  .setCommand(Job.Command.newBuilder().setShell("sleep 1"))
                  .build());
        }
        client.trigger("first");
        await(
            "first running",
            () -> west.events().stream().anyMatch(e -> e.startsWith("launch first@")));
        client.trigger("second");
        await(
            "both recorded",
            () -> !ledger(client, "first").isEmpty() && !ledger(client, "second").isEmpty());
        assertEquals(Outcome.OUTCOME_SUCCEEDED, ledger(client, "first").get(0).getOutcome());
        assertEquals(Outcome.OUTCOME_SUCCEEDED, ledger(client, "second").get(0).getOutcome());
        assertTrue(
            west.events().stream()
                .anyMatch(e -> e.startsWith("launch second@") && e.endsWith(" capacity")),
            "the second launch met back-pressure first: " + west.events());
        west.acceptAtMost(4);

        // An agent that goes silent past its lease: its at-most-once run is recorded LOST. Heard
        // from again, it says the run succeeded; the ledger keeps that beside the LOST record.
        client.put(
            Job.newBuilder()
                .setName("mute")
                .setSchedule("@every 1h")
                .putAgentSelector("zone", "east")
                .setCommand(Job.Command.newBuilder().setShell("sleep 2"))
                .build());
        client.trigger("mute");
        await(
            "mute started",
            () -> east.events().stream().anyMatch(e -> e.startsWith("launch mute@")));
        east.pause();
        await("mute recorded", () -> !ledger(client, "mute").isEmpty());
        assertEquals(Outcome.OUTCOME_LOST, ledger(client, "mute").get(0).getOutcome());
        assertEquals(
            "DOWN",
            agent(leaderStatus(addresses), "east").getState(),
            "east is past the leader's lease");
        east.resume();
        await("east testified", () -> !ledger(client, "mute").get(0).getAgentTestimony().isEmpty());
        RunRecord lost = ledger(client, "mute").get(0);
        assertEquals(Outcome.OUTCOME_LOST, lost.getOutcome(), "the LOST record stays: " + lost);
        assertEquals("SUCCEEDED", lost.getAgentTestimony());
        await(
            "east healthy again",
            () -> "HEALTHY".equals(agent(leaderStatus(addresses), "east").getState()));

        // A run that outlives the leader: at-most-once, so only adoption can make it SUCCEEDED.
        client.put(
            Job.newBuilder()
                .setName("long")
                .setSchedule("@every 1h")
                .setCommand(Job.Command.newBuilder().setShell("sleep 5"))
                .build());
        client.trigger("long");
        await(
            "long started",
            () ->
                east.events().stream().anyMatch(e -> e.startsWith("launch long@"))
                    || west.events().stream().anyMatch(e -> e.startsWith("launch long@")));
        cluster.kill(leader);
        int newLeader = cluster.awaitLeader(probe, Duration.ofSeconds(30));
        assertTrue(newLeader != leader);
        await("long recorded", () -> !ledger(client, "long").isEmpty());
        RunRecord record = ledger(client, "long").get(0);
        assertEquals(
            Outcome.OUTCOME_SUCCEEDED,
            record.getOutcome(),
            () ->
                "adopted, not lost: "
                    + record
                    + "\neast: "
                    + east.events()
                    + "\nwest: "
                    + west.events()
                    + "\n"
                    + replicaLogs(cluster));
        assertEquals(1, record.getAttempts(), "never launched twice: " + record);
        await("both agents re-registered", () -> east.registered() && west.registered());

        // An agent that has served a cluster of a later restore generation fences this one out:
        // the launch is refused and nothing runs there.
        east.raiseFence(
            FenceBallot.newBuilder().setGeneration(1).setRound(1).setReplicaId(1).build());
        client.put(
            Job.newBuilder()
                .setName("east-only")
                .setSchedule("@every 1h")
                .putAgentSelector("zone", "east")
                .setCommand(Job.Command.newBuilder().setShell("true"))
                .build());
        client.trigger("east-only");
        await(
            "the launch was fenced",
            () ->
                east.events().stream()
                    .anyMatch(e -> e.startsWith("launch east-only@") && e.endsWith(" fenced")));
        assertTrue(
            east.events().stream()
                .noneMatch(e -> e.startsWith("launch east-only@") && e.endsWith("accepted")),
            east.events()::toString);
      }
    }
  }

  /**
   * Registers by hand on a replica that does not hold the lease and expects a Redirect naming the
   * one that does. Leadership may move between the two questions; then it asks again.
   */
  private static void assertFollowerRedirects(List<String> addresses) throws InterruptedException {
    for (int tries = 0; tries < 5; tries++) {
      ClusterStatusResponse leader = leaderStatus(addresses);
      String leaderAddress = addresses.get(leader.getReplicaId() - 1);
      String follower = addresses.get(leader.getReplicaId() % addresses.size());
      LeaderMessage reply = register(follower);
      if (reply.hasRedirect()) {
        assertEquals(
            leaderAddress, reply.getRedirect().getLeaderAddress(), "a follower names the leader");
        return;
      }
      assertTrue(
          reply.hasRegistered(),
          "expected Redirect or (leadership moved) Registered, got " + reply);
    }
    throw new AssertionError("leadership kept moving");
  }

  /** Sends Register on a fresh stream to {@code address} and returns the first answer. */
  private static LeaderMessage register(String address) throws InterruptedException {
    ManagedChannel channel = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
    try {
      java.util.concurrent.BlockingQueue<LeaderMessage> replies =
          new java.util.concurrent.LinkedBlockingQueue<>();
      StreamObserver<AgentMessage> out =
          AgentServiceGrpc.newStub(channel)
              .connect(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(LeaderMessage message) {
                      replies.add(message);
                    }

                    @Override
                    public void onError(Throwable error) {}

                    @Override
                    public void onCompleted() {}
                  });
      out.onNext(
          AgentMessage.newBuilder()
              .setRegister(Register.newBuilder().setName("probe").setCapacity(1))
              .build());
      LeaderMessage reply = replies.poll(30, TimeUnit.SECONDS);
      assertTrue(reply != null, "no answer to Register from " + address);
      out.onCompleted();
      return reply;
    } finally {
      channel.shutdownNow();
    }
  }

  /** The replicas' log lines about agents and dispatch, for a failure message. */
  private static String replicaLogs(LocalCluster cluster) {
    StringBuilder logs = new StringBuilder();
    for (LocalCluster.Member member : cluster.members().values()) {
      try {
        for (String line : Files.readAllLines(member.logFile())) {
          if (line.contains("agent") || line.contains("dispatcher")) {
            logs.append(line).append('\n');
          }
        }
      } catch (java.io.IOException e) {
        logs.append(member.logFile()).append(": ").append(e.getMessage()).append('\n');
      }
    }
    return logs.toString();
  }

  private static AgentStatus agent(ClusterStatusResponse status, String name) {
    return status.getAgentsList().stream()
        .filter(agent -> agent.getName().equals(name))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no agent " + name + " in " + status.getAgentsList()));
  }

  /**
   * Status answers on every replica; only the leader's lists agents (a follower's list is empty).
   */
  private static ClusterStatusResponse leaderStatus(List<String> addresses) {
    for (String address : addresses) {
      ManagedChannel channel = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
      try {
        ClusterStatusResponse status =
            ClusterServiceGrpc.newBlockingStub(channel)
                .status(ClusterStatusRequest.getDefaultInstance());
        if (status.getHoldsLease()) {
          return status;
        }
      } finally {
        channel.shutdownNow();
      }
    }
    throw new AssertionError("no replica holds the leader's lease");
  }

  /**
   * Calls every replica until one answers other than "not the leader" (FAILED_PRECONDITION /
   * UNAVAILABLE).
   */
  private static <T> T onLeader(
      List<String> addresses, java.util.function.Function<ManagedChannel, T> call) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      for (String address : addresses) {
        ManagedChannel channel = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
        try {
          return call.apply(channel);
        } catch (StatusRuntimeException e) {
          io.grpc.Status.Code code = e.getStatus().getCode();
          if (code != io.grpc.Status.Code.FAILED_PRECONDITION
                  && code != io.grpc.Status.Code.UNAVAILABLE
              || System.nanoTime() > deadline) {
            throw e;
          }
        } finally {
          channel.shutdownNow();
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 60 s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

  private static List<RunRecord> ledger(JobClient client, String job) {
    List<RunRecord> records = new ArrayList<>();
    String token = "";
    do {
      ListRunsResponse page = client.listRuns(job, 100, token);
      records.addAll(page.getRecordsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return records;
  }
}
