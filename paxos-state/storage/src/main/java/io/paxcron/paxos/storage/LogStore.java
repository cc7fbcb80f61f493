package io.paxcron.paxos.storage;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.RecordCodec;
import io.paxcron.paxos.RecordCodec.CorruptRecordException;
import io.paxcron.paxos.RecordKind;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.SnapshotImage;
import io.paxcron.paxos.storage.StoreException.Problem;
import io.paxcron.paxos.storage.StoreLayout.SnapshotHead;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.zip.CRC32C;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Status;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * One replica's durable acceptor state in RocksDB: the promised ballot, the accepted log above the
 * latest snapshot, and that snapshot. It is the real counterpart of the simulator's {@code
 * SimDisk}: {@link #load} returns what {@code SimDisk.recover} would after the same sequence of
 * {@link Persist}s.
 *
 * <p><b>Durability.</b> {@link #write} completes its future only after the {@code Persist} is in
 * RocksDB's write-ahead log and fsynced ({@code WriteOptions.sync=true}); the caller sends its
 * messages and applies chosen entries after that, never before (DESIGN §3). The one exception is a
 * {@linkplain Persist#learnedOnly() learned-only} write (marks on entries known chosen, which the
 * core's contract lets a replica forget): a group made only of those goes to the write-ahead log
 * without a sync, and the next synced write makes it durable with everything before it.
 *
 * <p><b>Threading.</b> {@link #write}, {@link #load} and {@link #stats} may be called from any
 * thread. Writes are made durable in submission order by one writer thread owned by the store,
 * which groups every write waiting in its queue into one WriteBatch with one sync (group commit)
 * and completes their futures in submission order, on the writer thread: a caller that chains work
 * on them should use the {@code ...Async} variants with its own executor. A caller that would only
 * wait may instead {@link #writeHere}: when no earlier write is outstanding, the write is made and
 * synced on the caller's thread. A snapshot's chunks are not written by the writer: {@link
 * #stageSnapshot} (or {@link #write}, for a snapshot not staged yet) writes them on the calling
 * thread first, and the writer only installs the snapshot with a small batch. {@link #close} must
 * be called exactly once, after the caller has stopped submitting writes.
 *
 * <p><b>Failure.</b> Start-up problems are {@link StoreException}s that name the directory and the
 * problem; the store never repairs or ignores anything. After a failed write (disk full, I/O error)
 * the store is failed for good: that write and every later one complete exceptionally with the same
 * {@link StoreFailedException}, and the replica must stop.
 *
 * <p><b>Ownership.</b> The store owns every native RocksDB object it creates and frees them all in
 * {@link #close}.
 */
public final class LogStore implements AutoCloseable {

  /** The storage layout version this build reads and writes. */
  public static final int FORMAT_VERSION = StoreLayout.FORMAT_VERSION;

  /** Keeps RocksDB's own info logs from piling up across restarts of a long-lived replica. */
  private static final int KEEP_INFO_LOG_FILES = 4;

  /**
   * WAL files kept for reuse once their data is flushed: a recycled file is overwritten from its
   * start, so appends within its old size do not change the file's size and {@code fdatasync}
   * writes no metadata (docs/performance.md, issue 12).
   */
  private static final int RECYCLED_LOG_FILES = 2;

  /**
   * Live WAL bytes past which RocksDB flushes the column families that keep the oldest WAL alive.
   * RocksDB's default (four times all write buffers, 1 GiB here) let the rarely written families —
   * a promise, the identity — pin every WAL since the store was created: none was ever freed to be
   * recycled, and a restart replayed up to a gigabyte. Two log-sized files: ~64 MiB each.
   */
  private static final long MAX_TOTAL_WAL_BYTES = 128L << 20;

  private static final PendingWrite STOP = new PendingWrite(null, null, 0, null);

  /** Staged chunks go to RocksDB in unsynced batches of about this many bytes. */
  static final int STAGING_BATCH_BYTES = 4 << 20;

  private final Path dataDir;
  private final StoreOptions options;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions familyOptions;
  private final RocksDB db;
  private final List<ColumnFamilyHandle> handles;
  private final ColumnFamilyHandle metaFamily;
  private final ColumnFamilyHandle logFamily;
  private final ColumnFamilyHandle snapshotFamily;
  private final WriteOptions syncWrite;

  /** Staging writes: WAL on, no sync per batch (one WAL sync ends each staging). */
  private final WriteOptions stagingWrite = new WriteOptions();

  /** Groups of learned-only writes: WAL on, no sync (the next synced write covers them). */
  private final WriteOptions learnedWrite = new WriteOptions();

  private final ArrayBlockingQueue<PendingWrite> queue;
  private final Thread writer;

  /** Writes submitted to the queue and not yet written: {@link #writeHere} needs none ahead. */
  private final java.util.concurrent.atomic.AtomicInteger unwritten =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * Held while a group is written, by the writer or by a caller of {@link #writeHere}: the state
   * the writer owns (the durable promise, the installed slot, the counters) has one owner at a
   * time.
   */
  private final java.util.concurrent.locks.ReentrantLock writing =
      new java.util.concurrent.locks.ReentrantLock();

  /** Readers are write() and load(); the writer is close(), so nothing runs on a closed DB. */
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();

  private boolean closed;
  private boolean writerStarted;
  private final AtomicReference<DurableState> verifiedAtOpen = new AtomicReference<>();

  // Owned by whoever holds {@link #writing}.
  private Ballot durablePromised = Ballot.ZERO;

  /** Written by the writer thread only; read by stagers to skip snapshots already superseded. */
  private volatile long installedSnapshotSlot;

  /** Snapshots whose chunks are written and synced, by slot, waiting for their install. */
  private final ConcurrentHashMap<Long, Staged> staged = new ConcurrentHashMap<>();

  /** Serialises stagers (never taken by the writer). */
  private final Object stagingLock = new Object();

  private long orphanChunksRemovedAtOpen;

  private volatile StoreFailedException failure;
  private final AtomicLong persistsWritten = new AtomicLong();
  private final AtomicLong syncedBatches = new AtomicLong();
  private final AtomicLong unsyncedBatches = new AtomicLong();
  private volatile java.util.function.LongConsumer syncObserver = nanos -> {};
  private volatile int largestGroup;

  /** Test seam: runs on the writing thread just before each WriteBatch is written. */
  volatile WriteHook writeHook = WriteHook.NONE;

  /**
   * Tests: whether the writer has finished everything submitted, its lock released too — a write's
   * future completes inside the writer's turn, a moment before {@link #writeHere} could take it.
   */
  boolean idleForTests() {
    return unwritten.get() == 0 && !writing.isLocked();
  }

  /** Test seam: runs on the staging thread after each batch of staged chunks is written. */
  volatile StagingHook stagingHook = StagingHook.NONE;

  /** A hook the tests use to hold a staging between two of its batches. */
  @FunctionalInterface
  interface StagingHook {
    StagingHook NONE = (slot, chunksWritten, chunkCount) -> {};

    void afterBatch(long slot, int chunksWritten, int chunkCount);
  }

  /** A snapshot whose chunks are durable under its own keys; the install writes {@code head}. */
  private record Staged(SnapshotImage image, SnapshotHead head, int chunkBytes) {}

  /** A hook the tests use to hold the writer or to inject a RocksDB error. */
  @FunctionalInterface
  interface WriteHook {
    WriteHook NONE = groupSize -> {};

    void beforeWrite(int groupSize) throws RocksDBException;
  }

  private record PendingWrite(
      Persist persist, CompletableFuture<Void> future, long estimatedBytes, Staged staged) {}

  private LogStore(
      Path dataDir,
      StoreOptions options,
      DBOptions dbOptions,
      ColumnFamilyOptions familyOptions,
      RocksDB db,
      List<ColumnFamilyHandle> handles,
      WriteOptions syncWrite) {
    this.dataDir = dataDir;
    this.options = options;
    this.dbOptions = dbOptions;
    this.familyOptions = familyOptions;
    this.db = db;
    this.handles = List.copyOf(handles);
    this.metaFamily = handles.get(StoreLayout.FAMILIES.indexOf(StoreLayout.META_FAMILY));
    this.logFamily = handles.get(StoreLayout.FAMILIES.indexOf(StoreLayout.LOG_FAMILY));
    this.snapshotFamily = handles.get(StoreLayout.FAMILIES.indexOf(StoreLayout.SNAPSHOT_FAMILY));
    this.syncWrite = syncWrite;
    this.queue = new ArrayBlockingQueue<>(options.maxQueuedWrites());
    this.writer = new Thread(this::runWriter, "paxcron-store-writer-" + options.replicaId());
    this.writer.setDaemon(true);
  }

  /**
   * Opens the store in {@code dataDir}, creating it on first start (an absent or empty directory)
   * with the identity in {@code options}, or verifying an existing store: its column families, its
   * format version, its cluster and replica id, and the checksum of every record.
   *
   * @throws StoreException if the directory cannot be used or the store in it is not this replica's
   *     intact store; the message names the directory and the problem
   */
  public static LogStore open(Path dataDir, StoreOptions options) throws StoreException {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(options, "options");
    Path dir = dataDir.toAbsolutePath().normalize();
    RocksDB.loadLibrary();
    boolean fresh = StoreDirectory.prepareForStore(dir);
    if (!fresh) {
      checkColumnFamilies(dir);
      WriteAheadLogCheck.verify(dir);
    }

    DBOptions dbOptions = null;
    ColumnFamilyOptions familyOptions = null;
    WriteOptions syncWrite = null;
    RocksDB db = null;
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    LogStore store = null;
    boolean opened = false;
    try {
      dbOptions =
          new DBOptions()
              .setCreateIfMissing(fresh)
              .setCreateMissingColumnFamilies(fresh)
              .setErrorIfExists(fresh)
              .setParanoidChecks(true)
              // WAL files are overwritten rather than grown, which spares every sync a metadata
              // write; RocksDB replays recycled files only up to their first bad record, so
              // WriteAheadLogCheck (above) has already refused a log damaged before its end. A
              // torn tail record was never synced, so never acknowledged: dropping it is what
              // SimDisk.recover does.
              .setWalRecoveryMode(WALRecoveryMode.PointInTimeRecovery)
              .setRecycleLogFileNum(RECYCLED_LOG_FILES)
              .setMaxTotalWalSize(MAX_TOTAL_WAL_BYTES)
              .setKeepLogFileNum(KEEP_INFO_LOG_FILES)
              .setStatsDumpPeriodSec(0);
      familyOptions = new ColumnFamilyOptions();
      List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
      for (String family : StoreLayout.FAMILIES) {
        descriptors.add(
            new ColumnFamilyDescriptor(family.getBytes(StandardCharsets.US_ASCII), familyOptions));
      }
      syncWrite = new WriteOptions().setSync(true);
      db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
      store = new LogStore(dir, options, dbOptions, familyOptions, db, handles, syncWrite);
      if (fresh) {
        store.initialiseIdentity();
      } else {
        store.verifyIdentity();
        store.orphanChunksRemovedAtOpen = store.removeOrphanChunks();
      }
      DurableState state = store.readDurableState();
      store.durablePromised = state.promised();
      store.installedSnapshotSlot = state.snapshot().slot();
      store.verifiedAtOpen.set(state);
      store.writerStarted = true;
      store.writer.start();
      opened = true;
      return store;
    } catch (RocksDBException e) {
      throw rocksFailure(dir, "cannot open the RocksDB store", e);
    } finally {
      if (!opened) {
        if (store != null) {
          store.stagingWrite.close();
          store.learnedWrite.close();
        }
        closeNative(handles, db, syncWrite, familyOptions, dbOptions);
      }
    }
  }

  /**
   * Reads the durable state: the promised ballot, the latest snapshot and the log entries above it
   * in ascending slot order, as one consistent view. It includes at least every write whose future
   * has completed.
   *
   * @throws StoreException if a record fails its checksum or RocksDB reports an error
   */
  public DurableState load() throws StoreException {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      DurableState cached = verifiedAtOpen.getAndSet(null);
      if (cached != null && syncedBatches.get() == 0) {
        return cached;
      }
      return readDurableState();
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * Makes {@code persist} durable, after every write submitted before it, in one atomic batch in
   * the order {@link Persist} documents. Blocks the caller while {@link
   * StoreOptions#maxQueuedWrites} writes are already waiting (back-pressure).
   *
   * @return a future completed once the write is synced to disk (a learned-only write alone: once
   *     it is in the write-ahead log), or completed exceptionally with {@link StoreFailedException}
   *     if this or an earlier write failed; the replica must then stop
   * @throws IllegalStateException if the store is closed (a programmer error: stop the caller
   *     before closing the store) or if called from a completion running on the writer thread
   */
  public CompletableFuture<Void> write(Persist persist) {
    Objects.requireNonNull(persist, "persist");
    if (Thread.currentThread() == writer) {
      // With a full queue the writer would wait for itself.
      throw new IllegalStateException(
          "write called on the store's writer thread; chain with ...Async(fn, executor)");
    }
    CompletableFuture<Void> future = new CompletableFuture<>();
    lifecycle.readLock().lock();
    try {
      checkOpen();
      Staged stagedSnapshot = null;
      if (persist.snapshot() != null) {
        try {
          stagedSnapshot = stage(persist.snapshot());
        } catch (StoreFailedException | IllegalArgumentException | IllegalStateException e) {
          future.completeExceptionally(e);
          return future;
        }
      }
      unwritten.incrementAndGet();
      try {
        queue.put(new PendingWrite(persist, future, estimateBytes(persist), stagedSnapshot));
      } catch (InterruptedException e) {
        unwritten.decrementAndGet();
        throw e;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.completeExceptionally(
          new StoreException(
              Problem.IO_ERROR,
              dataDir,
              "interrupted while waiting for room in the write queue (maxQueuedWrites="
                  + options.maxQueuedWrites()
                  + "); the write was not submitted"));
    } finally {
      lifecycle.readLock().unlock();
    }
    return future;
  }

  /**
   * Like {@link #write}, but when no earlier write is still unwritten and the writer is not busy,
   * writes (and syncs) {@code persist} on the calling thread and returns a completed future: a
   * caller with nothing else to do until the write is durable is spared two thread hand-offs (to
   * the writer and back). Otherwise, and for a snapshot's install, it queues the write like {@link
   * #write}. Order is kept either way: a write made here has nothing ahead of it.
   */
  public CompletableFuture<Void> writeHere(Persist persist) {
    Objects.requireNonNull(persist, "persist");
    if (persist.snapshot() != null || Thread.currentThread() == writer) {
      return write(persist);
    }
    lifecycle.readLock().lock();
    try {
      checkOpen();
      if (unwritten.get() == 0 && writing.tryLock()) {
        try {
          if (unwritten.get() == 0) {
            CompletableFuture<Void> future = new CompletableFuture<>();
            commit(List.of(new PendingWrite(persist, future, estimateBytes(persist), null)));
            return future;
          }
        } finally {
          writing.unlock();
        }
      }
    } finally {
      lifecycle.readLock().unlock();
    }
    return write(persist);
  }

  /**
   * Writes the chunks of {@code snapshot} ahead of its install, on the calling thread, so that the
   * later {@link #write} of a {@code Persist} carrying this snapshot (the same {@code data} array)
   * only has to put a small install batch through the writer. The chunks go under keys of the
   * snapshot's own slot in unsynced batches of about {@link #STAGING_BATCH_BYTES}, followed by one
   * WAL sync; the log's writes go on meanwhile. A snapshot not newer than the installed one is
   * skipped. Staged chunks that are never installed are deleted by the next install of a newer
   * snapshot or at the next open. Called by the replica's snapshot thread right after encoding;
   * {@link #write} stages an unstaged snapshot itself, on its caller's thread.
   *
   * @throws StoreFailedException if RocksDB fails; the store is failed as after a failed write
   * @throws IllegalStateException if the store is closed, if called on the writer thread, or if a
   *     different image was already staged for the same slot
   */
  public void stageSnapshot(Snapshot snapshot) throws StoreFailedException {
    Objects.requireNonNull(snapshot, "snapshot");
    if (Thread.currentThread() == writer) {
      throw new IllegalStateException("stageSnapshot called on the store's writer thread");
    }
    lifecycle.readLock().lock();
    try {
      checkOpen();
      stage(snapshot);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * How many chunk keys {@link #open} found that did not belong to the installed snapshot (chunks
   * staged before a crash that came before their install) and deleted.
   */
  public long orphanChunksRemovedAtOpen() {
    return orphanChunksRemovedAtOpen;
  }

  /**
   * Hands the duration in nanoseconds of every synced batch write (the WAL fsync and the write it
   * carries) to {@code observer}, from now on, on the writer thread. The observer must be
   * thread-safe and return at once: the writer waits for it.
   */
  public void observeSyncs(java.util.function.LongConsumer observer) {
    this.syncObserver = java.util.Objects.requireNonNull(observer, "observer");
  }

  /** Counters of the writer: writes, synced batches, the largest group, the queue length. */
  public StoreStats stats() {
    return new StoreStats(
        persistsWritten.get(),
        syncedBatches.get(),
        unsyncedBatches.get(),
        largestGroup,
        queue.size());
  }

  /** The failure that stopped the store, if a write has failed. */
  public Optional<StoreFailedException> failure() {
    return Optional.ofNullable(failure);
  }

  public Path dataDir() {
    return dataDir;
  }

  public StoreOptions options() {
    return options;
  }

  /**
   * Lets the writer finish every write already submitted, stops it, and frees every native object,
   * also after a failure. Idempotent.
   *
   * @throws StoreException if RocksDB reports an error while closing a store that had not failed
   *     (on a failed store, RocksDB's repeat of the error is added to the failure as suppressed)
   */
  @Override
  public void close() throws StoreException {
    lifecycle.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
    } finally {
      lifecycle.writeLock().unlock();
    }
    // No write can be enqueued any more; the writer drains what is queued, then meets STOP.
    if (writerStarted) {
      putUninterruptibly(STOP);
      joinUninterruptibly(writer);
    }
    for (ColumnFamilyHandle handle : handles) {
      handle.close();
    }
    staged.clear();
    try {
      db.closeE();
    } catch (RocksDBException e) {
      StoreFailedException failed = failure;
      if (failed == null) {
        throw rocksFailure(dataDir, "closing the RocksDB store failed", e);
      }
      // RocksDB repeats the error the store already failed with; the caller has that one.
      failed.addSuppressed(e);
    } finally {
      syncWrite.close();
      stagingWrite.close();
      learnedWrite.close();
      familyOptions.close();
      dbOptions.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Start-up

  private static void checkColumnFamilies(Path dir) throws StoreException {
    List<String> found = new ArrayList<>();
    try (Options listOptions = new Options()) {
      for (byte[] name : RocksDB.listColumnFamilies(listOptions, dir.toString())) {
        found.add(new String(name, StandardCharsets.UTF_8));
      }
    } catch (RocksDBException e) {
      throw rocksFailure(dir, "cannot list the column families", e);
    }
    for (String family : StoreLayout.FAMILIES) {
      if (!found.contains(family)) {
        throw new StoreException(
            Problem.MISSING_COLUMN_FAMILY,
            dir,
            "column family '"
                + family
                + "' is missing (found "
                + found
                + "); the store is damaged or was not written by Paxcron");
      }
    }
    for (String family : found) {
      if (!StoreLayout.FAMILIES.contains(family)) {
        throw new StoreException(
            Problem.MISSING_COLUMN_FAMILY,
            dir,
            "column family '"
                + family
                + "' is not part of storage format "
                + FORMAT_VERSION
                + " (expected "
                + StoreLayout.FAMILIES
                + "); was it written by a newer Paxcron?");
      }
    }
  }

  private void initialiseIdentity() throws RocksDBException {
    try (WriteBatch batch = new WriteBatch()) {
      batch.put(metaFamily, StoreLayout.FORMAT_VERSION_KEY, StoreLayout.frameInt(FORMAT_VERSION));
      batch.put(
          metaFamily, StoreLayout.CLUSTER_ID_KEY, StoreLayout.frameString(options.clusterId()));
      batch.put(metaFamily, StoreLayout.REPLICA_ID_KEY, StoreLayout.frameInt(options.replicaId()));
      db.write(syncWrite, batch);
    }
  }

  private void verifyIdentity() throws StoreException, RocksDBException {
    byte[] version = db.get(metaFamily, StoreLayout.FORMAT_VERSION_KEY);
    if (version == null) {
      throw new StoreException(
          Problem.CORRUPT_RECORD,
          dataDir,
          "column family 'meta' has no format-version record, so the store's first start never"
              + " completed or its metadata was lost; move the directory aside and restore this"
              + " replica from a backup or a peer");
    }
    int storedVersion = decodeMeta("format-version", version, StoreLayout::unframeInt);
    if (storedVersion != FORMAT_VERSION) {
      throw new StoreException(
          Problem.FORMAT_VERSION_MISMATCH,
          dataDir,
          "the store has storage format version "
              + storedVersion
              + " but this build reads only version "
              + FORMAT_VERSION);
    }
    String storedCluster =
        decodeMeta(
            "cluster-id",
            requireMeta("cluster-id", StoreLayout.CLUSTER_ID_KEY),
            StoreLayout::unframeString);
    if (!storedCluster.equals(options.clusterId())) {
      throw new StoreException(
          Problem.CLUSTER_ID_MISMATCH,
          dataDir,
          "the store belongs to cluster '"
              + storedCluster
              + "' but this replica is configured for cluster '"
              + options.clusterId()
              + "'");
    }
    int storedReplica =
        decodeMeta(
            "replica-id",
            requireMeta("replica-id", StoreLayout.REPLICA_ID_KEY),
            StoreLayout::unframeInt);
    if (storedReplica != options.replicaId()) {
      throw new StoreException(
          Problem.REPLICA_ID_MISMATCH,
          dataDir,
          "the store belongs to replica "
              + storedReplica
              + " but this replica is configured as replica "
              + options.replicaId());
    }
  }

  private byte[] requireMeta(String name, byte[] key) throws StoreException, RocksDBException {
    byte[] value = db.get(metaFamily, key);
    if (value == null) {
      throw new StoreException(
          Problem.CORRUPT_RECORD,
          dataDir,
          "column family 'meta' has no " + name + " record; the store's metadata was lost");
    }
    return value;
  }

  @FunctionalInterface
  private interface Decoder<T> {
    T decode(byte[] framed) throws CorruptRecordException;
  }

  private <T> T decodeMeta(String name, byte[] framed, Decoder<T> decoder) throws StoreException {
    try {
      return decoder.decode(framed);
    } catch (CorruptRecordException e) {
      throw corrupt("column family 'meta', key '" + name + "'", e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  private DurableState readDurableState() throws StoreException {
    org.rocksdb.Snapshot view = db.getSnapshot();
    try (ReadOptions read = new ReadOptions().setSnapshot(view).setFillCache(false)) {
      String family = StoreLayout.META_FAMILY;
      try {
        byte[] promisedRecord = db.get(metaFamily, read, StoreLayout.PROMISED_KEY);
        Ballot promised =
            promisedRecord == null
                ? Ballot.ZERO
                : decodeMeta("promised", promisedRecord, StoreLayout::unframeBallot);
        byte[] membershipRecord = db.get(metaFamily, read, StoreLayout.SNAPSHOT_MEMBERSHIP_KEY);
        family = StoreLayout.SNAPSHOT_FAMILY;
        Snapshot snapshot = readSnapshot(read);
        if (membershipRecord != null) {
          snapshot =
              snapshot.withMembership(
                  decodeMeta(
                      "snapshot-membership",
                      membershipRecord,
                      framed ->
                          RecordCodec.decodeMembership(
                              RecordCodec.unframe(RecordKind.STORE_RECORD, framed))));
        }
        family = StoreLayout.LOG_FAMILY;
        List<LogEntry> log = readLog(read, snapshot.slot());
        return new DurableState(promised, snapshot, log);
      } catch (RocksDBException e) {
        throw rocksFailure(dataDir, "reading column family '" + family + "' failed", e);
      }
    } finally {
      db.releaseSnapshot(view);
    }
  }

  private Snapshot readSnapshot(ReadOptions read) throws StoreException, RocksDBException {
    SnapshotHead head = readHead(read);
    if (head == null) {
      // Chunks of the first layout without a head were never a state this store wrote; chunks of
      // the current layout without a head are staged chunks, removed at open, ignored here.
      try (RocksIterator legacy = db.newIterator(snapshotFamily, read)) {
        legacy.seek(StoreLayout.LEGACY_CHUNKS_BEGIN);
        if (legacy.isValid() && legacy.key()[0] == StoreLayout.LEGACY_CHUNK_KEY_PREFIX) {
          throw corrupt(
              "column family 'snapshot', chunk key " + StoreLayout.describeKey(legacy.key()),
              new CorruptRecordException("a chunk without a snapshot head"));
        }
        legacy.status();
      }
      return Snapshot.EMPTY;
    }
    byte[] image = new byte[head.sizeBytes()];
    int filled = 0;
    int firstChunkBytes = 0;
    int expectedIndex = 0;
    try (RocksIterator chunks = db.newIterator(snapshotFamily, read)) {
      byte[] end = head.chunksEnd();
      for (chunks.seek(head.chunksBegin()); chunks.isValid(); chunks.next()) {
        byte[] key = chunks.key();
        if (Arrays.compareUnsigned(key, end) >= 0) {
          break;
        }
        String where = "column family 'snapshot', chunk key " + StoreLayout.describeKey(key);
        int index = head.indexOf(key);
        if (index < 0) {
          throw corrupt(
              where,
              new CorruptRecordException(
                  "not a chunk key of snapshot head version " + head.version()));
        }
        if (index != expectedIndex || index >= head.chunkCount()) {
          throw corrupt(
              where + " (chunk " + index + ")",
              new CorruptRecordException(
                  "expected chunk " + expectedIndex + " of " + head.chunkCount()));
        }
        byte[] chunk;
        try {
          chunk = RecordCodec.unframe(RecordKind.STORE_RECORD, chunks.value());
        } catch (CorruptRecordException e) {
          throw corrupt(
              where + " (chunk " + index + " of snapshot at slot " + head.slot() + ")", e);
        }
        if (chunk.length > image.length - filled) {
          throw corrupt(
              where,
              new CorruptRecordException(
                  "chunks hold more than the " + image.length + " bytes the head declares"));
        }
        System.arraycopy(chunk, 0, image, filled, chunk.length);
        if (expectedIndex == 0) {
          firstChunkBytes = chunk.length;
        }
        filled += chunk.length;
        expectedIndex++;
      }
      chunks.status();
    }
    String where = "column family 'snapshot', snapshot at slot " + head.slot();
    if (expectedIndex != head.chunkCount() || filled != head.sizeBytes()) {
      throw corrupt(
          where,
          new CorruptRecordException(
              "found "
                  + expectedIndex
                  + " chunks and "
                  + filled
                  + " bytes, the head declares "
                  + head.chunkCount()
                  + " chunks and "
                  + head.sizeBytes()
                  + " bytes"));
    }
    CRC32C crc = new CRC32C();
    crc.update(image);
    if ((int) crc.getValue() != head.crc32c()) {
      throw corrupt(where, new CorruptRecordException("image checksum mismatch"));
    }
    SnapshotImage loaded = SnapshotImage.of(image);
    // Every chunk but the last has the size the staging used.
    loaded.storedIn(storedImage(head, head.chunkCount() > 1 ? firstChunkBytes : image.length));
    return new Snapshot(head.slot(), loaded, null);
  }

  /**
   * Reads a slice of the installed snapshot at {@code head} back from its chunks, one get per chunk
   * it touches (a catch-up streams the image part by part; a restore or a backup reads it whole).
   * Fails, naming why, once a newer snapshot's install has deleted these chunks or the store
   * closed.
   */
  private SnapshotImage.Stored storedImage(SnapshotHead head, int chunkBytes) {
    return (offset, length) -> {
      String what = "the snapshot at slot " + head.slot() + " in " + dataDir;
      lifecycle.readLock().lock();
      // Read once per catch-up or backup: not worth evicting the log's blocks from the cache.
      try (ReadOptions read = new ReadOptions().setFillCache(false)) {
        if (closed) {
          throw new IllegalStateException(what + " cannot be read back: the store is closed");
        }
        byte[] slice = new byte[length];
        int filled = 0;
        while (filled < length) {
          long at = offset + filled;
          int index = (int) (at / chunkBytes);
          int within = (int) (at % chunkBytes);
          byte[] framed = db.get(snapshotFamily, read, head.chunkKey(index));
          if (framed == null) {
            throw new IllegalStateException(
                what + " is no longer stored (a newer snapshot replaced it); ask again");
          }
          byte[] chunk = RecordCodec.unframe(RecordKind.STORE_RECORD, framed);
          int n = Math.min(chunk.length - within, length - filled);
          if (n <= 0) {
            throw new IllegalStateException(
                what + ": chunk " + index + " holds " + chunk.length + " bytes, expected more");
          }
          System.arraycopy(chunk, within, slice, filled, n);
          filled += n;
        }
        return slice;
      } catch (RocksDBException e) {
        throw new IllegalStateException(what + " cannot be read back: " + describeStatus(e), e);
      } catch (CorruptRecordException e) {
        throw new IllegalStateException(what + " cannot be read back: " + e.getMessage(), e);
      } finally {
        lifecycle.readLock().unlock();
      }
    };
  }

  /** The installed snapshot's head, or null if none is installed. */
  private SnapshotHead readHead(ReadOptions read) throws StoreException, RocksDBException {
    byte[] headRecord = db.get(snapshotFamily, read, StoreLayout.SNAPSHOT_HEAD_KEY);
    if (headRecord == null) {
      return null;
    }
    String where = "column family 'snapshot', key 'head'";
    byte[] payload;
    try {
      payload = RecordCodec.unframe(RecordKind.STORE_RECORD, headRecord);
    } catch (CorruptRecordException e) {
      throw corrupt(where, e);
    }
    int version = SnapshotHead.versionOf(payload);
    if (version != StoreLayout.HEAD_VERSION_LEGACY && version != StoreLayout.HEAD_VERSION) {
      throw new StoreException(
          Problem.FORMAT_VERSION_MISMATCH,
          dataDir,
          where
              + ": snapshot head format version "
              + version
              + " is unknown; this build reads versions "
              + StoreLayout.HEAD_VERSION_LEGACY
              + " and "
              + StoreLayout.HEAD_VERSION
              + " (was the store written by a newer Paxcron?)");
    }
    try {
      return SnapshotHead.decode(payload);
    } catch (CorruptRecordException e) {
      throw corrupt(where, e);
    }
  }

  /**
   * At open, before anything is read: deletes every chunk key that does not belong to the installed
   * head — chunks staged for a snapshot whose install never happened (a crash between {@link
   * #stageSnapshot} and the install batch), or left by a version-2 install below the installed slot
   * — in one synced batch of range deletions. Returns how many keys it removed.
   */
  private long removeOrphanChunks() throws StoreException, RocksDBException {
    SnapshotHead head;
    try (ReadOptions read = new ReadOptions().setFillCache(false)) {
      head = readHead(read);
    }
    List<byte[][]> ranges = new ArrayList<>();
    if (head == null || head.version() == StoreLayout.HEAD_VERSION_LEGACY) {
      // Without a head, first-layout chunks are corruption, which readSnapshot reports.
      ranges.add(new byte[][] {StoreLayout.CHUNKS_BEGIN, StoreLayout.CHUNKS_END});
    } else {
      ranges.add(new byte[][] {StoreLayout.LEGACY_CHUNKS_BEGIN, StoreLayout.LEGACY_CHUNKS_END});
      ranges.add(new byte[][] {StoreLayout.CHUNKS_BEGIN, head.chunksBegin()});
      ranges.add(new byte[][] {head.chunksEnd(), StoreLayout.CHUNKS_END});
    }
    long removed = 0;
    try (WriteBatch batch = new WriteBatch();
        ReadOptions read = new ReadOptions().setFillCache(false);
        RocksIterator keys = db.newIterator(snapshotFamily, read)) {
      for (byte[][] range : ranges) {
        long inRange = 0;
        for (keys.seek(range[0]);
            keys.isValid() && Arrays.compareUnsigned(keys.key(), range[1]) < 0;
            keys.next()) {
          inRange++;
        }
        keys.status();
        if (inRange > 0) {
          batch.deleteRange(snapshotFamily, range[0], range[1]);
          removed += inRange;
        }
      }
      if (removed > 0) {
        db.write(syncWrite, batch);
      }
    }
    return removed;
  }

  private List<LogEntry> readLog(ReadOptions read, long snapshotSlot)
      throws StoreException, RocksDBException {
    List<LogEntry> log = new ArrayList<>();
    try (RocksIterator records = db.newIterator(logFamily, read)) {
      for (records.seekToFirst(); records.isValid(); records.next()) {
        byte[] key = records.key();
        if (key.length != Long.BYTES) {
          throw corrupt(
              "column family 'log', key " + StoreLayout.describeKey(key),
              new CorruptRecordException("a log key must be 8 bytes"));
        }
        long slot = StoreLayout.slotOf(key);
        String where = "column family 'log', slot " + slot;
        LogEntry entry;
        try {
          entry = RecordCodec.decodeEntryRecord(records.value());
        } catch (CorruptRecordException e) {
          throw corrupt(where, e);
        }
        if (entry.slot() != slot) {
          throw corrupt(where, new CorruptRecordException("the record holds slot " + entry.slot()));
        }
        if (slot <= snapshotSlot) {
          throw corrupt(
              where,
              new CorruptRecordException(
                  "the entry lies at or below the snapshot slot "
                      + snapshotSlot
                      + ", which the snapshot's batch should have truncated"));
        }
        log.add(entry);
      }
      records.status();
    }
    return log;
  }

  private StoreException corrupt(String where, CorruptRecordException e) {
    return new StoreException(Problem.CORRUPT_RECORD, dataDir, where + ": " + e.getMessage(), e);
  }

  // ---------------------------------------------------------------------------------------------
  // Writing (the writer thread)

  private void runWriter() {
    List<PendingWrite> group = new ArrayList<>();
    while (true) {
      PendingWrite first = takeUninterruptibly();
      if (first == STOP) {
        return;
      }
      group.add(first);
      long groupBytes = first.estimatedBytes();
      while (group.size() < options.maxWritesPerGroup()) {
        PendingWrite next = queue.peek();
        if (next == null
            || next == STOP
            || groupBytes + next.estimatedBytes() > options.maxGroupBytes()) {
          break;
        }
        queue.poll();
        group.add(next);
        groupBytes += next.estimatedBytes();
      }
      writing.lock();
      try {
        commit(group);
      } finally {
        unwritten.addAndGet(-group.size());
        writing.unlock();
      }
      group.clear();
    }
  }

  private void commit(List<PendingWrite> group) {
    StoreFailedException failed = failure;
    if (failed == null) {
      try {
        writeGroup(group);
        for (PendingWrite pending : group) {
          pending.future().complete(null);
        }
        return;
      } catch (RocksDBException e) {
        failed =
            new StoreFailedException(
                dataDir,
                "writing "
                    + group.size()
                    + " Persist(s) failed ("
                    + describeStatus(e)
                    + "); the store accepts no more writes and the replica must stop",
                e);
      } catch (RuntimeException | Error e) {
        failed =
            new StoreFailedException(
                dataDir,
                "the writer hit a broken invariant while writing "
                    + group.size()
                    + " Persist(s): "
                    + e
                    + "; the store accepts no more writes and the replica must stop",
                e);
      }
      failure = failed;
    }
    for (PendingWrite pending : group) {
      pending.future().completeExceptionally(failed);
    }
  }

  /**
   * Writes the group as one batch, each Persist in the order its contract states: synced, unless
   * every Persist in it is learned-only.
   */
  private void writeGroup(List<PendingWrite> group) throws RocksDBException {
    Ballot promised = durablePromised;
    long snapshotSlot = installedSnapshotSlot;
    Staged installedNow = null;
    boolean anything = false;
    boolean sync = false;
    try (WriteBatch batch = new WriteBatch()) {
      for (PendingWrite pending : group) {
        Persist persist = pending.persist();
        sync |= !persist.learnedOnly();
        Snapshot snapshot = persist.snapshot();
        // SimDisk.recover keeps only a snapshot newer than the installed one, and only entries
        // and promises that move the state forward; the store must recover the same state.
        if (snapshot != null && snapshot.slot() > snapshotSlot) {
          putSnapshot(batch, snapshot, pending.staged());
          snapshotSlot = snapshot.slot();
          installedNow = pending.staged();
          anything = true;
        }
        for (LogEntry entry : persist.entries()) {
          if (entry.slot() > snapshotSlot) {
            batch.put(
                logFamily, StoreLayout.slotKey(entry.slot()), RecordCodec.encodeEntryRecord(entry));
            anything = true;
          }
        }
        if (persist.promised() != null && persist.promised().isAbove(promised)) {
          promised = persist.promised();
          batch.put(metaFamily, StoreLayout.PROMISED_KEY, StoreLayout.frameBallot(promised));
          anything = true;
        }
      }
      writeHook.beforeWrite(group.size());
      if (anything && sync) {
        long started = System.nanoTime();
        db.write(syncWrite, batch);
        syncObserver.accept(System.nanoTime() - started);
        syncedBatches.incrementAndGet();
      } else if (anything) {
        db.write(learnedWrite, batch);
        unsyncedBatches.incrementAndGet();
      }
    }
    durablePromised = promised;
    if (snapshotSlot != installedSnapshotSlot) {
      long installed = snapshotSlot;
      installedSnapshotSlot = installed;
      staged.keySet().removeIf(slot -> slot <= installed);
      // Durable and named by the head: the image can be read back from here, so its owner may drop
      // the heap copy (SnapshotImage.dropFromMemory).
      installedNow.image().storedIn(storedImage(installedNow.head(), installedNow.chunkBytes()));
    }
    persistsWritten.addAndGet(group.size());
    if (group.size() > largestGroup) {
      largestGroup = group.size();
    }
  }

  /**
   * The install batch: the log truncation, the removal of every older snapshot's chunks (the first
   * layout's whole range and the current layout's chunks below this slot: range deletions, cheap),
   * the head naming the staged chunks, and the membership. The chunks themselves were staged.
   */
  private void putSnapshot(WriteBatch batch, Snapshot snapshot, Staged staged)
      throws RocksDBException {
    if (staged == null || staged.head().slot() != snapshot.slot()) {
      throw new IllegalStateException(
          "the snapshot at slot " + snapshot.slot() + " reached the writer without staged chunks");
    }
    SnapshotHead head = staged.head();
    batch.deleteRange(logFamily, StoreLayout.slotKey(0), StoreLayout.slotKey(snapshot.slot() + 1));
    batch.deleteRange(
        snapshotFamily, StoreLayout.LEGACY_CHUNKS_BEGIN, StoreLayout.LEGACY_CHUNKS_END);
    batch.deleteRange(snapshotFamily, StoreLayout.CHUNKS_BEGIN, head.chunksBegin());
    batch.put(snapshotFamily, StoreLayout.SNAPSHOT_HEAD_KEY, head.frame());
    if (snapshot.membership() != null) {
      batch.put(
          metaFamily,
          StoreLayout.SNAPSHOT_MEMBERSHIP_KEY,
          RecordCodec.frame(
              RecordKind.STORE_RECORD, RecordCodec.encodeMembership(snapshot.membership())));
    } else {
      batch.delete(metaFamily, StoreLayout.SNAPSHOT_MEMBERSHIP_KEY);
    }
  }

  private static long estimateBytes(Persist persist) {
    long bytes = 64;
    for (LogEntry entry : persist.entries()) {
      bytes += 48 + entry.value().sizeBytes();
    }
    if (persist.snapshot() != null) {
      bytes += 256; // the install batch; the chunks were staged
    }
    return bytes;
  }

  /**
   * Stages {@code snapshot} (see {@link #stageSnapshot}) unless it is staged already or not newer
   * than the installed snapshot (then null: the writer ignores it). Caller holds the read lock.
   */
  private Staged stage(Snapshot snapshot) throws StoreFailedException {
    long slot = snapshot.slot();
    if (slot == Long.MAX_VALUE) {
      throw new IllegalArgumentException("snapshot slot " + slot + " is out of range");
    }
    Staged existing = staged.get(slot);
    if (existing != null && existing.image() == snapshot.image()) {
      return existing;
    }
    synchronized (stagingLock) {
      existing = staged.get(slot);
      if (existing != null && existing.image() == snapshot.image()) {
        return existing;
      }
      if (slot <= installedSnapshotSlot) {
        return null;
      }
      byte[] image = snapshot.data();
      int chunkBytes = options.snapshotChunkBytes();
      int chunkCount = (image.length + chunkBytes - 1) / chunkBytes;
      CRC32C crc = new CRC32C();
      crc.update(image);
      SnapshotHead head =
          new SnapshotHead(
              StoreLayout.HEAD_VERSION, slot, image.length, chunkCount, (int) crc.getValue());
      if (existing != null) {
        // Same slot, another array: the same state must give the same image, already on disk.
        if (!existing.head().equals(head)) {
          throw new IllegalStateException(
              "two different snapshot images at slot "
                  + slot
                  + " ("
                  + existing.head()
                  + " staged, then "
                  + head
                  + "); the state machine is not deterministic");
        }
        Staged again = new Staged(snapshot.image(), head, existing.chunkBytes());
        staged.put(slot, again);
        return again;
      }
      if (failure != null) {
        throw failure;
      }
      try {
        int index = 0;
        while (index < chunkCount) {
          try (WriteBatch batch = new WriteBatch()) {
            long batchBytes = 0;
            while (index < chunkCount && batchBytes < STAGING_BATCH_BYTES) {
              int from = index * chunkBytes;
              int length = Math.min(image.length, from + chunkBytes) - from;
              // One copy of each chunk, straight into its frame.
              batch.put(
                  snapshotFamily,
                  head.chunkKey(index),
                  RecordCodec.frame(RecordKind.STORE_RECORD, image, from, length));
              batchBytes += length;
              index++;
            }
            db.write(stagingWrite, batch);
          }
          stagingHook.afterBatch(slot, index, chunkCount);
        }
        // The chunks are in the WAL; make them durable before the install can name them.
        db.flushWal(true);
      } catch (RocksDBException e) {
        StoreFailedException failed =
            new StoreFailedException(
                dataDir,
                "staging the snapshot at slot "
                    + slot
                    + " failed ("
                    + describeStatus(e)
                    + "); the store accepts no more writes and the replica must stop",
                e);
        failure = failed;
        throw failed;
      }
      Staged fresh = new Staged(snapshot.image(), head, chunkBytes);
      staged.put(slot, fresh);
      return fresh;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the store in " + dataDir + " is closed");
    }
  }

  private PendingWrite takeUninterruptibly() {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return queue.take();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void putUninterruptibly(PendingWrite pending) {
    boolean interrupted = false;
    while (true) {
      try {
        queue.put(pending);
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** The DB must not be closed under a writer that is still inside db.write. */
  private static void joinUninterruptibly(Thread thread) {
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeNative(
      List<ColumnFamilyHandle> handles,
      RocksDB db,
      WriteOptions syncWrite,
      ColumnFamilyOptions familyOptions,
      DBOptions dbOptions) {
    for (ColumnFamilyHandle handle : handles) {
      handle.close();
    }
    if (db != null) {
      db.close();
    }
    if (syncWrite != null) {
      syncWrite.close();
    }
    if (familyOptions != null) {
      familyOptions.close();
    }
    if (dbOptions != null) {
      dbOptions.close();
    }
  }

  private static String describeStatus(RocksDBException e) {
    Status status = e.getStatus();
    String code = status == null ? null : status.getCodeString();
    String message = e.getMessage();
    if (message == null) {
      return code == null ? "unknown RocksDB error" : code;
    }
    return code == null || message.startsWith(code) ? message : code + ": " + message;
  }

  static StoreException rocksFailure(Path dir, String what, RocksDBException e) {
    Status status = e.getStatus();
    Problem problem =
        status != null && status.getCode() == Status.Code.Corruption
            ? Problem.CORRUPT_RECORD
            : Problem.IO_ERROR;
    return new StoreException(problem, dir, what + ": " + describeStatus(e), e);
  }
}
