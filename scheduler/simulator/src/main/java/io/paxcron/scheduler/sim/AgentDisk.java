package io.paxcron.scheduler.sim;

import io.paxcron.agent.core.CorruptJournalException;
import io.paxcron.agent.core.JournalCodec;
import io.paxcron.agent.core.JournalRecord;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;

/**
 * A simulated agent's journal file, in the real agent's format ({@link JournalCodec}): appends of
 * framed records, and compactions that replace the whole file (the real agent writes a snapshot to
 * a new file and renames it, so a compaction is atomic). A write becomes durable only when a sync
 * covering it completes. A crash keeps the durable bytes and, if told to tear, a cut-short prefix
 * of the first unsynced append — never a whole frame of it — which recovery detects and drops: the
 * same power-cut model as the replicas' {@code SimDisk}.
 */
final class AgentDisk {

  private record Write(byte[] bytes, boolean replace) {}

  private byte[] durable = new byte[0];
  private final ArrayDeque<Write> unsynced = new ArrayDeque<>();
  private byte[] torn;
  private long written;
  private long synced;
  private int tornTailsDropped;

  /** Appends framed records; returns the write count a sync must reach to make them durable. */
  long append(byte[] frames) {
    unsynced.addLast(new Write(frames, false));
    written++;
    return written;
  }

  /** Replaces the whole file with {@code image} (compaction). */
  long replace(byte[] image) {
    unsynced.addLast(new Write(image, true));
    written++;
    return written;
  }

  long writtenCount() {
    return written;
  }

  long durableCount() {
    return synced;
  }

  /** Makes every write up to {@code count} durable. */
  void syncThrough(long count) {
    while (synced < Math.min(count, written)) {
      Write write = unsynced.pollFirst();
      if (write.replace()) {
        durable = write.bytes();
      } else {
        byte[] grown = Arrays.copyOf(durable, durable.length + write.bytes().length);
        System.arraycopy(write.bytes(), 0, grown, durable.length, write.bytes().length);
        durable = grown;
      }
      synced++;
    }
  }

  /**
   * Power loss: unsynced writes vanish; with {@code tear}, part of the first frame of the first
   * append survives.
   */
  void crash(boolean tear) {
    Write first = unsynced.peekFirst();
    if (tear && first != null && !first.replace()) {
      int frameLength = ByteBuffer.wrap(first.bytes()).getInt(0) + 8;
      torn =
          Arrays.copyOf(
              first.bytes(), Math.max(1, Math.min(first.bytes().length / 2, frameLength - 1)));
    } else {
      torn = null;
    }
    unsynced.clear();
    written = synced;
  }

  int tornTailsDropped() {
    return tornTailsDropped;
  }

  /** The journal's records; a torn tail is detected, dropped and truncated away. */
  List<JournalRecord> recover() {
    byte[] file = durable;
    if (torn != null) {
      file = Arrays.copyOf(durable, durable.length + torn.length);
      System.arraycopy(torn, 0, file, durable.length, torn.length);
      torn = null;
    }
    try {
      JournalCodec.Recovered recovered = JournalCodec.decode(file, "agent.journal");
      if (recovered.tornTail()) {
        tornTailsDropped++;
        if (recovered.validLength() != durable.length) {
          throw new IllegalStateException(
              "recovery kept "
                  + recovered.validLength()
                  + " bytes of a journal whose durable part is "
                  + durable.length);
        }
      }
      return recovered.records();
    } catch (CorruptJournalException e) {
      throw new IllegalStateException("the durable agent journal is corrupt: " + e.getMessage(), e);
    }
  }
}
