package io.paxcron.paxos;

import static io.paxcron.paxos.TestCluster.put;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
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

  @Test
  void recordCodecRoundTripsAndDetectsTornAndCorruptRecords()
      throws RecordCodec.CorruptRecordException {
    byte[] framed = RecordCodec.frame(RecordCodec.encode(PERSIST));
    assertEquals(PERSIST, RecordCodec.decodePersist(RecordCodec.unframe(framed)));

    Persist nothing = new Persist(null, List.of(), null);
    assertEquals(
        nothing,
        RecordCodec.decodePersist(
            RecordCodec.unframe(RecordCodec.frame(RecordCodec.encode(nothing)))));

    for (int length = 0; length < framed.length; length++) {
      byte[] torn = Arrays.copyOf(framed, length);
      String message = corruption(torn);
      assertTrue(message.contains("torn write"), "torn at " + length + ": " + message);
    }

    for (int index = RecordCodec.FRAME_HEADER_BYTES; index < framed.length; index++) {
      byte[] flipped = framed.clone();
      flipped[index] ^= 0x10;
      assertEquals("record checksum mismatch", corruption(flipped), "bit flipped at " + index);
    }

    byte[] wrongChecksum = framed.clone();
    wrongChecksum[5] ^= 0x01;
    assertEquals("record checksum mismatch", corruption(wrongChecksum));

    byte[] futureVersion = framed.clone();
    futureVersion[0] = 2;
    assertEquals("record format version 2 is not the supported 1", corruption(futureVersion));
  }

  @Test
  void wellFramedGarbageIsReportedAsMalformedNotMisread() {
    byte[] garbage = RecordCodec.frame(new byte[] {1, 0, 0, 0});
    RecordCodec.CorruptRecordException thrown =
        assertThrows(
            RecordCodec.CorruptRecordException.class,
            () -> RecordCodec.decodePersist(RecordCodec.unframe(garbage)));
    assertTrue(thrown.getMessage().startsWith("persist record"), thrown.getMessage());
  }

  @Test
  void logEntryRoundTrips() throws RecordCodec.CorruptRecordException {
    for (LogEntry entry : PERSIST.entries()) {
      assertEquals(entry, RecordCodec.decodeEntry(RecordCodec.encodeEntry(entry)));
    }
    byte[] encoded = RecordCodec.encodeEntry(PERSIST.entries().get(1));
    assertThrows(
        RecordCodec.CorruptRecordException.class,
        () -> RecordCodec.decodeEntry(Arrays.copyOf(encoded, encoded.length - 1)));
  }

  @Test
  void unframeReturnsThePayloadUnchanged() throws RecordCodec.CorruptRecordException {
    byte[] payload = {0, 1, 2, 3, 4, 5};
    byte[] framed = RecordCodec.frame(payload);
    assertEquals(RecordCodec.FRAME_HEADER_BYTES + payload.length, framed.length);
    assertArrayEquals(payload, RecordCodec.unframe(framed));
  }

  private static String corruption(byte[] record) {
    return assertThrows(
            RecordCodec.CorruptRecordException.class,
            () -> RecordCodec.decodePersist(RecordCodec.unframe(record)))
        .getMessage();
  }
}
