package io.paxcron.simkit;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.RecordCodec;
import io.paxcron.paxos.Snapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * A simulated append-only disk with a page cache: records are written at once but become durable
 * only when a sync covering them completes. A crash keeps the durable prefix and, if the simulator
 * says so, a torn copy of the first record that was still in flight — exactly what a power cut does
 * to a real write-ahead log.
 */
public final class SimDisk {

  private final List<byte[]> records = new ArrayList<>();
  private int durableCount;
  private int tornRecordsDropped;

  /** Appends a framed record; returns its index. */
  public int write(Persist persist) {
    records.add(RecordCodec.encodePersistRecord(persist));
    return records.size() - 1;
  }

  public int writtenCount() {
    return records.size();
  }

  public int durableCount() {
    return durableCount;
  }

  /** Makes every record below {@code count} durable. */
  public void syncThrough(int count) {
    durableCount = Math.max(durableCount, Math.min(count, records.size()));
  }

  /** Power loss: unsynced records vanish; with {@code tear}, half of the first one survives. */
  public void crash(boolean tear) {
    byte[] torn = null;
    if (tear && records.size() > durableCount) {
      byte[] first = records.get(durableCount);
      torn = Arrays.copyOf(first, first.length / 2);
    }
    records.subList(durableCount, records.size()).clear();
    if (torn != null) {
      records.add(torn);
    }
  }

  public int tornRecordsDropped() {
    return tornRecordsDropped;
  }

  /**
   * Reads the disk back as a starting replica does: replays every record, drops a torn last record
   * (its write was never acknowledged, because nothing is sent before a sync), and refuses a
   * corrupt record anywhere else.
   */
  public DurableState recover() {
    Ballot promised = Ballot.ZERO;
    Snapshot snapshot = Snapshot.EMPTY;
    TreeMap<Long, LogEntry> log = new TreeMap<>();
    for (int i = 0; i < records.size(); i++) {
      Persist persist;
      try {
        persist = RecordCodec.decodePersistRecord(records.get(i));
      } catch (RecordCodec.CorruptRecordException e) {
        if (i == records.size() - 1) {
          records.remove(i);
          tornRecordsDropped++;
          break;
        }
        throw new IllegalStateException(
            "simulated disk record "
                + i
                + " of "
                + records.size()
                + " is corrupt: "
                + e.getMessage());
      }
      if (persist.snapshot() != null && persist.snapshot().slot() > snapshot.slot()) {
        snapshot = persist.snapshot();
        log.headMap(snapshot.slot(), true).clear();
      }
      for (LogEntry entry : persist.entries()) {
        if (entry.slot() > snapshot.slot()) {
          log.put(entry.slot(), entry);
        }
      }
      if (persist.promised() != null) {
        promised = Ballot.max(promised, persist.promised());
      }
    }
    durableCount = records.size();
    return new DurableState(promised, snapshot, List.copyOf(log.values()));
  }
}
