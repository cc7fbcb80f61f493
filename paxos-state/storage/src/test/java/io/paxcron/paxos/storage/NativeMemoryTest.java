package io.paxcron.paxos.storage;

import static io.paxcron.paxos.storage.Fixtures.entries;
import static io.paxcron.paxos.storage.Fixtures.entry;
import static io.paxcron.paxos.storage.Fixtures.options;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Snapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every native RocksDB object the store creates must be freed: opening, using and closing a store
 * thousands of times must not grow the process's resident memory. The heap is fixed and pre-touched
 * by the surefire argLine, so RSS growth here is native growth.
 *
 * <p>A cycle costs 25 ms on an idle 2-core machine and up to 100 ms when it is shared, so the
 * default is 1,000 measured cycles; {@code -Dpaxcron.test.nativeMemoryCycles=2000} runs more.
 */
class NativeMemoryTest {

  private static final int WARM_UP_CYCLES = 200;
  private static final int MEASURED_CYCLES =
      Integer.getInteger("paxcron.test.nativeMemoryCycles", 1_000);
  private static final long RSS_GROWTH_BOUND_KIB = 64 * 1024;
  private static final Path STATUS = Path.of("/proc/self/status");

  @TempDir Path dir;

  @Test
  void openingWritingLoadingAndClosingAThousandTimesKeepsResidentMemoryFlat() throws Exception {
    assumeTrue(Files.isReadable(STATUS), "needs Linux's " + STATUS);
    long slot = 0;
    for (int i = 0; i < WARM_UP_CYCLES; i++) {
      slot = cycle(slot);
    }
    long before = residentKib();
    for (int i = 0; i < MEASURED_CYCLES; i++) {
      slot = cycle(slot);
    }
    long after = residentKib();

    System.out.printf(
        "native memory: %d open/write/load/close cycles after %d warm-up cycles;"
            + " VmRSS %d KiB -> %d KiB (growth %d KiB, bound %d KiB)%n",
        MEASURED_CYCLES, WARM_UP_CYCLES, before, after, after - before, RSS_GROWTH_BOUND_KIB);
    assertTrue(
        after - before < RSS_GROWTH_BOUND_KIB,
        "VmRSS grew by " + (after - before) + " KiB over " + MEASURED_CYCLES + " cycles");
  }

  /** One store lifetime touching every native object kind: batch, sync, iterators, snapshot. */
  private long cycle(long slot) throws Exception {
    try (LogStore store = LogStore.open(dir, options())) {
      long next = slot + 1;
      Persist persist =
          next % 50 == 0
              ? new Persist(
                  null, List.of(entry(next + 1, 1, "s")), new Snapshot(next, new byte[256]))
              : entries(entry(next, 1, "payload-" + next));
      store.write(persist).join();
      long highest = persist.snapshot() != null ? next + 1 : next;
      List<LogEntry> log = store.load().log();
      assertEquals(highest, log.get(log.size() - 1).slot());
      return highest;
    }
  }

  private static long residentKib() throws IOException {
    for (String line : Files.readAllLines(STATUS)) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("/proc/self/status has no VmRSS line");
  }
}
