package io.paxcron.paxos;

/**
 * The protocol's safety rules that a deliberately broken variant may change, in one place. Every
 * replica the server builds uses {@link #STANDARD}; no configuration file or flag can choose
 * another. The simulators subclass it — one broken rule per planted bug (paxos-state/simkit's
 * {@code PlantedBug}) — to show that their checkers catch the breakage: a checker that cannot fail
 * proves nothing. No production class tests for a planted bug.
 */
public class PaxosRules {
  /** The rules as DESIGN.md states them. */
  public static final PaxosRules STANDARD = new PaxosRules();

  protected PaxosRules() {}

  /** Acceptances that choose a value or win phase 1, given a configuration's majority. */
  public int quorum(int majority) {
    return majority;
  }

  /** How long the leader counts its lease on its own clock: shorter by the clock margin. */
  public long leaderLeaseMillis(long leaseMillis, ClockBound clockBound) {
    return clockBound.leaderLeaseMillis(leaseMillis);
  }

  /** Whether a replica whose election timer fires asks for pre-votes before it campaigns. */
  public boolean preVote() {
    return true;
  }

  /** Whether a new leader re-proposes the values acceptors reported in phase 1. */
  public boolean adoptReportedValues() {
    return true;
  }

  /**
   * Whether the leader counts its own acceptance as soon as it proposes, before its write is
   * durable (correct only when it writes before sending: {@link PaxosReplica.LeaderWrites}).
   */
  public boolean leaderVotesWhenProposing() {
    return false;
  }

  /** Slots after the one a membership change is chosen in at which the change governs. */
  public long reconfigurationDelaySlots() {
    return Membership.DELAY_SLOTS;
  }

  /** A short name for logs and replay commands. */
  @Override
  public String toString() {
    return "STANDARD";
  }
}
