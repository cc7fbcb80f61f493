package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Every limit is validated at construction with a message naming the setting (STYLE.md §6). */
final class PaxosConfigTest {

  private static String rejection(Consumer<TestConfig> change) {
    TestConfig config = TestConfig.defaults();
    change.accept(config);
    return assertThrows(IllegalArgumentException.class, config::build).getMessage();
  }

  @Test
  void configRejectsElectionTimeoutBelowLease() {
    assertEquals(
        "electionTimeoutMillis must be >= 400, got 300",
        rejection(config -> config.electionTimeoutMillis = 300));
  }

  @Test
  void configRejectsLeaseThatLeavesTheLeaderLessThanTwoHeartbeats() {
    assertEquals(
        "leaseMillis 400 leaves a leader lease of 352 ms after the clock bound"
            + " ClockBound[driftPpm=10000, maxJumpMillis=20]; it must exceed two heartbeats"
            + " (400 ms)",
        rejection(config -> config.heartbeatMillis = 200));
  }

  @Test
  void configRejectsNonPositiveTimes() {
    assertEquals(
        "heartbeatMillis must be >= 1, got 0", rejection(config -> config.heartbeatMillis = 0));
    assertEquals("leaseMillis must be >= 1, got 0", rejection(config -> config.leaseMillis = 0));
    assertEquals(
        "catchUpRetryMillis must be >= 1, got 0",
        rejection(config -> config.catchUpRetryMillis = 0));
  }

  @Test
  void configRejectsEmptyLimits() {
    assertEquals(
        "maxInflightSlots must be >= 1, got 0", rejection(config -> config.maxInflightSlots = 0));
    assertEquals(
        "maxCommandsPerBatch must be >= 1, got 0",
        rejection(config -> config.maxCommandsPerBatch = 0));
    assertEquals(
        "maxBatchBytes must be >= 64, got 63", rejection(config -> config.maxBatchBytes = 63));
    assertEquals(
        "maxPendingCommands must be >= 1, got 0",
        rejection(config -> config.maxPendingCommands = 0));
    assertEquals(
        "maxPendingReads must be >= 1, got 0", rejection(config -> config.maxPendingReads = 0));
  }

  @Test
  void configRejectsCatchUpSmallerThanTheWindow() {
    assertEquals(
        "maxCatchUpEntries must be >= 2, got 1", rejection(config -> config.maxCatchUpEntries = 1));
  }

  @Test
  void configRejectsMembershipItCannotServe() {
    assertEquals("replicaId must be set", rejection(config -> config.replicaId = null));
    assertEquals(
        "maxInflightSlots must be <= 32 (Membership.DELAY_SLOTS: a leader never proposes a slot"
            + " whose configuration is undecided), got 33",
        rejection(
            config -> {
              config.maxInflightSlots = 33;
              config.maxCatchUpEntries = 64;
            }));
    assertEquals(
        "replicaIds must name 1 to 9 replicas, got []",
        rejection(config -> config.replicaIds = List.of()));
    assertEquals(
        "replicaIds must name 1 to 9 replicas, got [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]",
        rejection(config -> config.replicaIds = TestConfig.ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)));
    assertEquals(
        "replicaIds must not hold a null id: [1, null]",
        rejection(config -> config.replicaIds = java.util.Arrays.asList(ReplicaId.of(1), null)));
  }

  @Test
  void configRejectsMissingClockBoundAndRules() {
    assertEquals("clockBound must be set", rejection(config -> config.clockBound = null));
    assertEquals(
        "rules must be set (PaxosRules.STANDARD in production)",
        rejection(config -> config.rules = null));
  }

  @Test
  void clockBoundRejectsImpossibleDriftAndNegativeJumps() {
    assertEquals(
        "clockBound.driftPpm must be in [0, 500000), got 500000",
        assertThrows(IllegalArgumentException.class, () -> new ClockBound(500_000, 0))
            .getMessage());
    assertEquals(
        "clockBound.maxJumpMillis must be >= 0, got -1",
        assertThrows(IllegalArgumentException.class, () -> new ClockBound(0, -1)).getMessage());
  }

  @Test
  void defaultsAreValidAndQuorumIsAMajority() {
    assertEquals(2, PaxosConfig.defaults(ReplicaId.of(1), TestConfig.ids(1, 2, 3)).quorum());
    assertEquals(3, PaxosConfig.defaults(ReplicaId.of(1), TestConfig.ids(1, 2, 3, 4, 5)).quorum());
    assertEquals(3, PaxosConfig.defaults(ReplicaId.of(1), TestConfig.ids(1, 2, 3, 4)).quorum());
    assertEquals(1, PaxosConfig.defaults(ReplicaId.of(1), TestConfig.ids(1)).quorum());
    assertEquals(
        2,
        PaxosConfig.defaults(ReplicaId.of(1), TestConfig.ids(1, 2, 3, 4, 5))
            .withRules(BrokenRules.QUORUM_MINUS_ONE)
            .quorum(),
        "the planted bug");
    assertEquals(
        TestConfig.ids(1, 2, 3),
        PaxosConfig.defaults(ReplicaId.of(2), TestConfig.ids(3, 1, 2, 1)).replicaIds(),
        "members are sorted and deduplicated");
  }
}
