package io.paxcron.agent.core;

import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The agent journal's on-disk format: a sequence of frames, each {@code [u32 length][u8 version][u8
 * type][body][u32 CRC32C of version, type and body]}, big-endian.
 *
 * <p>Recovery reads frames until the end. A frame cut short by the end of the file, or the last
 * frame failing its checksum, is a torn tail: it was being written when the agent died, so it was
 * never synced and nothing was ever done on its strength; it is dropped and {@link
 * Recovered#validLength()} says where the driver truncates. Any other bad frame (bad checksum with
 * frames after it, unknown version or type, a body that does not parse) is corruption: recovery
 * refuses it naming the file and the frame's offset, and the agent does not start.
 */
public final class JournalCodec {
  /** The only format version written. */
  public static final int VERSION = 1;

  /** Largest frame content accepted: a bound on one record (a snapshot of a full table fits). */
  public static final int MAX_RECORD_BYTES = 64 << 20;

  /** Largest launch payload (encoded spec) the core accepts. */
  public static final int MAX_PAYLOAD_BYTES = 1 << 20;

  private static final int FENCE_RAISED = 1;
  private static final int ACCEPTED = 2;
  private static final int STARTED = 3;
  private static final int FINISHED = 4;
  private static final int NEVER_STARTED = 5;
  private static final int FINISH_ACKNOWLEDGED = 6;
  private static final int SNAPSHOT = 7;
  private static final int STARTING = 8;

  private JournalCodec() {}

  /** What recovery found: the records, and the length of the file's valid prefix. */
  public record Recovered(List<JournalRecord> records, long validLength, boolean tornTail) {
    public Recovered {
      records = List.copyOf(records);
    }
  }

  /** One framed record, ready to append. */
  public static byte[] encode(JournalRecord record) {
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(content)) {
      out.writeByte(VERSION);
      writeRecord(out, record);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] body = content.toByteArray();
    if (body.length > MAX_RECORD_BYTES) {
      throw new IllegalArgumentException(
          "journal record of "
              + body.length
              + " bytes exceeds MAX_RECORD_BYTES "
              + MAX_RECORD_BYTES);
    }
    CRC32C crc = new CRC32C();
    crc.update(body);
    return ByteBuffer.allocate(body.length + 8)
        .putInt(body.length)
        .put(body)
        .putInt((int) crc.getValue())
        .array();
  }

  /** Several framed records, concatenated. */
  public static byte[] encode(List<JournalRecord> records) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (JournalRecord record : records) {
      out.writeBytes(encode(record));
    }
    return out.toByteArray();
  }

  /**
   * Reads a whole journal.
   *
   * @param bytes the file's contents
   * @param file the file's name, for errors
   * @throws CorruptJournalException naming the file and the offset of the bad frame
   */
  public static Recovered decode(byte[] bytes, String file) throws CorruptJournalException {
    List<JournalRecord> records = new ArrayList<>();
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    int offset = 0;
    while (offset < bytes.length) {
      if (bytes.length - offset < 4) {
        return new Recovered(records, offset, true);
      }
      int length = buffer.getInt(offset);
      long end = (long) offset + 4 + length + 4;
      if (length < 2 || length > MAX_RECORD_BYTES) {
        if (isLastPossibleFrame(bytes, offset)) {
          return new Recovered(records, offset, true);
        }
        throw new CorruptJournalException(
            file, offset, "frame length " + length + " is outside 2.." + MAX_RECORD_BYTES);
      }
      if (end > bytes.length) {
        return new Recovered(records, offset, true);
      }
      CRC32C crc = new CRC32C();
      crc.update(bytes, offset + 4, length);
      int expected = buffer.getInt(offset + 4 + length);
      if ((int) crc.getValue() != expected) {
        if (end == bytes.length) {
          return new Recovered(records, offset, true);
        }
        throw new CorruptJournalException(
            file,
            offset,
            "checksum mismatch in a frame of " + length + " bytes that is followed by more frames");
      }
      try (DataInputStream in =
          new DataInputStream(new ByteArrayInputStream(bytes, offset + 4, length))) {
        int version = in.readUnsignedByte();
        if (version != VERSION) {
          throw new CorruptJournalException(
              file, offset, "unknown record format version " + version);
        }
        records.add(readRecord(in, file, offset));
        if (in.available() != 0) {
          throw new CorruptJournalException(
              file, offset, in.available() + " unread bytes after the record");
        }
      } catch (EOFException e) {
        throw new CorruptJournalException(file, offset, "record body ends early");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new CorruptJournalException(file, offset, "record does not parse: " + e.getMessage());
      }
      offset = (int) end;
    }
    return new Recovered(records, offset, false);
  }

  /** A length field that cannot be right is a torn tail only when nothing valid could follow it. */
  private static boolean isLastPossibleFrame(byte[] bytes, int offset) {
    for (int i = offset; i < bytes.length; i++) {
      if (bytes[i] != 0) {
        return bytes.length - offset < 12;
      }
    }
    return true;
  }

  private static void writeRecord(DataOutputStream out, JournalRecord record) throws IOException {
    switch (record) {
      case JournalRecord.FenceRaised raised -> {
        out.writeByte(FENCE_RAISED);
        writeBallot(out, raised.ballot());
      }
      case JournalRecord.Accepted accepted -> {
        out.writeByte(ACCEPTED);
        writeKey(out, accepted.key());
        writeBallot(out, accepted.ballot());
        writeInstant(out, accepted.startAt());
        writeBytes(out, accepted.payload(), MAX_PAYLOAD_BYTES, "payload");
      }
      case JournalRecord.Starting starting -> {
        out.writeByte(STARTING);
        writeKey(out, starting.key());
        writeInstant(out, starting.at());
      }
      case JournalRecord.Started started -> {
        out.writeByte(STARTED);
        writeKey(out, started.key());
        writeInstant(out, started.startedAt());
      }
      case JournalRecord.Finished finished -> {
        out.writeByte(FINISHED);
        writeKey(out, finished.key());
        writeOutcome(out, finished.outcome());
        out.writeUTF(finished.reason());
        writeInstant(out, finished.endedAt());
        writeBytes(out, finished.outputTail(), AgentFence.MAX_OUTPUT_TAIL_BYTES, "outputTail");
      }
      case JournalRecord.NeverStarted never -> {
        out.writeByte(NEVER_STARTED);
        writeKey(out, never.key());
        out.writeUTF(never.reason());
        writeInstant(out, never.at());
      }
      case JournalRecord.FinishAcknowledged acknowledged -> {
        out.writeByte(FINISH_ACKNOWLEDGED);
        writeKey(out, acknowledged.key());
      }
      case JournalRecord.Snapshot snapshot -> {
        out.writeByte(SNAPSHOT);
        writeBallot(out, snapshot.fence());
        out.writeInt(snapshot.launches().size());
        for (JournalRecord.LaunchImage launch : snapshot.launches()) {
          writeKey(out, launch.key());
          writeBallot(out, launch.ballot());
          writeInstant(out, launch.startAt());
          writeBytes(out, launch.payload(), MAX_PAYLOAD_BYTES, "payload");
          out.writeByte(launch.phase().ordinal());
          writeOutcome(out, launch.outcome());
          out.writeUTF(launch.reason());
          writeInstant(out, launch.startedAt());
          writeInstant(out, launch.endedAt());
          writeBytes(out, launch.outputTail(), AgentFence.MAX_OUTPUT_TAIL_BYTES, "outputTail");
          out.writeBoolean(launch.starting());
          out.writeBoolean(launch.finishAcknowledged());
        }
      }
    }
  }

  private static JournalRecord readRecord(DataInputStream in, String file, int offset)
      throws IOException, CorruptJournalException {
    int type = in.readUnsignedByte();
    return switch (type) {
      case FENCE_RAISED -> new JournalRecord.FenceRaised(readBallot(in));
      case ACCEPTED ->
          new JournalRecord.Accepted(
              readKey(in),
              readBallot(in),
              readInstant(in),
              readBytes(in, MAX_PAYLOAD_BYTES, "payload"));
      case STARTING -> new JournalRecord.Starting(readKey(in), readInstant(in));
      case STARTED -> new JournalRecord.Started(readKey(in), readInstant(in));
      case FINISHED ->
          new JournalRecord.Finished(
              readKey(in),
              readOutcome(in),
              in.readUTF(),
              readInstant(in),
              readBytes(in, AgentFence.MAX_OUTPUT_TAIL_BYTES, "outputTail"));
      case NEVER_STARTED ->
          new JournalRecord.NeverStarted(readKey(in), in.readUTF(), readInstant(in));
      case FINISH_ACKNOWLEDGED -> new JournalRecord.FinishAcknowledged(readKey(in));
      case SNAPSHOT -> {
        FenceBallot fence = readBallot(in);
        int count = in.readInt();
        if (count < 0 || count > in.available()) {
          throw new CorruptJournalException(file, offset, "snapshot launch count " + count);
        }
        List<JournalRecord.LaunchImage> launches = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          LaunchKey key = readKey(in);
          FenceBallot ballot = readBallot(in);
          Instant startAt = readInstant(in);
          byte[] payload = readBytes(in, MAX_PAYLOAD_BYTES, "payload");
          int phase = in.readUnsignedByte();
          if (phase >= RunPhase.values().length) {
            throw new CorruptJournalException(file, offset, "unknown run phase " + phase);
          }
          launches.add(
              new JournalRecord.LaunchImage(
                  key,
                  ballot,
                  startAt,
                  payload,
                  RunPhase.values()[phase],
                  readOutcome(in),
                  in.readUTF(),
                  readInstant(in),
                  readInstant(in),
                  readBytes(in, AgentFence.MAX_OUTPUT_TAIL_BYTES, "outputTail"),
                  in.readBoolean(),
                  in.readBoolean()));
        }
        yield new JournalRecord.Snapshot(fence, launches);
      }
      default -> throw new CorruptJournalException(file, offset, "unknown record type " + type);
    };
  }

  private static void writeBallot(DataOutputStream out, FenceBallot ballot) throws IOException {
    out.writeLong(ballot.generation());
    out.writeLong(ballot.round());
    out.writeInt(ballot.replicaId());
  }

  private static FenceBallot readBallot(DataInputStream in) throws IOException {
    return new FenceBallot(in.readLong(), in.readLong(), in.readInt());
  }

  private static void writeKey(DataOutputStream out, LaunchKey key) throws IOException {
    out.writeUTF(key.runId().job());
    writeInstant(out, key.runId().instant());
    out.writeBoolean(key.runId().manual());
    out.writeInt(key.attempt());
  }

  private static LaunchKey readKey(DataInputStream in) throws IOException {
    String job = in.readUTF();
    Instant instant = readInstant(in);
    if (instant == null) {
      throw new IllegalArgumentException("a run's instant is missing");
    }
    return new LaunchKey(new RunId(job, instant, in.readBoolean()), in.readInt());
  }

  private static void writeInstant(DataOutputStream out, Instant instant) throws IOException {
    out.writeBoolean(instant != null);
    if (instant != null) {
      out.writeLong(instant.getEpochSecond());
      out.writeInt(instant.getNano());
    }
  }

  private static Instant readInstant(DataInputStream in) throws IOException {
    return in.readBoolean() ? Instant.ofEpochSecond(in.readLong(), in.readInt()) : null;
  }

  private static void writeOutcome(DataOutputStream out, Outcome outcome) throws IOException {
    switch (outcome) {
      case null -> out.writeByte(0);
      case Outcome.Succeeded succeeded -> out.writeByte(1);
      case Outcome.Failed failed -> {
        out.writeByte(2);
        out.writeInt(failed.exitCode());
      }
      case Outcome.TimedOut timedOut -> out.writeByte(3);
      default -> throw new IllegalArgumentException("an agent never records outcome " + outcome);
    }
  }

  private static Outcome readOutcome(DataInputStream in) throws IOException {
    int tag = in.readUnsignedByte();
    return switch (tag) {
      case 0 -> null;
      case 1 -> Outcome.SUCCEEDED;
      case 2 -> Outcome.failed(in.readInt());
      case 3 -> Outcome.TIMED_OUT;
      default -> throw new IllegalArgumentException("unknown outcome tag " + tag);
    };
  }

  private static void writeBytes(DataOutputStream out, byte[] bytes, int max, String field)
      throws IOException {
    if (bytes.length > max) {
      throw new IllegalArgumentException(field + " of " + bytes.length + " bytes exceeds " + max);
    }
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static byte[] readBytes(DataInputStream in, int max, String field) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > max) {
      throw new IllegalArgumentException(field + " length " + length + " is outside 0.." + max);
    }
    if (in.available() < length) {
      throw new EOFException(field + " of " + length + " bytes runs past the record");
    }
    return in.readNBytes(length);
  }
}
