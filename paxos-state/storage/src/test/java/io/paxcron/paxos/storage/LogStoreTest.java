package io.paxcron.paxos.storage;

import static io.paxcron.paxos.storage.Fixtures.entries;
import static io.paxcron.paxos.storage.Fixtures.entry;
import static io.paxcron.paxos.storage.Fixtures.options;
import static io.paxcron.paxos.storage.Fixtures.promise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Snapshot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogStoreTest {

  @TempDir Path dir;

  @Test
  void aFreshStoreLoadsTheEmptyDurableState() throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      assertEquals(DurableState.EMPTY, store.load());
    }
  }

  @Test
  void writtenPromiseAndEntriesLoadBackInSlotOrder() throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      store.write(entries(entry(3, 1, "c"), entry(1, 1, "a"))).join();
      store.write(new Persist(new Ballot(4, 1), List.of(entry(2, 4, "b")), null)).join();
      store.write(entries(entry(1, 4, "a2").asChosen())).join();

      DurableState state = store.load();

      assertEquals(new Ballot(4, 1), state.promised());
      assertEquals(Snapshot.EMPTY, state.snapshot());
      assertEquals(
          List.of(entry(1, 4, "a2").asChosen(), entry(2, 4, "b"), entry(3, 1, "c")), state.log());
    }
  }

  @Test
  void aSnapshotInstalledInABatchDropsEveryEntryAtOrBelowItsSlotBeforeTheBatchsEntries()
      throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      store
          .write(entries(entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 1, "c"), entry(4, 1, "d")))
          .join();
      Snapshot snapshot = new Snapshot(3, new byte[] {9, 9, 9});

      store.write(new Persist(new Ballot(2, 0), List.of(entry(5, 2, "e")), snapshot)).join();

      DurableState state = store.load();
      assertEquals(snapshot, state.snapshot());
      assertEquals(List.of(entry(4, 1, "d"), entry(5, 2, "e")), state.log());
      assertEquals(new Ballot(2, 0), state.promised());
    }
  }

  @Test
  void reopeningAfterCloseKeepsPromiseSnapshotAndLog() throws Exception {
    DurableState before;
    try (LogStore store = LogStore.open(dir, options())) {
      store.write(entries(entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 1, "c"))).join();
      store.write(new Persist(new Ballot(7, 2), List.of(), new Snapshot(1, new byte[] {1}))).join();
      before = store.load();
    }
    try (LogStore store = LogStore.open(dir, options())) {
      assertEquals(before, store.load());
      store.write(entries(entry(4, 7, "d"))).join();
    }
    try (LogStore store = LogStore.open(dir, options())) {
      assertEquals(List.of(2L, 3L, 4L), store.load().log().stream().map(LogEntry::slot).toList());
    }
  }

  @Test
  void aSnapshotLargerThanOneChunkIsReassembledAndAReplacementLeavesNoStaleChunks()
      throws Exception {
    RandomGenerator random = Fixtures.random("chunks", 11);
    StoreOptions small = options().withSnapshotChunkBytes(StoreOptions.MIN_SNAPSHOT_CHUNK_BYTES);
    Snapshot large = Fixtures.snapshot(10, 10 * StoreOptions.MIN_SNAPSHOT_CHUNK_BYTES + 17, random);
    Snapshot smaller = Fixtures.snapshot(20, StoreOptions.MIN_SNAPSHOT_CHUNK_BYTES + 1, random);
    try (LogStore store = LogStore.open(dir, small)) {
      store.write(new Persist(null, List.of(), large)).join();
      assertEquals(large, store.load().snapshot());
      store.write(new Persist(null, List.of(), smaller)).join();
    }
    try (LogStore store = LogStore.open(dir, small)) {
      assertEquals(smaller, store.load().snapshot());
    }
  }

  @Test
  void aSnapshotNoNewerThanTheInstalledOneAndEntriesBelowItAreIgnoredAsTheSimulatedDiskDoes()
      throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      store.write(new Persist(null, List.of(), new Snapshot(5, new byte[] {5}))).join();
      store
          .write(new Persist(null, List.of(entry(6, 1, "f")), new Snapshot(4, new byte[] {4})))
          .join();
      store.write(entries(entry(3, 1, "c"))).join();
      store.write(promise(new Ballot(3, 1))).join();
      store.write(promise(new Ballot(2, 2))).join();

      DurableState state = store.load();
      assertEquals(new Snapshot(5, new byte[] {5}), state.snapshot());
      assertEquals(List.of(entry(6, 1, "f")), state.log());
      assertEquals(new Ballot(3, 1), state.promised());
    }
  }

  @Test
  void randomSequencesOfPersistsLoadAsTheSimulatedDiskRecoversThem() throws Exception {
    RandomGenerator random = Fixtures.random("model", 20261121);
    Model model = new Model();
    try (LogStore store = LogStore.open(dir, options())) {
      List<CompletableFuture<Void>> pending = new ArrayList<>();
      for (int step = 0; step < 300; step++) {
        Persist persist = randomPersist(random, model);
        model.apply(persist);
        pending.add(store.write(persist));
        if (random.nextInt(10) == 0) {
          CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
          assertEquals(model.state(), store.load(), "step " + step);
        }
      }
      CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
      assertEquals(model.state(), store.load());
    }
    try (LogStore store = LogStore.open(dir, options())) {
      assertEquals(model.state(), store.load());
    }
  }

  @Test
  void anEmptyPersistCompletesInOrderWithoutASync() throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      store.write(new Persist(null, List.of(), null)).join();
      assertEquals(0, store.stats().syncedBatches());
      assertEquals(1, store.stats().persistsWritten());
    }
  }

  @Test
  void aWriteOfChosenMarksAloneIsNotSyncedAndTheNextSyncedWriteCarriesIt() throws Exception {
    LogEntry accepted = entry(1, 1, "a");
    try (LogStore store = LogStore.open(dir, options())) {
      store.write(entries(accepted)).join();
      assertEquals(1, store.stats().syncedBatches());
      store.write(entries(accepted.asChosen())).join();
      assertEquals(1, store.stats().syncedBatches(), "a learned-only write waits for no fsync");
      assertEquals(1, store.stats().unsyncedBatches());
      store.write(entries(entry(2, 1, "b"))).join();
      assertEquals(2, store.stats().syncedBatches(), "an accepted entry is synced as before");
      // A mark riding with an entry that must be durable is synced with it.
      store.write(entries(entry(2, 1, "b").asChosen(), entry(3, 1, "c"))).join();
      assertEquals(3, store.stats().syncedBatches());
      assertEquals(1, store.stats().unsyncedBatches());
    }
    try (LogStore store = LogStore.open(dir, options())) {
      assertEquals(
          List.of(accepted.asChosen(), entry(2, 1, "b").asChosen(), entry(3, 1, "c")),
          store.load().log());
    }
  }

  @Test
  void writingToAClosedStoreIsAProgrammerError() throws Exception {
    LogStore store = LogStore.open(dir, options());
    store.close();
    store.close();
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> store.write(entries(entry(1, 1, "a"))));
    assertEquals("the store in " + store.dataDir() + " is closed", e.getMessage());
    assertThrows(IllegalStateException.class, store::load);
  }

  private static Persist randomPersist(RandomGenerator random, Model model) {
    Ballot promised =
        random.nextInt(4) == 0 ? new Ballot(random.nextInt(20), random.nextInt(3)) : null;
    Snapshot snapshot = null;
    long floor = model.snapshot.slot();
    if (random.nextInt(12) == 0) {
      long slot = Math.max(0, floor + random.nextInt(-3, 10));
      snapshot = Fixtures.snapshot(slot, random.nextInt(300), random);
    }
    long lowest = Math.max(1, snapshot == null ? floor - 2 : snapshot.slot() + 1);
    List<LogEntry> entries = new ArrayList<>();
    TreeMap<Long, LogEntry> bySlot = new TreeMap<>();
    int count = random.nextInt(4);
    for (int i = 0; i < count; i++) {
      long slot = lowest + random.nextInt(12);
      bySlot.put(slot, Fixtures.randomEntry(random, slot));
    }
    entries.addAll(bySlot.values());
    return new Persist(promised, entries, snapshot);
  }

  /** SimDisk.recover's rules, applied to one Persist at a time: the store must agree. */
  private static final class Model {
    Ballot promised = Ballot.ZERO;
    Snapshot snapshot = Snapshot.EMPTY;
    final TreeMap<Long, LogEntry> log = new TreeMap<>();

    void apply(Persist persist) {
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

    DurableState state() {
      return new DurableState(promised, snapshot, List.copyOf(log.values()));
    }
  }
}
