package io.paxcron.simkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

final class PartitionsTest {
  private static final long SEED = 20_261_202L;

  private static Set<Integer> reach(boolean[][] links, int from) {
    Set<Integer> reached = new TreeSet<>();
    for (int to = 0; to < links.length; to++) {
      if (links[from][to]) {
        reached.add(to);
      }
    }
    return reached;
  }

  @Test
  void everyShapeIsSymmetricKeepsEveryProcessLinkedToItselfAndEveryShapeIsPicked() {
    SplittableRandom random = new SplittableRandom(SEED);
    Set<String> shapes = new HashSet<>();
    for (int round = 0; round < 500; round++) {
      int n = round % 2 == 0 ? 3 : 5;
      Partitions.Cut cut = Partitions.pick(random, n, round % 3 == 0 ? -1 : 1);
      shapes.add(cut.kind().replaceAll(" .*", ""));
      for (int a = 0; a < n; a++) {
        assertTrue(cut.links()[a][a], "seed " + SEED + ": " + cut.kind());
        for (int b = 0; b < n; b++) {
          assertEquals(cut.links()[a][b], cut.links()[b][a], "seed " + SEED + ": " + cut.kind());
        }
      }
    }
    assertEquals(Set.of("halves", "isolate", "bridge", "majorities"), shapes, "seed " + SEED);
  }

  @Test
  void anIsolatedProcessReachesOnlyItselfAndTheOthersStillReachEachOther() {
    SplittableRandom random = new SplittableRandom(SEED);
    int seen = 0;
    for (int round = 0; round < 200; round++) {
      Partitions.Cut cut = Partitions.pick(random, 5, 2);
      if (cut.isolated() < 0) {
        continue;
      }
      seen++;
      assertEquals(Set.of(cut.isolated()), reach(cut.links(), cut.isolated()));
      for (int other = 0; other < 5; other++) {
        if (other != cut.isolated()) {
          assertEquals(4, reach(cut.links(), other).size(), "seed " + SEED + ": " + cut.kind());
        }
      }
    }
    assertTrue(seen > 0, "seed " + SEED + ": no isolation picked");
  }

  @Test
  void inAMajoritiesRingOfFiveEveryProcessSeesAMajorityButNoTwoTheSameOne() {
    SplittableRandom random = new SplittableRandom(SEED);
    int seen = 0;
    for (int round = 0; round < 200; round++) {
      Partitions.Cut cut = Partitions.pick(random, 5, -1);
      if (!cut.kind().equals("majorities ring")) {
        continue;
      }
      seen++;
      Set<Set<Integer>> views = new HashSet<>();
      for (int a = 0; a < 5; a++) {
        Set<Integer> view = reach(cut.links(), a);
        assertEquals(3, view.size(), "seed " + SEED);
        views.add(view);
      }
      assertEquals(5, views.size(), "seed " + SEED + ": two processes see the same majority");
    }
    assertTrue(seen > 0, "seed " + SEED + ": no ring picked");
  }

  @Test
  void aCutOffProcessLosesEveryLinkButItsOwn() {
    boolean[][] links = Partitions.fullyConnected(3, 3);
    Partitions.cutOff(links, 1);
    assertEquals(Set.of(1), reach(links, 1));
    assertEquals(Set.of(0, 2), reach(links, 0));
  }
}
