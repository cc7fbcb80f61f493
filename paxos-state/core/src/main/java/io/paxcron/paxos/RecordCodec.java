package io.paxcron.paxos;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The byte format of everything a replica persists, shared by every storage engine: log entries,
 * {@link Persist}s, values and memberships, each as a payload, and the {@link Frame} around a
 * stored record ({@link RecordKind#STORE_RECORD} for the log store's values, {@link
 * RecordKind#PERSIST} for the simulated disk's records).
 *
 * <p>Record format versions: 2 is the common {@link Frame} (written); 1 is this class's first frame
 * {@code [1][payload length: 4][CRC32C of payload: 4][payload]}, which data dirs written before the
 * common frame hold and which is still read (its first byte, 1, is no frame's kind tag). The
 * payloads are the same in both versions. Decoding errors are {@link CorruptRecordException}s
 * naming the record kind and what is wrong.
 */
public final class RecordCodec {

  /** The first byte of a version-1 record frame. */
  public static final byte LEGACY_FRAME_VERSION = 1;

  public static final int LEGACY_FRAME_HEADER_BYTES = 9;

  public static final int MAX_RECORD_BYTES = 256 << 20;

  private static final byte NO_OP = 0;
  private static final byte BATCH = 1;
  private static final byte RECONFIGURE = 2;

  private RecordCodec() {}

  /** A record that failed its checksum, its framing or its format version. */
  public static final class CorruptRecordException extends Exception {
    private static final long serialVersionUID = 1L;

    public CorruptRecordException(String message) {
      super(message);
    }
  }

  /** {@code payload} in a frame of {@code kind} at its current version. */
  public static byte[] frame(RecordKind kind, byte[] payload) {
    return frame(kind, payload, 0, payload.length);
  }

  /** {@code payload[offset, offset + length)} in a frame of {@code kind}: one copy, no other. */
  public static byte[] frame(RecordKind kind, byte[] payload, int offset, int length) {
    checkSize(length);
    BinaryWriter out = new BinaryWriter(Frame.HEADER_BYTES + length);
    int start = out.beginFrame(kind);
    out.writeRaw(payload, offset, length);
    return out.endFrame(start).toByteArray();
  }

  /**
   * The payload of a record of {@code kind}: a {@link Frame} of the kind, or a version-1 frame.
   *
   * @throws CorruptRecordException naming the kind, if the record is torn, fails its checksum, or
   *     is of another kind or of a version this build does not read
   */
  public static byte[] unframe(RecordKind kind, byte[] framed) throws CorruptRecordException {
    if (framed.length > 0 && framed[0] == LEGACY_FRAME_VERSION) {
      int offset = legacyPayloadOffset(kind, framed);
      return java.util.Arrays.copyOfRange(framed, offset, framed.length);
    }
    try {
      Frame frame = Frame.readWhole(framed, kind);
      return java.util.Arrays.copyOfRange(framed, frame.bodyOffset(), frame.end());
    } catch (RecordFormatException e) {
      throw new CorruptRecordException(e.getMessage());
    }
  }

  /** Checks a version-1 frame and returns where its payload starts. */
  private static int legacyPayloadOffset(RecordKind kind, byte[] framed)
      throws CorruptRecordException {
    String name = kind.description() + " record, format version 1";
    if (framed.length < LEGACY_FRAME_HEADER_BYTES) {
      throw new CorruptRecordException(
          name
              + ": "
              + framed.length
              + " bytes is shorter than its "
              + LEGACY_FRAME_HEADER_BYTES
              + "-byte header (torn write)");
    }
    int length = Frame.readInt(framed, 1);
    if (length != framed.length - LEGACY_FRAME_HEADER_BYTES) {
      throw new CorruptRecordException(
          name
              + ": declares "
              + length
              + " payload bytes but holds "
              + (framed.length - LEGACY_FRAME_HEADER_BYTES)
              + " (torn write)");
    }
    if (Frame.crc32c(framed, LEGACY_FRAME_HEADER_BYTES, length) != Frame.readInt(framed, 5)) {
      throw new CorruptRecordException(name + ": checksum mismatch");
    }
    return LEGACY_FRAME_HEADER_BYTES;
  }

  /**
   * A log entry framed as the log store keeps it, written into one array of the exact size: no copy
   * on the log's write path.
   */
  public static byte[] encodeEntryRecord(LogEntry entry) {
    int size = entrySize(entry);
    BinaryWriter out = new BinaryWriter(Frame.HEADER_BYTES + Math.max(0, size));
    int start = out.beginFrame(RecordKind.STORE_RECORD);
    writeEntry(out, entry);
    return out.endFrame(start).toByteArray();
  }

  /** The log entry in a record {@link #encodeEntryRecord} wrote, or a version-1 one. */
  public static LogEntry decodeEntryRecord(byte[] framed) throws CorruptRecordException {
    return decodeEntry(
        RecordKind.STORE_RECORD, framed, bodyReader(RecordKind.STORE_RECORD, framed), "log entry");
  }

  private static LogEntry decodeEntry(RecordKind kind, byte[] framed, BinaryReader in, String what)
      throws CorruptRecordException {
    try {
      LogEntry entry = readEntry(in);
      in.expectEnd(what);
      return entry;
    } catch (IllegalArgumentException e) {
      throw new CorruptRecordException(
          kind.description()
              + " record, format version "
              + versionOf(framed)
              + ": "
              + what
              + " is malformed: "
              + e.getMessage());
    }
  }

  /** A {@link Persist} framed as the simulated disk appends it. */
  public static byte[] encodePersistRecord(Persist persist) {
    BinaryWriter out = new BinaryWriter();
    int start = out.beginFrame(RecordKind.PERSIST);
    writePersist(out, persist);
    return out.endFrame(start).toByteArray();
  }

  /** The {@link Persist} in a record {@link #encodePersistRecord} wrote, or a version-1 one. */
  public static Persist decodePersistRecord(byte[] framed) throws CorruptRecordException {
    BinaryReader in = bodyReader(RecordKind.PERSIST, framed);
    try {
      return readPersist(in);
    } catch (IllegalArgumentException e) {
      throw new CorruptRecordException(
          "persist record, format version " + versionOf(framed) + ": " + e.getMessage());
    }
  }

  /** A reader of the payload of {@code framed} (either version), checked, without a copy. */
  private static BinaryReader bodyReader(RecordKind kind, byte[] framed)
      throws CorruptRecordException {
    if (framed.length > 0 && framed[0] == LEGACY_FRAME_VERSION) {
      int offset = legacyPayloadOffset(kind, framed);
      return new BinaryReader(framed, offset, framed.length - offset);
    }
    try {
      return Frame.readWhole(framed, kind).body();
    } catch (RecordFormatException e) {
      throw new CorruptRecordException(e.getMessage());
    }
  }

  private static int versionOf(byte[] framed) {
    return framed[0] == LEGACY_FRAME_VERSION ? 1 : framed[1] & 0xff;
  }

  public static byte[] encode(Persist persist) {
    BinaryWriter out = new BinaryWriter();
    writePersist(out, persist);
    return out.toByteArray();
  }

  private static void writePersist(BinaryWriter out, Persist persist) {
    out.writeBoolean(persist.promised() != null);
    if (persist.promised() != null) {
      out.writeBallot(persist.promised());
    }
    out.writeBoolean(persist.snapshot() != null);
    if (persist.snapshot() != null) {
      out.writeLong(persist.snapshot().slot());
      checkSize(persist.snapshot().sizeBytes());
      out.writeBytes(persist.snapshot().data());
    }
    out.writeInt(persist.entries().size());
    for (LogEntry entry : persist.entries()) {
      writeEntry(out, entry);
    }
    // The snapshot's membership trails the record, so that records written before membership
    // changes existed (which end here) still decode: their snapshots carry none.
    if (persist.snapshot() != null && persist.snapshot().membership() != null) {
      writeMembership(out, persist.snapshot().membership());
    }
  }

  public static Persist decodePersist(byte[] payload) throws CorruptRecordException {
    try {
      return readPersist(new BinaryReader(payload));
    } catch (IllegalArgumentException e) {
      throw new CorruptRecordException("persist record is malformed: " + e.getMessage());
    }
  }

  private static Persist readPersist(BinaryReader in) {
    Ballot promised = in.readBoolean() ? in.readBallot() : null;
    Snapshot snapshot = null;
    if (in.readBoolean()) {
      long slot = in.readLong();
      snapshot = new Snapshot(slot, in.readRaw(in.readCount(MAX_RECORD_BYTES, 1)));
    }
    int count = in.readCount(MAX_RECORD_BYTES, 22);
    List<LogEntry> entries = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      entries.add(readEntry(in));
    }
    if (snapshot != null && !in.atEnd()) {
      snapshot = snapshot.withMembership(readMembership(in));
    }
    in.expectEnd("persist record");
    return new Persist(promised, entries, snapshot);
  }

  public static byte[] encodeEntry(LogEntry entry) {
    BinaryWriter out = new BinaryWriter(Math.max(0, entrySize(entry)));
    writeEntry(out, entry);
    return out.toByteArray();
  }

  public static LogEntry decodeEntry(byte[] payload) throws CorruptRecordException {
    try {
      return readEntry(new BinaryReader(payload));
    } catch (IllegalArgumentException e) {
      throw new CorruptRecordException("log entry is malformed: " + e.getMessage());
    }
  }

  public static byte[] encodeValue(Value value) {
    BinaryWriter out = new BinaryWriter();
    writeValue(out, value);
    return out.toByteArray();
  }

  public static Value decodeValue(byte[] payload) throws CorruptRecordException {
    try {
      BinaryReader in = new BinaryReader(payload);
      Value value = readValue(in);
      in.expectEnd("value");
      return value;
    } catch (IllegalArgumentException e) {
      throw new CorruptRecordException("value is malformed: " + e.getMessage());
    }
  }

  /** The byte form of a membership, for storage engines and transports that carry snapshots. */
  public static byte[] encodeMembership(Membership membership) {
    BinaryWriter out = new BinaryWriter();
    writeMembership(out, membership);
    return out.toByteArray();
  }

  public static Membership decodeMembership(byte[] payload) throws CorruptRecordException {
    try {
      BinaryReader in = new BinaryReader(payload);
      Membership membership = readMembership(in);
      in.expectEnd("membership record");
      return membership;
    } catch (IllegalArgumentException e) {
      throw new CorruptRecordException("membership record is malformed: " + e.getMessage());
    }
  }

  /**
   * The exact encoded size of {@code entry}, or -1 when it is not worth computing (a
   * reconfiguration, rare and small).
   */
  private static int entrySize(LogEntry entry) {
    int fixed = Long.BYTES + Long.BYTES + Integer.BYTES + 1;
    return switch (entry.value()) {
      case Value.NoOp noOp -> fixed + 1;
      case Value.Batch batch -> {
        long size = fixed + 1 + Integer.BYTES;
        for (Command command : batch.commands()) {
          size += 2 * Long.BYTES + Integer.BYTES + command.payload().length;
        }
        yield size > Integer.MAX_VALUE - 64 ? -1 : (int) size;
      }
      case Value.Reconfigure reconfigure -> -1;
    };
  }

  private static void writeMembership(BinaryWriter out, Membership membership) {
    out.writeInt(membership.epochs().size());
    for (Membership.Epoch epoch : membership.epochs()) {
      out.writeLong(epoch.decidedInSlot());
      out.writeLong(epoch.fromSlot());
      writeConfiguration(out, epoch.configuration());
    }
  }

  private static Membership readMembership(BinaryReader in) {
    int count = in.readInt();
    if (count < 1 || count > 64) {
      throw new RecordFormatException("implausible number of membership epochs: " + count);
    }
    List<Membership.Epoch> epochs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      long decidedInSlot = in.readLong();
      long fromSlot = in.readLong();
      epochs.add(new Membership.Epoch(decidedInSlot, fromSlot, readConfiguration(in)));
    }
    return new Membership(epochs);
  }

  private static void writeConfiguration(BinaryWriter out, Configuration configuration) {
    writeMembers(out, configuration.voters());
    writeMembers(out, configuration.learners());
  }

  private static Configuration readConfiguration(BinaryReader in) {
    TreeMap<ReplicaId, String> voters = readMembers(in);
    return new Configuration(voters, readMembers(in));
  }

  private static void writeMembers(BinaryWriter out, SortedMap<ReplicaId, String> members) {
    out.writeInt(members.size());
    for (java.util.Map.Entry<ReplicaId, String> member : members.entrySet()) {
      out.writeInt(member.getKey().value());
      out.writeModifiedUtf(member.getValue());
    }
  }

  private static TreeMap<ReplicaId, String> readMembers(BinaryReader in) {
    int count = in.readInt();
    if (count < 0 || count > 2 * PaxosConfig.MAX_REPLICAS) {
      throw new RecordFormatException("implausible number of members: " + count);
    }
    TreeMap<ReplicaId, String> members = new TreeMap<>();
    for (int i = 0; i < count; i++) {
      int id = in.readInt();
      if (id < 0) {
        throw new RecordFormatException("a configuration names replica id " + id + ", below 0");
      }
      members.put(ReplicaId.of(id), in.readModifiedUtf());
    }
    return members;
  }

  private static void writeEntry(BinaryWriter out, LogEntry entry) {
    out.writeLong(entry.slot());
    out.writeBallot(entry.ballot());
    out.writeBoolean(entry.chosen());
    writeValue(out, entry.value());
  }

  private static LogEntry readEntry(BinaryReader in) {
    long slot = in.readLong();
    Ballot ballot = in.readBallot();
    boolean chosen = in.readBoolean();
    return new LogEntry(slot, ballot, readValue(in), chosen);
  }

  private static void writeValue(BinaryWriter out, Value value) {
    switch (value) {
      case Value.NoOp noOp -> out.writeByte(NO_OP);
      case Value.Batch batch -> {
        out.writeByte(BATCH);
        out.writeInt(batch.commands().size());
        for (Command command : batch.commands()) {
          out.writeLong(command.clientId());
          out.writeLong(command.sequence());
          out.writeBytes(command.payload());
        }
      }
      case Value.Reconfigure reconfigure -> {
        out.writeByte(RECONFIGURE);
        writeConfiguration(out, reconfigure.next());
      }
    }
  }

  private static Value readValue(BinaryReader in) {
    int kind = in.readByte();
    return switch (kind) {
      case NO_OP -> Value.NO_OP;
      case BATCH -> {
        int count = in.readCount(MAX_RECORD_BYTES, 20);
        List<Command> commands = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          long clientId = in.readLong();
          long sequence = in.readLong();
          commands.add(
              new Command(clientId, sequence, in.readRaw(in.readCount(MAX_RECORD_BYTES, 1))));
        }
        yield new Value.Batch(commands);
      }
      case RECONFIGURE -> new Value.Reconfigure(readConfiguration(in));
      default -> throw new RecordFormatException("unknown value kind " + kind);
    };
  }

  private static void checkSize(int length) {
    if (length > MAX_RECORD_BYTES) {
      throw new IllegalArgumentException(
          "record of " + length + " bytes exceeds MAX_RECORD_BYTES=" + MAX_RECORD_BYTES);
    }
  }
}
