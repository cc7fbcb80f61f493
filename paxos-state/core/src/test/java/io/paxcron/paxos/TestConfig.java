package io.paxcron.paxos;

import java.util.List;

/**
 * A mutable builder over {@link PaxosConfig#defaults}, so a test names only the settings it
 * changes. Test scope only; production code builds {@link PaxosConfig} directly.
 */
final class TestConfig {

  ReplicaId replicaId;
  List<ReplicaId> replicaIds;
  long heartbeatMillis;
  long electionTimeoutMillis;
  long leaseMillis;
  ClockBound clockBound;
  int maxInflightSlots;
  int maxCommandsPerBatch;
  int maxBatchBytes;
  int maxPendingCommands;
  int maxPendingReads;
  int maxCatchUpEntries;
  long catchUpRetryMillis;
  ProposalFanout proposalFanout;
  PaxosRules rules;

  private TestConfig(PaxosConfig base) {
    replicaId = base.replicaId();
    replicaIds = base.replicaIds();
    heartbeatMillis = base.heartbeatMillis();
    electionTimeoutMillis = base.electionTimeoutMillis();
    leaseMillis = base.leaseMillis();
    clockBound = base.clockBound();
    maxInflightSlots = base.maxInflightSlots();
    maxCommandsPerBatch = base.maxCommandsPerBatch();
    maxBatchBytes = base.maxBatchBytes();
    maxPendingCommands = base.maxPendingCommands();
    maxPendingReads = base.maxPendingReads();
    maxCatchUpEntries = base.maxCatchUpEntries();
    catchUpRetryMillis = base.catchUpRetryMillis();
    proposalFanout = base.proposalFanout();
    rules = base.rules();
  }

  /**
   * The defaults for replica 1 of a cluster {1, 2, 3}, with a window of 2 slots in flight: the
   * scenarios (gaps, pipelined proposals, catch-up of several slots) need more than one slot in
   * flight, which the production default of 1 does not allow.
   */
  static TestConfig defaults() {
    TestConfig config = new TestConfig(PaxosConfig.defaults(ReplicaId.of(1), ids(1, 2, 3)));
    config.maxInflightSlots = 2;
    return config;
  }

  /** The ids {@code values}, in the order given. */
  static List<ReplicaId> ids(int... values) {
    List<ReplicaId> ids = new java.util.ArrayList<>();
    for (int value : values) {
      ids.add(ReplicaId.of(value));
    }
    return ids;
  }

  PaxosConfig build() {
    return new PaxosConfig(
        replicaId,
        replicaIds,
        heartbeatMillis,
        electionTimeoutMillis,
        leaseMillis,
        clockBound,
        maxInflightSlots,
        maxCommandsPerBatch,
        maxBatchBytes,
        maxPendingCommands,
        maxPendingReads,
        maxCatchUpEntries,
        catchUpRetryMillis,
        proposalFanout,
        rules);
  }
}
