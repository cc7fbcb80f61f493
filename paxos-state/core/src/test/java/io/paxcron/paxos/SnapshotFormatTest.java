package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Snapshots of the session layer and the key-value state machine: frames written now, the layouts
 * written before frames still restored, and damaged or future images refused naming the record.
 */
final class SnapshotFormatTest {

  /** {@link #applyFixture}'s state as the key-value state machine wrote it (format 1). */
  private static final String KEY_VALUE_FORMAT_1 = "0000000100016b000000027677";

  /** {@link #applyFixture}'s sessions and key-value state as format 1 wrote them. */
  private static final String SESSION_FORMAT_1 =
      "000000000000000100000002000000000000000b000000000000000100000000000000000000000c000000"
          + "00000000010000000276770000000d0000000100016b000000027677";

  /** Two clients' commands in slot 1: put k=v, then append w. */
  private static SessionStateMachine applyFixture(KeyValueStateMachine kv) {
    SessionStateMachine sessions = new SessionStateMachine(kv, 8);
    sessions.apply(
        new LogEntry(
            1,
            new Ballot(1, 1),
            new Value.Batch(
                List.of(
                    new Command(11, 1, KeyValueStateMachine.put("k", "v")),
                    new Command(12, 1, KeyValueStateMachine.append("k", "w")))),
            true));
    return sessions;
  }

  @Test
  void aSnapshotIsASessionFrameFollowedByTheStateMachinesFrameAndRoundTrips() {
    Snapshot snapshot = applyFixture(new KeyValueStateMachine()).snapshot();
    byte[] data = snapshot.data();
    assertEquals(RecordKind.SESSION_SNAPSHOT.tag(), data[0]);
    int stateStart = Frame.read(data, 0, data.length, RecordKind.SESSION_SNAPSHOT).end();
    assertEquals(RecordKind.KEY_VALUE_SNAPSHOT.tag(), data[stateStart]);

    KeyValueStateMachine kv = new KeyValueStateMachine();
    SessionStateMachine restored = new SessionStateMachine(kv, 8);
    restored.restore(snapshot);
    assertEquals(Map.of("k", "vw"), kv.view());
    assertEquals(1, restored.appliedThroughSlot());
    assertArrayEquals(data, restored.snapshot().data());
  }

  @Test
  void snapshotsWrittenBeforeFramesStillRestore() {
    KeyValueStateMachine kv = new KeyValueStateMachine();
    kv.restore(HexFormat.of().parseHex(KEY_VALUE_FORMAT_1));
    assertEquals(Map.of("k", "vw"), kv.view());

    KeyValueStateMachine fromSessions = new KeyValueStateMachine();
    SessionStateMachine restored = new SessionStateMachine(fromSessions, 8);
    restored.restore(new Snapshot(1, HexFormat.of().parseHex(SESSION_FORMAT_1)));
    assertEquals(Map.of("k", "vw"), fromSessions.view());
    // Written again, it takes the current format, equal to a snapshot taken now.
    assertArrayEquals(
        applyFixture(new KeyValueStateMachine()).snapshot().data(), restored.snapshot().data());
    // The restored sessions answer a retry with the first result, as the original ones did.
    SessionStateMachine.Applied retry =
        restored
            .apply(
                new LogEntry(
                    2,
                    new Ballot(1, 1),
                    new Value.Batch(
                        List.of(new Command(12, 1, KeyValueStateMachine.append("k", "w")))),
                    true))
            .get(0);
    assertTrue(retry.duplicate());
    assertEquals("vw", new String(retry.result(), java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void aCorruptedByteIsRefusedNamingTheRecordItLiesIn() {
    byte[] data = applyFixture(new KeyValueStateMachine()).snapshot().data();
    int stateStart = Frame.read(data, 0, data.length, RecordKind.SESSION_SNAPSHOT).end();

    byte[] inSessions = data.clone();
    inSessions[Frame.HEADER_BYTES + 9] ^= 0x01;
    IllegalStateException sessions =
        assertThrows(
            IllegalStateException.class,
            () ->
                new SessionStateMachine(new KeyValueStateMachine(), 8)
                    .restore(new Snapshot(1, inSessions)));
    assertTrue(
        sessions.getMessage().contains("session snapshot record, format version 2: checksum"),
        sessions.getMessage());

    byte[] inState = data.clone();
    inState[data.length - 1] ^= 0x01;
    IllegalStateException state =
        assertThrows(
            IllegalStateException.class,
            () ->
                new SessionStateMachine(new KeyValueStateMachine(), 8)
                    .restore(new Snapshot(1, inState)));
    assertTrue(
        state.getMessage().contains("key-value snapshot record, format version 2: checksum"),
        state.getMessage());
    assertEquals(data.length, stateStart + Frame.HEADER_BYTES + 13);
  }

  @Test
  void aSnapshotOfAFutureVersionIsRefusedNamingTheVersionsThisBuildReads() {
    byte[] data = applyFixture(new KeyValueStateMachine()).snapshot().data();
    data[1] = 7;
    IllegalStateException refused =
        assertThrows(
            IllegalStateException.class,
            () ->
                new SessionStateMachine(new KeyValueStateMachine(), 8)
                    .restore(new Snapshot(1, data)));
    assertTrue(
        refused
            .getMessage()
            .contains(
                "session snapshot record: format version 7 is not one this build reads (versions"
                    + " 1..2); was it written by a newer Paxcron?"),
        refused.getMessage());
  }
}
