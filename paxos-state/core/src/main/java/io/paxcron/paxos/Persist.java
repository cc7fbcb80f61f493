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

  /**
   * Whether this write only marks entries the replica learned are chosen: no promise, no snapshot,
   * and every entry chosen. Such a write is the one exception to "durable before the step's
   * effects" ({@link Ready}): a chosen value stays chosen whether or not this replica remembers it,
   * and a replica that forgets re-learns it from the leader or in phase 1, where the value is among
   * the accepted ones a quorum reports. So the driver neither waits for it nor syncs it by itself;
   * it becomes durable with the next synced write, and a crash before that may lose it. Empty
   * writes are not learned-only (they write nothing).
   */
  public boolean learnedOnly() {
    if (promised != null || snapshot != null || entries.isEmpty()) {
      return false;
    }
    for (LogEntry entry : entries) {
      if (!entry.chosen()) {
        return false;
      }
    }
    return true;
  }
}
