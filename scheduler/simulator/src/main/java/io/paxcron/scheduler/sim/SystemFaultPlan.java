package io.paxcron.scheduler.sim;

import io.paxcron.simkit.FaultPlan;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The faults one whole-system run injects: the log simulator's {@link FaultPlan} for the replicas
 * (loss, duplication, delay, partitions, crashes with unsynced loss and torn writes, fsync errors,
 * pauses, clock drift and jumps), with its per-second rates scaled down because a system run's
 * fault phase lasts tens of virtual seconds rather than a few, plus the faults of the scheduler's
 * own world: agent crashes and restarts, agents partitioned from the leader or from everyone,
 * delayed and duplicated launch messages, and jumps of the wall clocks the leaders stamp with.
 *
 * @param cluster the replica-level faults, chosen by the log simulator's own per-seed choice
 * @param rateScale factor applied to the cluster's per-second fault rates
 * @param agents simulated agents (2 to 4)
 * @param clients API clients (1 to 3)
 * @param agentCrashesPerSecond agent crashes (each restarts after 0.3–4 s)
 * @param agentPartitionsPerSecond agent partitions (each heals after 0.3–5 s)
 * @param launchDelay probability that a launch message is held back by up to {@code
 *     maxLaunchDelayMillis}
 * @param maxLaunchDelayMillis the longest extra delay of a held-back launch
 * @param launchDuplicate probability that a launch message is delivered twice, the copy late
 * @param wallJumpMaxMillis largest single jump of a replica's wall clock
 * @param wallDriftPpm bound on a wall clock's rate error
 * @param leaderlessGapMillis 0, or the length of one stretch of the fault phase in which no two
 *     replicas hear each other: no quorum, no leader, no launches, while instants fall due (the
 *     misfire policies then decide, after the gap)
 */
public record SystemFaultPlan(
    FaultPlan cluster,
    double rateScale,
    int agents,
    int clients,
    double agentCrashesPerSecond,
    double agentPartitionsPerSecond,
    double launchDelay,
    long maxLaunchDelayMillis,
    double launchDuplicate,
    long wallJumpMaxMillis,
    long wallDriftPpm,
    long leaderlessGapMillis,
    Instant calendarStart) {

  /**
   * The wall-clock origins a seed's run may start at: an ordinary winter midnight (UTC), and 12 s
   * before New York's clocks spring forward (2024-03-10 02:00 EST → 03:00 EDT) and fall back
   * (2024-11-03 02:00 EDT → 01:00 EST), so that the jobs in that zone cross a transition under
   * faults (docs/crontab.md, "Time zones and DST").
   */
  static final List<Instant> CALENDAR_STARTS =
      List.of(
          Instant.parse("2024-01-01T00:00:00Z"),
          Instant.parse("2024-03-10T06:59:48Z"),
          Instant.parse("2024-11-03T05:59:48Z"));

  static SystemFaultPlan forSeed(long seed, long boundDriftPpm) {
    FaultPlan cluster = FaultPlan.forSeed(seed, boundDriftPpm);
    SplittableRandom random = new SplittableRandom(seed ^ 0x2545F4914F6CDD1DL);
    return new SystemFaultPlan(
        cluster,
        0.25,
        2 + random.nextInt(3),
        1 + (cluster.clients() - 1) % 3,
        pick(random, 0, 0.05, 0.15, 0.3),
        pick(random, 0, 0.1, 0.3),
        pick(random, 0, 0.05, 0.2),
        (long) pick(random, 500, 1_500, 3_000),
        pick(random, 0, 0.1, 0.3),
        (long) pick(random, 0, 300, 1_000),
        (long) pick(random, 0, 200, 1_000),
        (long) pick(random, 0, 0, 6_000, 12_000),
        CALENDAR_STARTS.get(random.nextInt(CALENDAR_STARTS.size())));
  }

  /**
   * This plan without any fault (the cluster's {@link FaultPlan#calm}); same calendar and sizes.
   */
  SystemFaultPlan calm() {
    return new SystemFaultPlan(
        FaultPlan.calm(cluster.replicas(), cluster.clients()),
        rateScale,
        agents,
        clients,
        0,
        0,
        0,
        maxLaunchDelayMillis,
        0,
        0,
        0,
        0,
        calendarStart);
  }

  double partitionsPerSecond() {
    return cluster.partitionsPerSecond() * rateScale;
  }

  double crashesPerSecond() {
    return cluster.crashesPerSecond() * rateScale;
  }

  double pausesPerSecond() {
    return cluster.pausesPerSecond() * rateScale;
  }

  double clockJumpsPerSecond() {
    return cluster.clockJumpsPerSecond() * rateScale;
  }

  /**
   * Per sync: a sync of a system run's replica happens far more often than in the log simulator.
   */
  double crashDuringSync() {
    return cluster.crashDuringSync() * rateScale * 0.2;
  }

  double fsyncErrorPerSync() {
    return cluster.fsyncErrorPerSync() * rateScale;
  }

  private static double pick(SplittableRandom random, double... choices) {
    return choices[random.nextInt(choices.length)];
  }

  @Override
  public String toString() {
    return cluster
        + String.format(
            " | scale=%.2f agents=%d apiClients=%d agentCrashes/s=%.2f agentPartitions/s=%.2f"
                + " launchDelay=%.2f(<=%dms) launchDup=%.2f wallJump<=%dms wallDrift<=%dppm"
                + " leaderlessGap=%dms calendar=%s",
            rateScale,
            agents,
            clients,
            agentCrashesPerSecond,
            agentPartitionsPerSecond,
            launchDelay,
            maxLaunchDelayMillis,
            launchDuplicate,
            wallJumpMaxMillis,
            wallDriftPpm,
            leaderlessGapMillis,
            calendarStart);
  }
}
