package io.paxcron.paxos;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Who the cluster is: the voters, whose acceptances choose values and elect leaders, and the
 * learners, which receive the log but count toward no quorum. Each member has an address (host:port
 * of its peer endpoint); an empty address means "as given at start-up" and is used for the members
 * of the bootstrap configuration, whose addresses every replica's start-up list names.
 *
 * <p>A configuration is state in the replicated log: it changes only through a chosen {@link
 * Value.Reconfigure}, one {@link Change} at a time, and each change adds, promotes or removes one
 * member so that any majority of the old voters and any majority of the new ones intersect (Raft
 * thesis §4.1). When a change takes effect is {@link Membership}'s rule.
 *
 * @param voters voter id to address
 * @param learners learner id to address; disjoint from {@code voters}
 */
public record Configuration(
    SortedMap<ReplicaId, String> voters, SortedMap<ReplicaId, String> learners) {

  public Configuration {
    voters = Collections.unmodifiableSortedMap(new TreeMap<>(voters));
    learners = Collections.unmodifiableSortedMap(new TreeMap<>(learners));
    if (voters.isEmpty() || voters.size() > PaxosConfig.MAX_REPLICAS) {
      throw new IllegalArgumentException(
          "a configuration needs 1 to " + PaxosConfig.MAX_REPLICAS + " voters, got " + voters);
    }
    if (voters.size() + learners.size() > 2 * PaxosConfig.MAX_REPLICAS) {
      throw new IllegalArgumentException(
          "a configuration holds at most " + 2 * PaxosConfig.MAX_REPLICAS + " members");
    }
    for (Map.Entry<ReplicaId, String> member : voters.entrySet()) {
      requireMember(member.getKey(), member.getValue());
      if (learners.containsKey(member.getKey())) {
        throw new IllegalArgumentException(
            "replica " + member.getKey() + " cannot be both a voter and a learner");
      }
    }
    for (Map.Entry<ReplicaId, String> member : learners.entrySet()) {
      requireMember(member.getKey(), member.getValue());
    }
  }

  /** The configuration a cluster starts with: these voters, addresses from the start-up list. */
  public static Configuration bootstrap(Iterable<ReplicaId> voterIds) {
    TreeMap<ReplicaId, String> voters = new TreeMap<>();
    for (ReplicaId id : voterIds) {
      voters.put(id, "");
    }
    return new Configuration(voters, new TreeMap<>());
  }

  public boolean isVoter(ReplicaId id) {
    return voters.containsKey(id);
  }

  public boolean isLearner(ReplicaId id) {
    return learners.containsKey(id);
  }

  public boolean isMember(ReplicaId id) {
    return isVoter(id) || isLearner(id);
  }

  /** Voters and learners. */
  public SortedSet<ReplicaId> members() {
    TreeSet<ReplicaId> all = new TreeSet<>(voters.keySet());
    all.addAll(learners.keySet());
    return all;
  }

  /** The member's address ("" when it comes from the start-up list), or null for a non-member. */
  public String address(ReplicaId id) {
    String address = voters.get(id);
    return address != null ? address : learners.get(id);
  }

  /** Votes that form a majority of the voters. */
  public int majority() {
    return voters.size() / 2 + 1;
  }

  /**
   * The configuration after {@code change}; an impossible change is an {@link
   * IllegalArgumentException} that says why, and changes nothing.
   */
  public Configuration apply(Change change) {
    TreeMap<ReplicaId, String> nextVoters = new TreeMap<>(voters);
    TreeMap<ReplicaId, String> nextLearners = new TreeMap<>(learners);
    switch (change) {
      case Change.AddLearner add -> {
        if (isMember(add.id())) {
          throw new IllegalArgumentException(
              "replica " + add.id() + " is already a " + (isVoter(add.id()) ? "voter" : "learner"));
        }
        nextLearners.put(add.id(), add.address());
      }
      case Change.Promote promote -> {
        if (!isLearner(promote.id())) {
          throw new IllegalArgumentException(
              "replica "
                  + promote.id()
                  + " is not a learner"
                  + (isVoter(promote.id()) ? " (it already votes)" : " (add it first)"));
        }
        if (voters.size() == PaxosConfig.MAX_REPLICAS) {
          throw new IllegalArgumentException(
              "the cluster already has the most voters, " + PaxosConfig.MAX_REPLICAS);
        }
        nextVoters.put(promote.id(), nextLearners.remove(promote.id()));
      }
      case Change.Remove remove -> {
        if (!isMember(remove.id())) {
          throw new IllegalArgumentException("replica " + remove.id() + " is not a member");
        }
        if (isVoter(remove.id()) && voters.size() == 1) {
          throw new IllegalArgumentException(
              "replica " + remove.id() + " is the last voter; removing it leaves no quorum");
        }
        nextVoters.remove(remove.id());
        nextLearners.remove(remove.id());
      }
    }
    return new Configuration(nextVoters, nextLearners);
  }

  @Override
  public String toString() {
    return "voters "
        + voters.keySet()
        + (learners.isEmpty() ? "" : " learners " + learners.keySet());
  }

  private static void requireMember(ReplicaId id, String address) {
    if (id == null) {
      throw new IllegalArgumentException("a configuration's replica ids cannot be null");
    }
    if (address == null) {
      throw new IllegalArgumentException("replica " + id + " needs an address (\"\" for start-up)");
    }
    if (address.length() > 255) {
      throw new IllegalArgumentException(
          "replica " + id + " address is longer than 255 characters");
    }
  }

  /** One step from a configuration to the next. */
  public sealed interface Change {
    ReplicaId id();

    /** A new replica joins as a learner: it receives the log and votes in nothing. */
    record AddLearner(ReplicaId id, String address) implements Change {}

    /** A learner that has caught up starts voting. */
    record Promote(ReplicaId id) implements Change {}

    /** A voter or learner leaves. */
    record Remove(ReplicaId id) implements Change {}
  }
}
