package io.paxcron.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ring reads by position what an {@link ArrayDeque} fed the same operations holds. */
final class RingTest {

  @Test
  void itHoldsWhatADequeHoldsThroughWrapsAndGrowth() {
    Ring<Integer> ring = new Ring<>();
    ArrayDeque<Integer> deque = new ArrayDeque<>();
    int next = 0;
    // Add more than are polled in every round, so the ring wraps and then grows while wrapped.
    for (int round = 0; round < 40; round++) {
      for (int i = 0; i < 7; i++) {
        ring.addLast(next);
        deque.addLast(next);
        next++;
      }
      for (int i = 0; i < 5; i++) {
        assertEquals(deque.pollFirst(), ring.pollFirst(), "poll in round " + round);
      }
      List<Integer> read = new ArrayList<>();
      for (int i = 0; i < ring.size(); i++) {
        read.add(ring.get(i));
      }
      assertEquals(List.copyOf(deque), read, "round " + round);
      assertEquals(deque.peekFirst(), ring.first());
      assertEquals(deque.peekLast(), ring.last());
    }
    assertThrows(IndexOutOfBoundsException.class, () -> ring.get(ring.size()));
    ring.clear();
    assertEquals(0, ring.size());
    assertNull(ring.pollFirst());
    assertNull(ring.first());
  }
}
