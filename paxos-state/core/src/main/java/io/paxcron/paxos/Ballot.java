package io.paxcron.paxos;

/**
 * A Paxos ballot number: a round made unique by the proposing replica's id.
 *
 * <p>Ballots are totally ordered by round, then by replica id, so two proposers never use the same
 * ballot (Paxos Made Simple §2.2: "different proposers choose their numbers from disjoint sets").
 * {@link #ZERO} is below every ballot a proposer can use, since proposers start at round 1.
 *
 * <p>The replica part stays a bare {@code int} (the number of a {@link ReplicaId}, validated by the
 * same rule): ballots are compared on every message and every log entry, and a flat pair of
 * primitives compares without following a reference. {@link #proposer} gives it typed.
 */
public record Ballot(long round, int replicaId) implements Comparable<Ballot> {

  public static final Ballot ZERO = new Ballot(0, 0);

  public Ballot {
    if (round < 0) {
      throw new IllegalArgumentException("ballot round must be >= 0, got " + round);
    }
    if (replicaId < 0) {
      throw new IllegalArgumentException("ballot replicaId must be >= 0, got " + replicaId);
    }
  }

  /** The ballot of {@code round} proposed by {@code proposer}. */
  public Ballot(long round, ReplicaId proposer) {
    this(round, proposer.value());
  }

  /** The replica that proposes in this ballot. */
  public ReplicaId proposer() {
    return ReplicaId.of(replicaId);
  }

  @Override
  public int compareTo(Ballot other) {
    int byRound = Long.compare(round, other.round);
    return byRound != 0 ? byRound : Integer.compare(replicaId, other.replicaId);
  }

  public boolean isAbove(Ballot other) {
    return compareTo(other) > 0;
  }

  public boolean isBelow(Ballot other) {
    return compareTo(other) < 0;
  }

  public static Ballot max(Ballot a, Ballot b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public String toString() {
    return round + "." + replicaId;
  }
}
