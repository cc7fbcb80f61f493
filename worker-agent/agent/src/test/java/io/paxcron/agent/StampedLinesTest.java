package io.paxcron.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StampedLinesTest {

  private static final Clock AT =
      Clock.fixed(Instant.parse("2026-12-05T00:03:12Z"), ZoneOffset.UTC);

  @Test
  void everyLineStartsWithItsUtcTimeToTheMillisecondWhateverTheWritesLookLike() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream log = StampedLines.forProcess(new PrintStream(bytes), Map.of(), AT);

    log.println("agent a1: registered");
    log.print("agent a1: lease ");
    log.print("lapsed\nagent a1: two lines ");
    log.println("in one write");
    log.println();

    assertEquals(
        """
        2026-12-05T00:03:12.000Z agent a1: registered
        2026-12-05T00:03:12.000Z agent a1: lease lapsed
        2026-12-05T00:03:12.000Z agent a1: two lines in one write
        2026-12-05T00:03:12.000Z\s
        """,
        bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void underTheJournalLinesStayAsTheyAreBecauseItStampsThemItself() {
    PrintStream out = new PrintStream(new ByteArrayOutputStream());

    assertSame(out, StampedLines.forProcess(out, Map.of("JOURNAL_STREAM", "8:12345"), AT));
  }
}
