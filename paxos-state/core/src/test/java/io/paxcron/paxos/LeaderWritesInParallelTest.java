package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The leader's write in parallel with replication (Raft thesis §10.2.1): its Accepts may leave
 * before its own write is durable, and its own acceptance counts only once the driver reports the
 * write through {@link PaxosReplica#onPersisted}.
 */
final class LeaderWritesInParallelTest {

  private static final Command COMMAND =
      new Command(7, 1, "put k v".getBytes(StandardCharsets.UTF_8));

  @Test
  void leaderSendsItsAcceptsBeforeItsWriteIsDurable() {
    Leader leader = elect(PaxosReplica.LeaderWrites.IN_PARALLEL, PaxosRules.STANDARD);

    Ready proposed = leader.replica.propose(leader.now, COMMAND);

    assertEquals(1, proposed.persist().entries().size());
    // One Accept: replica 1's quorum of {1, 2, 3} needs one follower (ProposalFanout.QUORUM).
    assertEquals(1, proposed.earlyMessages());
    assertTrue(
        proposed.messagesBeforePersist().stream()
            .allMatch(envelope -> envelope.message() instanceof Message.Accept));
  }

  @Test
  void oneFollowerAcceptanceDoesNotChooseUntilTheLeadersOwnWriteIsDurable() {
    Leader leader = elect(PaxosReplica.LeaderWrites.IN_PARALLEL, PaxosRules.STANDARD);
    Ready proposed = leader.replica.propose(leader.now, COMMAND);

    Ready acknowledged = leader.replica.onMessage(leader.now, ReplicaId.of(2), accepted(leader, 1));
    assertEquals(List.of(), acknowledged.toApply());
    assertEquals(1, leader.replica.firstUnchosenSlot());

    Ready persisted = leader.replica.onPersisted(leader.now, proposed.persist());
    assertEquals(List.of(1L), persisted.toApply().stream().map(LogEntry::slot).toList());
  }

  @Test
  void leaderWhoseWriteIsDurableFirstWaitsForOneFollower() {
    Leader leader = elect(PaxosReplica.LeaderWrites.IN_PARALLEL, PaxosRules.STANDARD);
    Ready proposed = leader.replica.propose(leader.now, COMMAND);

    assertEquals(List.of(), leader.replica.onPersisted(leader.now, proposed.persist()).toApply());
    Ready acknowledged = leader.replica.onMessage(leader.now, ReplicaId.of(3), accepted(leader, 1));
    assertEquals(List.of(1L), acknowledged.toApply().stream().map(LogEntry::slot).toList());
  }

  @Test
  void persistThenSendLeaderCountsItsOwnAcceptanceAtOnceAndSendsNothingEarly() {
    Leader leader = elect(PaxosReplica.LeaderWrites.BEFORE_SEND, PaxosRules.STANDARD);
    Ready proposed = leader.replica.propose(leader.now, COMMAND);
    assertEquals(0, proposed.earlyMessages());

    Ready acknowledged = leader.replica.onMessage(leader.now, ReplicaId.of(2), accepted(leader, 1));
    assertEquals(List.of(1L), acknowledged.toApply().stream().map(LogEntry::slot).toList());
  }

  @Test
  void plantedBugCountsTheLeadersVoteBeforeItsWriteIsDurable() {
    Leader leader =
        elect(PaxosReplica.LeaderWrites.IN_PARALLEL, BrokenRules.LEADER_VOTES_BEFORE_DURABLE);
    leader.replica.propose(leader.now, COMMAND);

    Ready acknowledged = leader.replica.onMessage(leader.now, ReplicaId.of(2), accepted(leader, 1));
    assertEquals(List.of(1L), acknowledged.toApply().stream().map(LogEntry::slot).toList());
  }

  @Test
  void persistOfAnEarlierBallotCountsNothing() {
    Leader leader = elect(PaxosReplica.LeaderWrites.IN_PARALLEL, PaxosRules.STANDARD);
    leader.replica.propose(leader.now, COMMAND);
    LogEntry stale = new LogEntry(1, new Ballot(leader.ballot.round() - 1, 2), Value.NO_OP, false);

    leader.replica.onPersisted(leader.now, new Persist(null, List.of(stale), null));
    Ready acknowledged = leader.replica.onMessage(leader.now, ReplicaId.of(2), accepted(leader, 1));
    assertEquals(List.of(), acknowledged.toApply());
  }

  private record Leader(PaxosReplica replica, Ballot ballot, long now) {}

  private static Message.Accepted accepted(Leader leader, long slot) {
    return new Message.Accepted(leader.ballot, List.of(slot), 1, leader.now, 1);
  }

  /** Replica 1 of {1, 2, 3}, elected with replica 2's pre-vote and promise. */
  private static Leader elect(PaxosReplica.LeaderWrites leaderWrites, PaxosRules rules) {
    PaxosReplica replica =
        new PaxosReplica(
            PaxosConfig.defaults(ReplicaId.of(1), TestConfig.ids(1, 2, 3)).withRules(rules),
            new SplittableRandom(1),
            DurableState.EMPTY,
            0,
            leaderWrites);
    replica.start(0);
    long now = 0;
    Ballot preVote = null;
    while (preVote == null) {
      for (Envelope envelope : replica.tick(++now).messages()) {
        if (envelope.message() instanceof Message.PreVote asked) {
          preVote = asked.ballot();
        }
      }
    }
    Ballot ballot = null;
    for (Envelope envelope :
        replica.onMessage(now, ReplicaId.of(2), new Message.PreVoteGranted(preVote)).messages()) {
      if (envelope.message() instanceof Message.Prepare prepare) {
        ballot = prepare.ballot();
      }
    }
    replica.onMessage(now, ReplicaId.of(2), new Message.Promise(ballot, 1, List.of(), true, now));
    assertEquals(PaxosReplica.Role.LEADER, replica.role());
    return new Leader(replica, ballot, now);
  }
}
