package io.paxcron.paxos;

import java.util.List;
import java.util.TreeSet;

/**
 * Settings of one replica. Every limit is named and validated here; an invalid value is rejected
 * with the setting's name and the reason.
 *
 * @param replicaId this replica's id; one of {@code replicaIds}, or any other id for a replica that
 *     starts outside the cluster and waits to be added (docs/membership.md)
 * @param replicaIds the voters the cluster started with (3 or 5 in production; 1 allowed for
 *     tests); later configurations are in the log (see {@link Membership})
 * @param heartbeatMillis how often the leader sends heartbeats and re-sends unacknowledged accepts
 * @param electionTimeoutMillis a follower that heard no leader for a random time in {@code [t, 2t)}
 *     campaigns; at least {@code leaseMillis}, so that stickiness never blocks a needed election
 * @param leaseMillis how long an acceptor refuses to promise a new ballot after it heard from the
 *     leader (leader stickiness); the leader's own lease is shorter by the clock margin
 * @param clockBound the drift and jump bound the leader lease assumes
 * @param maxInflightSlots the pipeline window: slots proposed and not yet chosen
 * @param maxCommandsPerBatch the most commands one slot value carries
 * @param maxBatchBytes the most payload bytes one slot value carries
 * @param maxPendingCommands proposals queued at the leader beyond the window; more are refused
 * @param maxPendingReads lease reads waiting for confirmation; more are refused
 * @param maxCatchUpEntries the most entries one promise or catch-up reply carries
 * @param catchUpRetryMillis how long a lagging replica waits before asking again
 * @param proposalFanout who hears a new proposal at once: a quorum's followers, or every member
 * @param rules {@link PaxosRules#STANDARD} except in the simulators' planted-bug runs
 */
public record PaxosConfig(
    ReplicaId replicaId,
    List<ReplicaId> replicaIds,
    long heartbeatMillis,
    long electionTimeoutMillis,
    long leaseMillis,
    ClockBound clockBound,
    int maxInflightSlots,
    int maxCommandsPerBatch,
    int maxBatchBytes,
    int maxPendingCommands,
    int maxPendingReads,
    int maxCatchUpEntries,
    long catchUpRetryMillis,
    ProposalFanout proposalFanout,
    PaxosRules rules) {

  public static final int MAX_REPLICAS = 9;

  public PaxosConfig {
    if (replicaIds == null) {
      throw new IllegalArgumentException("replicaIds must be set");
    }
    for (ReplicaId id : replicaIds) {
      if (id == null) {
        throw new IllegalArgumentException("replicaIds must not hold a null id: " + replicaIds);
      }
    }
    replicaIds = List.copyOf(new TreeSet<>(replicaIds));
    if (replicaIds.isEmpty() || replicaIds.size() > MAX_REPLICAS) {
      throw new IllegalArgumentException(
          "replicaIds must name 1 to " + MAX_REPLICAS + " replicas, got " + replicaIds);
    }
    if (replicaId == null) {
      throw new IllegalArgumentException("replicaId must be set");
    }
    requireAtLeast("heartbeatMillis", heartbeatMillis, 1);
    requireAtLeast("leaseMillis", leaseMillis, 1);
    requireAtLeast("electionTimeoutMillis", electionTimeoutMillis, leaseMillis);
    if (clockBound == null) {
      throw new IllegalArgumentException("clockBound must be set");
    }
    long leaderLease = clockBound.leaderLeaseMillis(leaseMillis);
    if (leaderLease <= 2 * heartbeatMillis) {
      throw new IllegalArgumentException(
          "leaseMillis "
              + leaseMillis
              + " leaves a leader lease of "
              + leaderLease
              + " ms after the clock bound "
              + clockBound
              + "; it must exceed two heartbeats ("
              + 2 * heartbeatMillis
              + " ms)");
    }
    requireAtLeast("maxInflightSlots", maxInflightSlots, 1);
    if (maxInflightSlots > Membership.DELAY_SLOTS) {
      throw new IllegalArgumentException(
          "maxInflightSlots must be <= "
              + Membership.DELAY_SLOTS
              + " (Membership.DELAY_SLOTS: a leader never proposes a slot whose configuration"
              + " is undecided), got "
              + maxInflightSlots);
    }
    requireAtLeast("maxCommandsPerBatch", maxCommandsPerBatch, 1);
    requireAtLeast("maxBatchBytes", maxBatchBytes, 64);
    requireAtLeast("maxPendingCommands", maxPendingCommands, 1);
    requireAtLeast("maxPendingReads", maxPendingReads, 1);
    requireAtLeast("maxCatchUpEntries", maxCatchUpEntries, maxInflightSlots);
    requireAtLeast("catchUpRetryMillis", catchUpRetryMillis, 1);
    if (proposalFanout == null) {
      throw new IllegalArgumentException("proposalFanout must be set (QUORUM or ALL)");
    }
    if (rules == null) {
      throw new IllegalArgumentException("rules must be set (PaxosRules.STANDARD in production)");
    }
  }

  /**
   * Defaults for a replica on a LAN: 50 ms heartbeats, 400 ms lease, 1% drift, 20 ms jumps; a
   * window of 1 slot of at most 1 MiB, so an Accept (the in-flight slot re-sent in a heartbeat)
   * stays far below the transport's 16 MiB message limit. A small window is what makes commands
   * batch: while a slot is in flight, arriving commands wait and share the next one, so under load
   * each slot — two leader writes, one per follower, two messages per follower — carries many
   * commands. Measured (docs/performance.md): 2 slots carried 2.1–3× the commands per second of 8
   * at 128 clients; 1 slot beat 2 at 16 and 128 clients in four alternating pairs on a CPU-bound
   * 2-core machine, where every slot's fixed cost is CPU taken from the commands.
   */
  public static PaxosConfig defaults(ReplicaId replicaId, List<ReplicaId> replicaIds) {
    return new PaxosConfig(
        replicaId,
        replicaIds,
        50,
        500,
        400,
        new ClockBound(10_000, 20),
        1,
        1_024,
        1 << 20,
        100_000,
        10_000,
        1_024,
        100,
        ProposalFanout.QUORUM,
        PaxosRules.STANDARD);
  }

  /** The same settings with another {@link ProposalFanout}. */
  public PaxosConfig withProposalFanout(ProposalFanout fanout) {
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
        fanout,
        rules);
  }

  /** The same settings under other rules (the simulators' planted bugs). */
  public PaxosConfig withRules(PaxosRules newRules) {
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
        newRules);
  }

  public PaxosConfig withReplicaId(ReplicaId id) {
    return new PaxosConfig(
        id,
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

  /**
   * Votes needed to choose a value or win phase 1: a majority of the start-up voters, by the rules.
   */
  public int quorum() {
    return rules.quorum(replicaIds.size() / 2 + 1);
  }

  /** How long the leader counts its lease on its own clock; see {@link ClockBound}. */
  public long leaderLeaseMillis() {
    return rules.leaderLeaseMillis(leaseMillis, clockBound);
  }

  private static void requireAtLeast(String name, long value, long minimum) {
    if (value < minimum) {
      throw new IllegalArgumentException(name + " must be >= " + minimum + ", got " + value);
    }
  }
}
