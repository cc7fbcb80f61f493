package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Ready contract (Ready.java): what a Ready's messages promise or acknowledge is in the same
 * Ready's Persist — the acceptor's disk must hold a promise or an acceptance before it says so.
 */
final class PersistBeforeSendTest {

  @Test
  void persistComesBeforeMessagesInEveryReady() {
    List<TestCluster> runs =
        List.of(
            Scenarios.election(),
            Scenarios.gapFilling(),
            Scenarios.laggingFollower(false),
            Scenarios.laggingFollower(true));
    int promises = 0;
    int acceptances = 0;
    List<String> problems = new ArrayList<>();
    for (TestCluster cluster : runs) {
      for (TestCluster.Node node : cluster.nodes()) {
        TestCluster.Disk replayed = new TestCluster.Disk();
        for (Ready ready : node.readies) {
          TestCluster.Disk before = copy(replayed);
          replayed.write(node.id, ready.persist());
          for (Envelope envelope : ready.messages()) {
            String what = "replica " + node.id + " sends " + TestCluster.describe(envelope);
            switch (envelope.message()) {
              case Message.Promise promise -> {
                promises++;
                if (!promise.ballot().equals(ready.persist().promised())) {
                  problems.add(what + " with persist.promised=" + ready.persist().promised());
                }
              }
              case Message.Accepted accepted -> {
                for (long slot : accepted.slots()) {
                  acceptances++;
                  boolean inThisPersist =
                      ready.persist().entries().stream()
                          .anyMatch(
                              entry ->
                                  entry.slot() == slot
                                      && (entry.chosen()
                                          || entry.ballot().equals(accepted.ballot())));
                  LogEntry earlier = before.log.get(slot);
                  boolean chosenBefore =
                      slot <= before.snapshot.slot() || (earlier != null && earlier.chosen());
                  if (!inThisPersist && !chosenBefore) {
                    problems.add(what + " but slot " + slot + " is not in its Persist");
                  }
                }
                if (accepted.ballot().isAbove(before.promised)
                    && !accepted.ballot().equals(ready.persist().promised())) {
                  problems.add(what + " accepting a new ballot without persisting the promise");
                }
              }
              default -> {}
            }
          }
          problems.addAll(TestCluster.undurableAnnouncements(node.id, replayed, ready));
        }
      }
    }
    assertEquals(List.of(), problems);
    assertTrue(
        promises >= 8 && acceptances >= 10,
        "the scenarios exercise the rule: "
            + promises
            + " promises, "
            + acceptances
            + " acceptances");
  }

  @Test
  void durabilityCheckCatchesAReplyBeforePersist() {
    Ballot ballot = new Ballot(1, 1);
    Ready replyBeforePersist =
        new Ready(
            new Persist(null, List.of(), null),
            List.of(
                new Envelope(
                    ReplicaId.of(2),
                    ReplicaId.of(1),
                    new Message.Promise(ballot, 1, List.of(), true, 0)),
                new Envelope(
                    ReplicaId.of(2),
                    ReplicaId.of(1),
                    new Message.Accepted(ballot, List.of(1L), 1, 0, 1))),
            null,
            List.of(),
            List.of(),
            List.of());

    List<String> problems =
        TestCluster.undurableAnnouncements(2, new TestCluster.Disk(), replyBeforePersist);

    assertEquals(3, problems.size(), String.join("\n", problems));
    assertTrue(problems.getFirst().startsWith("replica 2 sends 2->1 Promise b=1.1"));
  }

  private static TestCluster.Disk copy(TestCluster.Disk disk) {
    TestCluster.Disk copy = new TestCluster.Disk();
    copy.promised = disk.promised;
    copy.snapshot = disk.snapshot;
    copy.log.putAll(disk.log);
    return copy;
  }
}
