package io.paxcron.schedule;

import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Objects;

/**
 * The answer of {@link Schedule#next}: the next scheduled instant strictly after the one asked
 * about, and what to do at it. Instants returned by successive calls (each passing the previous
 * answer's {@link #instant()}) strictly increase.
 */
public sealed interface NextFire {

  /** The scheduled instant. Undefined for {@link Exhausted}. */
  Instant instant();

  /**
   * The job runs at {@code instant}.
   *
   * @param instant when to launch
   * @param wallTime the local time the schedule named; differs from the local time of {@code
   *     instant} only when a wall-clock time inside a spring-forward gap was moved to the gap's end
   */
  record Run(Instant instant, LocalDateTime wallTime) implements NextFire {
    public Run {
      Objects.requireNonNull(instant, "instant");
      Objects.requireNonNull(wallTime, "wallTime");
    }
  }

  /**
   * The schedule named a time that will not run; the caller records {@code SKIPPED(reason)} for
   * {@code instant} so the skip is visible.
   *
   * @param instant the instant that identifies the skipped slot (for {@link SkipReason#DST_GAP},
   *     the end of the gap)
   * @param wallTime the first non-existent local time the schedule named inside the gap
   * @param reason why it does not run
   */
  record Skipped(Instant instant, LocalDateTime wallTime, SkipReason reason) implements NextFire {
    public Skipped {
      Objects.requireNonNull(instant, "instant");
      Objects.requireNonNull(wallTime, "wallTime");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * The schedule never fires again (a Quartz year field in the past, or beyond the search horizon).
   */
  record Exhausted() implements NextFire {
    @Override
    public Instant instant() {
      throw new IllegalStateException("an exhausted schedule has no next instant");
    }
  }

  /** Why a scheduled slot is skipped by the schedule itself. */
  enum SkipReason {
    /**
     * The wall-clock time does not exist (spring forward) and the job's policy is {@link
     * DstPolicy.Gap#SKIP}.
     */
    DST_GAP
  }
}
