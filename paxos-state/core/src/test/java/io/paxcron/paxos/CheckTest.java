package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Always-on invariant checks: silent when they hold, a clear message when they do not. */
final class CheckTest {

  @Test
  void aHoldingCheckThrowsNothing() {
    Check.that(true, "never shown");
    Check.that(true, "slot %s", 7L);
    Check.that(true, "run %s of %s", "a", "b");
    Check.that(true, "run %s attempt %s of %s", "a", 1L, 2L);
  }

  @Test
  void aFailedCheckThrowsIllegalStateWithTheArgumentsInOrder() {
    IllegalStateException failure =
        assertThrows(
            IllegalStateException.class,
            () -> Check.that(false, "slot %s applied after slot %s", 3L, 9L));
    assertEquals("slot 3 applied after slot 9", failure.getMessage());
    assertEquals(
        "run a@x attempt 2 of 1",
        assertThrows(
                IllegalStateException.class,
                () -> Check.that(false, "run %s attempt %s of %s", "a@x", 2L, 1L))
            .getMessage());
    assertEquals(
        "no placeholders",
        assertThrows(IllegalStateException.class, () -> Check.that(false, "no placeholders"))
            .getMessage());
  }

  @Test
  void argumentsBeyondThePlaceholdersAreStillShown() {
    assertEquals(
        "ballot 4 [5]",
        assertThrows(IllegalStateException.class, () -> Check.that(false, "ballot %s", 4L, 5L))
            .getMessage());
    assertEquals(
        "ballot [a, b]",
        assertThrows(IllegalStateException.class, () -> Check.that(false, "ballot", "a", "b"))
            .getMessage());
  }

  @Test
  void unreachableNamesTheValue() {
    assertEquals("decided Wait", Check.unreachable("decided %s", "Wait").getMessage());
  }
}
