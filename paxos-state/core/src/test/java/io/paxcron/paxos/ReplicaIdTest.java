package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** A replica id: its valid range, shared small instances, its order and how it prints. */
final class ReplicaIdTest {

  @Test
  void idBelowZeroIsRejectedWithTheValueAndTheReason() {
    assertEquals(
        "replica id -1 is not valid: replica ids are 0 or greater",
        assertThrows(IllegalArgumentException.class, () -> ReplicaId.of(-1)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> new ReplicaId(Integer.MIN_VALUE));
  }

  @Test
  void zeroAndTheLargestIntAreValidIds() {
    assertEquals(0, ReplicaId.of(0).value());
    assertEquals(Integer.MAX_VALUE, ReplicaId.of(Integer.MAX_VALUE).value());
  }

  @Test
  void smallIdsAreSharedInstances() {
    assertSame(ReplicaId.of(3), ReplicaId.of(3));
    assertSame(ReplicaId.of(0), ReplicaId.of(0));
    assertSame(ReplicaId.of(ReplicaId.MAX_CACHED), ReplicaId.of(ReplicaId.MAX_CACHED));
  }

  @Test
  void largeIdsAreEqualButNotShared() {
    ReplicaId first = ReplicaId.of(ReplicaId.MAX_CACHED + 1);
    ReplicaId second = ReplicaId.of(ReplicaId.MAX_CACHED + 1);
    assertNotSame(first, second);
    assertEquals(first, second);
    assertEquals(first.hashCode(), second.hashCode());
    assertEquals(new ReplicaId(3), ReplicaId.of(3));
  }

  @Test
  void idsAreOrderedByTheirNumber() {
    assertTrue(ReplicaId.of(2).compareTo(ReplicaId.of(10)) < 0);
    assertTrue(ReplicaId.of(300).compareTo(ReplicaId.of(7)) > 0);
    assertEquals(0, ReplicaId.of(1000).compareTo(ReplicaId.of(1000)));
    assertEquals(
        List.of(ReplicaId.of(1), ReplicaId.of(2), ReplicaId.of(10), ReplicaId.of(300)),
        List.copyOf(
            new TreeSet<>(
                List.of(ReplicaId.of(300), ReplicaId.of(10), ReplicaId.of(1), ReplicaId.of(2)))));
  }

  @Test
  void anIdPrintsAsTheBareNumber() {
    assertEquals("7", ReplicaId.of(7).toString());
    assertEquals("4096", ReplicaId.of(4096).toString());
    assertEquals("[1, 2]", List.of(ReplicaId.of(1), ReplicaId.of(2)).toString());
  }

  @Test
  void aBallotNamesItsProposerAsAReplicaId() {
    Ballot ballot = new Ballot(4, ReplicaId.of(2));
    assertEquals(new Ballot(4, 2), ballot);
    assertSame(ReplicaId.of(2), ballot.proposer());
    assertEquals("4.2", ballot.toString());
  }
}
