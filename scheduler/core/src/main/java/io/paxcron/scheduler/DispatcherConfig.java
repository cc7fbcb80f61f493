package io.paxcron.scheduler;

import java.time.Duration;
import java.util.Objects;

/**
 * The leader dispatcher's settings. Each is validated at construction with a message naming it.
 *
 * @param tickInterval how often the leader proposes a {@code Tick} so skips and misfires are recorded
 *     even when nothing launches
 * @param catchUpLaunchesPerSecond cluster-wide rate of catch-up launches after an outage (no stampede)
 * @param proposalRetryAfter how long a proposal may stay unanswered before it is proposed again
 * @param launchResendAfter how long a launch may go without a start report before it is sent again
 *     (the agent treats a repeat as a no-op)
 * @param getRunRetryAfter how long a reconciliation question may go unanswered before it is asked again
 * @param maxDuePerTick most due instants turned into proposals per tick
 * @param maxCommandsPerProposal most commands in one {@link DispatchEffect.Propose}
 */
public record DispatcherConfig(
        Duration tickInterval,
        int catchUpLaunchesPerSecond,
        Duration proposalRetryAfter,
        Duration launchResendAfter,
        Duration getRunRetryAfter,
        int maxDuePerTick,
        int maxCommandsPerProposal) {

    public static final DispatcherConfig DEFAULT = new DispatcherConfig(Duration.ofSeconds(1), 50,
            Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(2), 100_000, 16_384);

    public DispatcherConfig {
        positive(tickInterval, "tickInterval");
        positive(proposalRetryAfter, "proposalRetryAfter");
        positive(launchResendAfter, "launchResendAfter");
        positive(getRunRetryAfter, "getRunRetryAfter");
        if (catchUpLaunchesPerSecond < 1 || catchUpLaunchesPerSecond > 100_000) {
            throw new IllegalArgumentException("catchUpLaunchesPerSecond must be 1..100000, got "
                    + catchUpLaunchesPerSecond);
        }
        if (maxDuePerTick < 1 || maxDuePerTick > 1_000_000) {
            throw new IllegalArgumentException("maxDuePerTick must be 1..1000000, got " + maxDuePerTick);
        }
        if (maxCommandsPerProposal < 1 || maxCommandsPerProposal > 1_000_000) {
            throw new IllegalArgumentException("maxCommandsPerProposal must be 1..1000000, got "
                    + maxCommandsPerProposal);
        }
    }

    private static void positive(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
