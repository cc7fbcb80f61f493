package io.paxcron.api.auth;

import io.paxcron.api.JobBatchStateMachine;
import io.paxcron.paxos.BinaryReader;
import io.paxcron.paxos.BinaryWriter;
import io.paxcron.paxos.Frame;
import io.paxcron.paxos.RecordFormatException;
import io.paxcron.paxos.RecordKind;
import io.paxcron.paxos.StateMachine;
import io.paxcron.scheduler.CommandResult;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The replicated state machine of a Paxcron replica with access control: the job state machine
 * ({@link JobBatchStateMachine}) plus the access layer ({@link AccessState}) as its own command
 * family, so the cron state machine knows nothing of tokens or audit.
 *
 * <p>Payloads starting with {@link AccessCommand#TAG} are access commands: token changes are
 * applied to the access state; an {@link AccessCommand.Audited} envelope applies the job batch it
 * carries to the job state machine and then records who asked, what, when and from where, with the
 * batch's outcome, in the same log slot. Every other payload (the dispatcher's own commands, and
 * job batches of replicas or tools that send no envelope) goes to the job state machine unchanged.
 *
 * <p>A snapshot is the access state's {@link RecordKind#ACCESS_SNAPSHOT} frame followed by the job
 * state machine's snapshot (its own frame). Two older layouts are still restored: the access
 * state's bytes behind the {@link #SNAPSHOT_MAGIC} header and a length, then the job snapshot; and
 * a job snapshot alone (written before this layer existed), which empties the access state.
 * Single-threaded, like what it wraps.
 */
public final class SecuredStateMachine implements StateMachine {

  /** First bytes of a snapshot with an access part, before the access part had a frame. */
  static final byte[] SNAPSHOT_MAGIC = {(byte) 0xA5, 'P', 'X', 'A'};

  private final JobBatchStateMachine jobs;
  private final AccessState access = new AccessState();

  public SecuredStateMachine(JobBatchStateMachine jobs) {
    this.jobs = Objects.requireNonNull(jobs, "jobs");
  }

  /** The access state (its {@link AccessState#view()} may be read from any thread). */
  public AccessState access() {
    return access;
  }

  public JobBatchStateMachine jobs() {
    return jobs;
  }

  @Override
  public byte[] apply(long slot, byte[] payload) {
    if (payload.length == 0 || payload[0] != AccessCommand.TAG) {
      return jobs.apply(slot, payload);
    }
    AccessCommand command;
    try {
      command = AccessCommand.decode(payload);
    } catch (IllegalArgumentException e) {
      return answer(new AccessState.Result(false, "malformed access command: " + e.getMessage()));
    }
    if (command instanceof AccessCommand.Audited audited) {
      byte[] inner = audited.innerBytes();
      if (inner.length > 0 && inner[0] == AccessCommand.TAG) {
        // An envelope in an envelope would let one entry write two audit records of its choosing.
        return answer(new AccessState.Result(false, "malformed access command: nested envelope"));
      }
      byte[] result = jobs.apply(slot, inner);
      access.record(
          slot, audited.header(), audited.action(), audited.target(), summarize(inner, result));
      return result;
    }
    return answer(access.apply(slot, command));
  }

  /**
   * A job batch in steps as the job state machine cuts it, inside an audit envelope too (its audit
   * record is written with the last step); access commands at once.
   */
  @Override
  public Steps applyInSteps(long slot, byte[] payload) {
    if (payload.length == 0 || payload[0] != AccessCommand.TAG) {
      return jobs.applyInSteps(slot, payload);
    }
    AccessCommand command;
    try {
      command = AccessCommand.decode(payload);
    } catch (IllegalArgumentException e) {
      return StateMachine.super.applyInSteps(slot, payload);
    }
    if (!(command instanceof AccessCommand.Audited audited)) {
      return StateMachine.super.applyInSteps(slot, payload);
    }
    byte[] inner = audited.innerBytes();
    if (inner.length > 0 && inner[0] == AccessCommand.TAG) {
      return StateMachine.super.applyInSteps(slot, payload);
    }
    Steps steps = jobs.applyInSteps(slot, inner);
    return () -> {
      byte[] result = steps.next();
      if (result != null) {
        access.record(
            slot, audited.header(), audited.action(), audited.target(), summarize(inner, result));
      }
      return result;
    };
  }

  /** "applied", or the first refusal of the batch. */
  private static String summarize(byte[] inner, byte[] result) {
    if (inner.length == 0 || inner[0] != JobBatchStateMachine.BATCH_TAG) {
      return "applied";
    }
    try {
      for (CommandResult each : JobBatchStateMachine.decodeAnswer(result).results()) {
        switch (each.status()) {
          case APPLIED, DUPLICATE -> {}
          default -> {
            return "refused: " + each.status() + " " + each.message();
          }
        }
      }
      return "applied";
    } catch (RuntimeException e) {
      return "unknown: " + e.getMessage();
    }
  }

  /** The answer to an access command: the tag, applied or not, and a message. */
  static byte[] answer(AccessState.Result result) {
    return new BinaryWriter(64)
        .writeByte(AccessCommand.TAG)
        .writeBoolean(result.applied())
        .writeModifiedUtf(AccessCommand.clip(result.message()))
        .toByteArray();
  }

  /**
   * Decodes an access command's answer.
   *
   * @throws IllegalArgumentException if the bytes are not one (the session layer's "stale retry"
   *     text, for example)
   */
  public static AccessState.Result decodeAnswer(byte[] bytes) {
    if (bytes.length < 4 || bytes[0] != AccessCommand.TAG) {
      throw new IllegalArgumentException(
          "not an access answer: " + new String(bytes, StandardCharsets.UTF_8));
    }
    try {
      BinaryReader in = new BinaryReader(bytes, 1, bytes.length - 1);
      return new AccessState.Result(in.readBoolean(), in.readModifiedUtf());
    } catch (RecordFormatException e) {
      throw new IllegalArgumentException("truncated access answer", e);
    }
  }

  @Override
  public byte[] snapshot() {
    return image().encode();
  }

  /**
   * The access state encoded now (a few tokens and rules: small) and the job state's image, to be
   * encoded later, straight into the snapshot's array.
   */
  @Override
  public Image image() {
    byte[] accessBytes = access.snapshot();
    Image jobImage = jobs.image();
    return new Image() {
      @Override
      public byte[] encode() {
        BinaryWriter out = new BinaryWriter(accessBytes.length + 4096);
        encodeTo(out);
        return out.toByteArray();
      }

      @Override
      public void encodeTo(BinaryWriter out) {
        out.writeRaw(accessBytes);
        jobImage.encodeTo(out);
      }
    };
  }

  @Override
  public void restore(byte[] snapshot) {
    if (Frame.startsAt(snapshot, 0, RecordKind.ACCESS_SNAPSHOT)) {
      Frame frame;
      try {
        frame = Frame.read(snapshot, 0, snapshot.length, RecordKind.ACCESS_SNAPSHOT);
      } catch (RecordFormatException e) {
        throw new IllegalStateException("unreadable access snapshot: " + e.getMessage(), e);
      }
      access.restore(Arrays.copyOfRange(snapshot, 0, frame.end()));
      jobs.restore(Arrays.copyOfRange(snapshot, frame.end(), snapshot.length));
      return;
    }
    if (snapshot.length < SNAPSHOT_MAGIC.length + 4
        || !Arrays.equals(snapshot, 0, SNAPSHOT_MAGIC.length, SNAPSHOT_MAGIC, 0, 4)) {
      jobs.restore(snapshot);
      access.clear();
      return;
    }
    ByteBuffer buffer = ByteBuffer.wrap(snapshot, SNAPSHOT_MAGIC.length, 4);
    int accessLength = buffer.getInt();
    int start = SNAPSHOT_MAGIC.length + 4;
    if (accessLength < 0 || accessLength > snapshot.length - start) {
      throw new IllegalStateException("snapshot's access part claims " + accessLength + " bytes");
    }
    access.restore(Arrays.copyOfRange(snapshot, start, start + accessLength));
    jobs.restore(Arrays.copyOfRange(snapshot, start + accessLength, snapshot.length));
  }
}
