package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The acceptor's rules: ballots only go up, and a live leader is not deposed (stickiness). */
final class AcceptorTest {

  private static final long SEED = 11;
  private static final Ballot LEADER_BALLOT = new Ballot(1, 1);
  private static final Ballot CHALLENGER = new Ballot(2, 3);
  private static final Value VALUE = new Value.Batch(List.of(TestCluster.put(7, 1, "x", "1")));

  @Test
  void acceptorRejectsAcceptBelowPromisedBallot() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.advanceTo(1_000);
    cluster.receive(2, 3, new Message.Prepare(CHALLENGER, 1, 1_000));

    Ready ready =
        cluster.receive(
            2,
            1,
            new Message.Accept(
                LEADER_BALLOT, List.of(new LogEntry(1, LEADER_BALLOT, VALUE, false)), 1, 1_000, 1));

    assertEquals(
        List.of(
            new Envelope(
                ReplicaId.of(2),
                ReplicaId.of(1),
                new Message.Rejected(LEADER_BALLOT, CHALLENGER, ReplicaId.of(3), false))),
        ready.messages());
    assertTrue(ready.persist().isEmpty(), "a rejected accept writes nothing");
    assertTrue(cluster.node(2).disk.log.isEmpty());
    assertEquals(CHALLENGER, cluster.node(2).disk.promised);
  }

  @Test
  void acceptorRejectsPrepareBelowPromisedBallot() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.advanceTo(1_000);
    cluster.receive(2, 3, new Message.Prepare(CHALLENGER, 1, 1_000));

    Ready ready = cluster.receive(2, 1, new Message.Prepare(LEADER_BALLOT, 1, 1_000));

    assertEquals(
        List.of(
            new Envelope(
                ReplicaId.of(2),
                ReplicaId.of(1),
                new Message.Rejected(LEADER_BALLOT, CHALLENGER, ReplicaId.of(3), false))),
        ready.messages());
    assertTrue(ready.persist().isEmpty());
    assertEquals(CHALLENGER, cluster.replica(2).promised());
  }

  @Test
  void acceptorRefusesNewBallotWhileLeaderLeaseIsLive() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    long heardAt = cluster.now();
    cluster.crash(1);
    cluster.advance(399);

    Ready ready = cluster.receive(2, 3, new Message.Prepare(CHALLENGER, 1, cluster.now()));

    assertEquals(
        List.of(
            new Envelope(
                ReplicaId.of(2),
                ReplicaId.of(3),
                new Message.Rejected(CHALLENGER, LEADER_BALLOT, ReplicaId.of(1), true))),
        ready.messages(),
        "heard from leader 1 at " + heardAt + ", lease 400 ms, asked at " + cluster.now());
    assertTrue(ready.persist().isEmpty());
    assertEquals(LEADER_BALLOT, cluster.node(2).disk.promised);
  }

  @Test
  void leaderHoldingItsLeaseRefusesNewBallot() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    cluster.advance(100);

    Ready ready = cluster.receive(1, 3, new Message.Prepare(CHALLENGER, 1, cluster.now()));

    assertEquals(
        List.of(
            new Envelope(
                ReplicaId.of(1),
                ReplicaId.of(3),
                new Message.Rejected(CHALLENGER, LEADER_BALLOT, ReplicaId.of(1), true))),
        ready.messages());
    assertEquals(PaxosReplica.Role.LEADER, cluster.replica(1).role());
  }

  @Test
  void acceptorPromisesNewBallotAfterLeaseExpires() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    cluster.crash(1);
    cluster.advance(400);

    Ready ready = cluster.receive(2, 3, new Message.Prepare(CHALLENGER, 1, cluster.now()));

    assertEquals(
        List.of(
            new Envelope(
                ReplicaId.of(2),
                ReplicaId.of(3),
                new Message.Promise(CHALLENGER, 1, List.of(), true, cluster.now()))),
        ready.messages());
    assertEquals(CHALLENGER, ready.persist().promised());
    assertEquals(CHALLENGER, cluster.node(2).disk.promised);
  }

  @Test
  void acceptorPromisesTheLeaderItFollowsAgainWithoutWaiting() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    cluster.advance(10);
    Ballot again = new Ballot(2, 1);

    Ready ready = cluster.receive(2, 1, new Message.Prepare(again, 1, cluster.now()));

    assertEquals(
        List.of(
            new Envelope(
                ReplicaId.of(2),
                ReplicaId.of(1),
                new Message.Promise(again, 1, List.of(), true, cluster.now()))),
        ready.messages(),
        "stickiness protects the live leader from others, not from itself");
  }

  @Test
  void restartedAcceptorPromisesNothingForOneLeasePeriod() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    cluster.crash(1);
    cluster.crash(2);
    cluster.advance(1_000);
    cluster.restart(2);
    long restartedAt = cluster.now();
    cluster.advance(399);

    Ready refused = cluster.receive(2, 3, new Message.Prepare(CHALLENGER, 1, cluster.now()));

    assertEquals(
        List.of(
            new Envelope(
                ReplicaId.of(2),
                ReplicaId.of(3),
                new Message.Rejected(CHALLENGER, LEADER_BALLOT, null, true))),
        refused.messages(),
        "restarted at " + restartedAt + "; it cannot know whom it supported before the crash");

    cluster.advance(1);
    Ready promised = cluster.receive(2, 3, new Message.Prepare(CHALLENGER, 1, cluster.now()));

    assertEquals(
        List.of(
            new Envelope(
                ReplicaId.of(2),
                ReplicaId.of(3),
                new Message.Promise(CHALLENGER, 1, List.of(), true, cluster.now()))),
        promised.messages());
  }

  @Test
  void acceptorReportsEveryAcceptedSlotFromThePreparedSlotOn() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.advanceTo(1_000);
    LogEntry first = new LogEntry(1, LEADER_BALLOT, VALUE, false);
    LogEntry second = new LogEntry(2, LEADER_BALLOT, Value.NO_OP, false);
    cluster.receive(2, 1, new Message.Accept(LEADER_BALLOT, List.of(first, second), 1, 1_000, 1));
    cluster.advance(1_000);

    Ready ready = cluster.receive(2, 3, new Message.Prepare(CHALLENGER, 2, cluster.now()));

    assertEquals(
        List.of(
            new Envelope(
                ReplicaId.of(2),
                ReplicaId.of(3),
                new Message.Promise(CHALLENGER, 2, List.of(second), true, cluster.now()))),
        ready.messages());
  }
}
