package io.paxcron.paxos;

import java.util.List;

/**
 * What a replica finds on its disk when it starts: the promise it made, its latest snapshot and the
 * log entries above that snapshot. A fresh replica starts from {@link #EMPTY}.
 */
public record DurableState(Ballot promised, Snapshot snapshot, List<LogEntry> log) {

  public static final DurableState EMPTY = new DurableState(Ballot.ZERO, Snapshot.EMPTY, List.of());

  public DurableState {
    log = List.copyOf(log);
    long previous = snapshot.slot();
    for (LogEntry entry : log) {
      if (entry.slot() <= previous) {
        throw new IllegalArgumentException(
            "durable log must be ascending and above the snapshot slot "
                + snapshot.slot()
                + ", found slot "
                + entry.slot()
                + " after "
                + previous);
      }
      previous = entry.slot();
    }
  }
}
