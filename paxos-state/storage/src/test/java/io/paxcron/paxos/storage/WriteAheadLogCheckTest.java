package io.paxcron.paxos.storage;

import static io.paxcron.paxos.storage.Fixtures.entries;
import static io.paxcron.paxos.storage.Fixtures.entry;
import static io.paxcron.paxos.storage.Fixtures.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.storage.StoreException.Problem;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.FlushOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteOptions;

/**
 * The store recycles RocksDB's WAL files and replays them in point-in-time mode, which stops
 * silently at a damaged record; {@link WriteAheadLogCheck} must refuse a log damaged before its end
 * and let a torn tail and a recycled file's old records pass. Every case runs on files RocksDB
 * wrote, so a misread of its format fails here rather than refusing real stores.
 */
class WriteAheadLogCheckTest {

  @TempDir Path dir;

  private static final int WRITES = 40;

  /** A store with {@link #WRITES} synced writes, each its own WAL record. */
  private void storeWithWrites() throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      for (int slot = 1; slot <= WRITES; slot++) {
        store.write(entries(entry(slot, 1, "value-" + slot))).join();
      }
    }
  }

  private Path newestWal() throws Exception {
    return newestWal(dir);
  }

  private static Path newestWal(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(file -> file.getFileName().toString().matches("[0-9]+\\.log"))
          .max(java.util.Comparator.comparing(file -> file.getFileName().toString()))
          .orElseThrow();
    }
  }

  private static long logNumber(Path wal) {
    String name = wal.getFileName().toString();
    return Long.parseLong(name.substring(0, name.length() - 4));
  }

  private static void flipByte(Path file, long offset) throws Exception {
    try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "rw")) {
      raw.seek(offset);
      int value = raw.read();
      raw.seek(offset);
      raw.write(value ^ 0x10);
    }
  }

  private List<LogEntry> reopenedLog() throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      return store.load().log();
    }
  }

  @Test
  void aStoreItWroteItselfPassesAndReopensWhole() throws Exception {
    storeWithWrites();
    WriteAheadLogCheck.Scan scan = WriteAheadLogCheck.scan(newestWal(), logNumber(newestWal()));
    assertTrue(scan.records() >= WRITES, "every write is a record: " + scan);
    assertEquals(-1, scan.end(), "an appended file ends with its last record: " + scan);

    assertEquals(WRITES, reopenedLog().size());
  }

  @Test
  void aFlippedByteBeforeTheLastRecordRefusesToStart() throws Exception {
    storeWithWrites();
    Path wal = newestWal();
    flipByte(wal, Files.size(wal) / 2);

    StoreException refused =
        assertThrows(StoreException.class, () -> LogStore.open(dir, options()).close());
    assertEquals(Problem.CORRUPT_RECORD, refused.problem(), refused.getMessage());
    assertTrue(
        refused.getMessage().startsWith(wal.toString() + ": write-ahead log record at offset "),
        refused.getMessage());
    assertTrue(refused.getMessage().contains("checksum mismatch"), refused.getMessage());
    assertTrue(
        refused.getMessage().contains("damaged in the middle, not torn at its end"),
        refused.getMessage());
  }

  @Test
  void aTornLastRecordIsDroppedAndEverythingBeforeItKept() throws Exception {
    storeWithWrites();
    Path wal = newestWal();
    try (RandomAccessFile raw = new RandomAccessFile(wal.toFile(), "rw")) {
      raw.setLength(raw.length() - 5);
    }

    List<LogEntry> log = reopenedLog();
    assertEquals(WRITES - 1, log.size(), "the torn write is gone, the others are whole");
    assertEquals(WRITES - 1, log.get(log.size() - 1).slot());
  }

  /**
   * Two files, the older ending in a damaged record (as a recycled file's end often reads): the
   * newer must start at the sequence number where the older stops, or writes were lost between.
   */
  @Test
  void aNewerFileMustStartWhereADamagedOlderOneStops() throws Exception {
    storeWithWrites();
    Path wal = newestWal();
    long number = logNumber(wal);
    Path older = dir.resolve(String.format("%06d.log", number - 1));
    Files.copy(wal, older);
    rewrite(older, number - 1, 0);
    flipByte(older, Files.size(older) - 3);
    WriteAheadLogCheck.Scan olderScan = WriteAheadLogCheck.scan(older, number - 1);
    assertTrue(olderScan.damaged(), olderScan.toString());
    long follows = olderScan.nextSequence() - WriteAheadLogCheck.scan(wal, number).firstSequence();

    rewrite(wal, number, follows);
    WriteAheadLogCheck.verify(dir);

    rewrite(wal, number, 1);
    StoreException refused =
        assertThrows(StoreException.class, () -> WriteAheadLogCheck.verify(dir));
    assertEquals(Problem.CORRUPT_RECORD, refused.problem(), refused.getMessage());
    assertTrue(refused.getMessage().startsWith(older.toString()), refused.getMessage());
    assertTrue(
        refused.getMessage().contains("the newer write-ahead log file " + wal.getFileName()),
        refused.getMessage());
    assertTrue(
        refused.getMessage().contains(": 1 writes between them are lost"), refused.getMessage());
  }

  /**
   * RocksDB itself, with the store's WAL options: a WAL is recycled once its data is flushed. A
   * clean close truncates a WAL to what was written, so the files are checked while RocksDB still
   * has them open, as a crash leaves them.
   */
  @Test
  void aRecycledFileWithAnEarlierUsesRecordsAfterItsOwnPasses(@TempDir Path crashed)
      throws Exception {
    try (Options options = storesWalOptions();
        RocksDB db = RocksDB.open(options, dir.toString());
        WriteOptions sync = new WriteOptions().setSync(true);
        WriteOptions unsynced = new WriteOptions();
        FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
      for (int i = 0; i < 256; i++) {
        db.put(unsynced, key("old", i), new byte[64 * 1024]);
      }
      db.flush(flush); // the first WAL's data is in a table file: the WAL goes to the recycle list
      db.put(sync, key("switch", 0), new byte[100]);
      db.flush(flush); // the next WAL is the first one, reused
      for (int i = 0; i < WRITES; i++) {
        db.put(sync, key("new", i), new byte[100]);
      }

      Path wal = newestWal();
      WriteAheadLogCheck.Scan scan = WriteAheadLogCheck.scan(wal, logNumber(wal));
      assertEquals(WRITES, scan.records(), scan.toString());
      assertTrue(
          scan.end() > 0 && scan.end() < Files.size(wal) / 2,
          "a recycled file, its earlier use's records after its own: " + scan);
      WriteAheadLogCheck.verify(dir);

      // What a crash leaves: the files as they are now. RocksDB replays the recycled file up to
      // its end and every synced write is there.
      try (Stream<Path> files = Files.list(dir)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          if (!file.getFileName().toString().equals("LOCK")) {
            Files.copy(file, crashed.resolve(file.getFileName()));
          }
        }
      }
      WriteAheadLogCheck.verify(crashed);
      try (RocksDB reopened = RocksDB.open(options, crashed.toString())) {
        for (int i = 0; i < WRITES; i++) {
          assertTrue(reopened.get(key("new", i)) != null, "synced write new-" + i + " replayed");
        }
      }

      flipByte(wal, 100);
      StoreException refused =
          assertThrows(StoreException.class, () -> WriteAheadLogCheck.verify(dir));
      assertTrue(refused.getMessage().contains("damaged in the middle"), refused.getMessage());
    }
  }

  /**
   * Record sizes chosen against RocksDB's 32 KiB blocks: a put of a 4-byte key and a v-byte value
   * is a 30 + v byte recyclable record. 252 records of 130 bytes leave 8 bytes at the end of the
   * first block: a zeroed trailer, too short for a recyclable header but long enough to read as a
   * zero header. 250 of 131 leave 18: the 251st put starts there as a first fragment holding 7
   * bytes of its batch's 12-byte header.
   */
  @Test
  void blockTrailersAndBatchHeadersSplitAcrossBlocksAreRead() throws Exception {
    Path trailer = dir.resolve("trailer");
    writeRecycledFormat(trailer, 260, 100);
    Path wal = newestWal(trailer);
    byte[] bytes = Files.readAllBytes(wal);
    assertTrue(bytes.length > WriteAheadLogCheck.BLOCK_BYTES, "more than one block");
    for (int i = WriteAheadLogCheck.BLOCK_BYTES - 8; i < WriteAheadLogCheck.BLOCK_BYTES; i++) {
      assertEquals(0, bytes[i], "the first block ends in an 8-byte trailer");
    }
    WriteAheadLogCheck.Scan scan = WriteAheadLogCheck.scan(wal, logNumber(wal));
    assertEquals(260, scan.records(), scan.toString());
    assertEquals(-1, scan.end(), "a trailer is no end: " + scan);
    WriteAheadLogCheck.verify(trailer);

    Path split = dir.resolve("split");
    writeRecycledFormat(split, 251, 101);
    wal = newestWal(split);
    scan = WriteAheadLogCheck.scan(wal, logNumber(wal));
    assertEquals(1, scan.firstSequence(), scan.toString());
    assertEquals(252, scan.nextSequence(), "the split batch counted: " + scan);
  }

  /** RocksDB options with the store's WAL settings (LogStore's are private to it). */
  private static Options storesWalOptions() {
    return new Options()
        .setCreateIfMissing(true)
        .setWalRecoveryMode(WALRecoveryMode.PointInTimeRecovery)
        .setRecycleLogFileNum(2);
  }

  /** A RocksDB store with the WAL options of the store and {@code puts} synced puts. */
  private static void writeRecycledFormat(Path path, int puts, int valueBytes) throws Exception {
    Files.createDirectories(path);
    try (Options options = storesWalOptions();
        RocksDB db = RocksDB.open(options, path.toString());
        WriteOptions sync = new WriteOptions().setSync(true)) {
      for (int i = 0; i < puts; i++) {
        db.put(
            sync,
            String.format("k%03d", i).getBytes(StandardCharsets.US_ASCII),
            new byte[valueBytes]);
      }
      // Checked by the caller after close: a clean close truncates the file to what was written,
      // which keeps every block these records filled.
    }
  }

  private static byte[] key(String prefix, int i) {
    return (prefix + "-" + i).getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Gives every recyclable record of {@code wal} the log number {@code number}, adds {@code shift}
   * to every write batch's sequence number, and recomputes the checksums.
   */
  private static void rewrite(Path wal, long number, long shift) throws Exception {
    byte[] bytes = Files.readAllBytes(wal);
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int block = WriteAheadLogCheck.BLOCK_BYTES;
    int header = WriteAheadLogCheck.RECYCLABLE_HEADER_BYTES;
    for (int blockStart = 0; blockStart < bytes.length; blockStart += block) {
      int limit = Math.min(bytes.length, blockStart + block);
      int position = blockStart;
      while (position + header <= limit) {
        int payload = Short.toUnsignedInt(buffer.getShort(position + 4));
        int type = Byte.toUnsignedInt(buffer.get(position + 6));
        if (type < 5 || type > 8 || position + header + payload > limit) {
          break;
        }
        buffer.putInt(position + 7, (int) number);
        if (type == 5 || type == 6) {
          buffer.putLong(position + header, buffer.getLong(position + header) + shift);
        }
        CRC32C crc = new CRC32C();
        crc.update(type);
        crc.update(bytes, position + 7, 4);
        crc.update(bytes, position + header, payload);
        buffer.putInt(position, WriteAheadLogCheck.mask((int) crc.getValue()));
        position += header + payload;
      }
    }
    Files.write(wal, bytes);
  }
}
