package io.paxcron.paxos;

import java.util.List;

/**
 * The writes one step of the core requires to be durable before any of its messages leave and
 * before any of its chosen entries are applied (etcd raft's Ready contract: persist, then send,
 * then apply). The storage applies them as one atomic batch, in this order: install {@code
 * snapshot} and drop every log entry at or below its slot, upsert {@code entries}, then record
 * {@code promised}. Null fields are unchanged.
 */
public record Persist(Ballot promised, List<LogEntry> entries, Snapshot snapshot) {
  public Persist {
    entries = List.copyOf(entries);
    if (snapshot != null) {
      for (LogEntry entry : entries) {
        if (entry.slot() <= snapshot.slot()) {
          throw new IllegalArgumentException(
              "entry " + entry.slot() + " lies below the snapshot at " + snapshot.slot());
        }
      }
    }
  }

  public boolean isEmpty() {
    return promised == null && entries.isEmpty() && snapshot == null;
  }
}
