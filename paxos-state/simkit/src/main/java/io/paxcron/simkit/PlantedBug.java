package io.paxcron.simkit;

import io.paxcron.paxos.ClockBound;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.PaxosReplica;
import io.paxcron.paxos.PaxosRules;

/**
 * Deliberately broken protocol variants. The simulator runs each and must catch it; a checker that
 * cannot fail proves nothing. Each breaks one of the core's {@link PaxosRules} by overriding it;
 * the core itself holds no planted-bug switch, and only simulations build a {@link PaxosConfig}
 * with other rules ({@link PaxosConfig#withRules}).
 */
public enum PlantedBug {
  NONE {
    @Override
    public PaxosRules rules() {
      return PaxosRules.STANDARD;
    }
  },
  /** Counts a value chosen with one acceptance fewer than a majority. */
  QUORUM_MINUS_ONE {
    @Override
    public PaxosRules rules() {
      return new Broken(this) {
        @Override
        public int quorum(int majority) {
          return Math.max(1, majority - 1);
        }
      };
    }
  },
  /**
   * A new leader ignores the values acceptors report in phase 1 and fills the slots with no-ops.
   */
  NO_PHASE1_ADOPTION {
    @Override
    public PaxosRules rules() {
      return new Broken(this) {
        @Override
        public boolean adoptReportedValues() {
          return false;
        }
      };
    }
  },
  /** The leader counts its lease for the full lease period, with no margin for clock drift. */
  LEASE_WITHOUT_DRIFT_MARGIN {
    @Override
    public PaxosRules rules() {
      return new Broken(this) {
        @Override
        public long leaderLeaseMillis(long leaseMillis, ClockBound clockBound) {
          return leaseMillis;
        }
      };
    }
  },
  /**
   * A replica whose election timer fires campaigns at once instead of asking for pre-votes, so a
   * replica returning from a partition deposes a healthy leader.
   */
  NO_PRE_VOTE {
    @Override
    public PaxosRules rules() {
      return new Broken(this) {
        @Override
        public boolean preVote() {
          return false;
        }
      };
    }
  },
  /**
   * With the leader's writes in parallel with replication ({@link
   * PaxosReplica.LeaderWrites#IN_PARALLEL}), the leader counts its own acceptance when it proposes,
   * before its write is durable, so a value may be "chosen" by one durable acceptance.
   */
  LEADER_VOTES_BEFORE_DURABLE {
    @Override
    public PaxosRules rules() {
      return new Broken(this) {
        @Override
        public boolean leaderVotesWhenProposing() {
          return true;
        }
      };
    }
  },
  /**
   * A chosen membership change governs the very next slot instead of the slot {@code
   * Membership.DELAY_SLOTS} later, so proposals already in flight are counted with the new voters.
   */
  RECONFIGURATION_WITHOUT_DELAY {
    @Override
    public PaxosRules rules() {
      return new Broken(this) {
        @Override
        public long reconfigurationDelaySlots() {
          return 1;
        }
      };
    }
  };

  /** The core's rules with this bug planted. */
  public abstract PaxosRules rules();

  /** Rules named after the bug they plant. */
  private static class Broken extends PaxosRules {
    private final PlantedBug bug;

    Broken(PlantedBug bug) {
      this.bug = bug;
    }

    @Override
    public String toString() {
      return bug.name();
    }
  }
}
