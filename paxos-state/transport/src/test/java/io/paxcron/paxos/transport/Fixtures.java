package io.paxcron.paxos.transport;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.Value;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

/** Sample messages of every kind, as the core would produce them. */
final class Fixtures {

  static final Ballot BALLOT = new Ballot(3, 1);
  static final Ballot OLDER = new Ballot(2, 2);
  static final Ballot HIGHER = new Ballot(4, 3);

  private Fixtures() {}

  static Value batch(String... payloads) {
    Command[] commands = new Command[payloads.length];
    for (int i = 0; i < payloads.length; i++) {
      commands[i] = new Command(100 + i, i + 1, payloads[i].getBytes(StandardCharsets.UTF_8));
    }
    return new Value.Batch(List.of(commands));
  }

  static Message.Prepare prepare() {
    return new Message.Prepare(BALLOT, 5, 1_000);
  }

  static Message.Promise promise() {
    return new Message.Promise(
        BALLOT,
        5,
        List.of(
            new LogEntry(5, OLDER, batch("set a=1", "set b=2"), false),
            new LogEntry(6, OLDER, Value.NO_OP, false),
            new LogEntry(7, OLDER, batch(""), true)),
        false,
        1_000);
  }

  static Message.Accept accept(long probe) {
    return new Message.Accept(
        BALLOT, List.of(new LogEntry(8, BALLOT, batch("job x due"), false)), 5, 2_000, probe);
  }

  static Message.Accept heartbeat() {
    return new Message.Accept(BALLOT, List.of(), 9, 2_500, 7);
  }

  static Message.Accepted accepted(long probe) {
    return new Message.Accepted(BALLOT, List.of(8L), 5, 2_000, probe);
  }

  static Message.Rejected rejected() {
    return new Message.Rejected(BALLOT, HIGHER, ReplicaId.of(3), true);
  }

  static Message.Rejected rejectedWithoutLeader() {
    return new Message.Rejected(BALLOT, HIGHER, null, false);
  }

  static Message.CatchUpRequest catchUpRequest() {
    return new Message.CatchUpRequest(BALLOT, 3);
  }

  static Message.CatchUpReply catchUpReply(int snapshotBytes, int entries) {
    byte[] image = new byte[snapshotBytes];
    new SplittableRandom(snapshotBytes).nextBytes(image);
    List<LogEntry> chosen =
        java.util.stream.LongStream.rangeClosed(1, entries)
            .mapToObj(i -> new LogEntry(100 + i, OLDER, batch("entry " + i), true))
            .toList();
    return new Message.CatchUpReply(BALLOT, new Snapshot(99, image), chosen, 100 + entries + 1);
  }

  static Message.CatchUpReply catchUpReplyWithoutSnapshot() {
    return new Message.CatchUpReply(
        BALLOT, null, List.of(new LogEntry(3, OLDER, batch("late"), true)), 4);
  }
}
