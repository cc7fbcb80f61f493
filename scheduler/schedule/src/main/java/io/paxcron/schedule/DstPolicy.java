package io.paxcron.schedule;

import java.util.Objects;

/**
 * What a job does when a daylight-saving transition moves the wall clock. Applies only to jobs
 * whose hour field does not match every hour ("wall-clock jobs"); jobs whose hour field matches
 * every hour run at every real instant whose local time matches, whatever the policy.
 *
 * @param gap what happens to a wall-clock time that does not exist (spring forward)
 * @param overlap what happens to a wall-clock time that occurs twice (fall back)
 */
public record DstPolicy(Gap gap, Overlap overlap) {
  /** Vixie-like defaults: a skipped time runs right after the gap; a repeated time runs once. */
  public static final DstPolicy DEFAULT = new DstPolicy(Gap.RUN_AFTER_GAP, Overlap.RUN_ONCE);

  public DstPolicy {
    Objects.requireNonNull(gap, "gap");
    Objects.requireNonNull(overlap, "overlap");
  }

  /** Spring-forward behaviour. */
  public enum Gap {
    /** Run once at the first instant after the gap (the transition instant). Vixie behaviour. */
    RUN_AFTER_GAP,
    /** Do not run; report {@link NextFire.Skipped} with {@link NextFire.SkipReason#DST_GAP}. */
    SKIP
  }

  /** Fall-back behaviour. */
  public enum Overlap {
    /** Run at the first occurrence of the repeated wall-clock time only. */
    RUN_ONCE,
    /** Run at both occurrences. */
    RUN_TWICE
  }
}
