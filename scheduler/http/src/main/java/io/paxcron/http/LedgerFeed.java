package io.paxcron.http;

import io.paxcron.api.JobClient;
import io.paxcron.api.JobClientException;
import io.paxcron.api.RunWatch;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunRecord;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The cluster-wide run ledger as this replica's dashboard sees it: one {@code WatchRuns} stream for
 * every job (through {@link JobClient}, so it follows the leader and resumes after a failover
 * without losing a record), kept as a window of the newest {@code window} records plus the newest
 * terminal record of each job. It is a view of the replicated ledger, never a second source of
 * truth: it holds nothing that the ledger did not deliver.
 *
 * <p>Threading: one daemon thread reads the stream; readers call the query methods from any thread
 * (they copy under this object's lock). {@link Listener}s run on the feed's thread.
 */
final class LedgerFeed implements AutoCloseable {

  /**
   * Told about every record delivered, with the instants it adds (a grown stretch adds its growth).
   */
  interface Listener {
    void onRecord(RunRecord record, long newInstants);
  }

  /** Most jobs whose latest record is remembered (the cluster's own job limit bounds it too). */
  static final int MAX_JOBS_REMEMBERED = 100_000;

  private final JobClient client;
  private final int window;
  private final Listener listener;
  private final PrintStream log;
  private final NavigableMap<Long, RunRecord> records = new TreeMap<>();
  private final Map<String, RunRecord> latestByJob = new HashMap<>();
  private final Thread thread;
  private volatile boolean closed;
  private volatile RunWatch watch;
  private long delivered;

  LedgerFeed(JobClient client, int window, Listener listener, PrintStream log) {
    this.client = client;
    this.window = window;
    this.listener = listener;
    this.log = log;
    this.thread = new Thread(this::run, "http-ledger-feed");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  private void run() {
    long after = 0;
    int failures = 0;
    while (!closed) {
      RunWatch current = client.watchRuns("", after);
      watch = current;
      try {
        while (!closed) {
          accept(current.next());
          failures = 0;
        }
      } catch (JobClientException e) {
        if (closed) {
          return;
        }
        after = current.afterSequence();
        failures++;
        if (failures == 1) {
          log.println("dashboard ledger feed: " + e.getMessage() + "; retrying");
        }
        // The client already backed off between its own attempts; this pause only keeps a
        // cluster without any leader from being polled in a tight loop.
        pause(Math.min(2_000, 100L * failures));
      } finally {
        current.close();
      }
    }
  }

  private static void pause(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // Package-private for tests; the feed thread is its only other caller.
  void accept(RunRecord record) {
    long added;
    synchronized (this) {
      RunRecord previous = records.put(record.getSequence(), record);
      long before = previous == null ? 0 : Math.max(1, previous.getInstantCount());
      added = Math.max(0, Math.max(1, record.getInstantCount()) - before);
      while (records.size() > window) {
        records.pollFirstEntry();
      }
      RunRecord latest = latestByJob.get(record.getJob());
      if (latest == null || latest.getSequence() <= record.getSequence()) {
        if (latest != null || latestByJob.size() < MAX_JOBS_REMEMBERED) {
          latestByJob.put(record.getJob(), record);
        }
      }
      delivered++;
    }
    listener.onRecord(record, added);
  }

  /** Records delivered so far (grows with every delivery; the dashboard polls on it). */
  synchronized long delivered() {
    return delivered;
  }

  /** The newest terminal record of {@code job}, or null. */
  synchronized RunRecord latest(String job) {
    return latestByJob.get(job);
  }

  /**
   * Up to {@code limit} records matching {@code filter}, newest first, with sequence below {@code
   * beforeSequence} (0: from the newest).
   */
  synchronized List<RunRecord> newest(Predicate<RunRecord> filter, long beforeSequence, int limit) {
    List<RunRecord> out = new ArrayList<>();
    NavigableMap<Long, RunRecord> view =
        beforeSequence > 0 ? records.headMap(beforeSequence, false) : records;
    for (RunRecord record : view.descendingMap().values()) {
      if (out.size() >= limit) {
        break;
      }
      if (filter.test(record)) {
        out.add(record);
      }
    }
    return out;
  }

  /** Every record kept, oldest first. */
  synchronized List<RunRecord> all() {
    return new ArrayList<>(records.values());
  }

  /** The oldest sequence kept, or 0 when empty (counts over a longer span are partial). */
  synchronized long oldestSequence() {
    return records.isEmpty() ? 0 : records.firstKey();
  }

  /**
   * Counts of instants at or after {@code sinceEpochSecond} by outcome name, over the records kept.
   * A stretch of skips that started before the span counts the part inside it, taking its instants
   * as evenly spaced between its first and last (exact for the usual every-N schedule).
   */
  synchronized Map<String, Long> countsSince(long sinceEpochSecond) {
    Map<String, Long> counts = new TreeMap<>();
    for (Outcome outcome : Outcome.values()) {
      if (outcome != Outcome.OUTCOME_UNSPECIFIED && outcome != Outcome.UNRECOGNIZED) {
        counts.put(Views.outcomeName(outcome), 0L);
      }
    }
    for (RunRecord record : records.values()) {
      long instants = instantsSince(record, sinceEpochSecond);
      if (instants > 0) {
        counts.merge(Views.outcomeName(record.getOutcome()), instants, Long::sum);
      }
    }
    return counts;
  }

  static long instantsSince(RunRecord record, long sinceEpochSecond) {
    long first = record.getInstant().getSeconds();
    long last = record.hasLastInstant() ? record.getLastInstant().getSeconds() : first;
    long count = Math.max(1, record.getInstantCount());
    if (last < sinceEpochSecond) {
      return 0;
    }
    if (first >= sinceEpochSecond || count == 1 || last == first) {
      return count;
    }
    double step = (double) (last - first) / (count - 1);
    return Math.min(count, (long) Math.floor((last - sinceEpochSecond) / step) + 1);
  }

  @Override
  public void close() {
    closed = true;
    RunWatch current = watch;
    if (current != null) {
      current.close();
    }
    thread.interrupt();
  }
}
