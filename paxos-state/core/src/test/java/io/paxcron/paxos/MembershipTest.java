package io.paxcron.paxos;

import static io.paxcron.paxos.TestCluster.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Configuration.Change;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Membership changes through the log: one step at a time, in effect {@link Membership#DELAY_SLOTS}
 * slots after the slot that chose them, learners first, refused when unsafe (docs/membership.md).
 */
final class MembershipTest {

  private static final long SEED = 41;

  private static void settle(TestCluster cluster) {
    cluster.runFor(1_000, 10);
  }

  private static void write(TestCluster cluster, int clientId, int count) {
    int leader = cluster.leader();
    for (int sequence = 1; sequence <= count; sequence++) {
      cluster.propose(leader, put(clientId, sequence, "k" + clientId, "v" + sequence));
    }
    cluster.deliverAll();
  }

  @Test
  void aChangeGovernsFromDelaySlotsAfterTheSlotThatChoseIt() {
    TestCluster cluster = TestCluster.startedWithSpares(SEED, 3, 1);
    cluster.elect(1);
    write(cluster, 7, 3);
    long slot = cluster.replica(1).firstUnchosenSlot();

    assertTrue(
        cluster.reconfigure(1, new Change.AddLearner(ReplicaId.of(4), "host4:7000")).accepted());
    settle(cluster);

    for (int id = 1; id <= 4; id++) {
      Membership membership = cluster.replica(id).membership();
      assertEquals(slot + Membership.DELAY_SLOTS, membership.latestFromSlot(), "replica " + id);
      assertEquals("host4:7000", membership.latest().address(ReplicaId.of(4)));
      assertTrue(
          membership
              .at(slot + Membership.DELAY_SLOTS - 1)
              .members()
              .equals(Set.copyOf(TestConfig.ids(1, 2, 3))));
      assertTrue(membership.at(slot + Membership.DELAY_SLOTS).isLearner(ReplicaId.of(4)));
    }
    assertTrue(
        cluster.replica(1).firstUnchosenSlot() >= slot + Membership.DELAY_SLOTS,
        "the idle leader fills the slots up to the change's effect with no-ops");
  }

  @Test
  void aLearnerCatchesUpVotesOnlyOncePromotedAndThenCountsTowardTheQuorum() {
    TestCluster cluster = TestCluster.startedWithSpares(SEED, 3, 1);
    cluster.elect(1);
    write(cluster, 7, 5);
    assertTrue(
        cluster.reconfigure(1, new Change.AddLearner(ReplicaId.of(4), "host4:7000")).accepted());
    settle(cluster);
    assertEquals(cluster.keyValues(1), cluster.keyValues(4), "the learner received the log");

    cluster.crash(3);
    cluster.crash(2);
    cluster.propose(1, put(8, 1, "learner-alone", "x"));
    cluster.runFor(200, 10);
    assertNull(cluster.keyValues(1).get("learner-alone"), "a learner is no quorum with the leader");
    cluster.restart(2);
    cluster.restart(3);
    settle(cluster);

    assertTrue(
        cluster.reconfigure(cluster.leader(), new Change.Promote(ReplicaId.of(4))).accepted());
    settle(cluster);
    int leader = cluster.leader();
    assertTrue(cluster.replica(leader).configuration().isVoter(ReplicaId.of(4)));
    int down = leader == 2 ? 3 : 2;
    cluster.crash(down);
    cluster.propose(leader, put(9, 1, "with-four", "y"));
    cluster.runFor(200, 10);
    assertEquals("y", cluster.keyValues(4).get("with-four"), "three of four voters choose");
  }

  @Test
  void aSecondChangeIsRefusedWhileTheFirstIsInProgress() {
    TestCluster cluster = TestCluster.startedWithSpares(SEED, 3, 2);
    cluster.elect(1);
    assertTrue(
        cluster.reconfigure(1, new Change.AddLearner(ReplicaId.of(4), "host4:7000")).accepted());
    PaxosReplica.Reconfiguration second =
        cluster.reconfigure(1, new Change.AddLearner(ReplicaId.of(5), "h5:1"));
    assertFalse(second.accepted());
    assertTrue(
        second.refusal().startsWith("another membership change is in progress"), second.refusal());
    settle(cluster);
    assertTrue(cluster.reconfigure(1, new Change.AddLearner(ReplicaId.of(5), "h5:1")).accepted());
  }

  @Test
  void aChangeThatWouldLeaveNoReachableQuorumIsRefused() {
    TestCluster cluster = TestCluster.startedWithSpares(SEED, 3, 0);
    cluster.elect(1);
    settle(cluster);
    cluster.crash(3);
    cluster.runFor(1_000, 10);
    PaxosReplica.Reconfiguration refused =
        cluster.reconfigure(1, new Change.Remove(ReplicaId.of(2)));
    assertEquals(
        "the new configuration (voters [1, 3]) would have 1 reachable voters [1] but its quorum is"
            + " 2",
        refused.refusal());
    assertEquals(
        Set.copyOf(TestConfig.ids(1, 2, 3)), cluster.replica(1).membership().latest().members());
    assertEquals(
        "replica 9 is not a member",
        cluster.reconfigure(1, new Change.Remove(ReplicaId.of(9))).refusal());
    assertEquals(
        "replica 9 is not a learner (add it first)",
        cluster.reconfigure(1, new Change.Promote(ReplicaId.of(9))).refusal());
    assertEquals(
        "not the leader (leader is 1)",
        cluster.reconfigure(2, new Change.Remove(ReplicaId.of(3))).refusal());
  }

  @Test
  void aLearnerThatHasNotCaughtUpIsNotPromoted() {
    TestCluster cluster = TestCluster.startedWithSpares(SEED, 3, 1);
    cluster.elect(1);
    cluster.isolate(4);
    assertTrue(
        cluster.reconfigure(1, new Change.AddLearner(ReplicaId.of(4), "host4:7000")).accepted());
    settle(cluster);
    assertEquals(
        "learner 4 has not answered this leader yet",
        cluster.reconfigure(1, new Change.Promote(ReplicaId.of(4))).refusal());
  }

  @Test
  void aRemovedLeaderStepsDownKnowsItWasRemovedAndTheOthersElectASuccessor() {
    TestCluster cluster = TestCluster.startedWithSpares(SEED, 3, 0);
    cluster.elect(1);
    write(cluster, 7, 2);
    assertTrue(cluster.reconfigure(1, new Change.Remove(ReplicaId.of(1))).accepted());
    long proposedAt = cluster.now();
    cluster.runUntil(
        () ->
            cluster.replica(2).holdsLease(cluster.now())
                || cluster.replica(3).holdsLease(cluster.now()),
        5,
        400);
    assertTrue(
        cluster.now() - proposedAt < 400,
        "handed over within a lease period, not after it: " + (cluster.now() - proposedAt) + " ms");
    cluster.runFor(5_000, 10);

    assertTrue(cluster.replica(1).removed());
    assertEquals(PaxosReplica.Role.FOLLOWER, cluster.replica(1).role());
    int successor = cluster.leader();
    assertNotEquals(-1, successor);
    assertNotEquals(1, successor);
    cluster.propose(successor, put(8, 1, "after", "removal"));
    cluster.runFor(200, 10);
    assertEquals("removal", cluster.keyValues(successor == 2 ? 3 : 2).get("after"));
    cluster.runFor(5_000, 10);
    assertEquals(successor, cluster.leader(), "the removed replica never campaigns");
  }

  @Test
  void aSnapshotCarriesTheMembershipToAReplicaThatCatchesUpFromIt() {
    TestCluster cluster = TestCluster.startedWithSpares(SEED, 3, 1);
    cluster.elect(1);
    assertTrue(
        cluster.reconfigure(1, new Change.AddLearner(ReplicaId.of(4), "host4:7000")).accepted());
    settle(cluster);
    cluster.crash(4);
    write(cluster, 7, 3);
    settle(cluster);
    cluster.takeSnapshot(1);
    Snapshot snapshot = cluster.replica(1).snapshot();
    assertTrue(
        snapshot.membership().latest().isLearner(ReplicaId.of(4)),
        snapshot.membership().toString());

    cluster.restart(4);
    settle(cluster);
    assertEquals(cluster.keyValues(1), cluster.keyValues(4));
    assertTrue(cluster.replica(4).membership().latest().isLearner(ReplicaId.of(4)));
  }

  @Test
  void theMembershipSurvivesTheRecordFormat() throws Exception {
    Configuration next =
        Configuration.bootstrap(TestConfig.ids(1, 2, 3))
            .apply(new Change.AddLearner(ReplicaId.of(4), "h4:7000"));
    Membership membership =
        Membership.bootstrap(Configuration.bootstrap(TestConfig.ids(1, 2, 3))).with(5, 37, next);
    Persist persist =
        new Persist(
            null,
            List.of(new LogEntry(9, new Ballot(2, 1), new Value.Reconfigure(next), true)),
            new Snapshot(8, new byte[] {1, 2}, membership));
    Persist decoded = RecordCodec.decodePersist(RecordCodec.encode(persist));
    assertEquals(persist.snapshot(), decoded.snapshot());
    assertEquals(persist.entries(), decoded.entries());
    assertEquals(
        membership, RecordCodec.decodeMembership(RecordCodec.encodeMembership(membership)));
  }

  @Test
  void configurationChangesSayWhyTheyAreImpossible() {
    Configuration one = Configuration.bootstrap(TestConfig.ids(1));
    assertEquals(
        "replica 1 is the last voter; removing it leaves no quorum",
        assertRefused(() -> one.apply(new Change.Remove(ReplicaId.of(1)))));
    assertEquals(
        "replica 1 is already a voter",
        assertRefused(() -> one.apply(new Change.AddLearner(ReplicaId.of(1), ""))));
  }

  private static String assertRefused(Runnable change) {
    try {
      change.run();
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    throw new AssertionError("the change was not refused");
  }
}
