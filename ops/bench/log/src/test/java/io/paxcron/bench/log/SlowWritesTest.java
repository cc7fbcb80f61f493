package io.paxcron.bench.log;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class SlowWritesTest {

  private static final long MS = 1_000_000;

  @Test
  void onlyWritesOverTheThresholdAreKeptAndStallsAreOneEpisode() {
    SlowWrites.Recorder first = new SlowWrites.Recorder(MS);
    SlowWrites.Recorder second = new SlowWrites.Recorder(MS);
    first.record(0, MS / 2); // fast: dropped
    first.record(10 * MS, 2 * MS); // episode 1
    second.record(11 * MS, 2 * MS); // starts inside the first: same stall
    first.record(12 * MS + MS / 4, 2 * MS); // within the gap after the stall's end: same stall
    second.record(30 * MS, 3 * MS); // episode 2
    SlowWrites slow = SlowWrites.of(MS, List.of(first, second));

    assertEquals(4, slow.count());
    assertArrayEquals(new long[] {10 * MS, 30 * MS}, slow.episodeStarts());
  }

  @Test
  void aStallEveryFiftyMillisecondsFoldsIntoOnePhaseBin() {
    long[] periodic = new long[20];
    for (int i = 0; i < periodic.length; i++) {
      periodic[i] = 7 * MS + i * 50 * MS;
    }
    int[] bins = SlowWrites.fold(periodic, 50);
    assertEquals(20, bins[0]);
    assertTrue(SlowWrites.peakRatio(bins) > 100, "all in one bin");

    long[] spread = new long[100];
    for (int i = 0; i < spread.length; i++) {
      spread[i] = i * 5 * MS + i * MS / 2; // every phase of 50 ms alike
    }
    int[] even = SlowWrites.fold(spread, 50);
    assertTrue(
        SlowWrites.peakRatio(even) < 1.5, "spread evenly: " + java.util.Arrays.toString(even));
  }

  @Test
  void theFileHasOneLinePerSlowWriteInOrderOfStart(@TempDir Path dir) throws Exception {
    SlowWrites.Recorder recorder = new SlowWrites.Recorder(MS);
    recorder.record(5 * MS, 2 * MS);
    SlowWrites.Recorder other = new SlowWrites.Recorder(MS);
    other.record(3 * MS, 4 * MS);
    SlowWrites slow = SlowWrites.of(MS, List.of(recorder, other));
    Path file = dir.resolve("paxcron-3-1.txt");
    slow.writeTo(file);
    assertEquals(List.of("3000000 4000000", "5000000 2000000"), Files.readAllLines(file));
    assertTrue(slow.summary(1000).startsWith("2 writes over 1.00 ms (0.20 %) in 1 episodes"));
  }
}
