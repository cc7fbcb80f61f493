package io.paxcron.agent.core;

import io.paxcron.paxos.BinaryReader;
import io.paxcron.paxos.BinaryWriter;
import io.paxcron.paxos.Frame;
import io.paxcron.paxos.RecordFormatException;
import io.paxcron.paxos.RecordKind;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The agent journal's on-disk format: a sequence of records, each a {@link
 * RecordKind#JOURNAL_RECORD} {@link Frame} (format 2: {@code [kind][version][length][CRC32C of the
 * body][type][record]}). Journals written before the common frame hold format-1 frames, {@code [u32
 * length][u8 version 1][u8 type][record][u32 CRC32C of version, type and record]}, which are still
 * read; the first byte tells them apart (a format-1 length is at most {@link #MAX_RECORD_BYTES}, so
 * its first byte is never the kind tag), and a journal may hold both, old records first.
 *
 * <p>Recovery reads frames until the end. A frame cut short by the end of the file, or the last
 * frame failing its checksum, is a torn tail: it was being written when the agent died, so it was
 * never synced and nothing was ever done on its strength; it is dropped and {@link
 * Recovered#validLength()} says where the driver truncates. Any other bad frame (bad checksum with
 * frames after it, unknown version or type, a body that does not parse) is corruption: recovery
 * refuses it naming the file, the frame's offset and the record kind, and the agent does not start.
 */
public final class JournalCodec {
  /** The format version written. */
  public static final int VERSION = RecordKind.JOURNAL_RECORD.version();

  /** The format of the frames journals held before the common frame; still read. */
  public static final int LEGACY_VERSION = 1;

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
    BinaryWriter out = new BinaryWriter(128);
    encodeTo(out, record);
    return out.toByteArray();
  }

  private static void encodeTo(BinaryWriter out, JournalRecord record) {
    int start = out.beginFrame(RecordKind.JOURNAL_RECORD);
    writeRecord(out, record);
    int length = out.size() - start - Frame.HEADER_BYTES;
    if (length > MAX_RECORD_BYTES) {
      throw new IllegalArgumentException(
          "journal record of " + length + " bytes exceeds MAX_RECORD_BYTES " + MAX_RECORD_BYTES);
    }
    out.endFrame(start);
  }

  /** Several framed records, concatenated. */
  public static byte[] encode(List<JournalRecord> records) {
    BinaryWriter out = new BinaryWriter(128 * Math.max(1, records.size()));
    for (JournalRecord record : records) {
      encodeTo(out, record);
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
    int offset = 0;
    while (offset < bytes.length) {
      boolean framed = Frame.startsAt(bytes, offset, RecordKind.JOURNAL_RECORD);
      int headerBytes = framed ? Frame.HEADER_BYTES : 4;
      if (bytes.length - offset < headerBytes) {
        return new Recovered(records, offset, true);
      }
      int length = framed ? readInt(bytes, offset + 2) : readInt(bytes, offset);
      // A format-1 frame's length covers version and type; its CRC trails it.
      long end = (long) offset + headerBytes + length + (framed ? 0 : 4);
      if (length < (framed ? 1 : 2) || length > MAX_RECORD_BYTES) {
        if (isLastPossibleFrame(bytes, offset, framed)) {
          return new Recovered(records, offset, true);
        }
        throw new CorruptJournalException(
            file,
            offset,
            kindAndVersion(bytes, offset, framed)
                + ": frame length "
                + length
                + " is outside "
                + (framed ? 1 : 2)
                + ".."
                + MAX_RECORD_BYTES);
      }
      if (framed) {
        int version = bytes[offset + 1] & 0xff;
        if (version < RecordKind.JOURNAL_RECORD.firstFramedVersion()
            || version > RecordKind.JOURNAL_RECORD.version()) {
          throw new CorruptJournalException(
              file,
              offset,
              "agent journal record: format version "
                  + version
                  + " is not one this build reads (versions "
                  + LEGACY_VERSION
                  + ".."
                  + VERSION
                  + "; was it written by a newer Paxcron?)");
        }
      }
      if (end > bytes.length) {
        return new Recovered(records, offset, true);
      }
      CRC32C crc = new CRC32C();
      int checkedFrom = offset + headerBytes;
      crc.update(bytes, checkedFrom, length);
      int expected = framed ? readInt(bytes, offset + 6) : readInt(bytes, checkedFrom + length);
      if ((int) crc.getValue() != expected) {
        if (end == bytes.length) {
          return new Recovered(records, offset, true);
        }
        throw new CorruptJournalException(
            file,
            offset,
            kindAndVersion(bytes, offset, framed)
                + ": checksum mismatch in a frame of "
                + length
                + " bytes that is followed by more frames");
      }
      try {
        BinaryReader in = new BinaryReader(bytes, checkedFrom, length);
        if (!framed) {
          int version = in.readByte();
          if (version != LEGACY_VERSION) {
            throw new CorruptJournalException(
                file,
                offset,
                "agent journal record: unframed format version "
                    + version
                    + " is not one this build reads (versions "
                    + LEGACY_VERSION
                    + ".."
                    + VERSION
                    + ", from "
                    + VERSION
                    + " on in a frame)");
          }
        }
        records.add(readRecord(in, file, offset));
        if (in.remaining() != 0) {
          throw new CorruptJournalException(
              file, offset, in.remaining() + " unread bytes after the record");
        }
      } catch (RecordFormatException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("truncated")) {
          throw new CorruptJournalException(file, offset, "record body ends early");
        }
        throw new CorruptJournalException(file, offset, "record does not parse: " + e.getMessage());
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new CorruptJournalException(file, offset, "record does not parse: " + e.getMessage());
      }
      offset = (int) end;
    }
    return new Recovered(records, offset, false);
  }

  private static String kindAndVersion(byte[] bytes, int offset, boolean framed) {
    return "agent journal record, format version "
        + (framed ? bytes[offset + 1] & 0xff : LEGACY_VERSION);
  }

  private static int readInt(byte[] bytes, int offset) {
    return ((bytes[offset] & 0xff) << 24)
        | ((bytes[offset + 1] & 0xff) << 16)
        | ((bytes[offset + 2] & 0xff) << 8)
        | (bytes[offset + 3] & 0xff);
  }

  /** A length field that cannot be right is a torn tail only when nothing valid could follow it. */
  private static boolean isLastPossibleFrame(byte[] bytes, int offset, boolean framed) {
    for (int i = offset + (framed ? 2 : 0); i < bytes.length; i++) {
      if (bytes[i] != 0) {
        return bytes.length - offset < (framed ? 16 : 12);
      }
    }
    return true;
  }

  private static void writeRecord(BinaryWriter out, JournalRecord record) {
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
        out.writeModifiedUtf(finished.reason());
        writeInstant(out, finished.endedAt());
        writeBytes(out, finished.outputTail(), AgentFence.MAX_OUTPUT_TAIL_BYTES, "outputTail");
      }
      case JournalRecord.NeverStarted never -> {
        out.writeByte(NEVER_STARTED);
        writeKey(out, never.key());
        out.writeModifiedUtf(never.reason());
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
          out.writeModifiedUtf(launch.reason());
          writeInstant(out, launch.startedAt());
          writeInstant(out, launch.endedAt());
          writeBytes(out, launch.outputTail(), AgentFence.MAX_OUTPUT_TAIL_BYTES, "outputTail");
          out.writeBoolean(launch.starting());
          out.writeBoolean(launch.finishAcknowledged());
        }
      }
    }
  }

  private static JournalRecord readRecord(BinaryReader in, String file, int offset)
      throws CorruptJournalException {
    int type = in.readByte();
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
              in.readModifiedUtf(),
              readInstant(in),
              readBytes(in, AgentFence.MAX_OUTPUT_TAIL_BYTES, "outputTail"));
      case NEVER_STARTED ->
          new JournalRecord.NeverStarted(readKey(in), in.readModifiedUtf(), readInstant(in));
      case FINISH_ACKNOWLEDGED -> new JournalRecord.FinishAcknowledged(readKey(in));
      case SNAPSHOT -> {
        FenceBallot fence = readBallot(in);
        int count = in.readInt();
        if (count < 0 || count > in.remaining()) {
          throw new CorruptJournalException(file, offset, "snapshot launch count " + count);
        }
        List<JournalRecord.LaunchImage> launches = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          LaunchKey key = readKey(in);
          FenceBallot ballot = readBallot(in);
          Instant startAt = readInstant(in);
          byte[] payload = readBytes(in, MAX_PAYLOAD_BYTES, "payload");
          int phase = in.readByte();
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
                  in.readModifiedUtf(),
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

  private static void writeBallot(BinaryWriter out, FenceBallot ballot) {
    out.writeLong(ballot.generation());
    out.writeLong(ballot.round());
    out.writeInt(ballot.replicaId());
  }

  private static FenceBallot readBallot(BinaryReader in) {
    return new FenceBallot(in.readLong(), in.readLong(), in.readInt());
  }

  private static void writeKey(BinaryWriter out, LaunchKey key) {
    out.writeModifiedUtf(key.runId().job().value());
    writeInstant(out, key.runId().instant());
    out.writeBoolean(key.runId().manual());
    out.writeInt(key.attempt());
  }

  private static LaunchKey readKey(BinaryReader in) {
    JobName job = new JobName(in.readModifiedUtf());
    Instant instant = readInstant(in);
    if (instant == null) {
      throw new IllegalArgumentException("a run's instant is missing");
    }
    return new LaunchKey(new RunId(job, instant, in.readBoolean()), in.readInt());
  }

  private static void writeInstant(BinaryWriter out, Instant instant) {
    out.writeBoolean(instant != null);
    if (instant != null) {
      out.writeLong(instant.getEpochSecond());
      out.writeInt(instant.getNano());
    }
  }

  private static Instant readInstant(BinaryReader in) {
    return in.readBoolean() ? Instant.ofEpochSecond(in.readLong(), in.readInt()) : null;
  }

  private static void writeOutcome(BinaryWriter out, Outcome outcome) {
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

  private static Outcome readOutcome(BinaryReader in) {
    int tag = in.readByte();
    return switch (tag) {
      case 0 -> null;
      case 1 -> Outcome.SUCCEEDED;
      case 2 -> Outcome.failed(in.readInt());
      case 3 -> Outcome.TIMED_OUT;
      default -> throw new IllegalArgumentException("unknown outcome tag " + tag);
    };
  }

  private static void writeBytes(BinaryWriter out, byte[] bytes, int max, String field) {
    if (bytes.length > max) {
      throw new IllegalArgumentException(field + " of " + bytes.length + " bytes exceeds " + max);
    }
    out.writeInt(bytes.length);
    out.writeRaw(bytes);
  }

  private static byte[] readBytes(BinaryReader in, int max, String field) {
    int length = in.readInt();
    if (length < 0 || length > max) {
      throw new IllegalArgumentException(field + " length " + length + " is outside 0.." + max);
    }
    if (in.remaining() < length) {
      throw new RecordFormatException(field + " of " + length + " bytes runs past the record");
    }
    return in.readRaw(length);
  }
}
