package io.paxcron.scheduler.sim;

import io.paxcron.paxos.RecordCodec;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * A simulated agent's state file: each write is a whole image (fence and launch table), framed with
 * a checksum, that becomes durable only when a sync covering it completes. A crash keeps the last
 * durable image and, if told to tear, half of the first unsynced one, which recovery detects and
 * drops — the same power-cut model as the replicas' {@code SimDisk}.
 */
final class AgentDisk {

    private byte[] durable;
    private final ArrayDeque<byte[]> unsynced = new ArrayDeque<>();
    private byte[] torn;
    private long written;
    private long synced;
    private int tornImagesDropped;

    /** Writes an image; returns the write count a sync must reach to make it durable. */
    long write(byte[] image) {
        unsynced.addLast(RecordCodec.frame(image));
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
            durable = unsynced.pollFirst();
            synced++;
        }
    }

    /** Power loss: unsynced images vanish; with {@code tear}, half of the first one survives. */
    void crash(boolean tear) {
        torn = tear && !unsynced.isEmpty()
                ? Arrays.copyOf(unsynced.peekFirst(), unsynced.peekFirst().length / 2)
                : null;
        unsynced.clear();
        written = synced;
    }

    int tornImagesDropped() {
        return tornImagesDropped;
    }

    /** The last intact image, or {@code null} for a fresh agent; a torn tail is detected and dropped. */
    byte[] recover() {
        if (torn != null) {
            try {
                RecordCodec.unframe(torn);
                throw new IllegalStateException("a torn agent image passed its checksum");
            } catch (RecordCodec.CorruptRecordException expected) {
                tornImagesDropped++;
            }
            torn = null;
        }
        if (durable == null) {
            return null;
        }
        try {
            return RecordCodec.unframe(durable);
        } catch (RecordCodec.CorruptRecordException e) {
            throw new IllegalStateException("the durable agent image is corrupt: " + e.getMessage(), e);
        }
    }
}
