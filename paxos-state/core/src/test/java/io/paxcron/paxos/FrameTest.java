package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The one binary writer and reader, and the frame every persisted record is written in. */
final class FrameTest {

  @Test
  void everyFieldRoundTrips() {
    BinaryWriter out =
        new BinaryWriter(0)
            .writeByte(0xfe)
            .writeBoolean(true)
            .writeShort(0xbeef)
            .writeInt(-7)
            .writeLong(Long.MIN_VALUE + 3)
            .writeBytes(new byte[] {1, 2, 3})
            .writeString("ключ/värde")
            .writeModifiedUtf("a\u0000ö€")
            .writeInstant(Instant.parse("2026-01-01T02:30:00.5Z"))
            .writeOptionalInstant(null)
            .writeDuration(Duration.ofMillis(1500))
            .writeBallot(new Ballot(9, 2))
            .writeStringMap(new TreeMap<>(Map.of("a", "1", "b", "")));
    BinaryReader in = new BinaryReader(out.toByteArray());
    assertEquals(0xfe, in.readByte());
    assertTrue(in.readBoolean());
    assertEquals(0xbeef, in.readUnsignedShort());
    assertEquals(-7, in.readInt());
    assertEquals(Long.MIN_VALUE + 3, in.readLong());
    assertArrayEquals(new byte[] {1, 2, 3}, in.readBytes());
    assertEquals("ключ/värde", in.readString());
    assertEquals("a\u0000ö€", in.readModifiedUtf());
    assertEquals(Instant.parse("2026-01-01T02:30:00.5Z"), in.readInstant());
    assertNull(in.readOptionalInstant());
    assertEquals(Duration.ofMillis(1500), in.readDuration());
    assertEquals(new Ballot(9, 2), in.readBallot());
    assertEquals(Map.of("a", "1", "b", ""), in.readStringMap(10));
    in.expectEnd("fields");
  }

  @Test
  void modifiedUtfIsTheBytesDataOutputWrites() throws IOException {
    long seed = 20261203;
    System.out.println("FrameTest.modifiedUtfIsTheBytesDataOutputWrites seed " + seed);
    SplittableRandom random = new SplittableRandom(seed);
    for (int round = 0; round < 500; round++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(20);
      for (int i = 0; i < length; i++) {
        text.append((char) random.nextInt(random.nextBoolean() ? 0x80 : 0x10000));
      }
      ByteArrayOutputStream expected = new ByteArrayOutputStream();
      new DataOutputStream(expected).writeUTF(text.toString());
      byte[] written = new BinaryWriter().writeModifiedUtf(text.toString()).toByteArray();
      assertArrayEquals(expected.toByteArray(), written, "seed " + seed + ", round " + round);
      assertEquals(text.toString(), new BinaryReader(written).readModifiedUtf());
    }
  }

  @Test
  void aWriterOfTheExactSizeHandsOverItsArray() {
    BinaryWriter exact = new BinaryWriter(12);
    int start = exact.beginFrame(RecordKind.STORE_RECORD);
    exact.writeShort(7).endFrame(start);
    byte[] first = exact.toByteArray();
    assertEquals(12, first.length);
    assertThrows(IllegalStateException.class, () -> exact.writeByte(1));
  }

  @Test
  void framesConcatenateAndEachIsCheckedOnItsOwn() {
    BinaryWriter out = new BinaryWriter();
    int first = out.beginFrame(RecordKind.SESSION_SNAPSHOT);
    out.writeLong(42).endFrame(first);
    int second = out.beginFrame(RecordKind.KEY_VALUE_SNAPSHOT);
    out.writeString("state").endFrame(second);
    byte[] bytes = out.toByteArray();

    BinaryReader in = new BinaryReader(bytes);
    assertTrue(in.atFrame(RecordKind.SESSION_SNAPSHOT));
    Frame sessions = in.readFrame(RecordKind.SESSION_SNAPSHOT);
    assertEquals(RecordKind.SESSION_SNAPSHOT.version(), sessions.version());
    assertEquals(42, sessions.body().readLong());
    assertFalse(in.atFrame(RecordKind.SESSION_SNAPSHOT));
    assertEquals("state", in.readFrame(RecordKind.KEY_VALUE_SNAPSHOT).body().readString());
    in.expectEnd("snapshot");

    RecordFormatException trailing =
        assertThrows(
            RecordFormatException.class, () -> Frame.readWhole(bytes, RecordKind.SESSION_SNAPSHOT));
    assertTrue(trailing.getMessage().contains("bytes follow its 8-byte body"));
  }

  @Test
  void aFrameIsRefusedForABadChecksumAFutureVersionAnotherKindOrATornBody() {
    BinaryWriter out = new BinaryWriter();
    int start = out.beginFrame(RecordKind.CRON_SNAPSHOT);
    out.writeString("jobs").endFrame(start);
    byte[] frame = out.toByteArray();
    assertEquals("jobs", Frame.readWhole(frame, RecordKind.CRON_SNAPSHOT).body().readString());

    for (int index = Frame.HEADER_BYTES; index < frame.length; index++) {
      byte[] flipped = frame.clone();
      flipped[index] ^= 0x40;
      assertTrue(
          refusal(flipped, RecordKind.CRON_SNAPSHOT)
              .startsWith("cron snapshot record, format version 3: checksum mismatch"));
    }
    byte[] future = frame.clone();
    future[1] = 4;
    assertEquals(
        "cron snapshot record: format version 4 is not one this build reads (versions 1..3); was"
            + " it written by a newer Paxcron?",
        refusal(future, RecordKind.CRON_SNAPSHOT));
    assertEquals(
        "expected a access snapshot record, found a cron snapshot record",
        refusal(frame, RecordKind.ACCESS_SNAPSHOT));
    for (int length = 0; length < frame.length; length++) {
      String message = refusal(java.util.Arrays.copyOf(frame, length), RecordKind.CRON_SNAPSHOT);
      assertTrue(message.contains("torn write"), length + ": " + message);
    }
  }

  @Test
  void kindTagsAreDistinctAndNoOlderLayoutStartsWithOne() {
    Set<Byte> tags = new HashSet<>();
    for (RecordKind kind : RecordKind.values()) {
      assertTrue(tags.add(kind.tag()), kind + " shares its tag");
      assertTrue((kind.tag() & 0xff) >= 0xd1, kind + ": tags start at 0xd1");
      assertSame(kind, RecordKind.ofTag(kind.tag()));
      assertTrue(
          kind.oldestReadableVersion() <= kind.firstFramedVersion()
              && kind.firstFramedVersion() <= kind.version(),
          kind.toString());
    }
  }

  @Test
  void garbageEndsInAFormatErrorNeverAnOutOfMemoryError() {
    BinaryReader huge = new BinaryReader(new byte[] {0x7f, 0, 0, 0, 1});
    assertThrows(RecordFormatException.class, huge::readBytes);
    assertThrows(RecordFormatException.class, () -> new BinaryReader(new byte[3]).readInt());
    assertThrows(RecordFormatException.class, () -> new BinaryReader(new byte[] {2}).readBoolean());
  }

  private static String refusal(byte[] bytes, RecordKind kind) {
    return assertThrows(RecordFormatException.class, () -> Frame.readWhole(bytes, kind))
        .getMessage();
  }
}
