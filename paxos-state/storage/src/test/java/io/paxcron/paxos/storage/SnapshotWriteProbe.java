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
 * A measuring program, not a test: how long the store takes to install a snapshot of a given size
 * (one synced batch: the chunks, the head, the log truncation), and how long a small log write
 * submitted right behind it waits — the time a replica's later steps are held while its snapshot is
 * written. Prints every round; asserts nothing. Usage: {@code SnapshotWriteProbe <parent dir>
 * <snapshot bytes> [rounds]}; the README gives the full command line.
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
            "round %d: snapshot of %,d bytes durable in %.1f ms; a 256-byte log write behind it"
                + " waited %.1f ms%n",
            round, size, snapshotNanos / 1e6, nextNanos / 1e6);
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
