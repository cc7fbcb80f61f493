package io.paxcron.paxos;

import java.util.zip.CRC32C;

/**
 * The one frame of every persisted record and snapshot: {@code [kind tag: 1][format version: 1]
 * [body length: 4][CRC32C of the body: 4][body]}, big-endian. {@link BinaryWriter#beginFrame} and
 * {@link BinaryWriter#endFrame} write it around a body written in place; {@link #read} checks it
 * and refuses an unknown kind, a version this build does not read, a length beyond the bytes or a
 * bad checksum with a {@link RecordFormatException} naming the kind, the version found and the
 * versions this build reads.
 *
 * <p>Frames are concatenated, never nested around large parts: every byte of a record lies under
 * exactly one CRC, so a 300 MB snapshot is checksummed once.
 *
 * @param bytes the array holding the frame; the body is {@code bytes[bodyOffset, bodyOffset +
 *     bodyLength)}, not copied
 */
public record Frame(RecordKind kind, int version, byte[] bytes, int bodyOffset, int bodyLength) {

  public static final int HEADER_BYTES = 10;

  /** Largest body a frame may declare (an array's limit, less the header). */
  public static final int MAX_BODY_BYTES = Integer.MAX_VALUE - 64;

  /** The body, to be read from its first byte to its end. */
  public BinaryReader body() {
    return new BinaryReader(bytes, bodyOffset, bodyLength);
  }

  /** The offset just past this frame. */
  public int end() {
    return bodyOffset + bodyLength;
  }

  /** Whether the bytes at {@code offset} start a frame of {@code kind} (else an older layout). */
  public static boolean startsAt(byte[] bytes, int offset, RecordKind kind) {
    return offset < bytes.length && bytes[offset] == kind.tag();
  }

  /** The frame of {@code kind} that {@code bytes} hold whole (no bytes may follow it). */
  public static Frame readWhole(byte[] bytes, RecordKind kind) {
    Frame frame = read(bytes, 0, bytes.length, kind);
    if (frame.end() != bytes.length) {
      throw new RecordFormatException(
          kind.description()
              + " record, format version "
              + frame.version()
              + ": "
              + (bytes.length - frame.end())
              + " bytes follow its "
              + frame.bodyLength()
              + "-byte body");
    }
    return frame;
  }

  /**
   * The frame of {@code kind} at {@code bytes[offset]}, which may be followed by others before
   * {@code limit}.
   *
   * @throws RecordFormatException if it is of another kind, of a version this build does not read,
   *     torn, or fails its checksum
   */
  public static Frame read(byte[] bytes, int offset, int limit, RecordKind kind) {
    int available = limit - offset;
    if (available < HEADER_BYTES) {
      throw new RecordFormatException(
          kind.description()
              + " record of "
              + Math.max(0, available)
              + " bytes is shorter than its "
              + HEADER_BYTES
              + "-byte frame header (torn write)");
    }
    byte tag = bytes[offset];
    if (tag != kind.tag()) {
      RecordKind found = RecordKind.ofTag(tag);
      throw new RecordFormatException(
          "expected a "
              + kind.description()
              + " record, found "
              + (found == null
                  ? String.format("the unknown record kind tag 0x%02x", tag & 0xff)
                  : "a " + found.description() + " record"));
    }
    int version = bytes[offset + 1] & 0xff;
    if (version < kind.firstFramedVersion() || version > kind.version()) {
      throw new RecordFormatException(
          kind.description()
              + " record: format version "
              + version
              + " is not one this build reads ("
              + kind.readableVersions()
              + ")"
              + (version > kind.version() ? "; was it written by a newer Paxcron?" : ""));
    }
    int length = readInt(bytes, offset + 2);
    if (length < 0 || length > available - HEADER_BYTES) {
      throw new RecordFormatException(
          kind.description()
              + " record, format version "
              + version
              + ": declares "
              + length
              + " body bytes but "
              + (available - HEADER_BYTES)
              + " follow its header (torn write)");
    }
    int bodyOffset = offset + HEADER_BYTES;
    int stored = readInt(bytes, offset + 6);
    int computed = crc32c(bytes, bodyOffset, length);
    if (stored != computed) {
      throw new RecordFormatException(
          kind.description()
              + " record, format version "
              + version
              + ": checksum mismatch (CRC32C stored "
              + String.format("%08x", stored)
              + ", computed "
              + String.format("%08x", computed)
              + ")");
    }
    return new Frame(kind, version, bytes, bodyOffset, length);
  }

  static int crc32c(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }

  // Big-endian views of a byte array: single loads and stores the JIT compiles as such.
  private static final java.lang.invoke.VarHandle INT =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
          int[].class, java.nio.ByteOrder.BIG_ENDIAN);
  private static final java.lang.invoke.VarHandle LONG =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
          long[].class, java.nio.ByteOrder.BIG_ENDIAN);

  static int readInt(byte[] source, int offset) {
    return (int) INT.get(source, offset);
  }

  static void writeInt(byte[] target, int offset, int value) {
    INT.set(target, offset, value);
  }

  static long readLong(byte[] source, int offset) {
    return (long) LONG.get(source, offset);
  }

  static void writeLong(byte[] target, int offset, long value) {
    LONG.set(target, offset, value);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Frame frame
        && kind == frame.kind
        && version == frame.version
        && java.util.Arrays.equals(
            bytes, bodyOffset, end(), frame.bytes, frame.bodyOffset, frame.end());
  }

  @Override
  public int hashCode() {
    return 31 * kind.hashCode() + version;
  }

  @Override
  public String toString() {
    return kind.description() + " v" + version + " (" + bodyLength + " body bytes)";
  }
}
