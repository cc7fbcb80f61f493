package io.paxcron.paxos;

import static io.paxcron.paxos.TestCluster.from;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link PaxosReplica#tickDueAtMillis}: a driver that ticks a follower only from that time on
 * misses nothing, because a tick before it does nothing. (The log simulator drives every replica
 * this way; these are the two deadlines one by one.)
 */
final class TickDueTest {

  private static final long SEED = 83;

  @Test
  void aLeadersTickIsAlwaysDue() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    cluster.advance(3);
    cluster.tick(1);
    assertTrue(cluster.replica(1).tickDueAtMillis() <= cluster.now());
  }

  @Test
  void aFollowersTickIsDueAtItsElectionDeadlineAndDoesNothingBefore() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    cluster.crash(1);
    long due = cluster.replica(2).tickDueAtMillis();
    assertTrue(due > cluster.now(), "due " + due + " at " + cluster.now());

    cluster.advanceTo(due - 1);
    assertTrue(cluster.tick(2).isEmpty(), "nothing to do before the deadline");
    assertEquals(due, cluster.replica(2).tickDueAtMillis());

    cluster.advanceTo(due);
    assertEquals(
        1,
        cluster.tick(2).messages().stream()
            .filter(envelope -> envelope.message() instanceof Message.PreVote)
            .map(envelope -> envelope.to().value())
            .filter(to -> to == 3)
            .count(),
        "at the deadline it asks replica 3 for a pre-vote\n" + cluster.trace());
  }

  @Test
  void aLaggingFollowersTickIsDueForEachCatchUpRequest() {
    TestCluster cluster = TestCluster.startedAskingAll(SEED, 3);
    cluster.elect(1);
    cluster.isolate(3);
    for (int sequence = 1; sequence <= 5; sequence++) {
      cluster.propose(1, TestCluster.append(5, sequence, "log", Integer.toString(sequence)));
      cluster.deliverAll();
    }
    cluster.heal(3);
    cluster.advance(cluster.node(1).config.heartbeatMillis());
    cluster.tick(1);
    cluster.deliverFirst(from(1, 3));
    long retry = cluster.node(3).config.catchUpRetryMillis();

    // It learned it lags and asked at once; the next request is due an interval later, the one
    // after that (the first still unanswered) two intervals later.
    assertEquals(1, cluster.pending(from(3, 1, Message.CatchUpRequest.class)).size());
    cluster.drop(from(3, 1, Message.CatchUpRequest.class));
    long previous = cluster.now();
    for (long wait : new long[] {retry, 2 * retry}) {
      cluster.advanceTo(previous + wait - 1);
      assertTrue(cluster.tick(3).isEmpty(), "nothing due " + (wait - 1) + " ms after the last");
      assertEquals(previous + wait, cluster.replica(3).tickDueAtMillis());
      cluster.advanceTo(previous + wait);
      assertEquals(
          1,
          cluster.tick(3).messages().stream()
              .filter(envelope -> envelope.message() instanceof Message.CatchUpRequest)
              .count(),
          "a catch-up request " + wait + " ms after the last\n" + cluster.trace());
      cluster.drop(from(3, 1, Message.CatchUpRequest.class));
      previous = cluster.now();
    }
  }
}
