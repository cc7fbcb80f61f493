package io.paxcron.paxos;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The big-endian writer of every Paxcron binary format, into one growing array. A {@link Frame} is
 * written in place around its body ({@link #beginFrame}, then the body, then {@link #endFrame}), so
 * a record is never copied to be framed. Writing to memory cannot fail. Not thread-safe; {@link
 * #toByteArray} ends the writer.
 *
 * <p>Past {@link #CHUNK_BYTES} the writer goes on in chunks of that size instead of doubling one
 * array, and {@link #endFrame} and {@link #toByteArray} work through them a chunk at a time. A
 * snapshot of a million jobs is 300 MB: doubling copied 256 MB arrays in one piece, and a thread in
 * such a copy (or in one CRC over the whole frame) cannot answer the JVM's handshakes, so the
 * garbage collector's cycle waited for it and every other thread of the replica with it — for 1–5 s
 * at a time while a loaded replica encoded its snapshot (docs/performance.md, scale, eighth round).
 */
public final class BinaryWriter {
  /** The size of a chunk once the writer holds more than one. */
  static final int CHUNK_BYTES = 4 << 20;

  /** The chunk written into, and how many of its bytes are written. */
  private byte[] bytes;

  private int size;

  /** Chunks before the current one and how many bytes of each are written, or null. */
  private List<byte[]> sealed;

  private List<Integer> sealedSizes;
  private long sealedBytes;

  public BinaryWriter() {
    this(64);
  }

  /**
   * A writer whose first array holds {@code initialCapacity} bytes: when that is the exact size of
   * what is written, {@link #toByteArray} returns it without a copy.
   */
  public BinaryWriter(int initialCapacity) {
    if (initialCapacity < 0) {
      throw new IllegalArgumentException("initialCapacity must be >= 0, got " + initialCapacity);
    }
    this.bytes = new byte[initialCapacity];
  }

  /** The bytes written so far. */
  public int size() {
    return (int) (sealedBytes + size);
  }

  /**
   * The bytes written; the writer's own array when it is exactly full (no copy), so the writer must
   * not be used afterwards.
   */
  public byte[] toByteArray() {
    Check.that(bytes != null, "a BinaryWriter is used after toByteArray()");
    if (sealed == null) {
      byte[] result = size == bytes.length ? bytes : Arrays.copyOf(bytes, size);
      bytes = null;
      return result;
    }
    byte[] result = new byte[size()];
    int at = 0;
    for (int i = 0; i < sealed.size(); i++) {
      System.arraycopy(sealed.get(i), 0, result, at, sealedSizes.get(i));
      at += sealedSizes.get(i);
    }
    System.arraycopy(bytes, 0, result, at, size);
    bytes = null;
    sealed = null;
    return result;
  }

  private void ensure(int more) {
    Check.that(bytes != null, "a BinaryWriter is used after toByteArray()");
    if (bytes.length - size >= more) {
      return;
    }
    long needed = sealedBytes + size + more;
    if (needed > Integer.MAX_VALUE - 16) {
      throw new IllegalStateException("a record of " + needed + " bytes does not fit in one array");
    }
    if (sealed == null && (long) size + more <= CHUNK_BYTES) {
      long grown = Math.max(size + more, Math.min(CHUNK_BYTES, 2L * bytes.length + 16));
      bytes = Arrays.copyOf(bytes, (int) grown);
      return;
    }
    if (sealed == null) {
      sealed = new ArrayList<>();
      sealedSizes = new ArrayList<>();
    }
    sealed.add(bytes);
    sealedSizes.add(size);
    sealedBytes += size;
    bytes = new byte[Math.max(CHUNK_BYTES, more)];
    size = 0;
  }

  /**
   * Starts a frame of {@code kind} at its current format version; the body follows. Returns where
   * the frame starts, for {@link #endFrame}.
   */
  public int beginFrame(RecordKind kind) {
    ensure(Frame.HEADER_BYTES);
    int start = size();
    bytes[size] = kind.tag();
    bytes[size + 1] = (byte) kind.version();
    Arrays.fill(bytes, size + 2, size + Frame.HEADER_BYTES, (byte) 0);
    size += Frame.HEADER_BYTES;
    return start;
  }

  /** Ends the frame begun at {@code start}: its body length and CRC32C, computed in place. */
  public BinaryWriter endFrame(int start) {
    Check.that(
        start >= 0 && start + Frame.HEADER_BYTES <= size(),
        "endFrame(%s) without a frame begun there",
        start);
    // The chunk the header is in (a header never spans two), and where in it.
    int chunk = sealed == null ? 0 : sealed.size();
    long chunkStart = sealedBytes;
    while (start < chunkStart) {
      chunk--;
      chunkStart -= sealedSizes.get(chunk);
    }
    byte[] header = chunk == (sealed == null ? 0 : sealed.size()) ? bytes : sealed.get(chunk);
    int offset = (int) (start - chunkStart);
    Check.that(
        RecordKind.ofTag(header[offset]) != null,
        "endFrame(%s) without a frame begun there",
        start);
    int length = size() - start - Frame.HEADER_BYTES;
    CRC32C crc = new CRC32C();
    int from = offset + Frame.HEADER_BYTES;
    for (int i = chunk; sealed != null && i < sealed.size(); i++) {
      crc.update(sealed.get(i), from, sealedSizes.get(i) - from);
      from = 0;
    }
    crc.update(bytes, from, size - from);
    Frame.writeInt(header, offset + 2, length);
    Frame.writeInt(header, offset + 6, (int) crc.getValue());
    return this;
  }

  public BinaryWriter writeByte(int value) {
    ensure(1);
    bytes[size++] = (byte) value;
    return this;
  }

  public BinaryWriter writeBoolean(boolean value) {
    return writeByte(value ? 1 : 0);
  }

  public BinaryWriter writeShort(int value) {
    ensure(2);
    bytes[size] = (byte) (value >>> 8);
    bytes[size + 1] = (byte) value;
    size += 2;
    return this;
  }

  public BinaryWriter writeInt(int value) {
    ensure(4);
    Frame.writeInt(bytes, size, value);
    size += 4;
    return this;
  }

  public BinaryWriter writeLong(long value) {
    ensure(8);
    Frame.writeLong(bytes, size, value);
    size += 8;
    return this;
  }

  /** The bytes as they are, without a length. */
  public BinaryWriter writeRaw(byte[] value) {
    return writeRaw(value, 0, value.length);
  }

  public BinaryWriter writeRaw(byte[] value, int offset, int length) {
    ensure(length);
    System.arraycopy(value, offset, bytes, size, length);
    size += length;
    return this;
  }

  /** A 4-byte length, then the bytes. */
  public BinaryWriter writeBytes(byte[] value) {
    writeInt(value.length);
    return writeRaw(value);
  }

  /** A 4-byte length, then the UTF-8 bytes. */
  public BinaryWriter writeString(String value) {
    int length = value.length();
    for (int i = 0; i < length; i++) {
      if (value.charAt(i) >= 0x80) {
        return writeBytes(value.getBytes(StandardCharsets.UTF_8));
      }
    }
    // ASCII, as nearly every name, schedule and argument is: its UTF-8 bytes are its chars,
    // written in place without an encoded copy (a million-job snapshot writes ~15 million strings).
    writeInt(length);
    ensure(length);
    for (int i = 0; i < length; i++) {
      bytes[size + i] = (byte) value.charAt(i);
    }
    size += length;
    return this;
  }

  /**
   * A 2-byte length, then the string in modified UTF-8: the bytes {@link
   * java.io.DataOutput#writeUTF} writes, which formats older than this writer used.
   *
   * @throws IllegalArgumentException if the encoding exceeds 65,535 bytes
   */
  public BinaryWriter writeModifiedUtf(String value) {
    int length = value.length();
    int encoded = 0;
    for (int i = 0; i < length; i++) {
      char c = value.charAt(i);
      encoded += c >= 0x01 && c <= 0x7f ? 1 : c <= 0x7ff ? 2 : 3;
    }
    if (encoded > 0xffff) {
      throw new IllegalArgumentException(
          "a string of " + encoded + " modified UTF-8 bytes exceeds 65535");
    }
    writeShort(encoded);
    ensure(encoded);
    for (int i = 0; i < length; i++) {
      char c = value.charAt(i);
      if (c >= 0x01 && c <= 0x7f) {
        bytes[size++] = (byte) c;
      } else if (c <= 0x7ff) {
        bytes[size++] = (byte) (0xc0 | (c >> 6));
        bytes[size++] = (byte) (0x80 | (c & 0x3f));
      } else {
        bytes[size++] = (byte) (0xe0 | (c >> 12));
        bytes[size++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        bytes[size++] = (byte) (0x80 | (c & 0x3f));
      }
    }
    return this;
  }

  public BinaryWriter writeInstant(Instant value) {
    return writeLong(value.getEpochSecond()).writeInt(value.getNano());
  }

  public BinaryWriter writeOptionalInstant(Instant value) {
    writeBoolean(value != null);
    return value == null ? this : writeInstant(value);
  }

  public BinaryWriter writeDuration(Duration value) {
    return writeLong(value.getSeconds()).writeInt(value.getNano());
  }

  public BinaryWriter writeBallot(Ballot value) {
    return writeLong(value.round()).writeInt(value.replicaId());
  }

  /** A 4-byte count, then each key and value with {@link #writeString}, in the map's order. */
  public BinaryWriter writeStringMap(Map<String, String> map) {
    writeInt(map.size());
    for (Map.Entry<String, String> entry : map.entrySet()) {
      writeString(entry.getKey());
      writeString(entry.getValue());
    }
    return this;
  }
}
