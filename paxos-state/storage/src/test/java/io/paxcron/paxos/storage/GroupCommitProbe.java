package io.paxcron.paxos.storage;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A measuring program, not a test: closed-loop writers, each waiting for its synced write before
 * the next, against a real store on a real disk. It prints writes per sync (the group-commit
 * factor) and write latency. Usage: {@code GroupCommitProbe <parent dir> <writers> <writes per
 * writer>}; the README gives the full command line.
 */
final class GroupCommitProbe {

  private GroupCommitProbe() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: GroupCommitProbe <parent dir> <writers> <writes per writer>");
      System.exit(2);
    }
    Path parent = Path.of(args[0]);
    int writers = Integer.parseInt(args[1]);
    int writesPerWriter = Integer.parseInt(args[2]);
    Files.createDirectories(parent);
    Path dir = Files.createTempDirectory(parent, "group-commit-probe-");
    AtomicLong nextSlot = new AtomicLong(1);
    long[][] latencies = new long[writers][writesPerWriter];
    byte[] payload = new byte[256];
    try (LogStore store = LogStore.open(dir, StoreOptions.defaults("probe", 1))) {
      for (int i = 0; i < 50; i++) {
        write(store, nextSlot.getAndIncrement(), payload);
      }
      StoreStats warm = store.stats();
      List<Thread> threads = new ArrayList<>();
      long started = System.nanoTime();
      for (int w = 0; w < writers; w++) {
        long[] mine = latencies[w];
        Thread thread =
            new Thread(
                () -> {
                  for (int i = 0; i < writesPerWriter; i++) {
                    long begin = System.nanoTime();
                    write(store, nextSlot.getAndIncrement(), payload);
                    mine[i] = System.nanoTime() - begin;
                  }
                });
        threads.add(thread);
        thread.start();
      }
      for (Thread thread : threads) {
        thread.join();
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      StoreStats stats = store.stats();
      long writes = stats.persistsWritten() - warm.persistsWritten();
      long syncs = stats.syncedBatches() - warm.syncedBatches();
      long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
      System.out.printf(
          "writers=%d writes=%d syncs=%d writes/sync=%.1f largestGroup=%d throughput=%.0f/s"
              + " latency p50=%.2f ms p99=%.2f ms max=%.2f ms dir=%s%n",
          writers,
          writes,
          syncs,
          (double) writes / syncs,
          stats.largestGroup(),
          writes / seconds,
          all[all.length / 2] / 1e6,
          all[(int) (all.length * 0.99)] / 1e6,
          all[all.length - 1] / 1e6,
          dir);
    }
  }

  private static void write(LogStore store, long slot, byte[] payload) {
    LogEntry entry =
        new LogEntry(
            slot, new Ballot(1, 1), new Value.Batch(List.of(new Command(1, slot, payload))), false);
    store.write(new Persist(new Ballot(1, 1), List.of(entry), null)).join();
  }
}
