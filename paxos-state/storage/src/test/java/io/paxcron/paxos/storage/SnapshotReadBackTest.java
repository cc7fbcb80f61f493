package io.paxcron.paxos.storage;

import static io.paxcron.paxos.storage.Fixtures.options;
import static io.paxcron.paxos.storage.Fixtures.snapshot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Snapshot;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot the store made durable can leave the heap: once its owner drops it, the image is read
 * back from the store's chunks when a catch-up or a backup needs it, whole or a slice at a time.
 */
class SnapshotReadBackTest {

  private static final int CHUNK = StoreOptions.MIN_SNAPSHOT_CHUNK_BYTES;

  @TempDir Path dir;

  @Test
  void anInstalledSnapshotLeavesTheHeapAndReadsBackTheSameBytesWholeAndInSlices() throws Exception {
    RandomGenerator random = Fixtures.random("readBack", 61);
    Snapshot snapshot = snapshot(10, 7 * CHUNK + 123, random);
    byte[] original = snapshot.data().clone();
    try (LogStore store = LogStore.open(dir, options().withSnapshotChunkBytes(CHUNK))) {
      assertTrue(snapshot.image().inMemory());
      store.write(new Persist(null, List.of(), snapshot)).join();
      assertTrue(snapshot.image().inMemory(), "the writer's copy stays until its owner drops it");
      snapshot.image().dropFromMemory();

      assertFalse(snapshot.image().inMemory(), "the installed image still held on the heap");
      assertEquals(original.length, snapshot.sizeBytes());
      assertArrayEquals(original, snapshot.data());
      for (int[] slice :
          new int[][] {{0, 1}, {CHUNK - 5, 10}, {CHUNK, CHUNK}, {3 * CHUNK + 7, 2 * CHUNK + 1}}) {
        assertArrayEquals(
            Arrays.copyOfRange(original, slice[0], slice[0] + slice[1]),
            snapshot.image().read(slice[0], slice[1]),
            "bytes " + slice[0] + "+" + slice[1]);
      }
      int tail = original.length - 200;
      assertArrayEquals(
          Arrays.copyOfRange(original, tail, original.length), snapshot.image().read(tail, 200));
    }
  }

  @Test
  void anImageANewerSnapshotReplacedSaysSoAndAClosedStoreSaysSo() throws Exception {
    RandomGenerator random = Fixtures.random("replaced", 62);
    Snapshot older = snapshot(10, 3 * CHUNK, random);
    Snapshot newer = snapshot(20, 2 * CHUNK, random);
    LogStore store = LogStore.open(dir, options().withSnapshotChunkBytes(CHUNK));
    try {
      store.write(new Persist(null, List.of(), older)).join();
      older.image().dropFromMemory();
      store.write(new Persist(null, List.of(), newer)).join();
      newer.image().dropFromMemory();
      IllegalStateException replaced = assertThrows(IllegalStateException.class, older::data);
      assertTrue(
          replaced.getMessage().contains("snapshot at slot 10")
              && replaced.getMessage().contains("no longer stored"),
          replaced.getMessage());
      assertEquals(2 * CHUNK, newer.data().length);
    } finally {
      store.close();
    }
    IllegalStateException closed = assertThrows(IllegalStateException.class, newer::data);
    assertTrue(closed.getMessage().contains("the store is closed"), closed.getMessage());
  }

  @Test
  void theSnapshotLoadedAtOpenStaysInMemoryUntilDroppedThenReadsBack() throws Exception {
    RandomGenerator random = Fixtures.random("loaded", 63);
    Snapshot snapshot = snapshot(10, 5 * CHUNK + 9, random);
    byte[] original = snapshot.data().clone();
    try (LogStore store = LogStore.open(dir, options().withSnapshotChunkBytes(CHUNK))) {
      store.write(new Persist(null, List.of(), snapshot)).join();
    }
    try (LogStore store = LogStore.open(dir, options().withSnapshotChunkBytes(CHUNK))) {
      DurableState state = store.load();
      assertTrue(state.snapshot().image().inMemory(), "a restore reads it right after the open");
      assertArrayEquals(original, state.snapshot().data());
      state.snapshot().image().dropFromMemory();
      assertFalse(state.snapshot().image().inMemory());
      assertArrayEquals(original, state.snapshot().data());
      assertArrayEquals(
          Arrays.copyOfRange(original, CHUNK - 1, 3 * CHUNK),
          state.snapshot().image().read(CHUNK - 1, 2 * CHUNK + 1));
    }
  }
}
