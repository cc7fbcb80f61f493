package io.paxcron.paxos;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reader of every Paxcron binary format ({@link BinaryWriter}'s inverse), over a range of an
 * array it never copies whole. Every length is checked against the bytes that remain and against a
 * limit, so garbage input ends in a {@link RecordFormatException}, never in an out-of-memory error
 * or an index out of bounds. Not thread-safe.
 */
public final class BinaryReader {
  /** Largest string or byte array {@link #readBytes()} accepts. */
  public static final int MAX_FIELD_BYTES = 16 * 1024 * 1024;

  private final byte[] bytes;
  private final int limit;
  private int position;

  public BinaryReader(byte[] bytes) {
    this(bytes, 0, bytes.length);
  }

  /** A reader of {@code bytes[offset, offset + length)}. */
  public BinaryReader(byte[] bytes, int offset, int length) {
    if (offset < 0 || length < 0 || offset > bytes.length - length) {
      throw new IllegalArgumentException(
          "range " + offset + "+" + length + " is outside an array of " + bytes.length);
    }
    this.bytes = bytes;
    this.position = offset;
    this.limit = offset + length;
  }

  /** The offset in the array of the next byte to read. */
  public int position() {
    return position;
  }

  public int remaining() {
    return limit - position;
  }

  public boolean atEnd() {
    return position == limit;
  }

  /** Refuses bytes left after a record: {@code what} names it in the message. */
  public void expectEnd(String what) {
    if (position != limit) {
      throw new RecordFormatException(what + " has " + (limit - position) + " trailing bytes");
    }
  }

  /**
   * The frame of {@code kind} at the current position, checked ({@link Frame#read}); the reader
   * moves past it.
   */
  public Frame readFrame(RecordKind kind) {
    Frame frame = Frame.read(bytes, position, limit, kind);
    position = frame.end();
    return frame;
  }

  /** Whether a frame of {@code kind} starts at the current position. */
  public boolean atFrame(RecordKind kind) {
    return position < limit && bytes[position] == kind.tag();
  }

  private void need(int count) {
    if (limit - position < count) {
      throw new RecordFormatException(
          "truncated: " + count + " bytes needed, " + (limit - position) + " remain");
    }
  }

  /** One byte, unsigned. */
  public int readByte() {
    need(1);
    return bytes[position++] & 0xff;
  }

  public boolean readBoolean() {
    int value = readByte();
    if (value > 1) {
      throw new RecordFormatException("boolean byte " + value);
    }
    return value == 1;
  }

  public int readUnsignedShort() {
    need(2);
    int value = ((bytes[position] & 0xff) << 8) | (bytes[position + 1] & 0xff);
    position += 2;
    return value;
  }

  public int readInt() {
    need(4);
    int value = Frame.readInt(bytes, position);
    position += 4;
    return value;
  }

  public long readLong() {
    need(8);
    long value = Frame.readLong(bytes, position);
    position += 8;
    return value;
  }

  /** A count of elements that follow, each taking at least {@code minBytesEach} bytes. */
  public int readCount(int max, int minBytesEach) {
    int count = readInt();
    if (count < 0 || count > max || (long) count * minBytesEach > limit - position) {
      throw new RecordFormatException(
          "element count "
              + count
              + " out of range 0-"
              + max
              + " or beyond the "
              + (limit - position)
              + " remaining bytes");
    }
    return count;
  }

  /** {@code length} bytes as they are (a copy). */
  public byte[] readRaw(int length) {
    if (length < 0) {
      throw new RecordFormatException("negative length " + length);
    }
    need(length);
    byte[] value = Arrays.copyOfRange(bytes, position, position + length);
    position += length;
    return value;
  }

  /** Moves past {@code length} bytes. */
  public void skip(int length) {
    if (length < 0) {
      throw new RecordFormatException("negative length " + length);
    }
    need(length);
    position += length;
  }

  /** A 4-byte length of at most {@link #MAX_FIELD_BYTES}, then the bytes. */
  public byte[] readBytes() {
    return readRaw(readCount(MAX_FIELD_BYTES, 1));
  }

  /** A 4-byte length, then UTF-8 bytes. */
  public String readString() {
    int length = readCount(MAX_FIELD_BYTES, 1);
    if (length == 0) {
      return ""; // one instance for every empty field
    }
    int start = position;
    position += length;
    // Nearly every string (names, schedules, zones, argv) is ASCII: decoded without building a
    // strict decoder, with the same result (ASCII is valid UTF-8 and decodes 1:1).
    boolean ascii = true;
    for (int i = start; i < position; i++) {
      if (bytes[i] < 0) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      return new String(bytes, start, length, StandardCharsets.US_ASCII);
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes, start, length))
          .toString();
    } catch (CharacterCodingException e) {
      throw new RecordFormatException("string is not UTF-8", e);
    }
  }

  /** A 2-byte length, then modified UTF-8 ({@link BinaryWriter#writeModifiedUtf}'s inverse). */
  public String readModifiedUtf() {
    int length = readUnsignedShort();
    need(length);
    int end = position + length;
    char[] chars = new char[length];
    int count = 0;
    while (position < end) {
      int a = bytes[position] & 0xff;
      if (a < 0x80) {
        chars[count++] = (char) a;
        position++;
      } else if ((a & 0xe0) == 0xc0) {
        if (end - position < 2 || (bytes[position + 1] & 0xc0) != 0x80) {
          throw new RecordFormatException("malformed modified UTF-8 at byte " + position);
        }
        chars[count++] = (char) (((a & 0x1f) << 6) | (bytes[position + 1] & 0x3f));
        position += 2;
      } else if ((a & 0xf0) == 0xe0) {
        if (end - position < 3
            || (bytes[position + 1] & 0xc0) != 0x80
            || (bytes[position + 2] & 0xc0) != 0x80) {
          throw new RecordFormatException("malformed modified UTF-8 at byte " + position);
        }
        chars[count++] =
            (char)
                (((a & 0x0f) << 12)
                    | ((bytes[position + 1] & 0x3f) << 6)
                    | (bytes[position + 2] & 0x3f));
        position += 3;
      } else {
        throw new RecordFormatException("malformed modified UTF-8 at byte " + position);
      }
    }
    return new String(chars, 0, count);
  }

  public Instant readInstant() {
    long seconds = readLong();
    int nanos = readInt();
    try {
      return Instant.ofEpochSecond(seconds, nanos);
    } catch (DateTimeException e) {
      throw new RecordFormatException("instant out of range", e);
    }
  }

  public Instant readOptionalInstant() {
    return readBoolean() ? readInstant() : null;
  }

  public Duration readDuration() {
    long seconds = readLong();
    int nanos = readInt();
    if (nanos < 0 || nanos > 999_999_999) {
      throw new RecordFormatException("duration nanos " + nanos);
    }
    return Duration.ofSeconds(seconds, nanos);
  }

  public Ballot readBallot() {
    long round = readLong();
    int replicaId = readInt();
    try {
      return new Ballot(round, replicaId);
    } catch (IllegalArgumentException e) {
      throw new RecordFormatException("invalid ballot", e);
    }
  }

  public Map<String, String> readStringMap(int max) {
    int count = readCount(max, 8);
    TreeMap<String, String> map = new TreeMap<>();
    for (int i = 0; i < count; i++) {
      map.put(readString(), readString());
    }
    return map;
  }

  public <E extends Enum<E>> E readEnum(Class<E> type) {
    // Compared as bytes with the constants' names: no string is built or hashed for the five
    // enums of each of a million job specs a restore or a bulk put decodes.
    EnumNames names = ENUM_NAMES.get(type);
    int start = position;
    int length = readCount(MAX_FIELD_BYTES, 1);
    for (int i = 0; i < names.names().length; i++) {
      byte[] name = names.names()[i];
      if (name.length == length
          && Arrays.equals(bytes, position, position + length, name, 0, length)) {
        position += length;
        return type.cast(names.constants()[i]);
      }
    }
    position = start;
    String name = readString();
    try {
      return Enum.valueOf(type, name);
    } catch (IllegalArgumentException e) {
      throw new RecordFormatException("unknown " + type.getSimpleName() + " '" + name + "'", e);
    }
  }

  /** An enum's constants and their names' UTF-8 bytes, in declaration order. */
  private record EnumNames(Object[] constants, byte[][] names) {}

  private static final ClassValue<EnumNames> ENUM_NAMES =
      new ClassValue<>() {
        @Override
        protected EnumNames computeValue(Class<?> type) {
          Object[] constants = type.getEnumConstants();
          byte[][] names = new byte[constants.length][];
          for (int i = 0; i < constants.length; i++) {
            names[i] = ((Enum<?>) constants[i]).name().getBytes(StandardCharsets.UTF_8);
          }
          return new EnumNames(constants, names);
        }
      };
}
