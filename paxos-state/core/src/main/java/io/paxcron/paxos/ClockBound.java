package io.paxcron.paxos;

/**
 * The assumption the leader lease rests on: over any interval, every replica's clock runs at a rate
 * within {@code driftPpm} parts per million of real time, and all its jumps together move it by at
 * most {@code maxJumpMillis}. Outside this bound Paxos stays safe (no lease is needed for it), but
 * two replicas may both believe they hold the lease: see docs/guarantees.md.
 */
public record ClockBound(long driftPpm, long maxJumpMillis) {

  public static final long PPM = 1_000_000;

  public ClockBound {
    if (driftPpm < 0 || driftPpm >= PPM / 2) {
      throw new IllegalArgumentException(
          "clockBound.driftPpm must be in [0, " + PPM / 2 + "), got " + driftPpm);
    }
    if (maxJumpMillis < 0) {
      throw new IllegalArgumentException(
          "clockBound.maxJumpMillis must be >= 0, got " + maxJumpMillis);
    }
  }

  /**
   * How long a leader may count its lease, on its own clock, from the send time of a message a
   * quorum acknowledged, so that it expires before any acknowledging follower's promise not to
   * support another leader for {@code leaseMillis} of its own clock.
   *
   * <p>A follower that received the message no earlier than the leader sent it protects the leader
   * for at least {@code (lease - jump) / (1 + drift)} of real time; a leader whose clock shows
   * {@code e} has seen at most {@code (e + jump) / (1 - drift)} of real time. Solving for {@code e}
   * gives {@code (lease - jump)(1 - drift)/(1 + drift) - jump}, rounded down.
   */
  public long leaderLeaseMillis(long leaseMillis) {
    long usable = leaseMillis - maxJumpMillis;
    return Math.floorDiv(usable * (PPM - driftPpm), PPM + driftPpm) - maxJumpMillis;
  }
}
