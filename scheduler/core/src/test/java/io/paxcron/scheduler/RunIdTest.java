package io.paxcron.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class RunIdTest {
  private static final Instant T = Instant.parse("2026-12-03T00:00:00Z");

  @Test
  void runIdsOrderByJobThenInstantWithTheScheduledRunBeforeTheManualOne() {
    List<RunId> ids =
        List.of(
            RunId.of(JobName.of("a"), T.plusSeconds(1)),
            new RunId(JobName.of("a"), T, true),
            RunId.of(JobName.of("b"), T),
            RunId.of(JobName.of("a"), T));
    assertEquals(
        List.of(
            RunId.of(JobName.of("a"), T),
            new RunId(JobName.of("a"), T, true),
            RunId.of(JobName.of("a"), T.plusSeconds(1)),
            RunId.of(JobName.of("b"), T)),
        ids.stream().sorted().toList());
  }

  @Test
  void runIdsParseWhatTheyPrint() {
    for (RunId id :
        List.of(
            RunId.of(JobName.of("billing-eu"), T),
            new RunId(JobName.of("report"), T.plusNanos(5), true))) {
      assertEquals(id, RunId.parse(id.toString()));
    }
    assertThrows(IllegalArgumentException.class, () -> RunId.parse("no-instant"));
  }

  /**
   * The leader keeps its runs in hash maps: neighbouring names at neighbouring seconds (the runs of
   * many every-second jobs) must not share hashes, as the record's own hash makes them.
   */
  @Test
  void runsOfNeighbouringJobsAndSecondsHashApart() {
    Set<Integer> hashes = new HashSet<>();
    int runs = 0;
    for (int job = 0; job < 200; job++) {
      for (int second = 0; second < 500; second++) {
        hashes.add(RunId.of(JobName.of("job-" + job), T.plusSeconds(second)).hashCode());
        runs++;
      }
    }
    assertTrue(
        hashes.size() > runs * 0.99, "distinct hashes: " + hashes.size() + " of " + runs + " runs");
  }
}
