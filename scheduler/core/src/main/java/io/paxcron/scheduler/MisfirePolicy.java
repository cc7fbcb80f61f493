package io.paxcron.scheduler;

import java.time.Duration;
import java.util.Objects;

/**
 * What happens to scheduled instants that were not launched on time because there was no leader (or
 * it was too slow): instants older than {@link CronStateMachine#MISFIRE_THRESHOLD} when they are
 * first looked at. Whatever the mode, every missed instant leaves a ledger record.
 *
 * @param mode which missed instants still run
 * @param window how old a missed instant may be and still run; older ones are always {@code
 *     SKIPPED(MISFIRE)}
 * @param maxCount for {@link Mode#RUN_ALL}: how many missed instants run at most (oldest first)
 */
public record MisfirePolicy(Mode mode, Duration window, int maxCount) {
  public static final Duration DEFAULT_WINDOW = Duration.ofHours(1);
  public static final int DEFAULT_MAX_COUNT = 10;

  /** Run only the latest missed instant within one hour (Kubernetes CronJob behaviour, bounded). */
  public static final MisfirePolicy DEFAULT =
      new MisfirePolicy(Mode.RUN_ONCE, DEFAULT_WINDOW, DEFAULT_MAX_COUNT);

  public MisfirePolicy {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(window, "window");
  }

  /** Which missed instants run. */
  public enum Mode {
    /** None: every missed instant is {@code SKIPPED(MISFIRE)}. */
    SKIP,
    /**
     * The latest missed instant within the window runs; the others are {@code SKIPPED(MISFIRE)}.
     */
    RUN_ONCE,
    /**
     * Up to {@code maxCount} missed instants within the window run, oldest first; the rest are
     * skipped.
     */
    RUN_ALL
  }
}
