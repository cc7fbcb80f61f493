package io.paxcron.paxos.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TransportOptionsTest {

  private static final TransportOptions DEFAULTS = TransportOptions.defaults();

  private static String rejection(Runnable construction) {
    return assertThrows(IllegalArgumentException.class, construction::run).getMessage();
  }

  @Test
  void theDefaultsAreValid() {
    assertEquals(1 << 20, DEFAULTS.snapshotChunkBytes());
  }

  @Test
  void aMaxBackoffBelowTheInitialBackoffIsRejectedNamingBoth() {
    assertEquals(
        "reconnectMaxBackoff PT0.01S must be >= reconnectInitialBackoff PT1S",
        rejection(() -> DEFAULTS.withBackoff(Duration.ofSeconds(1), Duration.ofMillis(10), 0.5)));
  }

  @Test
  void jitterOutsideZeroToOneIsRejected() {
    assertEquals(
        "reconnectJitter must be in [0, 1], got 1.5",
        rejection(() -> DEFAULTS.withBackoff(Duration.ofMillis(1), Duration.ofMillis(2), 1.5)));
  }

  @Test
  void aZeroDeadlineIsRejectedNamingTheSetting() {
    assertEquals(
        "prepareDeadline must be a positive duration, got PT0S",
        rejection(() -> DEFAULTS.withDeadlines(Duration.ZERO, Duration.ofSeconds(1))));
  }

  @Test
  void anEmptyQueueIsRejectedNamingTheSetting() {
    assertEquals(
        "maxQueuedAcceptsPerPeer must be in [1, 1048576], got 0",
        rejection(() -> DEFAULTS.withQueueLimits(0, 10)));
  }

  @Test
  void aMessageLimitThatCannotHoldAChunkIsRejected() {
    assertEquals(
        "maxMessageBytes 1048576 must be >= snapshotChunkBytes + 1024 = 1049600",
        rejection(() -> DEFAULTS.withSnapshotLimits(1 << 20, 1 << 20, 1 << 30)));
  }

  @Test
  void aSnapshotLimitBeyondOneArrayIsRejected() {
    assertEquals(
        "maxSnapshotBytes must be in [1, 2147483639], got 4294967296",
        rejection(() -> DEFAULTS.withSnapshotLimits(1 << 20, 2 << 20, 1L << 32)));
  }
}
