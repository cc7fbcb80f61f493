package io.paxcron.api;

import java.util.List;
import java.util.Objects;

/**
 * A replica's view of its cluster, for {@code ClusterService}. Immutable.
 *
 * @param replicaId the replica answering
 * @param role {@code LEADER}, {@code FOLLOWER}, {@code CANDIDATE} or {@code STOPPED}
 * @param leaderId the leader this replica knows of, -1 if none
 * @param ballotRound the round of the highest ballot this replica has seen
 * @param firstUnchosenSlot the first log slot not known chosen here
 * @param appliedSlot the last slot applied to the state machine here
 * @param holdsLease whether this replica is the leader and its lease is valid
 * @param members every configured replica, by id
 */
public record ClusterInfo(
    int replicaId,
    String role,
    int leaderId,
    long ballotRound,
    long firstUnchosenSlot,
    long appliedSlot,
    boolean holdsLease,
    List<Member> members) {

  public ClusterInfo {
    Objects.requireNonNull(role, "role");
    members = List.copyOf(members);
  }

  /** The client address of {@code id}, or empty if it is not a member. */
  public String addressOf(int id) {
    for (Member member : members) {
      if (member.id() == id) {
        return member.address();
      }
    }
    return "";
  }

  /**
   * One configured replica.
   *
   * @param id replica id
   * @param address {@code host:port} of its client API
   * @param learner whether it only learns (receives the log, counts toward no quorum)
   */
  public record Member(int id, String address, boolean learner) {
    public Member {
      Objects.requireNonNull(address, "address");
    }

    /** A voter. */
    public Member(int id, String address) {
      this(id, address, false);
    }
  }
}
