package io.paxcron.paxos;

import static io.paxcron.paxos.TestCluster.acceptOfSlot;
import static io.paxcron.paxos.TestCluster.append;
import static io.paxcron.paxos.TestCluster.from;
import static io.paxcron.paxos.TestCluster.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Learning: in-order apply, catch-up from chosen entries, catch-up from a snapshot. */
final class LearnerTest {

  private static final long SEED = 37;

  private static List<Long> appliedSlots(TestCluster cluster, int id) {
    return cluster.node(id).applied.stream().map(LogEntry::slot).toList();
  }

  @Test
  void followerAppliesStrictlyInSlotOrder() {
    TestCluster cluster = TestCluster.startedAskingAll(SEED, 3);
    cluster.elect(1);
    cluster.propose(1, put(1, 1, "k", "first"));
    cluster.propose(1, put(2, 1, "k", "second"));

    cluster.deliverFirst(acceptOfSlot(1, 2, 2));
    assertEquals(List.of(), appliedSlots(cluster, 2), "slot 2 accepted, slot 1 unknown");

    cluster.deliverFirst(acceptOfSlot(1, 3, 1));
    cluster.deliverFirst(acceptOfSlot(1, 3, 2));
    cluster.deliverFirst(from(2, 1, Message.Accepted.class));
    assertEquals(List.of(), appliedSlots(cluster, 1), "slot 2 chosen at the leader, slot 1 not");
    cluster.deliverFirst(from(3, 1, Message.Accepted.class));
    cluster.deliverFirst(from(3, 1, Message.Accepted.class));
    assertEquals(List.of(1L, 2L), appliedSlots(cluster, 1));

    cluster.advance(50);
    cluster.tick(1);
    cluster.deliverFirst(
        envelope ->
            from(1, 2).test(envelope)
                && envelope.message() instanceof Message.Accept accept
                && accept.chosenBelowSlot() == 3);
    assertEquals(
        List.of(),
        appliedSlots(cluster, 2),
        "told slots 1 and 2 are chosen, replica 2 holds only slot 2 and must not apply it");
    assertEquals(1, cluster.replica(2).firstUnchosenSlot());

    cluster.deliverFirst(acceptOfSlot(1, 2, 1));
    cluster.deliverAll();
    cluster.advance(50);
    cluster.tick(1);
    cluster.deliverAll();

    assertEquals(List.of(1L, 2L), appliedSlots(cluster, 2));
    assertEquals("second", cluster.keyValues(2).get("k"));
    assertEquals(cluster.keyValues(1), cluster.keyValues(3));
  }

  @Test
  void laggingFollowerCatchesUpFromChosenEntries() {
    TestCluster cluster = Scenarios.laggingFollower(false);

    assertEquals(List.of(1L, 2L, 3L), appliedSlots(cluster, 3));
    assertEquals("123", cluster.keyValues(3).get("log"));
    assertEquals(4, cluster.replica(3).firstUnchosenSlot());
    assertTrue(cluster.trace().contains("3->1 CatchUpRequest b=1.1 from=1\n"), cluster.trace());
    assertTrue(
        cluster
            .trace()
            .contains(
                "1->3 CatchUpReply b=1.1 [1:batch(c5#1) 2:batch(c5#2) 3:batch(c5#3)] chosenBelow=4\n"),
        cluster.trace());
    assertTrue(
        cluster.node(3).disk.log.values().stream().allMatch(LogEntry::chosen),
        "caught-up entries are durable as chosen");
  }

  @Test
  void laggingFollowerFetchesInPiecesOfMaxCatchUpEntries() {
    TestCluster cluster =
        TestCluster.create(
            SEED,
            3,
            config -> {
              config.maxInflightSlots = 2;
              config.maxCatchUpEntries = 2;
              config.proposalFanout = ProposalFanout.ALL;
              return config;
            });
    cluster.startAll();
    cluster.elect(1);
    cluster.isolate(3);
    for (int sequence = 1; sequence <= 5; sequence++) {
      cluster.propose(1, append(5, sequence, "log", Integer.toString(sequence)));
      cluster.deliverAll();
    }
    cluster.heal(3);
    cluster.advance(50);
    cluster.tick(1);
    cluster.deliverAll();

    assertEquals(List.of(1L, 2L, 3L, 4L, 5L), appliedSlots(cluster, 3));
    long replies =
        cluster.trace().lines().filter(line -> line.startsWith("1->3 CatchUpReply")).count();
    assertEquals(3, replies, "5 entries in pieces of 2:\n" + cluster.trace());
  }

  @Test
  void catchUpRequestsThatGoUnansweredComeLessAndLessOften() {
    TestCluster cluster = TestCluster.startedAskingAll(SEED, 3);
    cluster.elect(1);
    cluster.isolate(3);
    for (int sequence = 1; sequence <= 5; sequence++) {
      cluster.propose(1, append(5, sequence, "log", Integer.toString(sequence)));
      cluster.deliverAll();
    }
    cluster.heal(3);
    // Ten seconds in which no catch-up request of replica 3 is answered (its replies would take
    // longer than that to arrive): it asks at the configured interval, then ever less often.
    long retry = cluster.node(3).config.catchUpRetryMillis();
    int asked = 0;
    for (long elapsed = 0; elapsed < 100 * retry; elapsed += 10) {
      cluster.advance(10);
      cluster.tickAll();
      while (!cluster.pending().isEmpty()) {
        asked += cluster.pending(from(3, 1, Message.CatchUpRequest.class)).size();
        cluster.drop(from(3, 1, Message.CatchUpRequest.class));
        if (!cluster.pending().isEmpty()) {
          cluster.deliverFirst(envelope -> true);
        }
      }
    }
    assertTrue(
        asked >= 5 && asked <= 9,
        asked
            + " requests in 100 intervals; waits doubling from one interval: 0, 1, 3, 7, 15, 31,"
            + " 63 intervals\n"
            + cluster.trace());
    assertEquals(List.of(), appliedSlots(cluster, 3), "nothing answered, nothing learned");

    // Once one is answered the follower catches up, and asks at the interval again.
    cluster.runUntil(() -> appliedSlots(cluster, 3).size() == 5, 10, 70 * retry);
    assertEquals("12345", cluster.keyValues(3).get("log"));
    assertEquals(retry, cluster.replica(3).catchUpRetryMillis());
  }

  @Test
  void followerBehindTruncationPointCatchesUpFromSnapshot() {
    TestCluster cluster = Scenarios.laggingFollower(true);

    TestCluster.Disk leaderDisk = cluster.node(1).disk;
    assertEquals(3, leaderDisk.snapshot.slot());
    assertTrue(leaderDisk.log.isEmpty(), "the leader truncated its log through slot 3");
    assertTrue(
        cluster.trace().contains("1->3 CatchUpReply b=1.1 snapshot@3 [] chosenBelow=4\n"),
        cluster.trace());
    assertEquals(List.of(), appliedSlots(cluster, 3), "restored, not replayed");
    assertEquals(3, cluster.node(3).disk.snapshot.slot());
    assertEquals(3, cluster.replica(3).appliedThroughSlot());
    assertEquals("123", cluster.keyValues(3).get("log"));

    cluster.propose(1, append(5, 4, "log", "4"));
    cluster.deliverAll();
    cluster.advance(50);
    cluster.tick(1);
    cluster.deliverAll();

    assertEquals(List.of(4L), appliedSlots(cluster, 3));
    assertEquals("1234", cluster.keyValues(3).get("log"));
  }

  @Test
  void snapshotRestoresClientSessionsSoRetriesStayDeduplicated() {
    TestCluster cluster = Scenarios.laggingFollower(true);
    cluster.propose(1, append(5, 3, "log", "3"));
    cluster.deliverAll();
    cluster.advance(50);
    cluster.tick(1);
    cluster.deliverAll();

    SessionStateMachine.Applied retry = cluster.node(3).results.getLast();
    assertNotNull(retry);
    assertTrue(retry.duplicate(), "replica 3 learned client 5's session from the snapshot");
    assertEquals("123", TestCluster.text(retry.result()));
    assertEquals("123", cluster.keyValues(3).get("log"));
  }
}
