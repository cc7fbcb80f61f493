package io.paxcron.simkit;

import java.util.SplittableRandom;

/**
 * The faults one simulation run injects, chosen per seed ("swarm testing": each run enables a
 * different mix and intensity, so that rare combinations get their turn). All rates are per message
 * or per virtual second; {@code clockBeyondBound} runs clocks outside the configured drift bound,
 * where only the lease-exclusivity check is switched off (Paxos itself must stay safe).
 */
public record FaultPlan(
    int replicas,
    double messageLoss,
    double messageDuplication,
    long maxExtraDelayMillis,
    double partitionsPerSecond,
    double crashesPerSecond,
    double tornWriteOnCrash,
    double fsyncErrorPerSync,
    double crashDuringSync,
    double pausesPerSecond,
    long maxDriftPpm,
    double clockJumpsPerSecond,
    boolean clockBeyondBound,
    int snapshotEverySlots,
    int clients) {

  public static FaultPlan forSeed(long seed, long boundDriftPpm) {
    SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    boolean beyond = random.nextInt(6) == 0;
    return new FaultPlan(
        random.nextBoolean() ? 3 : 5,
        pick(random, 0, 0.01, 0.05, 0.15),
        pick(random, 0, 0.02, 0.1),
        (long) pick(random, 1, 5, 20, 80),
        pick(random, 0, 0.5, 2),
        pick(random, 0, 0.3, 1.5),
        pick(random, 0, 0.5, 1),
        pick(random, 0, 0, 0.002),
        pick(random, 0, 0.01, 0.05),
        pick(random, 0, 0.3, 1),
        beyond ? Math.min(600_000, boundDriftPpm * (2 + random.nextInt(7))) : boundDriftPpm,
        pick(random, 0, 0.2, 1),
        beyond,
        (int) pick(random, 8, 32, 128),
        1 + random.nextInt(5));
  }

  /** No faults at all: the happy path the demo and the liveness baseline use. */
  public static FaultPlan calm(int replicas, int clients) {
    return new FaultPlan(replicas, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, false, 64, clients);
  }

  private static double pick(SplittableRandom random, double... choices) {
    return choices[random.nextInt(choices.length)];
  }

  @Override
  public String toString() {
    return String.format(
        "replicas=%d loss=%.2f dup=%.2f delay<=%dms partitions/s=%.1f crashes/s=%.1f torn=%.1f"
            + " fsyncErr=%.3f syncCrash=%.3f pauses/s=%.1f drift<=%dppm jumps/s=%.1f clock=%s snapshotEvery=%d"
            + " clients=%d",
        replicas,
        messageLoss,
        messageDuplication,
        maxExtraDelayMillis,
        partitionsPerSecond,
        crashesPerSecond,
        tornWriteOnCrash,
        fsyncErrorPerSync,
        crashDuringSync,
        pausesPerSecond,
        maxDriftPpm,
        clockJumpsPerSecond,
        clockBeyondBound ? "beyond-bound" : "within-bound",
        snapshotEverySlots,
        clients);
  }
}
