package io.paxcron.paxos.storage;

import static io.paxcron.paxos.storage.Fixtures.entries;
import static io.paxcron.paxos.storage.Fixtures.entry;
import static io.paxcron.paxos.storage.Fixtures.options;
import static io.paxcron.paxos.storage.Fixtures.random;
import static io.paxcron.paxos.storage.Fixtures.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Snapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;

class WriteFailureTest {

  @TempDir Path dir;

  private static StoreFailedException failureOf(CompletableFuture<Void> future) {
    CompletionException e = assertThrows(CompletionException.class, future::join);
    return assertInstanceOf(StoreFailedException.class, e.getCause());
  }

  @Test
  void anIoErrorFailsTheWriteAndEveryLaterWriteWithTheSameCause() throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      store.write(entries(entry(1, 1, "a"))).join();
      // A real disk-full error needs a small filesystem (see aFullDiskFailsTheStore); this
      // injects the same RocksDB status inside the writer.
      store.writeHook =
          groupSize -> {
            throw new RocksDBException(
                "IO error: No space left on device: While appending to file: 000004.log",
                new Status(Status.Code.IOError, Status.SubCode.NoSpace, "No space left on device"));
          };

      StoreFailedException failed = failureOf(store.write(entries(entry(2, 1, "b"))));
      store.writeHook = LogStore.WriteHook.NONE;
      StoreFailedException later = failureOf(store.write(entries(entry(3, 1, "c"))));

      assertSame(failed, later);
      assertEquals(StoreException.Problem.STORE_FAILED, failed.problem());
      assertTrue(failed.getMessage().contains("No space left on device"), failed.getMessage());
      assertTrue(failed.getMessage().contains("the replica must stop"), failed.getMessage());
      assertSame(failed, store.failure().orElseThrow());
      assertInstanceOf(RocksDBException.class, failed.getCause());
    }
    try (LogStore store = LogStore.open(dir, options())) {
      assertEquals(
          List.of(entry(1, 1, "a")), store.load().log(), "nothing of the failed batch is durable");
    }
  }

  /**
   * A replica takes a snapshot's image, encodes it off its loop, then writes it: a crash anywhere
   * before that write is durable (here the write fails as the process dies) must leave the previous
   * snapshot and every log entry above it, so the replica restarts from them.
   */
  @Test
  void aSnapshotWriteThatNeverBecameDurableLeavesThePreviousSnapshotAndTheWholeLog()
      throws Exception {
    var random = random("aSnapshotWriteThatNeverBecameDurable", 16);
    Snapshot previous = snapshot(5, 3 * StoreOptions.MIN_SNAPSHOT_CHUNK_BYTES + 7, random);
    List<io.paxcron.paxos.LogEntry> above = new ArrayList<>();
    try (LogStore store =
        LogStore.open(
            dir, options().withSnapshotChunkBytes(StoreOptions.MIN_SNAPSHOT_CHUNK_BYTES))) {
      for (long slot = 1; slot <= 5; slot++) {
        store.write(entries(entry(slot, 1, "before-" + slot))).join();
      }
      store.write(new Persist(null, List.of(), previous)).join();
      for (long slot = 6; slot <= 20; slot++) {
        above.add(entry(slot, 1, "after-" + slot));
        store.write(entries(above.getLast())).join();
      }
      store.writeHook =
          groupSize -> {
            throw new RocksDBException(
                "IO error: the process died",
                new Status(Status.Code.IOError, Status.SubCode.None, "the process died"));
          };
      Snapshot newer = snapshot(15, 5 * StoreOptions.MIN_SNAPSHOT_CHUNK_BYTES, random);
      failureOf(store.write(new Persist(null, List.of(), newer)));
    }
    try (LogStore store = LogStore.open(dir, options())) {
      var state = store.load();
      assertEquals(previous.slot(), state.snapshot().slot());
      assertTrue(
          java.util.Arrays.equals(previous.data(), state.snapshot().data()),
          "the previous image, intact");
      assertEquals(above, state.log(), "and every entry above it, none truncated");
    }
  }

  @Test
  void aBrokenInvariantInsideTheWriterAlsoFailsTheStore() throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      store.writeHook =
          groupSize -> {
            throw new IllegalStateException("planted");
          };

      StoreFailedException failed = failureOf(store.write(entries(entry(1, 1, "a"))));

      assertTrue(failed.getMessage().contains("planted"), failed.getMessage());
    }
  }

  /**
   * A real ENOSPC: run with {@code -Dpaxcron.test.smallFilesystem=DIR}, DIR on a filesystem of a
   * few MiB (e.g. {@code mount -t tmpfs -o size=8m tmpfs DIR}). Skipped otherwise.
   */
  @Test
  void aFullDiskFailsTheStore() throws Exception {
    String small = System.getProperty("paxcron.test.smallFilesystem");
    assumeTrue(small != null, "set -Dpaxcron.test.smallFilesystem to a small filesystem");
    Path data = Files.createTempDirectory(Path.of(small), "store");
    try (LogStore store = LogStore.open(data, options())) {
      List<CompletableFuture<Void>> writes = new ArrayList<>();
      byte[] image = new byte[512 << 10];
      StoreFailedException failed = null;
      for (long slot = 1; slot < 10_000 && failed == null; slot++) {
        image[0] = (byte) slot;
        CompletableFuture<Void> write =
            store.write(new Persist(null, List.of(), new Snapshot(slot, image.clone())));
        writes.add(write);
        try {
          write.join();
        } catch (CompletionException e) {
          failed = assertInstanceOf(StoreFailedException.class, e.getCause());
        }
      }
      assertTrue(failed != null, "the small filesystem filled up");
      System.out.println("disk full reported as: " + failed.getMessage());
      assertSame(failed, failureOf(store.write(entries(entry(1, 1, "a")))));
    }
  }
}
