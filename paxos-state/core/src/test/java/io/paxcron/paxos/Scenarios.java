package io.paxcron.paxos;

import static io.paxcron.paxos.TestCluster.acceptOfSlot;
import static io.paxcron.paxos.TestCluster.append;
import static io.paxcron.paxos.TestCluster.from;
import static io.paxcron.paxos.TestCluster.put;

/**
 * Cluster histories shared by the golden traces and the behaviour tests, so that a golden file and
 * the assertions about it describe the same run.
 */
final class Scenarios {

  static final long SEED = 20_240_601L;

  private Scenarios() {}

  /**
   * Three fresh replicas; randomized election timers pick one candidate, which wins ballot round 1
   * with one promise, heartbeats, and gets one client command chosen and learned everywhere.
   */
  static TestCluster election() {
    TestCluster cluster = TestCluster.startedAskingAll(SEED, 3);
    cluster.note("each election timer fires at a random time in [500, 1000) ms; ticks every 1 ms");
    cluster.runUntil(() -> cluster.leader() != -1, 1, 2_000);
    int leader = cluster.leader();
    cluster.note("replica " + leader + " leads; one client command is proposed in slot 1");
    cluster.propose(leader, put(7, 1, "x", "1"));
    cluster.deliverAll();
    cluster.note("the next heartbeat tells the followers that slot 1 is chosen");
    cluster.advance(50);
    cluster.tick(leader);
    cluster.deliverAll();
    cluster.traceState();
    return cluster;
  }

  /**
   * Leader 1 proposes slot 1 (reaches no acceptor) and slot 2 (reaches replica 2 only, its answer
   * lost), then crashes. Replica 3 is elected with replica 2's promise: it re-proposes slot 2's
   * value and fills slot 1, of which its quorum knows nothing, with a no-op. When replica 1
   * restarts, its own unchosen slot 1 value is replaced by the chosen no-op through catch-up.
   */
  static TestCluster gapFilling() {
    TestCluster cluster = TestCluster.startedAskingAll(SEED, 3);
    cluster.elect(1);
    cluster.propose(1, put(1, 1, "a", "1"));
    cluster.propose(1, put(2, 1, "b", "2"));
    cluster.note("slot 1 reaches no acceptor; slot 2 only replica 2, whose answer is lost");
    cluster.drop(acceptOfSlot(1, 2, 1));
    cluster.drop(acceptOfSlot(1, 3, 1));
    cluster.deliverFirst(acceptOfSlot(1, 2, 2));
    cluster.drop(acceptOfSlot(1, 3, 2));
    cluster.drop(from(2, 1));
    cluster.crash(1);
    cluster.note("replica 3 campaigns once every lease on replica 1 has expired");
    cluster.advance(1_000);
    cluster.tick(3);
    cluster.deliverAll();
    cluster.advance(50);
    cluster.tick(3);
    cluster.deliverAll();
    cluster.note("replica 1 restarts holding slot 1 = c1#1, which only it accepted");
    cluster.restart(1);
    cluster.advance(50);
    cluster.tick(3);
    cluster.deliverAll();
    cluster.traceState();
    return cluster;
  }

  /**
   * Replica 3 is cut off while leader 1 and replica 2 choose slots 1 to 3. Healed, it learns from
   * the next heartbeat that everything below slot 4 is chosen, asks the leader for the chosen
   * entries from slot 1 on, and applies them in order. With {@code snapshotFirst}, the leader
   * snapshots and truncates its log through slot 3 before the heal (the entries it sends replica 3
   * first are lost), so the reply is a snapshot.
   */
  static TestCluster laggingFollower(boolean snapshotFirst) {
    TestCluster cluster = TestCluster.startedAskingAll(SEED, 3);
    cluster.elect(1);
    cluster.isolate(3);
    for (int sequence = 1; sequence <= 3; sequence++) {
      cluster.propose(1, append(5, sequence, "log", Integer.toString(sequence)));
    }
    cluster.deliverAll();
    cluster.advance(50);
    cluster.tick(1);
    cluster.deliverAll();
    if (snapshotFirst) {
      cluster.takeSnapshot(1);
      // The entries the leader sends replica 3 before it truncates are lost too (still cut off).
      cluster.deliverAll();
    }
    cluster.heal(3);
    cluster.advance(50);
    cluster.tick(1);
    cluster.deliverAll();
    cluster.traceState();
    return cluster;
  }
}
