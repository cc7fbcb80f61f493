package io.paxcron.paxos;

import static io.paxcron.paxos.TestCluster.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Pre-vote (Raft thesis §9.6): asking before campaigning keeps healthy leaders in place. */
final class PreVoteTest {

  private static final long SEED = 61;

  @Test
  void returningReplicaDoesNotInterruptAHealthyLeader() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    Ballot leaderBallot = cluster.replica(1).ballot();
    int tracedBefore = cluster.trace().length();
    cluster.isolate(3);
    // Cut off for ten election timeouts: replica 3's timer fires again and again, and each time it
    // only asks. Without pre-vote it would promise itself ever higher ballots here.
    cluster.runFor(10 * cluster.node(3).config.electionTimeoutMillis(), 10);
    assertEquals(
        leaderBallot, cluster.replica(3).promised(), "an isolated replica promises nothing");
    assertEquals(PaxosReplica.Role.FOLLOWER, cluster.replica(3).role());

    cluster.heal(3);
    cluster.propose(1, put(7, 1, "k", "v"));
    cluster.runUntil(() -> "v".equals(cluster.keyValues(3).get("k")), 10, 5_000);

    assertEquals(PaxosReplica.Role.LEADER, cluster.replica(1).role());
    assertEquals(leaderBallot, cluster.replica(1).ballot(), "the leader kept its ballot");
    String after = cluster.trace().substring(tracedBefore);
    assertTrue(after.contains("PreVote b="), "replica 3 asked while cut off:\n" + after);
    assertTrue(
        after.lines().noneMatch(line -> line.contains(" Prepare ")),
        "nobody campaigned after the first election:\n" + after);
  }

  @Test
  void preVoteIsRefusedWhileTheLeaderIsHeardFromAndGrantedOnceItIsGone() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    Ballot question = new Ballot(cluster.replica(1).ballot().round() + 1, 3);

    Ready refused = cluster.receive(2, 3, new Message.PreVote(question, cluster.now()));
    assertEquals(
        List.of(
            new Envelope(
                ReplicaId.of(2),
                ReplicaId.of(3),
                new Message.Rejected(
                    question, cluster.replica(2).promised(), ReplicaId.of(1), true))),
        refused.messages());

    cluster.crash(1);
    cluster.advance(cluster.node(2).config.leaseMillis());
    Ready granted = cluster.receive(2, 3, new Message.PreVote(question, cluster.now()));
    assertEquals(
        List.of(
            new Envelope(ReplicaId.of(2), ReplicaId.of(3), new Message.PreVoteGranted(question))),
        granted.messages());
    assertTrue(granted.persist().isEmpty(), "a pre-vote changes nothing durable");
    assertEquals(PaxosReplica.Role.FOLLOWER, cluster.replica(2).role());
  }

  @Test
  void leaderLossIsStillDetectedAndANewLeaderElected() {
    TestCluster cluster = TestCluster.started(SEED, 3);
    cluster.elect(1);
    cluster.crash(1);
    cluster.runUntil(() -> cluster.leader() == 2 || cluster.leader() == 3, 10, 5_000);
    assertTrue(cluster.replica(cluster.leader()).ballot().isAbove(new Ballot(1, 1)));
  }
}
