package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/** Big-endian writer of the scheduler's binary formats. Writing to memory cannot fail. */
final class BinaryWriter {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final DataOutputStream out = new DataOutputStream(bytes);

  byte[] toByteArray() {
    return bytes.toByteArray();
  }

  BinaryWriter writeByte(int value) {
    try {
      out.writeByte(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  BinaryWriter writeBoolean(boolean value) {
    return writeByte(value ? 1 : 0);
  }

  BinaryWriter writeInt(int value) {
    try {
      out.writeInt(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  BinaryWriter writeLong(long value) {
    try {
      out.writeLong(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  BinaryWriter writeBytes(byte[] value) {
    writeInt(value.length);
    try {
      out.write(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  BinaryWriter writeString(String value) {
    return writeBytes(value.getBytes(StandardCharsets.UTF_8));
  }

  BinaryWriter writeInstant(Instant value) {
    return writeLong(value.getEpochSecond()).writeInt(value.getNano());
  }

  BinaryWriter writeOptionalInstant(Instant value) {
    writeBoolean(value != null);
    return value == null ? this : writeInstant(value);
  }

  BinaryWriter writeDuration(Duration value) {
    return writeLong(value.getSeconds()).writeInt(value.getNano());
  }

  BinaryWriter writeBallot(Ballot value) {
    return writeLong(value.round()).writeInt(value.replicaId());
  }

  BinaryWriter writeStringMap(Map<String, String> map) {
    writeInt(map.size());
    for (Map.Entry<String, String> entry : map.entrySet()) {
      writeString(entry.getKey());
      writeString(entry.getValue());
    }
    return this;
  }
}
