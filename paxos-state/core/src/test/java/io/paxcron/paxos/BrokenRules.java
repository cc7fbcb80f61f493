package io.paxcron.paxos;

/**
 * The core tests' own broken rules (the simulators' planted bugs live in paxos-state/simkit, which
 * depends on this module): each breaks one of {@link PaxosRules} so a test can show what it
 * protects.
 */
final class BrokenRules {
  private BrokenRules() {}

  /** A value counts as chosen with one acceptance fewer than a majority. */
  static final PaxosRules QUORUM_MINUS_ONE =
      new PaxosRules() {
        @Override
        public int quorum(int majority) {
          return Math.max(1, majority - 1);
        }
      };

  /** The leader counts its lease for the full lease period, with no margin for clock drift. */
  static final PaxosRules LEASE_WITHOUT_DRIFT_MARGIN =
      new PaxosRules() {
        @Override
        public long leaderLeaseMillis(long leaseMillis, ClockBound clockBound) {
          return leaseMillis;
        }
      };

  /** The leader counts its own acceptance when it proposes, before its write is durable. */
  static final PaxosRules LEADER_VOTES_BEFORE_DURABLE =
      new PaxosRules() {
        @Override
        public boolean leaderVotesWhenProposing() {
          return true;
        }
      };
}
