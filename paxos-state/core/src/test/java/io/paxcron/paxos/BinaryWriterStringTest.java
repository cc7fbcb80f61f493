package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A string is written as a 4-byte length and its UTF-8 bytes, whether ASCII (written in place) or
 * not (encoded), across chunk boundaries too, and reads back equal.
 */
final class BinaryWriterStringTest {

  @Test
  void stringsAreTheirLengthAndUtf8BytesAndReadBack() {
    for (long seed = 1; seed <= 5; seed++) {
      stringsReadBack(seed);
    }
  }

  /** One seeded round; a failure names its seed. */
  private static void stringsReadBack(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    BinaryWriter out = new BinaryWriter();
    ByteBuffer expected = ByteBuffer.allocate(8 * BinaryWriter.CHUNK_BYTES);
    List<String> written = new ArrayList<>();
    while (expected.position() < 3 * BinaryWriter.CHUNK_BYTES) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(0, random.nextInt(1, 10) == 1 ? 5_000 : 40);
      boolean ascii = random.nextInt(4) != 0;
      for (int i = 0; i < length; i++) {
        text.append(ascii ? (char) random.nextInt(0, 0x80) : (char) random.nextInt(0, 0x3000));
      }
      String value = text.toString();
      out.writeString(value);
      byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
      expected.putInt(utf8.length).put(utf8);
      written.add(value);
    }
    byte[] bytes = out.toByteArray();
    byte[] want = new byte[expected.position()];
    expected.flip().get(want);
    assertArrayEquals(want, bytes, "seed " + seed);
    BinaryReader in = new BinaryReader(bytes);
    for (String value : written) {
      assertEquals(value, in.readString(), "seed " + seed);
    }
  }
}
