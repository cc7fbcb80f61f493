package io.paxcron.paxos.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ReconnectBackoffTest {

  private static final long SEED = 0x5eed_0001L;

  private static ReconnectBackoff backoff(double jitter, long seed) {
    return new ReconnectBackoff(
        Duration.ofMillis(10), Duration.ofMillis(80), jitter, new SplittableRandom(seed));
  }

  @Test
  void theCeilingDoublesFromTheInitialDelayUntilTheCap() {
    ReconnectBackoff backoff = backoff(0.5, SEED);

    List<Long> ceilings =
        IntStream.rangeClosed(1, 7).mapToObj(n -> backoff.ceiling(n).toMillis()).toList();

    assertEquals(List.of(10L, 20L, 40L, 80L, 80L, 80L, 80L), ceilings);
    assertEquals(Duration.ofMillis(80), backoff.ceiling(Integer.MAX_VALUE));
  }

  @Test
  void jitterOnlyShortensTheDelaySoTheCapHolds() {
    ReconnectBackoff backoff = backoff(0.5, SEED);

    for (int failures = 1; failures <= 1000; failures++) {
      Duration ceiling = backoff.ceiling(failures);
      Duration delay = backoff.delay(failures);
      assertTrue(delay.compareTo(ceiling) <= 0, "seed " + SEED + ": " + delay + " > " + ceiling);
      assertTrue(
          delay.compareTo(ceiling.dividedBy(2)) >= 0,
          "seed " + SEED + ": " + delay + " < half of " + ceiling);
    }
  }

  @Test
  void jitterSpreadsTheDelaysOfOneStep() {
    ReconnectBackoff backoff = backoff(0.5, SEED);

    long distinct = IntStream.range(0, 100).mapToObj(i -> backoff.delay(4)).distinct().count();

    assertTrue(distinct > 50, "seed " + SEED + ": only " + distinct + " distinct delays");
  }

  @Test
  void withoutJitterTheDelayIsTheCeiling() {
    ReconnectBackoff backoff = backoff(0, SEED);

    assertEquals(Duration.ofMillis(40), backoff.delay(3));
  }

  @Test
  void theSameSeedGivesTheSameDelays() {
    ReconnectBackoff first = backoff(0.5, SEED);
    ReconnectBackoff second = backoff(0.5, SEED);

    for (int failures = 1; failures < 20; failures++) {
      assertEquals(first.delay(failures), second.delay(failures));
    }
  }
}
