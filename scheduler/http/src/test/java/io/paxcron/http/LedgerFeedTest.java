package io.paxcron.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.protobuf.Timestamp;
import io.paxcron.api.JobClient;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.proto.v1.SkipReason;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The feed's window and counts, fed records directly (its stream thread is not started). */
class LedgerFeedTest {

  private final List<Long> added = new ArrayList<>();
  private final JobClient unusedClient = JobClient.connect(List.of("127.0.0.1:1"));
  private final LedgerFeed feed =
      new LedgerFeed(
          unusedClient,
          3,
          (record, instants) -> added.add(instants),
          new PrintStream(OutputStream.nullOutputStream()));

  private static RunRecord record(
      long sequence, String job, long second, Outcome outcome, long count) {
    RunRecord.Builder builder =
        RunRecord.newBuilder()
            .setSequence(sequence)
            .setJob(job)
            .setInstant(Timestamp.newBuilder().setSeconds(second))
            .setOutcome(outcome)
            .setInstantCount(count);
    if (outcome == Outcome.OUTCOME_SKIPPED) {
      builder
          .setSkipReason(SkipReason.SKIP_REASON_PAUSED)
          .setLastInstant(Timestamp.newBuilder().setSeconds(second + count - 1));
    }
    return builder.build();
  }

  @Test
  void aGrowingStretchCountsOnlyItsNewInstants() {
    feed.accept(record(1, "ticker", 100, Outcome.OUTCOME_SKIPPED, 2));
    feed.accept(record(1, "ticker", 100, Outcome.OUTCOME_SKIPPED, 5));
    feed.accept(record(2, "ticker", 200, Outcome.OUTCOME_SUCCEEDED, 0));
    assertEquals(List.of(2L, 3L, 1L), added);
    assertEquals(1, feed.newest(r -> r.getOutcome() == Outcome.OUTCOME_SKIPPED, 0, 10).size());
    assertEquals(5, feed.countsSince(0).get("SKIPPED"));
    assertEquals(1, feed.countsSince(150).get("SUCCEEDED"));
    assertEquals(
        2,
        feed.countsSince(103).get("SKIPPED"),
        "only the stretch's instants inside the span count");
    assertEquals(0, feed.countsSince(105).get("SKIPPED"));
  }

  @Test
  void theWindowKeepsTheNewestRecordsAndEachJobsLatest() {
    feed.accept(record(1, "old", 1, Outcome.OUTCOME_FAILED, 0));
    for (long sequence = 2; sequence <= 5; sequence++) {
      feed.accept(record(sequence, "busy", sequence, Outcome.OUTCOME_SUCCEEDED, 0));
    }
    assertEquals(3, feed.all().size());
    assertEquals(3, feed.oldestSequence());
    assertEquals(
        List.of(5L, 4L),
        feed.newest(r -> true, 0, 2).stream().map(RunRecord::getSequence).toList());
    assertEquals(
        List.of(3L), feed.newest(r -> true, 4, 10).stream().map(RunRecord::getSequence).toList());
    assertEquals(
        Outcome.OUTCOME_FAILED,
        feed.latest("old").getOutcome(),
        "a job's latest outlives the window");
    assertEquals(5, feed.latest("busy").getSequence());
    assertNull(feed.latest("never"));
    assertEquals(5, feed.delivered());
  }
}
