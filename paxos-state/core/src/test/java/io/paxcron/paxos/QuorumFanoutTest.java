package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@link ProposalFanout#QUORUM}: a new proposal goes to the fewest followers that make a quorum
 * with the leader; the other members get what they lack with every heartbeat; a stopped quorum peer
 * delays a choice by at most a heartbeat interval and is replaced after two; one that answers, but
 * far slower than another member, is replaced too; a trailing member gets its entries before the
 * leader truncates its log, not a snapshot.
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

  /** Three replicas, leader 1, five commands chosen with quorum peer 2; replica 3 heard none. */
  private static TestCluster fiveCommandsChosenThroughReplica2() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    for (int i = 1; i <= 5; i++) {
      cluster.propose(1, command(i));
      cluster.deliverAll();
    }
    return cluster;
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
    TestCluster cluster = fiveCommandsChosenThroughReplica2();
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
  void theFeedIsLearnedWithoutASyncAndLeavesAHealthyPeersProposalToIt() {
    TestCluster cluster = fiveCommandsChosenThroughReplica2();
    long chosen = cluster.replica(1).firstUnchosenSlot();
    // One more proposal, just made: its quorum peer (replica 2) has it and will answer.
    cluster.propose(1, command(6));
    cluster.deliverFirst(TestCluster.from(1, 2, Message.Accept.class));
    // Feeds and a heartbeat come before the proposal is overdue.
    long heartbeatAt = cluster.now() + heartbeat(cluster);
    while (cluster.now() < heartbeatAt) {
      cluster.advance(1);
      cluster.tickAll();
    }
    List<Envelope> feeds = cluster.pending(TestCluster.from(1, 3, Message.Accept.class));
    int entries = 0;
    for (Envelope feed : feeds) {
      for (LogEntry entry : ((Message.Accept) feed.message()).entries()) {
        entries++;
        assertTrue(
            entry.slot() < chosen,
            "the chosen entries only, not the proposal replica 2 is answering: " + feed);
      }
    }
    assertTrue(entries > 0, "replica 3 is fed the chosen entries it lacks: " + feeds);
    while (!cluster.pending(TestCluster.from(1, 3, Message.Accept.class)).isEmpty()) {
      int before = cluster.node(3).readies.size();
      cluster.deliverFirst(TestCluster.from(1, 3, Message.Accept.class));
      Ready fed = cluster.node(3).readies.get(before);
      assertTrue(
          fed.persist().isEmpty() || fed.persist().learnedOnly(),
          "replica 3 learns the chosen entries, a write it does not sync: " + fed.persist());
      for (Envelope envelope : fed.messages()) {
        if (envelope.message() instanceof Message.Accepted accepted) {
          assertEquals(List.of(), accepted.slots(), "a learned entry is not an acceptance");
        }
      }
    }
    assertEquals(chosen, cluster.replica(3).firstUnchosenSlot());
  }

  @Test
  void aMemberOffTheQuorumFollowsBetweenHeartbeatsNotInOneBatchPerHeartbeat() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    // A command chosen every millisecond for four heartbeat intervals, every message delivered.
    long end = cluster.now() + 4 * heartbeat(cluster);
    long waitingFor = -1;
    long largestLag = 0;
    int feeds = 0;
    while (cluster.now() < end) {
      if (cluster.replica(1).firstUnchosenSlot() > waitingFor) {
        waitingFor = cluster.replica(1).firstUnchosenSlot();
        cluster.propose(1, command((int) waitingFor));
      }
      feeds += cluster.pending(TestCluster.from(1, 3, Message.Accept.class)).size();
      cluster.deliverAll();
      cluster.advance(1);
      cluster.tickAll();
      if (cluster.now() > end - 2 * heartbeat(cluster)) {
        largestLag =
            Math.max(
                largestLag,
                cluster.replica(1).firstUnchosenSlot() - cluster.replica(3).firstUnchosenSlot());
      }
    }
    long step = heartbeat(cluster) / PaxosReplica.FEEDS_PER_HEARTBEAT;
    assertTrue(
        largestLag <= step + 2,
        "replica 3 trailed by up to "
            + largestLag
            + " slots; fed every "
            + step
            + " ms it trails by about as many, fed with the heartbeats alone by an interval's");
    assertTrue(
        feeds >= 4 * PaxosReplica.FEEDS_PER_HEARTBEAT - 1,
        "fed in steps, " + feeds + " Accepts in four intervals");
  }

  @Test
  void aBusyLogFeedsAMemberOffTheQuorumOnceItLacksFeedBytesNotAHalfIntervalsWorthAtOnce() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    // A 2 KiB command chosen every millisecond for two heartbeat intervals: half an interval is
    // 25 ms here, about 50 KiB of commands, which a member fed twice per interval would get at
    // once.
    byte[] payload = new byte[2048];
    Arrays.fill(payload, (byte) 'v');
    long end = cluster.now() + 2 * heartbeat(cluster);
    long waitingFor = -1;
    int feeds = 0;
    long largestFeed = 0;
    long fedBytes = 0;
    int sequence = 0;
    while (cluster.now() < end) {
      if (cluster.replica(1).firstUnchosenSlot() > waitingFor) {
        waitingFor = cluster.replica(1).firstUnchosenSlot();
        cluster.propose(1, new Command(9, ++sequence, payload));
      }
      for (Envelope envelope : cluster.pending(TestCluster.from(1, 3, Message.Accept.class))) {
        long bytes = 0;
        for (LogEntry entry : ((Message.Accept) envelope.message()).entries()) {
          bytes += entry.value().sizeBytes();
        }
        if (bytes > 0) {
          feeds++;
          fedBytes += bytes;
          largestFeed = Math.max(largestFeed, bytes);
        }
      }
      cluster.deliverAll();
      cluster.advance(1);
      cluster.tickAll();
    }
    assertTrue(
        largestFeed <= PaxosReplica.FEED_BYTES + 2L * payload.length,
        "the largest feed carried "
            + largestFeed
            + " bytes; a member is due once it lacks "
            + PaxosReplica.FEED_BYTES);
    assertTrue(
        feeds >= fedBytes / (PaxosReplica.FEED_BYTES + 2L * payload.length),
        feeds + " feeds carried " + fedBytes + " bytes");
    assertTrue(
        fedBytes >= (sequence - 12L) * payload.length,
        "replica 3 was fed " + fedBytes + " bytes of " + sequence + " commands");
  }

  @Test
  void aStoppedQuorumPeerDelaysAChoiceByAtMostAHeartbeatAndIsReplacedAfterTwo() {
    // The heartbeats feed the others a proposal once it is overdue: out longer than a healthy
    // quorum peer takes (three times the leader's own write, nothing in this simulation, plus the
    // margin), so a proposal made just before a heartbeat goes with the next one.
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
        cluster.now() - proposedAt <= heartbeat(cluster) + PaxosReplica.SLOW_MARGIN_MILLIS,
        "chosen " + (cluster.now() - proposedAt) + " ms after the proposal, through replica 3");

    cluster.runFor(2 * heartbeat(cluster), 1);
    assertEquals(Set.of(3), acceptRecipients(cluster.propose(1, command(3))));
    assertTrue(
        cluster.replica(1).lastQuorumChange().reason().startsWith("replica 2 acknowledged nothing"),
        cluster.replica(1).lastQuorumChange().reason());
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

  /**
   * A closed-loop client on leader 1 for {@code runMillis}: the next command as soon as the
   * previous one is chosen; every Accepted of a replica in {@code slow} reaches the leader {@code
   * delayMillis} late, every other message at once.
   */
  private static void drive(
      TestCluster cluster, Set<Integer> slow, long delayMillis, long runMillis) {
    java.util.IdentityHashMap<Envelope, Long> heldSince = new java.util.IdentityHashMap<>();
    long waitingFor = -1;
    long end = cluster.now() + runMillis;
    while (cluster.now() < end) {
      if (cluster.replica(1).firstUnchosenSlot() > waitingFor) {
        waitingFor = cluster.replica(1).firstUnchosenSlot();
        cluster.propose(1, command((int) waitingFor));
      }
      boolean delivered = true;
      while (delivered) {
        delivered = false;
        for (Envelope envelope : cluster.pending()) {
          long since = heldSince.computeIfAbsent(envelope, e -> cluster.now());
          boolean held =
              envelope.message() instanceof Message.Accepted
                  && slow.contains(envelope.from().value());
          if (!held || cluster.now() - since >= delayMillis) {
            heldSince.remove(envelope);
            cluster.deliverFirst(e -> e == envelope);
            delivered = true;
            break;
          }
        }
      }
      cluster.advance(1);
      cluster.tickAll();
    }
  }

  private static TestCluster afterSlowRun(long delayMillis, long runMillis) {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    drive(cluster, Set.of(2), delayMillis, runMillis);
    return cluster;
  }

  private static Set<Integer> recipientsAfterSlowRun(long delayMillis, long runMillis) {
    return acceptRecipients(afterSlowRun(delayMillis, runMillis).propose(1, command(1_000_000)));
  }

  @Test
  void aQuorumPeerThatAnswersFarSlowerThanTheLeaderWritesIsReplaced() {
    long hold = 20 * heartbeat(TestCluster.started(SEED, 3));
    assertEquals(
        Set.of(2),
        recipientsAfterSlowRun(20, hold / 2),
        "kept for the hold after it was chosen, however slow");
    TestCluster replaced = afterSlowRun(20, hold + 10 * heartbeat(TestCluster.started(SEED, 3)));
    assertEquals(
        Set.of(3),
        acceptRecipients(replaced.propose(1, command(1_000_000))),
        "20 ms per write, the leader's own write ~0 and replica 3's ~0: replaced");
    PaxosReplica.QuorumChange change = replaced.replica(1).lastQuorumChange();
    assertEquals(List.of(ReplicaId.of(3)), change.peers());
    assertEquals(1, change.sequence(), "replaced once: " + change);
    assertTrue(change.reason().startsWith("replica 2 answered slowly"), change.reason());
    assertEquals(
        Set.of(2),
        recipientsAfterSlowRun(4, 3 * hold),
        "4 ms per write is within the margin: kept, no trading places on jitter");
  }

  @Test
  void aReplacedSlowMemberStaysOutLongerThanTheHoldThoughItAnswersTheHeartbeatsQuickly() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    long hb = heartbeat(cluster);
    drive(cluster, Set.of(2), 20, 22 * hb);
    assertEquals(List.of(ReplicaId.of(3)), cluster.replica(1).lastQuorumChange().peers());
    long replacedAt = cluster.replica(1).lastQuorumChange().atMillis();
    // Replica 2 is quick again (as a member starved of CPU is under the heartbeats' light feed);
    // replica 3 turns slow once the hold is over.
    drive(cluster, Set.of(3), 20, replacedAt + 30 * hb - cluster.now());
    assertEquals(
        Set.of(3),
        acceptRecipients(cluster.propose(1, command(1_000_000))),
        "replica 2 was replaced for its slowness 1.5 s ago: it stays out for 2 s");
    drive(cluster, Set.of(3), 20, replacedAt + 45 * hb - cluster.now());
    assertEquals(
        Set.of(2),
        acceptRecipients(cluster.propose(1, command(1_000_001))),
        "after its 2 s out, replica 2 takes the slow replica 3's place");
  }

  @Test
  void aQuorumPeerThatStallsIsReplacedAfterAHeartbeatNotAfterTwo() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    // Healthy for longer than the hold: replica 3 is measured by what the heartbeats feed it.
    long end = cluster.now() + 22 * heartbeat(cluster);
    int sequence = 0;
    while (cluster.now() < end) {
      cluster.propose(1, command(++sequence));
      cluster.runFor(5, 1);
    }
    // Replica 2 stalls: it hears everything and answers nothing. Each heartbeat's feed gets the
    // stalled proposals chosen through replica 3, which must not hide the stall.
    long stalledAt = cluster.now();
    while (cluster.replica(1).lastQuorumChange() == null && cluster.now() < stalledAt + 1_000) {
      cluster.propose(1, command(++sequence));
      cluster.advance(1);
      cluster.tickAll();
      for (int i = 0; i < 100 && !cluster.pending().isEmpty(); i++) {
        cluster.drop(TestCluster.from(2, 1, Message.Accepted.class));
        Envelope next = cluster.pending().isEmpty() ? null : cluster.pending().getFirst();
        if (next != null) {
          cluster.deliverFirst(envelope -> envelope == next);
        }
      }
    }
    PaxosReplica.QuorumChange change = cluster.replica(1).lastQuorumChange();
    assertTrue(change != null, "never replaced");
    assertEquals(List.of(ReplicaId.of(3)), change.peers());
    assertTrue(change.reason().contains("left a proposal unanswered"), change.reason());
    assertTrue(
        change.atMillis() - stalledAt <= heartbeat(cluster) + 10,
        "replaced "
            + (change.atMillis() - stalledAt)
            + " ms after the stall; the silence rule would take two heartbeats");
  }

  @Test
  void aQuorumPeerThrottledInPeriodsIsReplacedWithinAFewPeriods() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    long hb = heartbeat(cluster);
    drive(cluster, Set.of(), 0, 22 * hb);
    long throttledAt = cluster.now();
    // Replica 2 runs 10 ms of every 100 (a CPU quota): its answers wait for its next 10 ms.
    java.util.IdentityHashMap<Envelope, Long> seen = new java.util.IdentityHashMap<>();
    long waitingFor = -1;
    while (cluster.replica(1).lastQuorumChange() == null && cluster.now() < throttledAt + 5_000) {
      if (cluster.replica(1).firstUnchosenSlot() > waitingFor) {
        waitingFor = cluster.replica(1).firstUnchosenSlot();
        cluster.propose(1, command((int) waitingFor));
      }
      boolean running = (cluster.now() - throttledAt) % 100 < 10;
      boolean delivered = true;
      while (delivered) {
        delivered = false;
        for (Envelope envelope : cluster.pending()) {
          seen.putIfAbsent(envelope, cluster.now());
          boolean fromThrottled = envelope.from().value() == 2 || envelope.to().value() == 2;
          if (!fromThrottled || running) {
            cluster.deliverFirst(e -> e == envelope);
            delivered = true;
            break;
          }
        }
      }
      cluster.advance(1);
      cluster.tickAll();
    }
    PaxosReplica.QuorumChange change = cluster.replica(1).lastQuorumChange();
    assertTrue(change != null, "never replaced");
    assertEquals(List.of(ReplicaId.of(3)), change.peers());
    assertTrue(
        change.atMillis() - throttledAt <= 100,
        "replaced "
            + (change.atMillis() - throttledAt)
            + " ms after the throttle: "
            + change.reason());
  }
}
