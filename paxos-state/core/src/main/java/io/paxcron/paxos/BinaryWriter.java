package io.paxcron.paxos;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;

/**
 * The big-endian writer of every Paxcron binary format, into one growing array. A {@link Frame} is
 * written in place around its body ({@link #beginFrame}, then the body, then {@link #endFrame}), so
 * a record is never copied to be framed. Writing to memory cannot fail. Not thread-safe; {@link
 * #toByteArray} ends the writer.
 */
public final class BinaryWriter {
  private byte[] bytes;
  private int size;

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
    return size;
  }

  /**
   * The bytes written; the writer's own array when it is exactly full (no copy), so the writer must
   * not be used afterwards.
   */
  public byte[] toByteArray() {
    Check.that(bytes != null, "a BinaryWriter is used after toByteArray()");
    byte[] result = size == bytes.length ? bytes : Arrays.copyOf(bytes, size);
    bytes = null;
    return result;
  }

  private void ensure(int more) {
    Check.that(bytes != null, "a BinaryWriter is used after toByteArray()");
    if (bytes.length - size >= more) {
      return;
    }
    long needed = (long) size + more;
    if (needed > Integer.MAX_VALUE - 16) {
      throw new IllegalStateException("a record of " + needed + " bytes does not fit in one array");
    }
    long grown = Math.max(needed, Math.min(Integer.MAX_VALUE - 16, 2L * bytes.length + 16));
    bytes = Arrays.copyOf(bytes, (int) grown);
  }

  /**
   * Starts a frame of {@code kind} at its current format version; the body follows. Returns where
   * the frame starts, for {@link #endFrame}.
   */
  public int beginFrame(RecordKind kind) {
    int start = size;
    ensure(Frame.HEADER_BYTES);
    bytes[size] = kind.tag();
    bytes[size + 1] = (byte) kind.version();
    Arrays.fill(bytes, size + 2, size + Frame.HEADER_BYTES, (byte) 0);
    size += Frame.HEADER_BYTES;
    return start;
  }

  /** Ends the frame begun at {@code start}: its body length and CRC32C, computed in place. */
  public BinaryWriter endFrame(int start) {
    Check.that(
        start >= 0 && start + Frame.HEADER_BYTES <= size && RecordKind.ofTag(bytes[start]) != null,
        "endFrame(%s) without a frame begun there",
        start);
    int bodyOffset = start + Frame.HEADER_BYTES;
    int length = size - bodyOffset;
    Frame.writeInt(bytes, start + 2, length);
    Frame.writeInt(bytes, start + 6, Frame.crc32c(bytes, bodyOffset, length));
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
    return writeBytes(value.getBytes(StandardCharsets.UTF_8));
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
