package io.paxcron.agent.core;

import io.paxcron.paxos.Ballot;
import java.util.Comparator;

/**
 * The fencing token every leader request carries (agent.proto {@code FenceBallot}): the leader's
 * Paxos ballot prefixed by the cluster's restore generation, compared lexicographically, so a
 * cluster restored from a backup (generation + 1) outranks every ballot of the cluster it replaces.
 *
 * @param generation the cluster's restore generation, 0 for a cluster never restored
 * @param round the Paxos ballot round
 * @param replicaId the replica that owns the ballot
 */
public record FenceBallot(long generation, long round, int replicaId)
    implements Comparable<FenceBallot> {

  /** Below every ballot a leader uses: the fence of an agent that has seen none. */
  public static final FenceBallot ZERO = new FenceBallot(0, 0, 0);

  private static final Comparator<FenceBallot> ORDER =
      Comparator.comparingLong(FenceBallot::generation)
          .thenComparingLong(FenceBallot::round)
          .thenComparingInt(FenceBallot::replicaId);

  public FenceBallot {
    if (generation < 0) {
      throw new IllegalArgumentException("fence ballot generation must be >= 0, got " + generation);
    }
    if (round < 0) {
      throw new IllegalArgumentException("fence ballot round must be >= 0, got " + round);
    }
    if (replicaId < 0) {
      throw new IllegalArgumentException("fence ballot replicaId must be >= 0, got " + replicaId);
    }
  }

  /** The fence ballot of a Paxos ballot in restore generation {@code generation}. */
  public static FenceBallot of(long generation, Ballot ballot) {
    return new FenceBallot(generation, ballot.round(), ballot.replicaId());
  }

  @Override
  public int compareTo(FenceBallot other) {
    return ORDER.compare(this, other);
  }

  public boolean isBelow(FenceBallot other) {
    return compareTo(other) < 0;
  }

  public static FenceBallot max(FenceBallot a, FenceBallot b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public String toString() {
    return generation + ":" + round + "." + replicaId;
  }
}
