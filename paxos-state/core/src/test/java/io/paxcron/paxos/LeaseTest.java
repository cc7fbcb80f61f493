package io.paxcron.paxos;

import static io.paxcron.paxos.TestCluster.from;
import static io.paxcron.paxos.TestCluster.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The leader lease: its arithmetic, lease reads, and losing it. */
final class LeaseTest {

  private static final long SEED = 41;

  @Test
  void leaderLeaseIsShorterThanFollowerLeaseByTheClockMargin() {
    // Defaults: followers refuse other ballots for 400 ms; clocks drift at most 1% (10 000 ppm)
    // and jump at most 20 ms in total. usable = 400 - 20 = 380; 380 * 0.99 / 1.01 = 372.47, rounded
    // down to 372; minus the leader's own 20 ms of jumps: 352 ms.
    ClockBound bound = new ClockBound(10_000, 20);
    assertEquals(352, bound.leaderLeaseMillis(400));
    assertEquals(
        352, PaxosConfig.defaults(ReplicaId.of(1), TestConfig.ids(1, 2, 3)).leaderLeaseMillis());

    // Why 352 is safe: a follower protects the leader for at least (400 - 20) / 1.01 = 376.2 ms
    // of real time, while 352 ms on the leader's clock are at most (352 + 20) / 0.99 = 375.8 ms.
    double followerProtectsRealMillis = (400.0 - 20) / 1.01;
    double leaderCountsAtMostRealMillis = (352.0 + 20) / 0.99;
    assertTrue(leaderCountsAtMostRealMillis < followerProtectsRealMillis);
    double oneMoreMillisecond = (353.0 + 20) / 0.99;
    assertTrue(oneMoreMillisecond > followerProtectsRealMillis, "352 is the largest safe value");

    assertEquals(400, new ClockBound(0, 0).leaderLeaseMillis(400), "perfect clocks: no margin");
    // 10% drift, no jumps: 1000 * 0.9 / 1.1 = 818.18 -> 818.
    assertEquals(818, new ClockBound(100_000, 0).leaderLeaseMillis(1_000));
    // Jumps only: 1000 - 50 - 50 = 900.
    assertEquals(900, new ClockBound(0, 50).leaderLeaseMillis(1_000));

    PaxosConfig planted =
        PaxosConfig.defaults(ReplicaId.of(1), TestConfig.ids(1, 2, 3))
            .withRules(BrokenRules.LEASE_WITHOUT_DRIFT_MARGIN);
    assertEquals(400, planted.leaderLeaseMillis(), "the planted bug drops the margin");
  }

  @Test
  void leaderCountsItsLeaseFromTheSendTimeOfWhatAQuorumAcknowledged() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    long electedAt = cluster.now();
    PaxosReplica leader = cluster.replica(1);
    assertEquals(
        electedAt + 352,
        leader.leaseExpiresAtMillis(),
        "counted from the Prepare the promises echo");

    cluster.advance(50);
    long heartbeatAt = cluster.now();
    cluster.tick(1);
    cluster.advance(30);
    cluster.deliverAll();

    assertEquals(
        heartbeatAt + 352,
        leader.leaseExpiresAtMillis(),
        "from the heartbeat's send time, not its acknowledgement's arrival");
  }

  @Test
  void leaderStopsHoldingLeaseWhenQuorumStopsAcknowledging() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    long lastAcknowledgedSend = cluster.now();
    cluster.isolate(2);
    cluster.isolate(3);
    PaxosReplica leader = cluster.replica(1);
    long lapse = lastAcknowledgedSend + 352;

    while (cluster.now() < lapse - 1) {
      cluster.advance(1);
      cluster.tick(1);
      cluster.deliverAll();
      assertTrue(leader.holdsLease(cluster.now()), "at " + cluster.now());
    }
    Ready pendingRead = cluster.read(1, 9);
    assertTrue(pendingRead.reads().isEmpty(), "the read waits for a confirmation that never comes");

    cluster.advance(1);
    Ready lapsed = cluster.tick(1);

    assertFalse(leader.holdsLease(cluster.now()), "at " + cluster.now());
    assertEquals(PaxosReplica.Role.LEADER, leader.role(), "still leader, without a lease");
    assertEquals(
        List.of(new Ready.ReadRejected(9, ReplicaId.of(1), "leader lease lapsed")), lapsed.reads());
    Ready refused = cluster.read(1, 10);
    assertEquals(
        List.of(new Ready.ReadRejected(10, ReplicaId.of(1), "no leader lease here")),
        refused.reads());

    cluster.advanceTo(lastAcknowledgedSend + 499);
    cluster.tick(1);
    assertEquals(PaxosReplica.Role.LEADER, leader.role());
    cluster.advance(1);
    cluster.tick(1);
    assertEquals(
        PaxosReplica.Role.FOLLOWER,
        leader.role(),
        "steps down after an election timeout without a quorum");
  }

  @Test
  void leaseReadWaitsForQuorumConfirmation() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    cluster.propose(1, put(7, 1, "x", "1"));
    cluster.deliverAll();
    cluster.advance(10);

    Ready asked = cluster.read(1, 42);

    assertTrue(asked.reads().isEmpty(), "holding the lease is not enough: confirm the ballot");
    long probe = ((Message.Accept) cluster.pending(from(1, 2)).getLast().message()).probe();
    Ready stale =
        cluster.receive(
            1, 3, new Message.Accepted(new Ballot(1, 1), List.of(), 2, cluster.now(), probe - 1));
    assertTrue(stale.reads().isEmpty(), "acknowledging an older heartbeat confirms nothing");

    cluster.deliverFirst(from(1, 2, Message.Accept.class));
    Ready confirmed = cluster.deliverFirst(from(2, 1, Message.Accepted.class));

    assertEquals(
        List.of(new Ready.ReadReady(42, 1)),
        confirmed.reads(),
        "serve after applying through slot 1");
  }

  @Test
  void leaseReadIsRejectedWithoutLease() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    Ready noLeader = cluster.read(2, 1);
    assertEquals(
        List.of(new Ready.ReadRejected(1, null, "no leader lease here")), noLeader.reads());

    cluster.elect(1);
    Ready follower = cluster.read(2, 2);
    assertEquals(
        List.of(new Ready.ReadRejected(2, ReplicaId.of(1), "no leader lease here")),
        follower.reads(),
        "a follower points at the leader");

    cluster.isolate(2);
    cluster.isolate(3);
    cluster.advance(352);
    Ready expired = cluster.read(1, 3);
    assertEquals(
        List.of(new Ready.ReadRejected(3, ReplicaId.of(1), "no leader lease here")),
        expired.reads());
  }

  @Test
  void leaderRefusesReadsBeyondMaxPendingReads() {
    TestCluster cluster =
        TestCluster.create(
            SEED,
            3,
            config -> {
              config.maxPendingReads = 1;
              return config;
            });
    cluster.startAll();
    cluster.elect(1);
    cluster.read(1, 1);

    Ready refused = cluster.read(1, 2);

    assertEquals(
        List.of(
            new Ready.ReadRejected(
                2, ReplicaId.of(1), "too many pending reads: maxPendingReads=1")),
        refused.reads());
  }
}
