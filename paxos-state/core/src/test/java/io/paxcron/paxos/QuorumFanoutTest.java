package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@link ProposalFanout#QUORUM}: a new proposal goes to the fewest followers that make a quorum
 * with the leader; the other members get what they lack with every heartbeat; a stopped quorum peer
 * delays a choice by at most a heartbeat interval and is replaced after two; a trailing member gets
 * its entries before the leader truncates its log, not a snapshot.
 */
final class QuorumFanoutTest {

  private static final long SEED = 11;

  private static Command command(int sequence) {
    return new Command(9, sequence, ("put k" + sequence + " v").getBytes(StandardCharsets.UTF_8));
  }

  private static Set<Integer> acceptRecipients(Ready ready) {
    Set<Integer> to = new TreeSet<>();
    for (Envelope envelope : ready.messages()) {
      if (envelope.message() instanceof Message.Accept) {
        to.add(envelope.to().value());
      }
    }
    return to;
  }

  private static long heartbeat(TestCluster cluster) {
    return cluster.node(1).config.heartbeatMillis();
  }

  @Test
  void aProposalGoesToTheQuorumsFollowersOnlyUnlessEveryMemberIsAsked() {
    TestCluster five = TestCluster.started(SEED, 5);
    five.elect(1);
    assertEquals(Set.of(2, 3), acceptRecipients(five.propose(1, command(1))));

    TestCluster all =
        TestCluster.create(
            SEED,
            5,
            config -> {
              config.proposalFanout = ProposalFanout.ALL;
              return config;
            });
    all.startAll();
    all.elect(1);
    assertEquals(Set.of(2, 3, 4, 5), acceptRecipients(all.propose(1, command(1))));

    TestCluster three = TestCluster.started(SEED, 3);
    three.elect(1);
    assertEquals(Set.of(2), acceptRecipients(three.propose(1, command(1))));
  }

  @Test
  void theOtherMembersGetWhatTheyLackWithTheNextHeartbeatWithoutAskingForIt() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    for (int i = 1; i <= 5; i++) {
      cluster.propose(1, command(i));
      cluster.deliverAll();
    }
    long chosen = cluster.replica(1).firstUnchosenSlot();
    assertTrue(chosen > 5, "the leader chose the five commands: first unchosen " + chosen);
    assertTrue(
        cluster.replica(3).firstUnchosenSlot() < chosen,
        "replica 3 is off the quorum and has not heard of the commands yet");

    cluster.runFor(heartbeat(cluster), 1);

    assertEquals(chosen, cluster.replica(3).firstUnchosenSlot());
    assertEquals(
        cluster.node(1).applied.stream().map(LogEntry::slot).toList(),
        cluster.node(3).applied.stream().map(LogEntry::slot).toList());
    for (Ready ready : cluster.node(3).readies) {
      for (Envelope envelope : ready.messages()) {
        assertTrue(
            !(envelope.message() instanceof Message.CatchUpRequest),
            "replica 3 asked for a catch-up: " + envelope);
      }
    }
  }

  @Test
  void aStoppedQuorumPeerDelaysAChoiceByAtMostAHeartbeatAndIsReplacedAfterTwo() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    cluster.propose(1, command(1));
    cluster.deliverAll();
    long before = cluster.replica(1).firstUnchosenSlot();

    cluster.crash(2);
    long proposedAt = cluster.now();
    Ready proposed = cluster.propose(1, command(2));
    assertEquals(Set.of(2), acceptRecipients(proposed), "replica 2 is still the quorum peer");
    cluster.runUntil(() -> cluster.replica(1).firstUnchosenSlot() > before, 1, 10_000);
    assertTrue(
        cluster.now() - proposedAt <= heartbeat(cluster),
        "chosen " + (cluster.now() - proposedAt) + " ms after the proposal, through replica 3");

    cluster.runFor(2 * heartbeat(cluster), 1);
    assertEquals(Set.of(3), acceptRecipients(cluster.propose(1, command(3))));
    long third = cluster.replica(1).firstUnchosenSlot();
    cluster.deliverAll();
    assertEquals(third + 1, cluster.replica(1).firstUnchosenSlot(), "chosen without waiting");
  }

  @Test
  void aTrailingMemberGetsItsEntriesBeforeTheLeaderTruncatesItsLogNotASnapshot() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    cluster.runFor(heartbeat(cluster), 1);
    for (int i = 1; i <= 5; i++) {
      cluster.propose(1, command(i));
      cluster.deliverAll();
    }
    long chosen = cluster.replica(1).firstUnchosenSlot();
    assertTrue(cluster.replica(3).firstUnchosenSlot() < chosen, "replica 3 trails");

    cluster.takeSnapshot(1);
    cluster.deliverAll();

    assertEquals(chosen, cluster.replica(3).firstUnchosenSlot());
    for (Envelope envelope : cluster.pending()) {
      assertTrue(!(envelope.message() instanceof Message.CatchUpReply), envelope.toString());
    }
    for (Ready ready : cluster.node(1).readies) {
      for (Envelope envelope : ready.messages()) {
        assertTrue(
            !(envelope.message() instanceof Message.CatchUpReply reply && reply.snapshot() != null),
            "the leader sent a snapshot: " + envelope);
      }
    }
  }

  @Test
  void whileAMembershipChangeIsInProgressEveryMemberHearsEveryProposal() {
    TestCluster cluster = TestCluster.startedWithSpares(SEED, 3, 1);
    cluster.elect(1);
    cluster.runFor(heartbeat(cluster), 1);
    cluster.reconfigure(1, new Configuration.Change.AddLearner(ReplicaId.of(4), "host4:1"));
    // The leader fills the slots until the change takes effect with no-ops; while two
    // configurations govern, each of those proposals goes to every member.
    int duringChange = 0;
    while (!cluster.pending().isEmpty()) {
      boolean twoGovern =
          cluster
                  .replica(1)
                  .membership()
                  .governingFrom(cluster.replica(1).firstUnchosenSlot())
                  .size()
              == 2;
      Envelope next = cluster.pending().getFirst();
      Ready ready = cluster.deliverFirst(envelope -> envelope == next);
      Set<Integer> recipients = acceptRecipients(ready);
      if (next.to().value() == 1 && twoGovern && !recipients.isEmpty()) {
        duringChange++;
        assertEquals(Set.of(2, 3, 4), recipients);
      }
    }
    assertTrue(duringChange > 0, "no proposal left while the change was in progress");

    cluster.runFor(heartbeat(cluster), 1);
    assertEquals(
        Set.of(2),
        acceptRecipients(cluster.propose(1, command(2))),
        "in effect: the learner is off the quorum and hears with the heartbeats");
  }
}
