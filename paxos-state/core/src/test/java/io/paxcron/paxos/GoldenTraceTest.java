package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The full message exchange of three protocol stories, compared with checked-in traces in {@code
 * src/test/resources/golden/}. Regenerate with {@value Golden#UPDATE_COMMAND}.
 */
final class GoldenTraceTest {

  @Test
  void electionOfALeaderInAThreeReplicaCluster() {
    Golden.assertMatches("election", Scenarios.election().trace());
  }

  @Test
  void newLeaderFillsAGapLeftByAMinorityAcceptedSlot() {
    Golden.assertMatches("gap-filling", Scenarios.gapFilling().trace());
  }

  @Test
  void laggingFollowerCatchesUpFromTheLeader() {
    Golden.assertMatches("catch-up", Scenarios.laggingFollower(false).trace());
  }

  @Test
  void goldenDiffShowsChangedLinesWithContextInUnifiedForm() {
    String diff =
        Golden.unifiedDiff(
            List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"),
            List.of("a", "b", "c", "d", "e", "F", "g", "h", "i", "j", "k"),
            "expected",
            "actual");
    assertEquals(
        """
        --- expected
        +++ actual
        @@ -3,7 +3,7 @@
         c
         d
         e
        -f
        +F
         g
         h
         i
        """,
        diff);
  }
}
