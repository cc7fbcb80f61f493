package io.paxcron.paxos;

import static io.paxcron.paxos.TestCluster.put;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The persisted byte format: round trips, and torn or corrupted records are detected. */
final class RecordCodecTest {

  private static final Persist PERSIST =
      new Persist(
          new Ballot(7, 2),
          List.of(
              new LogEntry(5, new Ballot(6, 1), Value.NO_OP, true),
              new LogEntry(
                  6,
                  new Ballot(7, 2),
                  new Value.Batch(
                      List.of(
                          put(1, 1, "k", "v"),
                          put(2, 9, "ключ", "värde"),
                          new Command(-3, 4, new byte[0]))),
                  false)),
          new Snapshot(4, new byte[] {1, 2, 3, (byte) 0xff}));

  private static final LogEntry FIXTURE_ENTRY =
      new LogEntry(
          7,
          new Ballot(3, 2),
          new Value.Batch(List.of(new Command(11, 1, KeyValueStateMachine.put("k", "v")))),
          true);

  /** {@code FIXTURE_ENTRY} as the log store wrote it before the common frame (format 1). */
  private static final String LOG_ENTRY_FORMAT_1 =
      "01000000356bd1737e0000000000000007000000000000000300000002010100000001000000000000000b0000"
          + "00000000000100000007707574206b2076";

  /** A persist of a promise and {@code FIXTURE_ENTRY} as the simulated disk wrote it (format 1). */
  private static final String PERSIST_FORMAT_1 =
      "0100000047bdb6d9e30100000000000000030000000200000000010000000000000007000000000000000300"
          + "000002010100000001000000000000000b000000000000000100000007707574206b2076";

  @Test
  void persistRecordsRoundTripAndTornOrCorruptOnesAreRefusedNamingTheRecord()
      throws RecordCodec.CorruptRecordException {
    byte[] framed = RecordCodec.encodePersistRecord(PERSIST);
    assertEquals(PERSIST, RecordCodec.decodePersistRecord(framed));
    assertEquals(RecordKind.PERSIST.tag(), framed[0]);
    assertEquals(RecordKind.PERSIST.version(), framed[1]);

    Persist nothing = new Persist(null, List.of(), null);
    assertEquals(
        nothing, RecordCodec.decodePersistRecord(RecordCodec.encodePersistRecord(nothing)));

    for (int length = 0; length < framed.length; length++) {
      byte[] torn = Arrays.copyOf(framed, length);
      String message = corruption(torn);
      assertTrue(
          message.contains("torn write") && message.contains("persist record"),
          "torn at " + length + ": " + message);
    }

    for (int index = Frame.HEADER_BYTES; index < framed.length; index++) {
      byte[] flipped = framed.clone();
      flipped[index] ^= 0x10;
      assertTrue(
          corruption(flipped).startsWith("persist record, format version 2: checksum mismatch"),
          "bit flipped at " + index + ": " + corruption(flipped));
    }

    byte[] wrongChecksum = framed.clone();
    wrongChecksum[7] ^= 0x01;
    assertTrue(corruption(wrongChecksum).contains("checksum mismatch"));
  }

  @Test
  void aRecordOfAFutureVersionIsRefusedNamingTheVersionsThisBuildReads() {
    byte[] future = RecordCodec.encodePersistRecord(PERSIST);
    future[1] = 3;
    assertEquals(
        "persist record: format version 3 is not one this build reads (versions 1..2); was it"
            + " written by a newer Paxcron?",
        corruption(future));

    byte[] entry = RecordCodec.encodeEntryRecord(FIXTURE_ENTRY);
    entry[1] = 9;
    String message =
        assertThrows(
                RecordCodec.CorruptRecordException.class,
                () -> RecordCodec.decodeEntryRecord(entry))
            .getMessage();
    assertTrue(message.startsWith("store record: format version 9"), message);
  }

  @Test
  void aRecordOfAnotherKindIsRefusedNamingBoth() {
    byte[] persist = RecordCodec.encodePersistRecord(PERSIST);
    String message =
        assertThrows(
                RecordCodec.CorruptRecordException.class,
                () -> RecordCodec.decodeEntryRecord(persist))
            .getMessage();
    assertEquals("expected a store record, found a persist record", message);
    persist[0] = 0x7f;
    assertEquals(
        "expected a persist record, found the unknown record kind tag 0x7f", corruption(persist));
  }

  @Test
  void recordsWrittenBeforeTheCommonFrameStillDecode() throws RecordCodec.CorruptRecordException {
    byte[] entry = HexFormat.of().parseHex(LOG_ENTRY_FORMAT_1);
    assertEquals(FIXTURE_ENTRY, RecordCodec.decodeEntryRecord(entry));
    assertEquals(
        new Persist(new Ballot(3, 2), List.of(FIXTURE_ENTRY), null),
        RecordCodec.decodePersistRecord(HexFormat.of().parseHex(PERSIST_FORMAT_1)));
    // The new frame holds the same payload behind its own header.
    byte[] current = RecordCodec.encodeEntryRecord(FIXTURE_ENTRY);
    assertArrayEquals(
        Arrays.copyOfRange(entry, RecordCodec.LEGACY_FRAME_HEADER_BYTES, entry.length),
        Arrays.copyOfRange(current, Frame.HEADER_BYTES, current.length));

    byte[] flipped = entry.clone();
    flipped[flipped.length - 1] ^= 0x01;
    assertEquals(
        "store record, format version 1: checksum mismatch",
        assertThrows(
                RecordCodec.CorruptRecordException.class,
                () -> RecordCodec.decodeEntryRecord(flipped))
            .getMessage());
    byte[] torn = Arrays.copyOf(entry, entry.length - 1);
    assertTrue(
        assertThrows(
                RecordCodec.CorruptRecordException.class, () -> RecordCodec.decodeEntryRecord(torn))
            .getMessage()
            .contains("torn write"));
  }

  @Test
  void wellFramedGarbageIsReportedAsMalformedNotMisread() {
    byte[] garbage = RecordCodec.frame(RecordKind.PERSIST, new byte[] {1, 0, 0, 0});
    RecordCodec.CorruptRecordException thrown =
        assertThrows(
            RecordCodec.CorruptRecordException.class,
            () -> RecordCodec.decodePersistRecord(garbage));
    assertTrue(thrown.getMessage().startsWith("persist record"), thrown.getMessage());
  }

  @Test
  void logEntryRoundTrips() throws RecordCodec.CorruptRecordException {
    for (LogEntry entry : PERSIST.entries()) {
      assertEquals(entry, RecordCodec.decodeEntry(RecordCodec.encodeEntry(entry)));
      assertEquals(entry, RecordCodec.decodeEntryRecord(RecordCodec.encodeEntryRecord(entry)));
    }
    LogEntry reconfigure =
        new LogEntry(
            9,
            new Ballot(7, 2),
            new Value.Reconfigure(
                new Configuration(
                    new java.util.TreeMap<>(
                        java.util.Map.of(ReplicaId.of(1), "a:1", ReplicaId.of(2), "höst:2")),
                    new java.util.TreeMap<>(java.util.Map.of(ReplicaId.of(3), "c:3")))),
            true);
    assertEquals(
        reconfigure, RecordCodec.decodeEntryRecord(RecordCodec.encodeEntryRecord(reconfigure)));
    byte[] encoded = RecordCodec.encodeEntry(PERSIST.entries().get(1));
    assertThrows(
        RecordCodec.CorruptRecordException.class,
        () -> RecordCodec.decodeEntry(Arrays.copyOf(encoded, encoded.length - 1)));
  }

  @Test
  void unframeReturnsThePayloadUnchanged() throws RecordCodec.CorruptRecordException {
    byte[] payload = {0, 1, 2, 3, 4, 5};
    byte[] framed = RecordCodec.frame(RecordKind.STORE_RECORD, payload);
    assertEquals(Frame.HEADER_BYTES + payload.length, framed.length);
    assertArrayEquals(payload, RecordCodec.unframe(RecordKind.STORE_RECORD, framed));
    byte[] part = RecordCodec.frame(RecordKind.STORE_RECORD, payload, 2, 3);
    assertArrayEquals(new byte[] {2, 3, 4}, RecordCodec.unframe(RecordKind.STORE_RECORD, part));
  }

  private static String corruption(byte[] record) {
    return assertThrows(
            RecordCodec.CorruptRecordException.class, () -> RecordCodec.decodePersistRecord(record))
        .getMessage();
  }
}
