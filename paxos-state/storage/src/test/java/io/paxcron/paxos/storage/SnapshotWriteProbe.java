package io.paxcron.paxos.storage;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * A measuring program, not a test: how long the store takes to install a snapshot of a given size,
 * and how long a small log write waits meanwhile — the time a replica's later steps are held while
 * its snapshot is written. Each round measures two ways: (1) {@code write} of a Persist carrying an
 * unstaged snapshot (the store stages the chunks on the calling thread, then the writer installs),
 * with a 256-byte log write submitted right behind it; (2) the replica's way: a snapshot thread
 * stages the chunks ({@code stageSnapshot}) while a 256-byte log write is submitted from another
 * thread after the first staged batch, then the install, with another log write right behind it.
 * Prints every round; asserts nothing. Usage: {@code SnapshotWriteProbe <parent dir> <snapshot
 * bytes> [rounds]}; the README gives the full command line.
 */
final class SnapshotWriteProbe {

  private SnapshotWriteProbe() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: SnapshotWriteProbe <parent dir> <snapshot bytes> [rounds]");
      System.exit(2);
    }
    Path parent = Path.of(args[0]);
    int size = Integer.parseInt(args[1]);
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    Files.createDirectories(parent);
    Path dir = Files.createTempDirectory(parent, "snapshot-write-probe-");
    byte[] image = new byte[size];
    new SplittableRandom(16).nextBytes(image);
    long slot = 0;
    try (LogStore store = LogStore.open(dir, StoreOptions.defaults("probe", 1))) {
      for (int round = 1; round <= rounds; round++) {
        for (int i = 0; i < 100; i++) {
          write(store, ++slot).join();
        }
        long started = System.nanoTime();
        CompletableFuture<Void> installed =
            store.write(new Persist(null, List.of(), new Snapshot(slot, image)));
        long queuedBehind = System.nanoTime();
        CompletableFuture<Void> next = write(store, ++slot);
        installed.join();
        long snapshotNanos = System.nanoTime() - started;
        next.join();
        long nextNanos = System.nanoTime() - queuedBehind;
        System.out.printf(
            "round %d: unstaged snapshot of %,d bytes durable in %.1f ms (write() returned after"
                + " %.1f ms); a 256-byte log write behind it waited %.1f ms%n",
            round, size, snapshotNanos / 1e6, (queuedBehind - started) / 1e6, nextNanos / 1e6);

        for (int i = 0; i < 100; i++) {
          write(store, ++slot).join();
        }
        Snapshot staged = new Snapshot(slot, image.clone());
        long during = ++slot;
        CompletableFuture<Long> duringNanos = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicBoolean fired =
            new java.util.concurrent.atomic.AtomicBoolean();
        // The staging thread submits the log write itself (after its first batch) and goes on
        // staging; the write's future completes on the store's writer thread. No thread pool is
        // involved: on 2 cores the common pool has one thread, which would serialise the two.
        store.stagingHook =
            (stagedSlot, written, count) -> {
              if (written < count && fired.compareAndSet(false, true)) {
                long submitted = System.nanoTime();
                write(store, during)
                    .thenRun(() -> duringNanos.complete(System.nanoTime() - submitted));
              }
            };
        long stageStarted = System.nanoTime();
        Thread stager =
            new Thread(
                () -> {
                  try {
                    store.stageSnapshot(staged);
                  } catch (StoreException e) {
                    throw new IllegalStateException(e);
                  }
                },
                "probe-snapshot-thread");
        stager.start();
        stager.join();
        long stageNanos = System.nanoTime() - stageStarted;
        store.stagingHook = LogStore.StagingHook.NONE;
        long installStarted = System.nanoTime();
        CompletableFuture<Void> install = store.write(new Persist(null, List.of(), staged));
        long behindSubmitted = System.nanoTime();
        CompletableFuture<Void> behind = write(store, ++slot);
        install.join();
        long installNanos = System.nanoTime() - installStarted;
        behind.join();
        long behindNanos = System.nanoTime() - behindSubmitted;
        System.out.printf(
            "round %d: staged: staging %.1f ms, a log write during it waited %s; install %.1f ms,"
                + " a 256-byte log write behind it waited %.1f ms%n",
            round,
            stageNanos / 1e6,
            fired.get() ? String.format("%.1f ms", duringNanos.join() / 1e6) : "(none)",
            installNanos / 1e6,
            behindNanos / 1e6);
      }
    } finally {
      try (var paths = Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static CompletableFuture<Void> write(LogStore store, long slot) {
    LogEntry entry =
        new LogEntry(
            slot,
            new Ballot(1, 1),
            new Value.Batch(List.of(new Command(1, slot, new byte[256]))),
            false);
    return store.write(new Persist(new Ballot(1, 1), List.of(entry), null));
  }
}
