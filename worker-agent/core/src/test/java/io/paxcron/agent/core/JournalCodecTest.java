package io.paxcron.agent.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

final class JournalCodecTest {
  private static final LaunchKey KEY =
      new LaunchKey(RunId.of("report", Instant.parse("2026-03-01T00:00:00Z")), 2);
  private static final List<JournalRecord> RECORDS =
      List.of(
          new JournalRecord.FenceRaised(new FenceBallot(1, 2, 3)),
          new JournalRecord.Accepted(KEY, new FenceBallot(1, 2, 3), null, new byte[] {9}),
          new JournalRecord.Started(KEY, Instant.parse("2026-03-01T00:00:00.010Z")),
          new JournalRecord.Finished(
              KEY,
              Outcome.failed(3),
              "exit 3",
              Instant.parse("2026-03-01T00:00:01Z"),
              new byte[] {'o', 'k'}),
          new JournalRecord.FinishAcknowledged(KEY));

  @Test
  void everyRecordRoundTrips() throws Exception {
    byte[] bytes = JournalCodec.encode(RECORDS);
    JournalCodec.Recovered recovered = JournalCodec.decode(bytes, "j");
    assertEquals(bytes.length, recovered.validLength());
    assertArrayEquals(bytes, JournalCodec.encode(recovered.records()));
  }

  @Test
  void aTornLastRecordIsDroppedAndTheValidLengthSaysWhereToTruncate() throws Exception {
    byte[] whole = JournalCodec.encode(RECORDS);
    int lastStart = JournalCodec.encode(RECORDS.subList(0, 4)).length;
    for (int cut = lastStart + 1; cut < whole.length; cut++) {
      JournalCodec.Recovered recovered = JournalCodec.decode(Arrays.copyOf(whole, cut), "j");
      assertEquals(4, recovered.records().size());
      assertEquals(lastStart, recovered.validLength());
      assertTrue(recovered.tornTail());
    }
  }

  @Test
  void aCorruptRecordFollowedByOthersIsRefusedNamingFileAndOffset() {
    byte[] bytes = JournalCodec.encode(RECORDS);
    int secondStart = JournalCodec.encode(RECORDS.subList(0, 1)).length;
    bytes[secondStart + 10] ^= 0x40;
    CorruptJournalException e =
        assertThrows(
            CorruptJournalException.class, () -> JournalCodec.decode(bytes, "/data/agent.journal"));
    assertEquals(secondStart, e.offset());
    assertTrue(
        e.getMessage().startsWith("/data/agent.journal: offset " + secondStart + ": checksum"),
        e.getMessage());
  }

  @Test
  void anUnknownVersionIsRefused() {
    byte[] bytes = JournalCodec.encode(RECORDS);
    bytes[4] = 9;
    CorruptJournalException e =
        assertThrows(CorruptJournalException.class, () -> JournalCodec.decode(bytes, "j"));
    assertEquals(0, e.offset());
  }
}
