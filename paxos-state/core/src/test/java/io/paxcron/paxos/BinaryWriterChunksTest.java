package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A writer that goes past one chunk writes exactly the bytes one array of the final size would
 * hold: frames whose header and body lie in different chunks get the same length and checksum, and
 * nested frames and values that would straddle a chunk's end are intact.
 */
final class BinaryWriterChunksTest {

  /** About two and a half chunks: an outer frame around many small inner frames and values. */
  private static void writeImage(BinaryWriter out, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int outer = out.beginFrame(RecordKind.SESSION_SNAPSHOT);
    long target = BinaryWriter.CHUNK_BYTES * 5L / 2;
    while (out.size() < target) {
      int inner = out.beginFrame(RecordKind.CRON_SNAPSHOT);
      out.writeLong(random.nextLong()).writeInt(random.nextInt()).writeShort(random.nextInt());
      byte[] raw = new byte[random.nextInt(0, 3000)];
      random.nextBytes(raw);
      out.writeBytes(raw).writeString("job-" + random.nextInt()).writeModifiedUtf("é€x");
      out.endFrame(inner);
    }
    // A value larger than a chunk, written in one piece.
    byte[] large = new byte[BinaryWriter.CHUNK_BYTES + 17];
    random.nextBytes(large);
    out.writeBytes(large);
    out.endFrame(outer);
  }

  private static byte[] written(BinaryWriter out, Consumer<BinaryWriter> write) {
    write.accept(out);
    return out.toByteArray();
  }

  @Test
  void chunksHoldWhatOneArrayHolds() {
    long seed = 20261204L;
    byte[] chunked = written(new BinaryWriter(), out -> writeImage(out, seed));
    byte[] whole =
        written(new BinaryWriter(BinaryWriter.CHUNK_BYTES * 5), out -> writeImage(out, seed));
    assertEquals(whole.length, chunked.length, "seed " + seed);
    assertArrayEquals(whole, chunked, "seed " + seed);
    // The outer frame reads back whole: its length and checksum cover every chunk.
    Frame frame = Frame.readWhole(chunked, RecordKind.SESSION_SNAPSHOT);
    assertEquals(chunked.length - Frame.HEADER_BYTES, frame.bodyLength());
  }
}
