package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reader of the scheduler's binary formats. Every length is checked against the bytes that remain
 * and against a limit, so garbage input ends in a {@link MalformedCommandException}, never in an
 * out-of-memory error.
 */
final class BinaryReader {
  /** Largest string or byte array a reader accepts. */
  static final int MAX_FIELD_BYTES = 16 * 1024 * 1024;

  private final ByteBuffer buffer;

  BinaryReader(byte[] bytes) {
    this.buffer = ByteBuffer.wrap(bytes);
  }

  boolean atEnd() {
    return !buffer.hasRemaining();
  }

  void expectEnd(String what) {
    if (buffer.hasRemaining()) {
      throw new MalformedCommandException(what + " has " + buffer.remaining() + " trailing bytes");
    }
  }

  int readByte() {
    try {
      return buffer.get() & 0xff;
    } catch (BufferUnderflowException e) {
      throw truncated();
    }
  }

  boolean readBoolean() {
    int value = readByte();
    if (value > 1) {
      throw new MalformedCommandException("boolean byte " + value);
    }
    return value == 1;
  }

  int readInt() {
    try {
      return buffer.getInt();
    } catch (BufferUnderflowException e) {
      throw truncated();
    }
  }

  long readLong() {
    try {
      return buffer.getLong();
    } catch (BufferUnderflowException e) {
      throw truncated();
    }
  }

  /** A count of elements that follow, each taking at least {@code minBytesEach} bytes. */
  int readCount(int max, int minBytesEach) {
    int count = readInt();
    if (count < 0 || count > max || (long) count * minBytesEach > buffer.remaining()) {
      throw new MalformedCommandException(
          "element count "
              + count
              + " out of range 0-"
              + max
              + " or beyond the "
              + buffer.remaining()
              + " remaining bytes");
    }
    return count;
  }

  byte[] readBytes() {
    int length = readCount(MAX_FIELD_BYTES, 1);
    byte[] value = new byte[length];
    buffer.get(value);
    return value;
  }

  String readString() {
    byte[] bytes = readBytes();
    if (bytes.length == 0) {
      return ""; // one instance for every empty field of every decoded spec
    }
    // Nearly every string of a command (names, schedules, zones, argv) is ASCII: decoded without
    // building a strict decoder, with the same result (ASCII is valid UTF-8 and decodes 1:1).
    boolean ascii = true;
    for (byte b : bytes) {
      if (b < 0) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      return new String(bytes, StandardCharsets.US_ASCII);
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new MalformedCommandException("string is not UTF-8", e);
    }
  }

  Instant readInstant() {
    long seconds = readLong();
    int nanos = readInt();
    try {
      return Instant.ofEpochSecond(seconds, nanos);
    } catch (DateTimeException e) {
      throw new MalformedCommandException("instant out of range", e);
    }
  }

  Instant readOptionalInstant() {
    return readBoolean() ? readInstant() : null;
  }

  Duration readDuration() {
    long seconds = readLong();
    int nanos = readInt();
    if (nanos < 0 || nanos > 999_999_999) {
      throw new MalformedCommandException("duration nanos " + nanos);
    }
    return Duration.ofSeconds(seconds, nanos);
  }

  Ballot readBallot() {
    long round = readLong();
    int replicaId = readInt();
    try {
      return new Ballot(round, replicaId);
    } catch (IllegalArgumentException e) {
      throw new MalformedCommandException("invalid ballot", e);
    }
  }

  Map<String, String> readStringMap(int max) {
    int count = readCount(max, 8);
    TreeMap<String, String> map = new TreeMap<>();
    for (int i = 0; i < count; i++) {
      map.put(readString(), readString());
    }
    return map;
  }

  <E extends Enum<E>> E readEnum(Class<E> type) {
    String name = readString();
    try {
      return Enum.valueOf(type, name);
    } catch (IllegalArgumentException e) {
      throw new MalformedCommandException("unknown " + type.getSimpleName() + " '" + name + "'", e);
    }
  }

  private static MalformedCommandException truncated() {
    return new MalformedCommandException("truncated");
  }
}
