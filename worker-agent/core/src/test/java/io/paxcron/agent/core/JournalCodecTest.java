package io.paxcron.agent.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

final class JournalCodecTest {
  private static final LaunchKey KEY =
      new LaunchKey(RunId.of(JobName.of("report"), Instant.parse("2026-03-01T00:00:00Z")), 2);
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
        e.getMessage()
            .startsWith(
                "/data/agent.journal: offset "
                    + secondStart
                    + ": agent journal record, format version 2: checksum mismatch"),
        e.getMessage());
  }

  @Test
  void aFutureVersionIsRefusedNamingTheVersionsThisBuildReads() {
    byte[] bytes = JournalCodec.encode(RECORDS);
    bytes[1] = 9;
    CorruptJournalException e =
        assertThrows(CorruptJournalException.class, () -> JournalCodec.decode(bytes, "j"));
    assertEquals(0, e.offset());
    assertTrue(
        e.getMessage()
            .contains(
                "agent journal record: format version 9 is not one this build reads (versions"
                    + " 1..2"),
        e.getMessage());
  }

  /**
   * A fence raised to (0, 5, 2), then run nightly@2026-01-01T02:30Z attempt 1 started a second
   * later, as the agent wrote them before the common frame (format 1).
   */
  private static final String JOURNAL_FORMAT_1 =
      "00000016010100000000000000000000000000000005000000025a004497"
          + "0000002a010300076e696768746c7901000000006955dc2800000000000000000101000000006955dc29"
          + "00000000d516fed0";

  @Test
  void aJournalWrittenBeforeTheCommonFrameStillRecoversAndNewRecordsAppendToIt() throws Exception {
    byte[] old = java.util.HexFormat.of().parseHex(JOURNAL_FORMAT_1);
    LaunchKey key =
        new LaunchKey(
            new RunId(JobName.of("nightly"), Instant.parse("2026-01-01T02:30:00Z"), false), 1);
    List<JournalRecord> expected =
        List.of(
            new JournalRecord.FenceRaised(new FenceBallot(0, 5, 2)),
            new JournalRecord.Started(key, Instant.parse("2026-01-01T02:30:01Z")));
    JournalCodec.Recovered recovered = JournalCodec.decode(old, "j");
    assertEquals(expected, recovered.records());
    assertEquals(old.length, recovered.validLength());

    byte[] appended = JournalCodec.encode(new JournalRecord.FinishAcknowledged(key));
    byte[] mixed = Arrays.copyOf(old, old.length + appended.length);
    System.arraycopy(appended, 0, mixed, old.length, appended.length);
    JournalCodec.Recovered both = JournalCodec.decode(mixed, "j");
    assertEquals(3, both.records().size());
    assertEquals(new JournalRecord.FinishAcknowledged(key), both.records().get(2));

    byte[] flipped = mixed.clone();
    flipped[10] ^= 0x01;
    CorruptJournalException e =
        assertThrows(CorruptJournalException.class, () -> JournalCodec.decode(flipped, "j"));
    assertTrue(
        e.getMessage().contains("agent journal record, format version 1: checksum mismatch"),
        e.getMessage());
  }
}
