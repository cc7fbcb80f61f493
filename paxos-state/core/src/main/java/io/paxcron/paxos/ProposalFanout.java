package io.paxcron.paxos;

/**
 * Who hears a leader's new proposal at once (docs/performance.md, "Eleventh round").
 *
 * <p>Safety never depends on it: a value is chosen by a quorum of accepts whoever was asked. It
 * decides the cost of a command and what one slow follower does to it.
 */
public enum ProposalFanout {
  /**
   * The fewest voters that make a quorum with the leader (one follower of three, two of five): each
   * command costs a write and two messages on those followers only, and a disk the replicas share
   * syncs for a quorum, not for every member. The other members get what they lack — chosen entries
   * and proposals they have not accepted — with every heartbeat, so they trail by at most a
   * heartbeat interval. A quorum peer that acknowledges nothing for two heartbeat intervals is
   * replaced by the member that answered last; until then its proposals reach the others with the
   * heartbeats, so a stopped quorum peer delays a choice by at most one interval. While a
   * membership change is in progress every member hears everything.
   */
  QUORUM,

  /**
   * Every member: each command waits for the fastest quorum, so one slow follower never slows it,
   * at the cost of a write and two messages on every member per command.
   */
  ALL
}
