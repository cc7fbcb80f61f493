package io.paxcron.scheduler;

import java.time.Duration;
import java.util.Objects;

/**
 * The leader dispatcher's settings. Each is validated at construction with a message naming it.
 *
 * @param tickInterval how often the leader proposes a {@code Tick} so skips and misfires are
 *     recorded even when nothing launches
 * @param catchUpLaunchesPerSecond cluster-wide rate of catch-up launches after an outage (no
 *     stampede)
 * @param proposalRetryAfter how long a proposal may stay unanswered before it is proposed again
 * @param launchResendAfter how long a launch may go unanswered or refused ({@code CAPACITY}) before
 *     it is sent again (the agent treats a repeat as a no-op); a launch its agent took ({@code
 *     ACCEPTED}) is not sent again until the agent registers anew
 * @param getRunRetryAfter how long a reconciliation question may go unanswered before it is asked
 *     again
 * @param maxDuePerTick most due instants turned into proposals per tick
 * @param maxCommandsPerProposal most commands in one {@link DispatchEffect.Propose}
 * @param maxQuestionsPerTick most reconciliation questions ({@link DispatchEffect.GetRun}) sent per
 *     tick: a new leader inheriting thousands of launched runs asks about them over several ticks,
 *     so that neither its loop nor the agents' answers arrive as one long burst
 * @param trackedRunsCheckInterval how often the leader looks over every launched run it tracks for
 *     agents past their lease, questions to ask and launches to send again (timeouts of seconds):
 *     not on every tick, since a leader may track tens of thousands of runs
 * @param trackedRunsPerCheck most tracked runs one such check looks at; the next goes on where it
 *     stopped (an agent that comes or goes, or a lease that runs out, makes one check look at all)
 * @param unregisteredAgentLease how long after it starts leading the dispatcher counts an agent
 *     reachable that inherited runs name but that has not registered with it yet. Agents
 *     re-register within a heartbeat interval or two; the wait must be at least the leader's agent
 *     lease ({@link AgentRegistryConfig#leaderLease}) because the previous leader may have
 *     acknowledged the agent's last heartbeat just before this leader was elected, and the agent
 *     may start processes until that lease runs out: declaring its runs unreachable earlier would
 *     let an at-most-once run be recorded {@code LOST} (or an at-least-once run start twice) while
 *     its agent is alive and about to register.
 * @param launchAhead how long before a scheduled instant the leader chooses its launch: the agent
 *     holds the accepted launch and starts the process at the instant on its own clock, so
 *     consensus and the trip to the agent are off the lateness path. Zero launches at the instant.
 *     At most {@link CronStateMachine#MAX_LAUNCH_AHEAD}. A launch chosen ahead is final for its
 *     instant: a pause or schedule change in the last {@code launchAhead} before it applies from
 *     the next instant (docs/scheduler.md).
 * @param dueRunsPerTick most due runs (fallen due, waiting for an intent) one tick looks at; the
 *     next tick goes on after the last (from the first once it saw the end). Due runs pile up when
 *     the agents fall behind or none is connected, and a leader that looked at every one on every
 *     tick spent its loop on them (a million jobs with no agent: ticks of 250 ms every 20 ms, and
 *     applying starved)
 */
public record DispatcherConfig(
    Duration tickInterval,
    int catchUpLaunchesPerSecond,
    Duration proposalRetryAfter,
    Duration launchResendAfter,
    Duration getRunRetryAfter,
    int maxDuePerTick,
    int maxCommandsPerProposal,
    int maxQuestionsPerTick,
    Duration trackedRunsCheckInterval,
    int trackedRunsPerCheck,
    Duration unregisteredAgentLease,
    Duration launchAhead,
    int dueRunsPerTick) {

  public static final DispatcherConfig DEFAULT =
      new DispatcherConfig(
          Duration.ofSeconds(1),
          50,
          Duration.ofSeconds(2),
          Duration.ofSeconds(2),
          Duration.ofSeconds(2),
          100_000,
          16_384,
          500,
          Duration.ofMillis(200),
          2_000,
          AgentRegistryConfig.DEFAULT.leaderLease(),
          Duration.ofMillis(1_500),
          2_000);

  public DispatcherConfig {
    positive(tickInterval, "tickInterval");
    positive(proposalRetryAfter, "proposalRetryAfter");
    positive(launchResendAfter, "launchResendAfter");
    positive(getRunRetryAfter, "getRunRetryAfter");
    positive(unregisteredAgentLease, "unregisteredAgentLease");
    positive(trackedRunsCheckInterval, "trackedRunsCheckInterval");
    Objects.requireNonNull(launchAhead, "launchAhead");
    if (launchAhead.isNegative() || launchAhead.compareTo(CronStateMachine.MAX_LAUNCH_AHEAD) > 0) {
      throw new IllegalArgumentException(
          "launchAhead must be 0.." + CronStateMachine.MAX_LAUNCH_AHEAD + ", got " + launchAhead);
    }
    if (catchUpLaunchesPerSecond < 1 || catchUpLaunchesPerSecond > 100_000) {
      throw new IllegalArgumentException(
          "catchUpLaunchesPerSecond must be 1..100000, got " + catchUpLaunchesPerSecond);
    }
    if (maxDuePerTick < 1 || maxDuePerTick > 1_000_000) {
      throw new IllegalArgumentException("maxDuePerTick must be 1..1000000, got " + maxDuePerTick);
    }
    if (maxQuestionsPerTick < 1 || maxQuestionsPerTick > 1_000_000) {
      throw new IllegalArgumentException(
          "maxQuestionsPerTick must be 1..1000000, got " + maxQuestionsPerTick);
    }
    if (trackedRunsPerCheck < 1 || trackedRunsPerCheck > 1_000_000) {
      throw new IllegalArgumentException(
          "trackedRunsPerCheck must be 1..1000000, got " + trackedRunsPerCheck);
    }
    if (dueRunsPerTick < 1 || dueRunsPerTick > 1_000_000) {
      throw new IllegalArgumentException(
          "dueRunsPerTick must be 1..1000000, got " + dueRunsPerTick);
    }
    if (maxCommandsPerProposal < 1 || maxCommandsPerProposal > 1_000_000) {
      throw new IllegalArgumentException(
          "maxCommandsPerProposal must be 1..1000000, got " + maxCommandsPerProposal);
    }
  }

  private static void positive(Duration value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }
}
