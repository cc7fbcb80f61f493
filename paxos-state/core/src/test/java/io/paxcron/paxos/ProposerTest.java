package io.paxcron.paxos;

import static io.paxcron.paxos.TestCluster.from;
import static io.paxcron.paxos.TestCluster.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The proposer: phase 1 adoption and gap filling, batching, the window, refusals. */
final class ProposerTest {

  private static final long SEED = 23;

  @Test
  void candidateAdoptsHighestBallotValueInPhaseOne() {
    Value lower = new Value.Batch(List.of(put(1, 1, "k", "from-ballot-2.1")));
    Value higher = new Value.Batch(List.of(put(2, 1, "k", "from-ballot-4.2")));
    LogEntry reportedLow = new LogEntry(1, new Ballot(2, 1), lower, false);
    LogEntry reportedHigh = new LogEntry(1, new Ballot(4, 2), higher, false);

    assertEquals(higher, phaseTwoValueOfSlotOne(reportedLow, reportedHigh), "low then high");
    assertEquals(higher, phaseTwoValueOfSlotOne(reportedHigh, reportedLow), "high then low");
  }

  /**
   * Candidate 3 of five replicas, whose disk holds a promise of ballot 5.1, is granted its
   * pre-vote, campaigns (ballot 6.3) and receives promises from 1 and 2 reporting {@code
   * fromReplica1} and {@code fromReplica2}; returns the value it then proposes for slot 1.
   */
  private static Value phaseTwoValueOfSlotOne(LogEntry fromReplica1, LogEntry fromReplica2) {
    TestCluster cluster = TestCluster.create(SEED, 5);
    cluster.seedDisk(3, new DurableState(new Ballot(5, 1), Snapshot.EMPTY, List.of()));
    cluster.startAll();
    cluster.advance(1_000);
    cluster.tick(3);
    cluster.drop(envelope -> true);
    assertEquals(PaxosReplica.Role.FOLLOWER, cluster.replica(3).role(), "asks before it campaigns");
    cluster.receive(3, 1, new Message.PreVoteGranted(new Ballot(6, 3)));
    cluster.receive(3, 2, new Message.PreVoteGranted(new Ballot(6, 3)));
    Ballot ballot = cluster.replica(3).ballot();
    assertEquals(new Ballot(6, 3), ballot);
    cluster.drop(envelope -> true);

    cluster.receive(3, 1, new Message.Promise(ballot, 1, List.of(fromReplica1), true, 1_000));
    assertEquals(PaxosReplica.Role.CANDIDATE, cluster.replica(3).role(), "2 of 3 promises");
    Ready ready =
        cluster.receive(3, 2, new Message.Promise(ballot, 1, List.of(fromReplica2), true, 1_000));

    assertEquals(PaxosReplica.Role.LEADER, cluster.replica(3).role());
    List<Message.Accept> accepts = new ArrayList<>();
    for (Envelope envelope : ready.messages()) {
      accepts.add((Message.Accept) envelope.message());
    }
    assertEquals(4, accepts.size(), "one Accept to each of the four peers");
    for (Message.Accept accept : accepts) {
      assertEquals(1, accept.entries().size());
      assertEquals(ballot, accept.entries().getFirst().ballot());
    }
    return accepts.getFirst().entries().getFirst().value();
  }

  @Test
  void newLeaderFillsGapsWithNoOps() {
    TestCluster cluster = Scenarios.gapFilling();

    List<LogEntry> expected =
        List.of(
            new LogEntry(1, new Ballot(2, 3), Value.NO_OP, true),
            new LogEntry(2, new Ballot(2, 3), new Value.Batch(List.of(put(2, 1, "b", "2"))), true));
    assertEquals(expected, cluster.node(3).applied, "the new leader");
    assertEquals(expected, cluster.node(2).applied, "its follower");
    assertEquals(List.of(1L, 2L), cluster.node(1).applied.stream().map(LogEntry::slot).toList());
    assertEquals(
        Value.NO_OP,
        cluster.node(1).applied.getFirst().value(),
        "the old leader's unchosen value in slot 1 is replaced by the chosen no-op");
    for (int id = 1; id <= 3; id++) {
      assertEquals(Map.of("b", "2"), cluster.keyValues(id), "replica " + id);
    }
    assertTrue(
        cluster
            .trace()
            .contains("3->2 Accept b=2.3 [1:noop 2:batch(c2#1)] chosenBelow=1\n2->3 Accepted"),
        "phase 2 of the new leader sends each proposal once:\n" + cluster.trace());
  }

  @Test
  void leaderBatchesQueuedProposalsIntoOneSlot() {
    TestCluster cluster =
        TestCluster.create(
            SEED,
            3,
            config -> {
              config.maxInflightSlots = 1;
              return config;
            });
    cluster.startAll();
    cluster.elect(1);
    cluster.propose(1, put(1, 1, "a", "1"));
    for (int client = 2; client <= 4; client++) {
      Ready queued = cluster.propose(1, put(client, 1, "k" + client, "v"));
      assertTrue(queued.messages().isEmpty(), "the window of one slot is full");
    }
    assertEquals(3, cluster.replica(1).pendingCommandCount());

    cluster.deliverAll();

    List<LogEntry> applied = cluster.node(1).applied;
    assertEquals(2, applied.size(), "two slots: " + applied);
    assertEquals(
        new Value.Batch(List.of(put(2, 1, "k2", "v"), put(3, 1, "k3", "v"), put(4, 1, "k4", "v"))),
        applied.get(1).value());
    assertEquals(0, cluster.replica(1).pendingCommandCount());
  }

  @Test
  void leaderSplitsBatchesAtMaxCommandsPerBatch() {
    TestCluster cluster =
        TestCluster.create(
            SEED,
            3,
            config -> {
              config.maxInflightSlots = 1;
              config.maxCommandsPerBatch = 2;
              return config;
            });
    cluster.startAll();
    cluster.elect(1);
    for (int client = 1; client <= 4; client++) {
      cluster.propose(1, put(client, 1, "k", Integer.toString(client)));
    }

    cluster.deliverAll();

    List<Integer> batchSizes =
        cluster.node(1).applied.stream()
            .map(entry -> ((Value.Batch) entry.value()).commands().size())
            .toList();
    assertEquals(List.of(1, 2, 1), batchSizes);
  }

  @Test
  void leaderKeepsAtMostTheWindowOfSlotsInFlight() {
    TestCluster cluster =
        TestCluster.create(
            SEED,
            3,
            config -> {
              config.maxInflightSlots = 2;
              config.maxCommandsPerBatch = 1;
              return config;
            });
    cluster.startAll();
    cluster.elect(1);
    for (int client = 1; client <= 5; client++) {
      cluster.propose(1, put(client, 1, "k" + client, "v"));
    }
    assertEquals(2, cluster.replica(1).inFlightSlotCount());
    assertEquals(3, cluster.replica(1).pendingCommandCount());
    assertEquals(List.of(1L, 2L), proposedSlots(cluster.pending(from(1, 2))));

    int maxInFlight = 0;
    while (!cluster.pending().isEmpty()) {
      cluster.deliverFirst(envelope -> true);
      maxInFlight = Math.max(maxInFlight, cluster.replica(1).inFlightSlotCount());
    }

    assertEquals(2, maxInFlight);
    assertEquals(
        List.of(1L, 2L, 3L, 4L, 5L), cluster.node(1).applied.stream().map(LogEntry::slot).toList());
  }

  private static List<Long> proposedSlots(List<Envelope> envelopes) {
    List<Long> slots = new ArrayList<>();
    for (Envelope envelope : envelopes) {
      if (envelope.message() instanceof Message.Accept accept) {
        accept.entries().forEach(entry -> slots.add(entry.slot()));
      }
    }
    return slots;
  }

  @Test
  void proposalToFollowerIsRejectedWithLeaderHint() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    Command early = put(7, 1, "x", "1");
    Ready beforeElection = cluster.propose(2, early);
    assertEquals(
        List.of(new Ready.ProposalRejected(early, null, "not the leader")),
        beforeElection.rejected(),
        "no leader known yet");

    cluster.elect(1);
    Command command = put(7, 2, "x", "2");
    Ready ready = cluster.propose(2, command);

    assertEquals(
        List.of(new Ready.ProposalRejected(command, ReplicaId.of(1), "not the leader")),
        ready.rejected());
    assertTrue(ready.messages().isEmpty());
    assertTrue(ready.persist().isEmpty());
  }

  /**
   * A candidate refused by an acceptor that still knows it as leader (from a term it led before)
   * must not take itself for the leader: it would refuse every proposal naming itself, and a client
   * following that hint would ask it again and again until a new leader reached it (a 10 s stall of
   * the log benchmark's client on a starved 5-replica cluster).
   */
  @Test
  void aRefusedCandidateNeverNamesItselfAsTheLeader() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.advance(2_000);
    cluster.tick(1);
    Message.PreVote ask =
        (Message.PreVote) cluster.pending(from(1, 2, Message.PreVote.class)).getFirst().message();
    cluster.drop(envelope -> true);
    cluster.receive(1, 2, new Message.PreVoteGranted(ask.ballot()));
    assertEquals(PaxosReplica.Role.CANDIDATE, cluster.replica(1).role());
    Ballot ballot = cluster.replica(1).ballot();
    cluster.drop(envelope -> true);

    cluster.receive(
        1,
        2,
        new Message.Rejected(
            ballot, new Ballot(ballot.round() + 1, 3), ReplicaId.of(1), /* leaderAlive= */ false));
    Command command = put(7, 1, "x", "1");
    Ready ready = cluster.propose(1, command);

    assertEquals(PaxosReplica.Role.FOLLOWER, cluster.replica(1).role());
    assertEquals(null, cluster.replica(1).knownLeader());
    assertEquals(
        List.of(new Ready.ProposalRejected(command, null, "not the leader")), ready.rejected());
  }

  @Test
  void leaderRefusesProposalsBeyondMaxPendingCommands() {
    TestCluster cluster =
        TestCluster.create(
            SEED,
            3,
            config -> {
              config.maxInflightSlots = 1;
              config.maxPendingCommands = 1;
              return config;
            });
    cluster.startAll();
    cluster.elect(1);
    cluster.propose(1, put(1, 1, "a", "1"));
    cluster.propose(1, put(2, 1, "a", "2"));
    Command overflow = put(3, 1, "a", "3");

    Ready ready = cluster.propose(1, overflow);

    assertEquals(
        List.of(
            new Ready.ProposalRejected(
                overflow, ReplicaId.of(1), "leader overloaded: maxPendingCommands=1")),
        ready.rejected());
  }

  @Test
  void leaderThatStepsDownRejectsItsQueuedProposals() {
    TestCluster cluster =
        TestCluster.create(
            SEED,
            3,
            config -> {
              config.maxInflightSlots = 1;
              return config;
            });
    cluster.startAll();
    cluster.elect(1);
    cluster.propose(1, put(1, 1, "a", "1"));
    Command queued = put(2, 1, "a", "2");
    cluster.propose(1, queued);
    cluster.drop(envelope -> true);
    cluster.advance(1_000);

    Ready ready =
        cluster.receive(1, 3, new Message.Accept(new Ballot(2, 3), List.of(), 1, cluster.now(), 1));

    assertEquals(PaxosReplica.Role.FOLLOWER, cluster.replica(1).role());
    assertEquals(
        List.of(queued), ready.rejected().stream().map(Ready.ProposalRejected::command).toList());
    assertEquals(ReplicaId.of(3), ready.rejected().getFirst().leaderHint());
  }

  @Test
  void electionTimeoutIsRandomizedBetweenOneAndTwoTimeouts() {
    for (long seed = 0; seed < 20; seed++) {
      PaxosReplica replica =
          new PaxosReplica(
              PaxosConfig.defaults(ReplicaId.of(1), TestConfig.ids(1, 2, 3)),
              new SplittableRandom(seed),
              DurableState.EMPTY,
              0);
      replica.start(0);
      long askedAt = -1;
      for (long now = 0; now <= 1_000 && askedAt < 0; now++) {
        Ready ready = replica.tick(now);
        if (ready.messages().stream().anyMatch(e -> e.message() instanceof Message.PreVote)) {
          askedAt = now;
        }
      }
      assertTrue(
          askedAt >= 500 && askedAt < 1_000, "seed " + seed + " asked for pre-votes at " + askedAt);
    }
  }
}
