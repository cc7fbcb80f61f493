package io.paxcron.paxos;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The byte format of everything a replica persists, shared by every storage engine. A record is
 * framed as {@code [format version: 1 byte][length: 4][CRC32C of payload: 4][payload]} so that a
 * torn or corrupted record is detected, never misread. Decoding errors are {@link
 * CorruptRecordException}s naming what is wrong.
 */
public final class RecordCodec {

  public static final byte FORMAT_VERSION = 1;
  public static final int FRAME_HEADER_BYTES = 9;
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

  public static byte[] frame(byte[] payload) {
    if (payload.length > MAX_RECORD_BYTES) {
      throw new IllegalArgumentException(
          "record of " + payload.length + " bytes exceeds MAX_RECORD_BYTES=" + MAX_RECORD_BYTES);
    }
    CRC32C crc = new CRC32C();
    crc.update(payload);
    byte[] framed = new byte[FRAME_HEADER_BYTES + payload.length];
    framed[0] = FORMAT_VERSION;
    writeInt(framed, 1, payload.length);
    writeInt(framed, 5, (int) crc.getValue());
    System.arraycopy(payload, 0, framed, FRAME_HEADER_BYTES, payload.length);
    return framed;
  }

  public static byte[] unframe(byte[] framed) throws CorruptRecordException {
    if (framed.length < FRAME_HEADER_BYTES) {
      throw new CorruptRecordException(
          "record of "
              + framed.length
              + " bytes is shorter than its "
              + FRAME_HEADER_BYTES
              + "-byte header (torn write)");
    }
    if (framed[0] != FORMAT_VERSION) {
      throw new CorruptRecordException(
          "record format version " + framed[0] + " is not the supported " + FORMAT_VERSION);
    }
    int length = readInt(framed, 1);
    if (length != framed.length - FRAME_HEADER_BYTES) {
      throw new CorruptRecordException(
          "record declares "
              + length
              + " payload bytes but holds "
              + (framed.length - FRAME_HEADER_BYTES)
              + " (torn write)");
    }
    CRC32C crc = new CRC32C();
    crc.update(framed, FRAME_HEADER_BYTES, length);
    if ((int) crc.getValue() != readInt(framed, 5)) {
      throw new CorruptRecordException("record checksum mismatch");
    }
    byte[] payload = new byte[length];
    System.arraycopy(framed, FRAME_HEADER_BYTES, payload, 0, length);
    return payload;
  }

  public static byte[] encode(Persist persist) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeBoolean(persist.promised() != null);
      if (persist.promised() != null) {
        writeBallot(out, persist.promised());
      }
      out.writeBoolean(persist.snapshot() != null);
      if (persist.snapshot() != null) {
        writeSnapshot(out, persist.snapshot());
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
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static Persist decodePersist(byte[] payload) throws CorruptRecordException {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      Ballot promised = in.readBoolean() ? readBallot(in) : null;
      Snapshot snapshot = in.readBoolean() ? readSnapshot(in) : null;
      int count = in.readInt();
      checkCount(count, "entries");
      List<LogEntry> entries = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        entries.add(readEntry(in));
      }
      if (snapshot != null && in.available() > 0) {
        snapshot = snapshot.withMembership(readMembership(in));
      }
      if (in.available() > 0) {
        throw new CorruptRecordException("persist record has trailing bytes");
      }
      return new Persist(promised, entries, snapshot);
    } catch (EOFException e) {
      throw new CorruptRecordException("persist record ends early");
    } catch (IOException | IllegalArgumentException e) {
      throw new CorruptRecordException("persist record is malformed: " + e.getMessage());
    }
  }

  public static byte[] encodeEntry(LogEntry entry) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writeEntry(out, entry);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static LogEntry decodeEntry(byte[] payload) throws CorruptRecordException {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      return readEntry(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new CorruptRecordException("log entry is malformed: " + e.getMessage());
    }
  }

  public static byte[] encodeValue(Value value) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writeValue(out, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The byte form of a membership, for storage engines and transports that carry snapshots. */
  public static byte[] encodeMembership(Membership membership) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writeMembership(out, membership);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static Membership decodeMembership(byte[] payload) throws CorruptRecordException {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      Membership membership = readMembership(in);
      if (in.available() > 0) {
        throw new CorruptRecordException("membership record has trailing bytes");
      }
      return membership;
    } catch (IOException | IllegalArgumentException e) {
      throw new CorruptRecordException("membership record is malformed: " + e.getMessage());
    }
  }

  private static void writeMembership(DataOutputStream out, Membership membership)
      throws IOException {
    out.writeInt(membership.epochs().size());
    for (Membership.Epoch epoch : membership.epochs()) {
      out.writeLong(epoch.decidedInSlot());
      out.writeLong(epoch.fromSlot());
      writeConfiguration(out, epoch.configuration());
    }
  }

  private static Membership readMembership(DataInputStream in) throws IOException {
    int count = in.readInt();
    if (count < 1 || count > 64) {
      throw new IOException("implausible number of membership epochs: " + count);
    }
    List<Membership.Epoch> epochs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      long decidedInSlot = in.readLong();
      long fromSlot = in.readLong();
      epochs.add(new Membership.Epoch(decidedInSlot, fromSlot, readConfiguration(in)));
    }
    return new Membership(epochs);
  }

  private static void writeConfiguration(DataOutputStream out, Configuration configuration)
      throws IOException {
    writeMembers(out, configuration.voters());
    writeMembers(out, configuration.learners());
  }

  private static Configuration readConfiguration(DataInputStream in) throws IOException {
    java.util.TreeMap<Integer, String> voters = readMembers(in);
    return new Configuration(voters, readMembers(in));
  }

  private static void writeMembers(
      DataOutputStream out, java.util.SortedMap<Integer, String> members) throws IOException {
    out.writeInt(members.size());
    for (java.util.Map.Entry<Integer, String> member : members.entrySet()) {
      out.writeInt(member.getKey());
      out.writeUTF(member.getValue());
    }
  }

  private static java.util.TreeMap<Integer, String> readMembers(DataInputStream in)
      throws IOException {
    int count = in.readInt();
    if (count < 0 || count > 2 * PaxosConfig.MAX_REPLICAS) {
      throw new IOException("implausible number of members: " + count);
    }
    java.util.TreeMap<Integer, String> members = new java.util.TreeMap<>();
    for (int i = 0; i < count; i++) {
      int id = in.readInt();
      members.put(id, in.readUTF());
    }
    return members;
  }

  public static Value decodeValue(byte[] payload) throws CorruptRecordException {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      Value value = readValue(in);
      if (in.available() > 0) {
        throw new CorruptRecordException("value has trailing bytes");
      }
      return value;
    } catch (IOException | IllegalArgumentException e) {
      throw new CorruptRecordException("value is malformed: " + e.getMessage());
    }
  }

  private static void writeEntry(DataOutputStream out, LogEntry entry) throws IOException {
    out.writeLong(entry.slot());
    writeBallot(out, entry.ballot());
    out.writeBoolean(entry.chosen());
    writeValue(out, entry.value());
  }

  private static LogEntry readEntry(DataInputStream in) throws IOException {
    long slot = in.readLong();
    Ballot ballot = readBallot(in);
    boolean chosen = in.readBoolean();
    return new LogEntry(slot, ballot, readValue(in), chosen);
  }

  private static void writeBallot(DataOutputStream out, Ballot ballot) throws IOException {
    out.writeLong(ballot.round());
    out.writeInt(ballot.replicaId());
  }

  private static Ballot readBallot(DataInputStream in) throws IOException {
    return new Ballot(in.readLong(), in.readInt());
  }

  private static void writeSnapshot(DataOutputStream out, Snapshot snapshot) throws IOException {
    out.writeLong(snapshot.slot());
    out.writeInt(snapshot.data().length);
    out.write(snapshot.data());
  }

  private static Snapshot readSnapshot(DataInputStream in) throws IOException {
    long slot = in.readLong();
    int length = in.readInt();
    checkCount(length, "snapshot bytes");
    byte[] data = new byte[length];
    in.readFully(data);
    return new Snapshot(slot, data);
  }

  private static void writeValue(DataOutputStream out, Value value) throws IOException {
    switch (value) {
      case Value.NoOp noOp -> out.writeByte(NO_OP);
      case Value.Batch batch -> {
        out.writeByte(BATCH);
        out.writeInt(batch.commands().size());
        for (Command command : batch.commands()) {
          out.writeLong(command.clientId());
          out.writeLong(command.sequence());
          out.writeInt(command.payload().length);
          out.write(command.payload());
        }
      }
      case Value.Reconfigure reconfigure -> {
        out.writeByte(RECONFIGURE);
        writeConfiguration(out, reconfigure.next());
      }
    }
  }

  private static Value readValue(DataInputStream in) throws IOException {
    byte kind = in.readByte();
    return switch (kind) {
      case NO_OP -> Value.NO_OP;
      case BATCH -> {
        int count = in.readInt();
        checkCount(count, "commands");
        List<Command> commands = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          long clientId = in.readLong();
          long sequence = in.readLong();
          int length = in.readInt();
          checkCount(length, "payload bytes");
          byte[] payload = new byte[length];
          in.readFully(payload);
          commands.add(new Command(clientId, sequence, payload));
        }
        yield new Value.Batch(commands);
      }
      case RECONFIGURE -> new Value.Reconfigure(readConfiguration(in));
      default -> throw new IOException("unknown value kind " + kind);
    };
  }

  private static void checkCount(int count, String what) throws IOException {
    if (count < 0 || count > MAX_RECORD_BYTES) {
      throw new IOException("implausible number of " + what + ": " + count);
    }
  }

  private static void writeInt(byte[] target, int offset, int value) {
    target[offset] = (byte) (value >>> 24);
    target[offset + 1] = (byte) (value >>> 16);
    target[offset + 2] = (byte) (value >>> 8);
    target[offset + 3] = (byte) value;
  }

  private static int readInt(byte[] source, int offset) {
    return ((source[offset] & 0xff) << 24)
        | ((source[offset + 1] & 0xff) << 16)
        | ((source[offset + 2] & 0xff) << 8)
        | (source[offset + 3] & 0xff);
  }
}
