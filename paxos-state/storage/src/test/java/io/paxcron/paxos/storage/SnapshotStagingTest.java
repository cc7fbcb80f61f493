package io.paxcron.paxos.storage;

import static io.paxcron.paxos.storage.Fixtures.entries;
import static io.paxcron.paxos.storage.Fixtures.entry;
import static io.paxcron.paxos.storage.Fixtures.options;
import static io.paxcron.paxos.storage.Fixtures.snapshot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.RecordCodec;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.storage.StoreException.Problem;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshots staged outside the writer and installed by a small batch (head version 2). */
class SnapshotStagingTest {

  private static final int CHUNK = StoreOptions.MIN_SNAPSHOT_CHUNK_BYTES;

  @TempDir Path dir;

  private static StoreOptions smallChunks() {
    return options().withSnapshotChunkBytes(CHUNK);
  }

  private static int chunkCount(Snapshot snapshot) {
    return (snapshot.data().length + CHUNK - 1) / CHUNK;
  }

  @Test
  void anInstalledSnapshotReadsBackTheSameBytesAfterReopen() throws Exception {
    RandomGenerator random = Fixtures.random("installReopen", 41);
    Snapshot snapshot = snapshot(10, 10 * CHUNK + 17, random);
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      store.write(entries(entry(1, 1, "a"), entry(2, 1, "b"))).join();
      store.write(new Persist(null, List.of(entry(11, 1, "c")), snapshot)).join();
    }
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      assertEquals(0, store.orphanChunksRemovedAtOpen());
      DurableState state = store.load();
      assertEquals(10, state.snapshot().slot());
      assertArrayEquals(snapshot.data(), state.snapshot().data());
      assertEquals(List.of(11L), state.log().stream().map(LogEntry::slot).toList());
    }
    try (RawStore raw = new RawStore(dir)) {
      byte[] head =
          RecordCodec.unframe(
              io.paxcron.paxos.RecordKind.STORE_RECORD,
              raw.get(StoreLayout.SNAPSHOT_FAMILY, new byte[] {0}));
      assertEquals(StoreLayout.HEAD_VERSION, head[0], "the head starts with its version");
      assertNotNull(raw.get(StoreLayout.SNAPSHOT_FAMILY, StoreLayout.chunkKey(10, 0)));
      assertNotNull(raw.get(StoreLayout.SNAPSHOT_FAMILY, StoreLayout.chunkKey(10, 10)));
    }
  }

  @Test
  void aLogWriteSubmittedWhileChunksAreStagedIsDurableBeforeTheInstall() throws Exception {
    RandomGenerator random = Fixtures.random("logDuringStaging", 42);
    // More than one staging batch, so the hook runs between two of them.
    Snapshot snapshot = snapshot(10, LogStore.STAGING_BATCH_BYTES + 3 * CHUNK, random);
    CountDownLatch stagingPaused = new CountDownLatch(1);
    CountDownLatch resumeStaging = new CountDownLatch(1);
    List<String> events = new CopyOnWriteArrayList<>();
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      store.stagingHook =
          (slot, written, count) -> {
            if (written < count && stagingPaused.getCount() > 0) {
              stagingPaused.countDown();
              try {
                assertTrue(resumeStaging.await(60, TimeUnit.SECONDS), "the test never resumed");
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          };
      AtomicReference<CompletableFuture<Void>> install = new AtomicReference<>();
      Thread snapshotThread =
          new Thread(
              () -> {
                CompletableFuture<Void> installed =
                    store.write(new Persist(null, List.of(), snapshot));
                install.set(installed.whenComplete((ok, error) -> events.add("install")));
              },
              "test-snapshot-thread");
      snapshotThread.start();
      assertTrue(stagingPaused.await(60, TimeUnit.SECONDS), "staging never reached its hook");

      CompletableFuture<Void> logWrite =
          store
              .write(entries(entry(11, 1, "behind")))
              .whenComplete((ok, error) -> events.add("log"));
      // The staging is held between two batches: the log write must still become durable.
      logWrite.get(60, TimeUnit.SECONDS);
      assertNull(install.get(), "the install was submitted before its chunks were written");

      resumeStaging.countDown();
      snapshotThread.join(TimeUnit.SECONDS.toMillis(60));
      assertFalse(snapshotThread.isAlive());
      install.get().get(60, TimeUnit.SECONDS);
      assertEquals(List.of("log", "install"), events);
      DurableState state = store.load();
      assertEquals(10, state.snapshot().slot());
      assertArrayEquals(snapshot.data(), state.snapshot().data());
      assertEquals(List.of(11L), state.log().stream().map(LogEntry::slot).toList());
    }
  }

  @Test
  void aStagedSnapshotIsNotWrittenAgainByItsInstall() throws Exception {
    RandomGenerator random = Fixtures.random("stagedOnce", 43);
    Snapshot snapshot = snapshot(7, 5 * CHUNK, random);
    AtomicInteger batches = new AtomicInteger();
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      store.stagingHook = (slot, written, count) -> batches.incrementAndGet();
      store.stageSnapshot(snapshot);
      assertEquals(1, batches.get());
      // The core adds the membership: another Snapshot object around the same image array.
      store.write(new Persist(null, List.of(), snapshot.withMembership(null))).join();
      assertEquals(1, batches.get(), "the install staged the chunks again");
      assertArrayEquals(snapshot.data(), store.load().snapshot().data());
    }
  }

  @Test
  void aCrashBetweenStagingAndInstallKeepsTheOldSnapshotAndRemovesTheOrphans() throws Exception {
    RandomGenerator random = Fixtures.random("crashBeforeInstall", 44);
    Snapshot installed = snapshot(5, 3 * CHUNK + 1, random);
    Snapshot staged = snapshot(20, 6 * CHUNK, random);
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      store.write(new Persist(null, List.of(entry(6, 1, "x"), entry(7, 1, "y")), installed)).join();
      store.stageSnapshot(staged);
      // "Crash": the store closes without the install ever being submitted.
    }
    try (RawStore raw = new RawStore(dir)) {
      assertNotNull(raw.get(StoreLayout.SNAPSHOT_FAMILY, StoreLayout.chunkKey(20, 0)));
    }
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      assertEquals(chunkCount(staged), store.orphanChunksRemovedAtOpen());
      DurableState state = store.load();
      assertEquals(5, state.snapshot().slot());
      assertArrayEquals(installed.data(), state.snapshot().data());
      assertEquals(List.of(6L, 7L), state.log().stream().map(LogEntry::slot).toList());
    }
    try (RawStore raw = new RawStore(dir)) {
      for (int index = 0; index < chunkCount(staged); index++) {
        assertNull(raw.get(StoreLayout.SNAPSHOT_FAMILY, StoreLayout.chunkKey(20, index)));
      }
      assertNotNull(raw.get(StoreLayout.SNAPSHOT_FAMILY, StoreLayout.chunkKey(5, 0)));
    }
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      assertEquals(0, store.orphanChunksRemovedAtOpen());
    }
  }

  @Test
  void orphansWithoutAnyInstalledSnapshotAreRemovedToo() throws Exception {
    RandomGenerator random = Fixtures.random("orphansNoHead", 45);
    Snapshot staged = snapshot(3, 2 * CHUNK, random);
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      store.write(entries(entry(1, 1, "a"))).join();
      store.stageSnapshot(staged);
    }
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      assertEquals(2, store.orphanChunksRemovedAtOpen());
      assertEquals(Snapshot.EMPTY, store.load().snapshot());
      assertEquals(1, store.load().log().size());
    }
  }

  /** The first layout, written the way the code before head version 2 wrote it. */
  private static void writeFirstLayoutSnapshot(RawStore raw, long slot, byte[] image, int chunk)
      throws Exception {
    int count = (image.length + chunk - 1) / chunk;
    for (int index = 0; index < count; index++) {
      byte[] key = ByteBuffer.allocate(5).put((byte) 1).putInt(index).array();
      int from = index * chunk;
      byte[] part = java.util.Arrays.copyOfRange(image, from, Math.min(image.length, from + chunk));
      raw.put(StoreLayout.SNAPSHOT_FAMILY, key, Fixtures.formatOneFrame(part));
    }
    CRC32C crc = new CRC32C();
    crc.update(image);
    byte[] head =
        ByteBuffer.allocate(20)
            .putLong(slot)
            .putInt(image.length)
            .putInt(count)
            .putInt((int) crc.getValue())
            .array();
    raw.put(StoreLayout.SNAPSHOT_FAMILY, new byte[] {0}, Fixtures.formatOneFrame(head));
  }

  @Test
  void aFirstLayoutStoreOpensReadsAndIsMigratedByTheNextInstall() throws Exception {
    RandomGenerator random = Fixtures.random("firstLayout", 46);
    byte[] old = snapshot(2, 4 * CHUNK + 9, random).data();
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      store.write(entries(entry(3, 1, "c"), entry(4, 1, "d"))).join();
    }
    try (RawStore raw = new RawStore(dir)) {
      writeFirstLayoutSnapshot(raw, 2, old, CHUNK);
    }
    Snapshot newer = snapshot(4, 3 * CHUNK, random);
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      assertEquals(0, store.orphanChunksRemovedAtOpen());
      DurableState state = store.load();
      assertEquals(2, state.snapshot().slot());
      assertArrayEquals(old, state.snapshot().data());
      assertEquals(List.of(3L, 4L), state.log().stream().map(LogEntry::slot).toList());
      store.write(new Persist(null, List.of(entry(5, 1, "e")), newer)).join();
    }
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      DurableState state = store.load();
      assertEquals(4, state.snapshot().slot());
      assertArrayEquals(newer.data(), state.snapshot().data());
      assertEquals(List.of(5L), state.log().stream().map(LogEntry::slot).toList());
    }
    try (RawStore raw = new RawStore(dir)) {
      for (int index = 0; index < 5; index++) {
        byte[] oldKey = ByteBuffer.allocate(5).put((byte) 1).putInt(index).array();
        assertNull(raw.get(StoreLayout.SNAPSHOT_FAMILY, oldKey), "first-layout chunk " + index);
      }
      byte[] head =
          RecordCodec.unframe(
              io.paxcron.paxos.RecordKind.STORE_RECORD,
              raw.get(StoreLayout.SNAPSHOT_FAMILY, new byte[] {0}));
      assertEquals(21, head.length);
      assertEquals(StoreLayout.HEAD_VERSION, head[0]);
    }
  }

  @Test
  void aHeadOfAnUnknownVersionIsRefusedNamingTheDirAndTheVersion() throws Exception {
    try (LogStore store = LogStore.open(dir, smallChunks())) {
      store.write(entries(entry(1, 1, "a"))).join();
    }
    try (RawStore raw = new RawStore(dir)) {
      byte[] head = ByteBuffer.allocate(25).put((byte) 7).putLong(1).array();
      raw.put(
          StoreLayout.SNAPSHOT_FAMILY,
          new byte[] {0},
          RecordCodec.frame(io.paxcron.paxos.RecordKind.STORE_RECORD, head));
    }
    StoreException refused =
        assertThrows(StoreException.class, () -> LogStore.open(dir, smallChunks()).close());
    assertEquals(Problem.FORMAT_VERSION_MISMATCH, refused.problem(), refused.getMessage());
    String message = refused.getMessage();
    assertTrue(message.startsWith(dir.toAbsolutePath().toString()), message);
    assertTrue(message.contains("snapshot head format version 7"), message);
    assertTrue(message.contains("column family 'snapshot'"), message);
  }
}
