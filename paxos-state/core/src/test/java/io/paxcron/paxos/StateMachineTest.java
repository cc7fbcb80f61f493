package io.paxcron.paxos;

import static io.paxcron.paxos.TestCluster.append;
import static io.paxcron.paxos.TestCluster.put;
import static io.paxcron.paxos.TestCluster.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The key-value state machine and the client sessions that make retries exactly-once. */
final class StateMachineTest {

  private static final Ballot BALLOT = new Ballot(1, 1);

  private static LogEntry chosen(long slot, Command... commands) {
    return new LogEntry(slot, BALLOT, new Value.Batch(List.of(commands)), true);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void keyValueStateMachineSnapshotRestoresEqualState() {
    KeyValueStateMachine original = new KeyValueStateMachine();
    original.apply(1, KeyValueStateMachine.put("plain", "value"));
    original.apply(2, KeyValueStateMachine.put("empty", ""));
    original.apply(3, KeyValueStateMachine.put("spaces", "a value with spaces"));
    original.apply(4, KeyValueStateMachine.put("unicode", "größe ✓ 名前"));
    original.apply(5, KeyValueStateMachine.append("plain", "+more"));

    KeyValueStateMachine restored = new KeyValueStateMachine();
    restored.apply(1, KeyValueStateMachine.put("stale", "must disappear"));
    restored.restore(original.snapshot());

    assertEquals(original.view(), restored.view());
    assertEquals("value+more", restored.get("plain"));
    assertNull(restored.get("stale"), "restore replaces the whole state");
    assertEquals(original.snapshot().length, restored.snapshot().length);

    restored.restore(new byte[0]);
    assertEquals(Map.of(), restored.view(), "the empty image is the empty state");
  }

  @Test
  void keyValueStateMachineAnswersUnreadableCommandsWithAnError() {
    KeyValueStateMachine machine = new KeyValueStateMachine();
    assertEquals("error: unknown verb 'delete'", text(machine.apply(1, bytes("delete k now"))));
    assertTrue(text(machine.apply(2, bytes("put"))).startsWith("error: expected"));
    assertEquals(Map.of(), machine.view());
  }

  @Test
  void retriedCommandIsAppliedOnceAndGetsTheFirstResult() {
    KeyValueStateMachine keyValue = new KeyValueStateMachine();
    SessionStateMachine sessions = new SessionStateMachine(keyValue, 10);
    Command first = append(7, 1, "k", "a");

    List<SessionStateMachine.Applied> original = sessions.apply(chosen(1, first));
    List<SessionStateMachine.Applied> retried =
        sessions.apply(chosen(2, first, append(8, 1, "k", "b")));

    assertEquals("a", text(original.getFirst().result()));
    assertFalse(original.getFirst().duplicate());
    assertTrue(retried.getFirst().duplicate(), "the retry is recognised");
    assertEquals("a", text(retried.getFirst().result()), "and answered with the first result");
    assertEquals("ab", text(retried.get(1).result()), "another client's command still applies");
    assertEquals("ab", keyValue.get("k"), "appended once by client 7, once by client 8");
  }

  @Test
  void retriedCommandChosenTwiceInTheClusterIsAppliedOnceEverywhere() {
    TestCluster cluster = TestCluster.started(5, 3);
    cluster.elect(1);
    Command command = append(7, 1, "k", "a");
    cluster.propose(1, command);
    cluster.deliverAll();
    cluster.propose(1, command);
    cluster.deliverAll();
    cluster.advance(50);
    cluster.tick(1);
    cluster.deliverAll();

    for (TestCluster.Node node : cluster.nodes()) {
      assertEquals(2, node.applied.size(), "both slots are chosen on replica " + node.id);
      assertEquals("a", node.keyValue.get("k"), "replica " + node.id);
      SessionStateMachine.Applied retry = node.results.get(1);
      assertTrue(retry.duplicate());
      assertEquals("a", text(retry.result()));
    }
  }

  @Test
  void staleRetryIsAnsweredWithAnErrorAndNotApplied() {
    KeyValueStateMachine keyValue = new KeyValueStateMachine();
    SessionStateMachine sessions = new SessionStateMachine(keyValue, 10);
    sessions.apply(chosen(1, put(7, 1, "k", "one")));
    sessions.apply(chosen(2, put(7, 2, "k", "two")));

    SessionStateMachine.Applied stale = sessions.apply(chosen(3, put(7, 1, "k", "one"))).getFirst();

    assertTrue(stale.duplicate());
    assertEquals("error: stale retry of an answered command", text(stale.result()));
    assertEquals("two", keyValue.get("k"));
  }

  @Test
  void sessionsAreEvictedLeastRecentlyUsedFirstAtMaxSessions() {
    KeyValueStateMachine keyValue = new KeyValueStateMachine();
    SessionStateMachine sessions = new SessionStateMachine(keyValue, 2);
    sessions.apply(chosen(1, append(1, 1, "k", "1")));
    sessions.apply(chosen(2, append(2, 1, "k", "2")));
    sessions.apply(chosen(3, append(1, 2, "k", "1")));
    sessions.apply(chosen(4, append(3, 1, "k", "3")));

    assertTrue(
        sessions.apply(chosen(5, append(1, 2, "k", "1"))).getFirst().duplicate(),
        "client 1 was used recently and is remembered");
    assertFalse(
        sessions.apply(chosen(6, append(2, 1, "k", "2"))).getFirst().duplicate(),
        "client 2 was least recently used and forgotten: its old command applies again");
  }

  @Test
  void sessionSnapshotRestoresSessionsAndState() {
    KeyValueStateMachine keyValue = new KeyValueStateMachine();
    SessionStateMachine sessions = new SessionStateMachine(keyValue, 10);
    sessions.apply(chosen(1, put(7, 1, "k", "v")));
    sessions.apply(new LogEntry(2, BALLOT, Value.NO_OP, true));
    Snapshot image = sessions.snapshot();
    assertEquals(2, image.slot());

    KeyValueStateMachine restoredValues = new KeyValueStateMachine();
    SessionStateMachine restored = new SessionStateMachine(restoredValues, 10);
    restored.restore(image);

    assertEquals(2, restored.appliedThroughSlot());
    assertEquals(keyValue.view(), restoredValues.view());
    SessionStateMachine.Applied retry = restored.apply(chosen(3, put(7, 1, "k", "v"))).getFirst();
    assertTrue(retry.duplicate());
    assertEquals("", text(retry.result()), "the first put's answer: no previous value");
  }

  @Test
  void sessionsApplyOnlyChosenEntriesInSlotOrder() {
    SessionStateMachine sessions = new SessionStateMachine(new KeyValueStateMachine(), 10);
    assertEquals(
        "apply out of order: slot 2 after 0",
        assertThrows(
                IllegalStateException.class, () -> sessions.apply(chosen(2, put(1, 1, "k", "v"))))
            .getMessage());
    LogEntry unchosen = new LogEntry(1, BALLOT, Value.NO_OP, false);
    assertThrows(IllegalStateException.class, () -> sessions.apply(unchosen));
  }

  @Test
  void aSlotAppliedInPartsEndsInTheStateOfApplyingItWhole() {
    LogEntry slot1 =
        chosen(1, append(7, 1, "k", "a"), append(8, 1, "k", "b"), append(9, 1, "k", "c"));
    LogEntry slot2 = chosen(2, append(7, 2, "k", "d"));
    SessionStateMachine whole = new SessionStateMachine(new KeyValueStateMachine(), 10);
    whole.apply(slot1);
    whole.apply(slot2);

    SessionStateMachine parts = new SessionStateMachine(new KeyValueStateMachine(), 10);
    assertEquals(1, parts.apply(slot1, 0, 1).size());
    assertTrue(parts.midEntry());
    assertEquals(0, parts.appliedThroughSlot(), "a slot counts as applied with its last command");
    assertEquals(
        "an image taken in the middle of slot 1",
        assertThrows(IllegalStateException.class, parts::image).getMessage());
    assertEquals(
        "apply of slot 1 from command 0, expected 1",
        assertThrows(IllegalStateException.class, () -> parts.apply(slot1, 0, 3)).getMessage());
    assertThrows(IllegalStateException.class, () -> parts.apply(slot2), "slot 1 is not done");
    assertEquals(2, parts.apply(slot1, 1, 3).size());
    assertFalse(parts.midEntry());
    assertEquals(1, parts.appliedThroughSlot());
    parts.apply(slot2, 0, 1);

    assertArrayEquals(whole.snapshot().data(), parts.snapshot().data());
  }

  /** Key-value commands applied in two steps: nothing, then the command. */
  private static final class TwoSteps implements StateMachine {
    final KeyValueStateMachine inner = new KeyValueStateMachine();

    @Override
    public byte[] apply(long slot, byte[] command) {
      return inner.apply(slot, command);
    }

    @Override
    public Steps applyInSteps(long slot, byte[] command) {
      boolean[] first = {true};
      return () -> {
        if (first[0]) {
          first[0] = false;
          return null;
        }
        return inner.apply(slot, command);
      };
    }

    @Override
    public byte[] snapshot() {
      return inner.snapshot();
    }

    @Override
    public void restore(byte[] snapshot) {
      inner.restore(snapshot);
    }
  }

  @Test
  void commandsAppliedInStepsEndInTheStateAndAnswersOfApplyingThemWhole() {
    LogEntry slot1 = chosen(1, append(7, 1, "k", "a"), append(8, 1, "k", "b"));
    LogEntry slot2 = chosen(2, append(7, 1, "k", "a"), append(7, 2, "k", "c"));
    LogEntry slot3 = new LogEntry(3, BALLOT, Value.NO_OP, true);
    SessionStateMachine whole = new SessionStateMachine(new KeyValueStateMachine(), 10);
    List<SessionStateMachine.Applied> wholeAnswers = new java.util.ArrayList<>();
    wholeAnswers.addAll(whole.apply(slot1));
    wholeAnswers.addAll(whole.apply(slot2));
    whole.apply(slot3);

    TwoSteps machine = new TwoSteps();
    SessionStateMachine steps = new SessionStateMachine(machine, 10);
    List<SessionStateMachine.Applied> stepAnswers = new java.util.ArrayList<>();
    assertEquals(List.of(), steps.applyStep(slot1), "the first step of the first command");
    assertTrue(steps.midCommand());
    assertTrue(steps.midEntry());
    assertThrows(IllegalStateException.class, steps::image);
    assertThrows(
        IllegalStateException.class, () -> steps.apply(slot1, 0, 2), "a command is in part");
    stepAnswers.addAll(steps.applyStep(slot1));
    assertFalse(steps.midCommand());
    assertTrue(steps.midEntry(), "one command of slot 1 is left");
    assertEquals(List.of(), steps.applyStep(slot1));
    stepAnswers.addAll(steps.applyStep(slot1));
    assertEquals(1, steps.appliedThroughSlot());
    // A retry the session already answered is answered at once, without steps.
    List<SessionStateMachine.Applied> retry = steps.applyStep(slot2);
    assertEquals(1, retry.size());
    assertTrue(retry.get(0).duplicate());
    stepAnswers.addAll(retry);
    assertEquals(List.of(), steps.applyStep(slot2));
    stepAnswers.addAll(steps.applyStep(slot2));
    assertEquals(List.of(), steps.applyStep(slot3), "a no-op has no command to answer");
    assertEquals(3, steps.appliedThroughSlot());

    assertEquals(wholeAnswers.size(), stepAnswers.size());
    for (int i = 0; i < wholeAnswers.size(); i++) {
      assertArrayEquals(wholeAnswers.get(i).result(), stepAnswers.get(i).result());
      assertEquals(wholeAnswers.get(i).duplicate(), stepAnswers.get(i).duplicate());
    }
    assertArrayEquals(whole.snapshot().data(), steps.snapshot().data());

    // A snapshot installed in the middle of a command replaces the part applied.
    SessionStateMachine interrupted = new SessionStateMachine(new TwoSteps(), 10);
    interrupted.applyStep(slot1);
    interrupted.restore(whole.snapshot());
    assertFalse(interrupted.midCommand());
    assertArrayEquals(whole.snapshot().data(), interrupted.snapshot().data());
  }

  @Test
  void sessionImageEncodesTheStateAtItsSlotWhateverIsAppliedAfterwards() {
    SessionStateMachine sessions = new SessionStateMachine(new KeyValueStateMachine(), 2);
    SessionStateMachine upToImage = new SessionStateMachine(new KeyValueStateMachine(), 2);
    List<LogEntry> before =
        List.of(chosen(1, append(7, 1, "k", "a")), chosen(2, append(8, 1, "k", "b")));
    for (LogEntry entry : before) {
      sessions.apply(entry);
      upToImage.apply(entry);
    }
    SessionStateMachine.Image image = sessions.image();
    // Later commands touch every session: a new one, and one evicted (maxSessions is 2).
    sessions.apply(chosen(3, append(7, 2, "k", "c")));
    sessions.apply(chosen(4, append(9, 1, "j", "d")));

    Snapshot encoded = image.encode();
    assertEquals(2, image.slot());
    assertEquals(upToImage.snapshot(), encoded);
    assertFalse(encoded.equals(sessions.snapshot()), "the state moved on after the image");
    SessionStateMachine restored = new SessionStateMachine(new KeyValueStateMachine(), 2);
    restored.restore(encoded);
    assertArrayEquals(upToImage.snapshot().data(), restored.snapshot().data());
  }
}
