package io.paxcron.fault.checker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Everything a fault run recorded, read from its report directory. The harness writes these files
 * (tab-separated, one record a line, {@code #} starts a comment); the checker never talks to the
 * cluster, so a report directory can be checked again later, or by hand.
 *
 * <ul>
 *   <li>{@code run.properties}: seed, minutes, nemeses, and the instants (epoch ms) the workload
 *       started, the faults healed and the ledger was read;
 *   <li>{@code history.tsv}: every client operation on the churn jobs ({@link Op});
 *   <li>{@code jobs.tsv}: the ledger jobs, which nothing changes after creation ({@link
 *       LedgerJob});
 *   <li>{@code ledger.tsv}: their ledger records and open runs after the heal ({@link Entry});
 *   <li>{@code launches/*.log}: what the jobs' commands appended ({@link Launch});
 *   <li>{@code faults.tsv}: the nemesis's windows ({@link Fault});
 *   <li>{@code disk.tsv}: for each disk fault, whether and when the replica stopped ({@link
 *       DiskFault}).
 * </ul>
 *
 * A malformed line is an error naming {@code file:line} and the reason.
 */
public record RunData(
    Properties run,
    List<Op> history,
    List<LedgerJob> jobs,
    List<Entry> ledger,
    List<Launch> launches,
    List<Fault> faults,
    List<DiskFault> disks) {

  /**
   * One client operation on a churn job. Times are epoch microseconds of the harness's clock.
   *
   * @param kind put, pause, resume, delete or get
   * @param value the token a put writes (unique per put), else {@code -}
   * @param returnMicros -1 when the client never learned the outcome
   * @param result ok, fail (a definite answer that changed nothing) or info (outcome unknown)
   * @param observed for a get that answered: {@code absent} or {@code token:paused|active}; for a
   *     failure its code (e.g. NOT_FOUND); else {@code -}
   */
  public record Op(
      String process,
      String kind,
      String job,
      String value,
      long callMicros,
      long returnMicros,
      String result,
      String observed) {
    public boolean isWrite() {
      return !kind.equals("get");
    }

    public boolean pending() {
      return result.equals("info");
    }
  }

  /**
   * A ledger job: created once, never changed, its schedule every {@code periodSeconds} seconds.
   *
   * @param createdMillis when its creation was acknowledged
   */
  public record LedgerJob(
      String name,
      int periodSeconds,
      String semantics,
      String concurrency,
      String misfire,
      long createdMillis) {
    public boolean atMostOnce() {
      return semantics.equals("at-most-once");
    }
  }

  /**
   * A ledger record or an open run of a ledger job.
   *
   * @param open true for a run still open when the ledger was read
   * @param lastInstantMillis the last instant a range record (misfire) covers; equals {@code
   *     instantMillis} for a single instant
   * @param outcome SUCCEEDED, FAILED, TIMED_OUT, SKIPPED, LOST, or the run's status when open
   */
  public record Entry(
      String job,
      String runId,
      boolean open,
      long instantMillis,
      long lastInstantMillis,
      long instantCount,
      String outcome,
      String skipReason,
      int attempts,
      String agent,
      long startedMillis) {}

  /** One line a job's command appended: {@code runId attempt agent epochNanos}. */
  public record Launch(String job, String runId, int attempt, String agent, long startNanos) {
    /** The scheduled instant, parsed from the run id ({@code job@instant}). */
    public long instantMillis() {
      int at = runId.lastIndexOf('@');
      String instant = runId.substring(at + 1);
      int slash = instant.indexOf('/');
      return java.time.Instant.parse(slash < 0 ? instant : instant.substring(0, slash))
          .toEpochMilli();
    }
  }

  /**
   * One nemesis window.
   *
   * @param family kill, pause, partition, clock or disk
   * @param leaderLoss whether the fault took the leader away (kill, pause, isolation)
   */
  public record Fault(
      long startMillis,
      long endMillis,
      String family,
      String kind,
      String target,
      boolean leaderLoss) {}

  /**
   * A disk fault and what the replica did.
   *
   * @param exitedMillis when its process was seen gone, or -1 if it kept running
   */
  public record DiskFault(
      int replica, String kind, long injectedMillis, long exitedMillis, int exitCode) {}

  public long startMillis() {
    return Long.parseLong(run.getProperty("start_ms"));
  }

  public long healMillis() {
    return Long.parseLong(run.getProperty("heal_ms"));
  }

  public long readMillis() {
    return Long.parseLong(run.getProperty("ledger_read_ms"));
  }

  /** Reads a report directory; an unreadable or malformed file is an error naming it. */
  public static RunData read(Path dir) {
    Properties run = new Properties();
    try (var in = Files.newBufferedReader(dir.resolve("run.properties"), StandardCharsets.UTF_8)) {
      run.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve("run.properties"), e);
    }
    for (String key : List.of("seed", "minutes", "nemeses", "start_ms", "heal_ms")) {
      if (run.getProperty(key) == null) {
        throw new IllegalArgumentException(
            dir.resolve("run.properties") + ": the key " + key + " is missing");
      }
    }
    List<Op> history =
        rows(
            dir.resolve("history.tsv"),
            8,
            f ->
                new Op(
                    f[0],
                    oneOf(f[1], "kind", "put", "pause", "resume", "delete", "get"),
                    f[2],
                    f[3],
                    Long.parseLong(f[4]),
                    Long.parseLong(f[5]),
                    oneOf(f[6], "result", "ok", "fail", "info"),
                    f[7]));
    List<LedgerJob> jobs =
        rows(
            dir.resolve("jobs.tsv"),
            6,
            f ->
                new LedgerJob(
                    f[0],
                    Integer.parseInt(f[1]),
                    oneOf(f[2], "semantics", "at-most-once", "at-least-once"),
                    f[3],
                    f[4],
                    Long.parseLong(f[5])));
    List<Entry> ledger =
        rows(
            dir.resolve("ledger.tsv"),
            11,
            f ->
                new Entry(
                    f[0],
                    f[1],
                    oneOf(f[2], "kind", "record", "open").equals("open"),
                    Long.parseLong(f[3]),
                    Long.parseLong(f[4]),
                    Long.parseLong(f[5]),
                    f[6],
                    f[7],
                    Integer.parseInt(f[8]),
                    f[9],
                    Long.parseLong(f[10])));
    List<Launch> launches = new ArrayList<>();
    Path launchDir = dir.resolve("launches");
    if (Files.isDirectory(launchDir)) {
      try (Stream<Path> files = Files.list(launchDir)) {
        for (Path file : files.sorted().toList()) {
          String name = file.getFileName().toString();
          String suffix =
              name.endsWith(".log") ? ".log" : name.endsWith(".log.gz") ? ".log.gz" : null;
          if (suffix == null) {
            continue;
          }
          String job = name.substring(0, name.length() - suffix.length());
          launches.addAll(
              rows(
                  file,
                  4,
                  " ",
                  f -> new Launch(job, f[0], Integer.parseInt(f[1]), f[2], Long.parseLong(f[3]))));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + launchDir, e);
      }
    }
    List<Fault> faults =
        rows(
            dir.resolve("faults.tsv"),
            6,
            f ->
                new Fault(
                    Long.parseLong(f[0]),
                    Long.parseLong(f[1]),
                    f[2],
                    f[3],
                    f[4],
                    oneOf(f[5], "leader_loss", "0", "1").equals("1")));
    List<DiskFault> disks =
        Files.exists(dir.resolve("disk.tsv"))
            ? rows(
                dir.resolve("disk.tsv"),
                5,
                f ->
                    new DiskFault(
                        Integer.parseInt(f[0]),
                        f[1],
                        Long.parseLong(f[2]),
                        Long.parseLong(f[3]),
                        Integer.parseInt(f[4])))
            : List.of();
    return new RunData(run, history, jobs, ledger, launches, faults, disks);
  }

  private static String oneOf(String value, String field, String... allowed) {
    for (String candidate : allowed) {
      if (candidate.equals(value)) {
        return value;
      }
    }
    throw new IllegalArgumentException(
        field + " '" + value + "' is not one of " + String.join(", ", allowed));
  }

  /**
   * The lines of {@code file}, or of {@code file.gz} when only that exists (committed records keep
   * their large files compressed, docs/fault-runs/README.md), or of {@code file} itself if it ends
   * in {@code .gz}.
   */
  private static List<String> lines(Path file) {
    Path gz = file.resolveSibling(file.getFileName() + ".gz");
    boolean compressed = file.getFileName().toString().endsWith(".gz");
    if (!compressed && !Files.exists(file) && Files.exists(gz)) {
      file = gz;
      compressed = true;
    }
    try {
      if (!compressed) {
        return Files.readAllLines(file, StandardCharsets.UTF_8);
      }
      try (var in =
          new BufferedReader(
              new InputStreamReader(
                  new GZIPInputStream(Files.newInputStream(file)), StandardCharsets.UTF_8))) {
        return in.lines().toList();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private interface RowParser<T> {
    T parse(String[] fields);
  }

  private static <T> List<T> rows(Path file, int fields, RowParser<T> parser) {
    return rows(file, fields, "\t", parser);
  }

  private static <T> List<T> rows(Path file, int fields, String separator, RowParser<T> parser) {
    List<String> lines = lines(file);
    List<T> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.strip().split(separator.equals(" ") ? " +" : separator, -1);
      if (parts.length != fields) {
        throw new IllegalArgumentException(
            file + ":" + (i + 1) + ": expected " + fields + " fields, found " + parts.length);
      }
      try {
        out.add(parser.parse(parts));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  /** Groups items by a key, keeping first-seen order. */
  static <K, T> Map<K, List<T>> group(List<T> items, java.util.function.Function<T, K> key) {
    Map<K, List<T>> groups = new LinkedHashMap<>();
    for (T item : items) {
      groups.computeIfAbsent(key.apply(item), k -> new ArrayList<>()).add(item);
    }
    return groups;
  }
}
