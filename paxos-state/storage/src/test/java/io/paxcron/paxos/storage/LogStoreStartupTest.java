package io.paxcron.paxos.storage;

import static io.paxcron.paxos.storage.Fixtures.entries;
import static io.paxcron.paxos.storage.Fixtures.entry;
import static io.paxcron.paxos.storage.Fixtures.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.RecordCodec;
import io.paxcron.paxos.RecordKind;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.storage.StoreException.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogStoreStartupTest {

  @TempDir Path dir;

  private void createStoreWithThreeEntries() throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      store.write(entries(entry(1, 1, "a"), entry(2, 1, "b"), entry(3, 1, "c"))).join();
    }
  }

  private StoreException refusal() {
    return assertThrows(StoreException.class, () -> LogStore.open(dir, options()).close());
  }

  private void assertNames(StoreException e, Problem problem, String... fragments) {
    assertEquals(problem, e.problem(), e.getMessage());
    assertTrue(e.getMessage().startsWith(dir.toAbsolutePath().toString()), e.getMessage());
    for (String fragment : fragments) {
      assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
    }
  }

  @Test
  void refusesToStartOnAFlippedByteInALogRecordNamingTheColumnFamilyAndSlot() throws Exception {
    createStoreWithThreeEntries();
    try (RawStore raw = new RawStore(dir)) {
      raw.flipByte(
          StoreLayout.LOG_FAMILY, StoreLayout.slotKey(2), io.paxcron.paxos.Frame.HEADER_BYTES + 5);
    }

    assertNames(
        refusal(),
        Problem.CORRUPT_RECORD,
        "column family 'log', slot 2",
        "store record, format version 2: checksum mismatch");
  }

  @Test
  void aStoreWhoseRecordsHaveTheFormatOneFrameStillOpensAndReadsTheSameState() throws Exception {
    createStoreWithThreeEntries();
    DurableState before;
    try (LogStore store = LogStore.open(dir, options())) {
      before = store.load();
    }
    try (RawStore raw = new RawStore(dir)) {
      for (byte[] key :
          List.of(
              StoreLayout.FORMAT_VERSION_KEY,
              StoreLayout.CLUSTER_ID_KEY,
              StoreLayout.REPLICA_ID_KEY)) {
        raw.put(
            StoreLayout.META_FAMILY,
            key,
            Fixtures.formatOneFrame(
                RecordCodec.unframe(
                    RecordKind.STORE_RECORD, raw.get(StoreLayout.META_FAMILY, key))));
      }
      for (long slot = 1; slot <= 3; slot++) {
        byte[] key = StoreLayout.slotKey(slot);
        raw.put(
            StoreLayout.LOG_FAMILY,
            key,
            Fixtures.formatOneFrame(
                RecordCodec.unframe(
                    RecordKind.STORE_RECORD, raw.get(StoreLayout.LOG_FAMILY, key))));
        assertEquals(1, raw.get(StoreLayout.LOG_FAMILY, key)[0]);
      }
    }
    try (LogStore store = LogStore.open(dir, options())) {
      DurableState after = store.load();
      assertEquals(before.log(), after.log());
      assertEquals(before.promised(), after.promised());
    }
  }

  @Test
  void aStoreRecordOfAFutureFormatVersionIsRefusedNamingTheVersions() throws Exception {
    createStoreWithThreeEntries();
    try (RawStore raw = new RawStore(dir)) {
      byte[] value = raw.get(StoreLayout.LOG_FAMILY, StoreLayout.slotKey(2));
      value[1] = 3;
      raw.put(StoreLayout.LOG_FAMILY, StoreLayout.slotKey(2), value);
    }
    assertNames(
        refusal(),
        Problem.CORRUPT_RECORD,
        "column family 'log', slot 2",
        "store record: format version 3 is not one this build reads (versions 1..2)");
  }

  @Test
  void refusesToStartOnATornLogRecord() throws Exception {
    createStoreWithThreeEntries();
    try (RawStore raw = new RawStore(dir)) {
      byte[] value = raw.get(StoreLayout.LOG_FAMILY, StoreLayout.slotKey(3));
      raw.put(
          StoreLayout.LOG_FAMILY,
          StoreLayout.slotKey(3),
          java.util.Arrays.copyOf(value, value.length / 2));
    }

    assertNames(refusal(), Problem.CORRUPT_RECORD, "column family 'log', slot 3", "torn write");
  }

  @Test
  void refusesToStartOnAFlippedByteInASnapshotChunk() throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      store.write(new Persist(null, List.of(), new Snapshot(4, new byte[100]))).join();
    }
    try (RawStore raw = new RawStore(dir)) {
      raw.flipByte(StoreLayout.SNAPSHOT_FAMILY, StoreLayout.chunkKey(4, 0), 50);
    }

    assertNames(
        refusal(),
        Problem.CORRUPT_RECORD,
        "column family 'snapshot'",
        "chunk 0",
        "snapshot at slot 4",
        "checksum mismatch");
  }

  @Test
  void refusesToStartOnAFlippedByteInAnSstFileUsingRocksDbsOwnChecksum() throws Exception {
    String marker = "marker:ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz";
    try (LogStore store = LogStore.open(dir, options())) {
      store.write(entries(entry(1, 1, marker))).join();
    }
    // Reopening replays the write-ahead log into an SST file.
    LogStore.open(dir, options()).close();
    Path sst = null;
    byte[] bytes = null;
    byte[] needle = marker.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".sst")).toList()) {
        byte[] content = Files.readAllBytes(file);
        if (indexOf(content, needle) >= 0) {
          sst = file;
          bytes = content;
        }
      }
    }
    assertTrue(sst != null, "an SST holds the record uncompressed");
    int at = indexOf(bytes, needle);
    bytes[at + 10] ^= 0x01;
    Files.write(sst, bytes);

    assertNames(
        refusal(),
        Problem.CORRUPT_RECORD,
        "reading column family 'log' failed: Corruption",
        "block checksum mismatch",
        sst.getFileName().toString());
  }

  @Test
  void refusesToStartOnAFormatVersionMismatch() throws Exception {
    createStoreWithThreeEntries();
    try (RawStore raw = new RawStore(dir)) {
      raw.put(
          StoreLayout.META_FAMILY,
          StoreLayout.FORMAT_VERSION_KEY,
          StoreLayout.frameInt(LogStore.FORMAT_VERSION + 1));
    }

    assertNames(
        refusal(),
        Problem.FORMAT_VERSION_MISMATCH,
        "storage format version " + (LogStore.FORMAT_VERSION + 1),
        "reads only version " + LogStore.FORMAT_VERSION);
  }

  @Test
  void refusesToStartWithAnotherClustersStore() throws Exception {
    createStoreWithThreeEntries();

    StoreException e =
        assertThrows(
            StoreException.class,
            () -> LogStore.open(dir, StoreOptions.defaults("other-cluster", Fixtures.REPLICA)));

    assertNames(
        e,
        Problem.CLUSTER_ID_MISMATCH,
        "cluster '" + Fixtures.CLUSTER + "'",
        "cluster 'other-cluster'");
  }

  @Test
  void refusesToStartWithAnotherReplicasStore() throws Exception {
    createStoreWithThreeEntries();

    StoreException e =
        assertThrows(
            StoreException.class,
            () -> LogStore.open(dir, StoreOptions.defaults(Fixtures.CLUSTER, 0)));

    assertNames(e, Problem.REPLICA_ID_MISMATCH, "replica " + Fixtures.REPLICA, "as replica 0");
  }

  @Test
  void refusesToStartWhenAColumnFamilyIsMissing() throws Exception {
    createStoreWithThreeEntries();
    try (RawStore raw = new RawStore(dir)) {
      raw.drop(StoreLayout.SNAPSHOT_FAMILY);
    }

    assertNames(refusal(), Problem.MISSING_COLUMN_FAMILY, "column family 'snapshot' is missing");
  }

  @Test
  void refusesToStartWhenTheDataDirectoryCannotBeCreated() throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "x");

    StoreException e =
        assertThrows(StoreException.class, () -> LogStore.open(file.resolve("data"), options()));

    assertEquals(Problem.UNWRITABLE_DIRECTORY, e.problem(), e.getMessage());
    assertTrue(
        e.getMessage().startsWith(file.resolve("data") + ": cannot create the directory"),
        e.getMessage());
  }

  @Test
  void refusesToStartInADirectoryItCannotWriteTo() throws Exception {
    Path readOnly = Files.createDirectory(dir.resolve("read-only"));
    Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-x------"));
    Path target = readOnly;
    if (Files.isWritable(readOnly)) {
      // Root ignores permission bits; procfs refuses new files even to root.
      target = Path.of("/proc/self");
    }
    Path chosen = target;
    try {
      StoreException e = assertThrows(StoreException.class, () -> LogStore.open(chosen, options()));

      assertEquals(Problem.UNWRITABLE_DIRECTORY, e.problem(), e.getMessage());
      assertTrue(e.getMessage().startsWith(chosen + ": cannot write files in it"), e.getMessage());
    } finally {
      Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwx------"));
    }
  }

  @Test
  void refusesToStartInADirectoryHoldingFilesButNoStore() throws Exception {
    Files.writeString(dir.resolve("notes.txt"), "not a store");

    assertNames(refusal(), Problem.UNEXPECTED_CONTENT, "no RocksDB store", "notes.txt");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
