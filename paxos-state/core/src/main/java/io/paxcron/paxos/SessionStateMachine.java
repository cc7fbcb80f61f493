package io.paxcron.paxos;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies chosen log entries to a {@link StateMachine} exactly once per client command.
 *
 * <p>Each client session remembers the highest sequence applied and its result. A command whose
 * sequence is already applied is a retry (proposed again after a lost answer, possibly into another
 * slot by another leader): it is not applied again and its client gets the first result. The
 * session table is part of the replicated state and of every snapshot, so every replica
 * deduplicates the same way. Sessions are bounded by {@code maxSessions}: the session least
 * recently used (by slot) is forgotten first, deterministically on every replica; a client idle
 * long enough to be evicted must not retry an old command (docs/guarantees.md).
 *
 * <p>Clients issue one command at a time per session, so only the latest result is kept; a sequence
 * below the latest one is a stale retry the client already has the answer to.
 */
public final class SessionStateMachine {

  /** What applying one command produced. */
  public record Applied(Command command, long slot, byte[] result, boolean duplicate) {}

  private record Session(long lastSequence, byte[] lastResult) {}

  private static final byte[] STALE =
      "error: stale retry of an answered command".getBytes(java.nio.charset.StandardCharsets.UTF_8);

  private final StateMachine stateMachine;
  private final int maxSessions;
  private final LinkedHashMap<Long, Session> sessions = new LinkedHashMap<>(16, 0.75f, true);
  private long appliedThroughSlot;

  /** The slot whose commands are applied in part, or -1; and the next command of it to apply. */
  private long partialSlot = -1;

  private int partialNext;

  /** The command {@link #partialNext} being applied in steps, or null. */
  private StateMachine.Steps partialCommand;

  public SessionStateMachine(StateMachine stateMachine, int maxSessions) {
    if (maxSessions < 1) {
      throw new IllegalArgumentException("maxSessions must be >= 1, got " + maxSessions);
    }
    this.stateMachine = stateMachine;
    this.maxSessions = maxSessions;
  }

  public long appliedThroughSlot() {
    return appliedThroughSlot;
  }

  /** Applies the chosen entry of the next slot; entries must come in slot order without gaps. */
  public List<Applied> apply(LogEntry entry) {
    return apply(entry, 0, commandCount(entry));
  }

  /**
   * Applies commands {@code [from, to)} of the chosen entry of the next slot, so that a driver can
   * spread a large entry over several turns of its loop. The slot counts as applied once its last
   * command is; until then the state holds a prefix of the slot's commands ({@link #midEntry}), and
   * no {@link #image} may be taken. The next call must go on where this one stopped.
   */
  public List<Applied> apply(LogEntry entry, int from, int to) {
    Check.that(entry.chosen(), "applying an entry not known chosen: %s", entry);
    Check.that(
        entry.slot() == appliedThroughSlot + 1,
        "apply out of order: slot %s after %s",
        entry.slot(),
        appliedThroughSlot);
    Check.that(partialCommand == null, "apply of slot %s in the middle of a command", entry.slot());
    int expectedFrom = partialSlot == entry.slot() ? partialNext : 0;
    int count = commandCount(entry);
    Check.that(
        from == expectedFrom,
        "apply of slot %s from command %s, expected %s",
        entry.slot(),
        from,
        expectedFrom);
    Check.that(from <= to && to <= count, "apply of commands up to %s of %s", to, count);
    List<Applied> applied = new ArrayList<>(to - from);
    if (entry.value() instanceof Value.Batch batch) {
      for (int i = from; i < to; i++) {
        applied.add(applyOnce(entry.slot(), batch.commands().get(i)));
      }
    }
    if (to == count) {
      appliedThroughSlot = entry.slot();
      partialSlot = -1;
      partialNext = 0;
    } else {
      partialSlot = entry.slot();
      partialNext = to;
    }
    return applied;
  }

  /**
   * Applies the next step of the chosen entry of the next slot: of its next client command, one
   * step as the state machine cuts it ({@link StateMachine#applyInSteps}); an entry without client
   * commands is applied whole. Returns the command once its last step is applied (or at once, for a
   * duplicate the session answers), and nothing while it is in the middle ({@link #midCommand}).
   * The entry counts as applied once its last command is ({@link #midEntry} until then).
   */
  public List<Applied> applyStep(LogEntry entry) {
    Check.that(entry.chosen(), "applying an entry not known chosen: %s", entry);
    Check.that(
        entry.slot() == appliedThroughSlot + 1,
        "apply out of order: slot %s after %s",
        entry.slot(),
        appliedThroughSlot);
    int count = commandCount(entry);
    if (count == 0) {
      return apply(entry, 0, 0);
    }
    int index = partialSlot == entry.slot() ? partialNext : 0;
    Command command = ((Value.Batch) entry.value()).commands().get(index);
    Applied applied;
    if (partialCommand == null) {
      Session session = sessions.get(command.clientId());
      if (session != null && command.sequence() <= session.lastSequence()) {
        applied = applyOnce(entry.slot(), command);
      } else {
        partialSlot = entry.slot();
        partialNext = index;
        partialCommand = stateMachine.applyInSteps(entry.slot(), command.payload());
        applied = null;
      }
    } else {
      applied = null;
    }
    if (applied == null) {
      byte[] result = partialCommand.next();
      if (result == null) {
        return List.of();
      }
      partialCommand = null;
      applied = recordAnswer(entry.slot(), command, result);
    }
    if (index + 1 == count) {
      appliedThroughSlot = entry.slot();
      partialSlot = -1;
      partialNext = 0;
    } else {
      partialSlot = entry.slot();
      partialNext = index + 1;
    }
    return List.of(applied);
  }

  /**
   * Whether the state holds part of one client command, applied in steps: nothing may read it until
   * {@link #applyStep} applied the command's last step.
   */
  public boolean midCommand() {
    return partialCommand != null;
  }

  /** The client commands an entry carries (none for a no-op or a configuration change). */
  public static int commandCount(LogEntry entry) {
    return entry.value() instanceof Value.Batch batch ? batch.commands().size() : 0;
  }

  /** Whether the state holds part of a slot's commands (see {@link #apply(LogEntry, int, int)}). */
  public boolean midEntry() {
    return partialSlot >= 0;
  }

  private Applied applyOnce(long slot, Command command) {
    Session session = sessions.get(command.clientId());
    if (session != null && command.sequence() <= session.lastSequence()) {
      byte[] answer = command.sequence() == session.lastSequence() ? session.lastResult() : STALE;
      return new Applied(command, slot, answer, true);
    }
    return recordAnswer(slot, command, stateMachine.apply(slot, command.payload()));
  }

  /** Keeps the answer of a command applied for the first time as its session's latest. */
  private Applied recordAnswer(long slot, Command command, byte[] result) {
    sessions.put(command.clientId(), new Session(command.sequence(), result));
    if (sessions.size() > maxSessions) {
      Long eldest = sessions.keySet().iterator().next();
      sessions.remove(eldest);
    }
    return new Applied(command, slot, result, false);
  }

  /** The image of the sessions and the state machine at {@link #appliedThroughSlot()}. */
  public Snapshot snapshot() {
    return image().encode();
  }

  /**
   * The sessions and the state machine at {@link #appliedThroughSlot()}, taken cheaply on the
   * applying thread (the sessions are copied, the state machine gives its {@link
   * StateMachine#image()}); {@link Image#encode} turns it into the snapshot from any thread.
   */
  public Image image() {
    Check.that(!midEntry(), "an image taken in the middle of slot %s", partialSlot);
    int count = sessions.size();
    long[] clientIds = new long[count];
    long[] sequences = new long[count];
    byte[][] results = new byte[count][];
    int index = 0;
    for (Map.Entry<Long, Session> session : sessions.entrySet()) {
      clientIds[index] = session.getKey();
      sequences[index] = session.getValue().lastSequence();
      results[index] = session.getValue().lastResult();
      index++;
    }
    return new Image(appliedThroughSlot, clientIds, sequences, results, stateMachine.image());
  }

  /**
   * A {@link SessionStateMachine} as {@link #image()} took it: immutable (results are never changed
   * once applied), encoded by {@link #encode} on any thread into the snapshot {@link #snapshot()}
   * would have returned at {@link #slot()}.
   */
  public static final class Image {
    private final long slot;
    private final long[] clientIds;
    private final long[] sequences;
    private final byte[][] results;
    private final StateMachine.Image state;

    private Image(
        long slot, long[] clientIds, long[] sequences, byte[][] results, StateMachine.Image state) {
      this.slot = slot;
      this.clientIds = clientIds;
      this.sequences = sequences;
      this.results = results;
      this.state = state;
    }

    /** The last slot applied in the state this image holds. */
    public long slot() {
      return slot;
    }

    /**
     * The snapshot of this image: a {@link RecordKind#SESSION_SNAPSHOT} frame (the slot, then the
     * sessions in least-recently-used order), then the state machine's own image, written into one
     * array (a large state is not copied into it from another).
     */
    public Snapshot encode() {
      long sessionBytes = Frame.HEADER_BYTES + Long.BYTES + Integer.BYTES;
      for (byte[] result : results) {
        sessionBytes += 2 * Long.BYTES + Integer.BYTES + result.length;
      }
      BinaryWriter out = new BinaryWriter((int) Math.min(sessionBytes + 4096, 1 << 20));
      int start = out.beginFrame(RecordKind.SESSION_SNAPSHOT);
      out.writeLong(slot).writeInt(clientIds.length);
      for (int i = 0; i < clientIds.length; i++) {
        out.writeLong(clientIds[i]).writeLong(sequences[i]).writeBytes(results[i]);
      }
      out.endFrame(start);
      state.encodeTo(out);
      return new Snapshot(slot, out.toByteArray());
    }
  }

  /**
   * Replaces sessions and state with a snapshot's image: a {@link RecordKind#SESSION_SNAPSHOT}
   * frame and the state's image (format 2), or the unframed layout of format 1 (slot, sessions, the
   * state's length and image), which snapshots taken before frames existed hold.
   *
   * @throws IllegalStateException if the image is unreadable (a corrupt snapshot stops the replica)
   */
  public void restore(Snapshot snapshot) {
    partialSlot = -1;
    partialNext = 0;
    partialCommand = null;
    byte[] data = snapshot.data();
    if (snapshot.slot() == 0 && data.length == 0) {
      sessions.clear();
      appliedThroughSlot = 0;
      stateMachine.restore(new byte[0]);
      return;
    }
    LinkedHashMap<Long, Session> restored = new LinkedHashMap<>(16, 0.75f, true);
    long slot;
    byte[] state;
    try {
      BinaryReader in;
      BinaryReader outer = new BinaryReader(data);
      boolean framed = outer.atFrame(RecordKind.SESSION_SNAPSHOT);
      in = framed ? outer.readFrame(RecordKind.SESSION_SNAPSHOT).body() : outer;
      slot = in.readLong();
      int count = in.readCount(Integer.MAX_VALUE, 2 * Long.BYTES + Integer.BYTES);
      for (int i = 0; i < count; i++) {
        long clientId = in.readLong();
        long sequence = in.readLong();
        restored.put(
            clientId, new Session(sequence, in.readRaw(in.readCount(Integer.MAX_VALUE, 1))));
      }
      if (framed) {
        in.expectEnd("session snapshot record");
        state = Arrays.copyOfRange(data, outer.position(), data.length);
      } else {
        state = in.readRaw(in.readCount(Integer.MAX_VALUE, 1));
        in.expectEnd("session snapshot record, format version 1,");
      }
    } catch (RecordFormatException e) {
      throw new IllegalStateException(
          "snapshot at slot " + snapshot.slot() + " is unreadable: " + e.getMessage(), e);
    }
    Check.that(
        slot == snapshot.slot(),
        "snapshot image is of slot %s but labelled %s",
        slot,
        snapshot.slot());
    sessions.clear();
    sessions.putAll(restored);
    stateMachine.restore(state);
    appliedThroughSlot = slot;
  }
}
