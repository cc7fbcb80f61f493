package io.paxcron.fault.checker;

import io.paxcron.fault.checker.RunData.Entry;
import io.paxcron.fault.checker.RunData.Fault;
import io.paxcron.fault.checker.RunData.Launch;
import io.paxcron.fault.checker.RunData.LedgerJob;
import io.paxcron.fault.checker.RunData.Op;
import io.paxcron.sim.linearizability.CheckResult;
import io.paxcron.sim.linearizability.LinearizabilityChecker;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks one fault run's record ({@link RunData}) against DESIGN §1's promises and counts what it
 * finds. Pure: no clock, no I/O.
 *
 * <ul>
 *   <li><b>Job changes</b> (Jepsen's set workload on the churn jobs): attempted, acknowledged, ok,
 *       lost (acknowledged, certainly the job's last write, and not in its final state), recovered
 *       (outcome unknown to the client, present in a later read), unexpected (a final state no
 *       write wrote); and the linearizability of the whole history, final reads included, by the
 *       project's Wing–Gong/Lowe checker.
 *   <li><b>Launches</b> (the lines the commands appended): duplicated (an at-most-once run started
 *       more than once, or any {@code (runId, attempt)} started twice), launches without a ledger
 *       record, and ledger successes without a launch.
 *   <li><b>Ledger</b>: every scheduled instant of every ledger job inside the checked window is
 *       covered by exactly one record or open run: expected, accounted, doubled, missing.
 *   <li><b>Disk faults</b>: the replica must have stopped.
 *   <li>Measured, not judged: launch lateness p50/p99/max in healthy and faulty periods, the
 *       scheduling gap after each leader loss, client latency.
 * </ul>
 */
public final class FaultChecker {

  /** How long after a job's creation is acknowledged its instants start to count. */
  static final long CREATION_GRACE_MS = 3_000;

  /** Instants this close to the ledger read are not checked (their runs may still be open). */
  static final long END_GRACE_MS = 20_000;

  /** How long a replica may keep running after its disk fault before that is an anomaly. */
  static final long DISK_STOP_BOUND_MS = 20_000;

  /** Instants this soon after a fault window ends count as faulty for lateness. */
  static final long RECOVERY_MS = 10_000;

  /** One finding: what broke, and the evidence a reader needs to see it. */
  public record Anomaly(String kind, String summary, List<String> evidence) {}

  /** The numbers of the report. */
  public record Counts(
      long attempted,
      long acknowledged,
      long ok,
      long lost,
      long recovered,
      long unexpected,
      long unknownOutcome,
      long reads,
      String linearizability,
      long launches,
      long duplicated,
      long launchesWithoutRecord,
      long successesWithoutLaunch,
      long instantsExpected,
      long instantsAccounted,
      long instantsDoubled,
      long instantsMissing,
      long instantsOpen) {}

  /** A lateness sample: the scheduled instant, and how late the command started (ms). */
  public record Lateness(long instantMillis, double lateMillis, boolean faulty) {}

  /** The scheduling gap around one leader loss. */
  public record Gap(Fault fault, long gapMillis) {}

  /** Everything the report shows. */
  public record Result(
      Counts counts,
      List<Anomaly> anomalies,
      List<Lateness> lateness,
      List<Gap> gaps,
      Map<Long, Integer> launchesPerSecond) {

    public long unaccounted() {
      return counts.instantsMissing();
    }
  }

  private final long linearizabilitySteps;

  public FaultChecker(long linearizabilitySteps) {
    this.linearizabilitySteps = linearizabilitySteps;
  }

  public Result check(RunData data) {
    List<Anomaly> anomalies = new ArrayList<>();

    // ---------------------------------------------------------------- job changes
    List<Op> history = data.history();
    Map<String, List<Op>> byJob = RunData.group(history, Op::job);
    long attempted = 0;
    long acknowledged = 0;
    long lost = 0;
    long recovered = 0;
    long unexpected = 0;
    long unknown = 0;
    long reads = 0;
    for (Map.Entry<String, List<Op>> job : byJob.entrySet()) {
      List<Op> ops = job.getValue();
      Op finalRead = null;
      for (Op op : ops) {
        if (op.process().equals("final") && op.kind().equals("get") && !op.pending()) {
          finalRead = op;
        }
      }
      Set<String> observedTokens = new HashSet<>();
      Set<String> attemptedTokens = new HashSet<>();
      for (Op op : ops) {
        if (op.isWrite()) {
          attempted++;
          acknowledged += op.result().equals("ok") ? 1 : 0;
          unknown += op.pending() ? 1 : 0;
          if (op.kind().equals("put")) {
            attemptedTokens.add(op.value());
          }
        } else {
          reads++;
          if (op.result().equals("ok") && !op.observed().equals("absent")) {
            observedTokens.add(token(op.observed()));
          }
        }
      }
      for (Op op : ops) {
        if (op.kind().equals("put") && op.pending() && observedTokens.contains(op.value())) {
          recovered++;
        }
      }
      for (String token : observedTokens) {
        if (!attemptedTokens.contains(token)) {
          unexpected++;
          anomalies.add(
              new Anomaly(
                  "unexpected",
                  "job " + job.getKey() + " was read with token " + token + ", which no put wrote",
                  evidenceOf(ops, token)));
        }
      }
      if (finalRead == null) {
        continue;
      }
      String finalState = finalRead.result().equals("ok") ? finalRead.observed() : "absent";
      for (Op write : ops) {
        if (!write.isWrite() || !write.result().equals("ok") || write.kind().equals("get")) {
          continue;
        }
        if (!certainlyLast(write, ops, finalRead)) {
          continue;
        }
        String expected =
            switch (write.kind()) {
              case "put" -> write.value() + ":active";
              case "delete" -> "absent";
              default -> null;
            };
        boolean holds =
            expected != null
                ? expected.equals(finalState)
                : !finalState.equals("absent")
                    && finalState.endsWith(write.kind().equals("pause") ? ":paused" : ":active");
        if (!holds) {
          lost++;
          anomalies.add(
              new Anomaly(
                  "lost",
                  "acknowledged "
                      + write.kind()
                      + " of "
                      + write.job()
                      + " by "
                      + write.process()
                      + " was the job's last write, but the final state is "
                      + finalState,
                  List.of(describe(write), "final read: " + describe(finalRead))));
        }
      }
    }
    String linearizability;
    CheckResult verdict =
        new LinearizabilityChecker(linearizabilitySteps)
            .check(new JobModel(), JobModel.operations(history));
    switch (verdict) {
      case CheckResult.Linearizable l ->
          linearizability = "linearizable (" + l.partitions() + " jobs)";
      case CheckResult.NotLinearizable n -> {
        linearizability = "NOT linearizable";
        anomalies.add(
            new Anomaly(
                "not-linearizable",
                "the job history has no linearization",
                List.of(n.explanation().split("\n"))));
      }
      case CheckResult.Unknown u -> linearizability = "undecided: " + u.reason();
    }

    // ---------------------------------------------------------------- launches
    Map<String, LedgerJob> jobs = new LinkedHashMap<>();
    for (LedgerJob job : data.jobs()) {
      jobs.put(job.name(), job);
    }
    Map<String, List<Entry>> entriesByRun = RunData.group(data.ledger(), Entry::runId);
    Map<String, List<Launch>> launchesByRun = RunData.group(data.launches(), Launch::runId);
    long duplicated = 0;
    long withoutRecord = 0;
    for (Map.Entry<String, List<Launch>> run : launchesByRun.entrySet()) {
      List<Launch> starts = run.getValue();
      LedgerJob job = jobs.get(starts.get(0).job());
      Set<Integer> attempts = new HashSet<>();
      boolean attemptTwice = false;
      for (Launch launch : starts) {
        attemptTwice |= !attempts.add(launch.attempt());
      }
      if (attemptTwice || (job != null && job.atMostOnce() && starts.size() > 1)) {
        duplicated++;
        List<String> evidence = new ArrayList<>();
        for (Launch launch : starts) {
          evidence.add(describe(launch));
        }
        for (Entry entry : entriesByRun.getOrDefault(run.getKey(), List.of())) {
          evidence.add("ledger: " + describe(entry));
        }
        anomalies.add(
            new Anomaly(
                "duplicated",
                "run "
                    + run.getKey()
                    + (attemptTwice ? " started the same attempt twice" : " started twice")
                    + (job != null && job.atMostOnce() ? " (at-most-once)" : ""),
                evidence));
      }
      List<Entry> entries = entriesByRun.getOrDefault(run.getKey(), List.of());
      for (Launch launch : starts) {
        if (launch.instantMillis() > data.readMillis() - END_GRACE_MS) {
          // Started around or after the ledger was read: the read cannot be expected to show it.
          continue;
        }
        boolean recorded = false;
        for (Entry entry : entries) {
          recorded |= entry.attempts() >= launch.attempt();
        }
        if (!recorded) {
          withoutRecord++;
          anomalies.add(
              new Anomaly(
                  "launch-without-record",
                  "run "
                      + run.getKey()
                      + " attempt "
                      + launch.attempt()
                      + " started but the"
                      + " ledger has no record or open run with that attempt",
                  List.of(describe(launch))));
        }
      }
    }
    long successesWithoutLaunch = 0;
    for (Entry entry : data.ledger()) {
      if (!entry.open()
          && entry.outcome().equals("SUCCEEDED")
          && !launchesByRun.containsKey(entry.runId())) {
        successesWithoutLaunch++;
        anomalies.add(
            new Anomaly(
                "success-without-launch",
                "the ledger says " + entry.runId() + " SUCCEEDED but its command never ran",
                List.of("ledger: " + describe(entry))));
      }
    }

    // ---------------------------------------------------------------- ledger
    long expected = 0;
    long accounted = 0;
    long doubled = 0;
    long missing = 0;
    long open = 0;
    long windowEnd = data.readMillis() - END_GRACE_MS;
    Map<String, List<Entry>> entriesByJob = RunData.group(data.ledger(), Entry::job);
    for (LedgerJob job : data.jobs()) {
      long period = job.periodSeconds() * 1000L;
      long from = ceil(job.createdMillis() + CREATION_GRACE_MS, period);
      List<Entry> entries = entriesByJob.getOrDefault(job.name(), List.of());
      for (long instant = from; instant <= windowEnd; instant += period) {
        expected++;
        List<Entry> covering = new ArrayList<>();
        for (Entry entry : entries) {
          if (covers(entry, instant, period)) {
            covering.add(entry);
          }
        }
        if (covering.isEmpty()) {
          missing++;
          anomalies.add(
              new Anomaly(
                  "unaccounted",
                  job.name()
                      + " instant "
                      + java.time.Instant.ofEpochMilli(instant)
                      + " has no ledger record and no open run",
                  neighbours(entries, instant, period)));
        } else if (covering.size() > 1) {
          doubled++;
          List<String> evidence = new ArrayList<>();
          for (Entry entry : covering) {
            evidence.add("ledger: " + describe(entry));
          }
          anomalies.add(
              new Anomaly(
                  "doubled",
                  job.name()
                      + " instant "
                      + java.time.Instant.ofEpochMilli(instant)
                      + " has "
                      + covering.size()
                      + " ledger records",
                  evidence));
        } else {
          accounted++;
          open += covering.get(0).open() ? 1 : 0;
        }
      }
    }

    // ---------------------------------------------------------------- disk faults
    for (RunData.DiskFault disk : data.disks()) {
      // A failing fsync leaves the replica no honest way on: it must stop. A full disk need not
      // stop a replica whose writes still fit (RocksDB preallocates its write-ahead log with
      // fallocate, so appends into that space succeed); it is shown in the report, and a replica
      // that lied about a write would show up as a lost change.
      if (disk.kind().equals("fsync")
          && (disk.exitedMillis() < 0
              || disk.exitedMillis() - disk.injectedMillis() > DISK_STOP_BOUND_MS)) {
        anomalies.add(
            new Anomaly(
                "disk-fault-ignored",
                "replica " + disk.replica() + " kept running after " + disk.kind(),
                List.of(
                    "injected at "
                        + java.time.Instant.ofEpochMilli(disk.injectedMillis())
                        + (disk.exitedMillis() < 0
                            ? ", still running when the fault was healed"
                            : ", stopped "
                                + (disk.exitedMillis() - disk.injectedMillis())
                                + " ms later"))));
      }
    }

    // ---------------------------------------------------------------- measurements
    List<Lateness> lateness = new ArrayList<>();
    Map<Long, Integer> perSecond = new TreeMap<>();
    for (Launch launch : data.launches()) {
      long startMillis = launch.startNanos() / 1_000_000;
      perSecond.merge(startMillis / 1000, 1, Integer::sum);
      if (launch.attempt() != 1 || launch.runId().endsWith("/manual")) {
        continue;
      }
      long instant = launch.instantMillis();
      lateness.add(
          new Lateness(
              instant, launch.startNanos() / 1e6 - instant, faulty(data.faults(), instant)));
    }
    lateness.sort((a, b) -> Long.compare(a.instantMillis(), b.instantMillis()));
    List<Gap> gaps = new ArrayList<>();
    List<Long> starts = new ArrayList<>();
    for (Launch launch : data.launches()) {
      starts.add(launch.startNanos() / 1_000_000);
    }
    Collections.sort(starts);
    for (Fault fault : data.faults()) {
      if (!fault.leaderLoss()) {
        continue;
      }
      long before = Long.MIN_VALUE;
      long after = Long.MIN_VALUE;
      for (long start : starts) {
        if (start < fault.startMillis()) {
          before = start;
        } else {
          after = start;
          break;
        }
      }
      gaps.add(
          new Gap(
              fault, before == Long.MIN_VALUE || after == Long.MIN_VALUE ? -1 : after - before));
    }

    Counts counts =
        new Counts(
            attempted,
            acknowledged,
            acknowledged - lost,
            lost,
            recovered,
            unexpected,
            unknown,
            reads,
            linearizability,
            data.launches().size(),
            duplicated,
            withoutRecord,
            successesWithoutLaunch,
            expected,
            accounted,
            doubled,
            missing,
            open);
    return new Result(counts, anomalies, lateness, gaps, perSecond);
  }

  /** The one summary line every run ends with. */
  public static String summaryLine(RunData data, Result result) {
    return String.format(
        Locale.ROOT,
        "FAULT seed=%s minutes=%s nemeses=%s acknowledged=%d lost=%d duplicated=%d"
            + " unaccounted=%d anomalies=%d",
        data.run().getProperty("seed"),
        data.run().getProperty("minutes"),
        data.run().getProperty("nemeses"),
        result.counts().acknowledged(),
        result.counts().lost(),
        result.counts().duplicated(),
        result.unaccounted(),
        result.anomalies().size());
  }

  /** Whether any of the line's last four numbers is above zero. */
  public static boolean failed(Result result) {
    return result.counts().lost() > 0
        || result.counts().duplicated() > 0
        || result.unaccounted() > 0
        || !result.anomalies().isEmpty();
  }

  /**
   * A write is certainly the job's last when every other write that could have taken effect (ok or
   * unknown) had returned before it was called, and the final read came after it returned.
   */
  private static boolean certainlyLast(Op write, List<Op> ops, Op finalRead) {
    if (finalRead.callMicros() < write.returnMicros()) {
      return false;
    }
    for (Op other : ops) {
      if (other == write || !other.isWrite() || other.result().equals("fail")) {
        continue;
      }
      if (other.pending() || other.returnMicros() >= write.callMicros()) {
        return false;
      }
    }
    return true;
  }

  private static boolean covers(Entry entry, long instant, long period) {
    if (entry.instantCount() > 1 || entry.lastInstantMillis() > entry.instantMillis()) {
      return entry.instantMillis() <= instant && instant <= entry.lastInstantMillis();
    }
    return entry.instantMillis() == instant && !entry.runId().endsWith("/manual");
  }

  /** Whether an instant fell inside a fault window or in the recovery stretch after one. */
  private static boolean faulty(List<Fault> faults, long instant) {
    for (Fault fault : faults) {
      if (instant >= fault.startMillis() && instant <= fault.endMillis() + RECOVERY_MS) {
        return true;
      }
    }
    return false;
  }

  private static long ceil(long value, long period) {
    return (value + period - 1) / period * period;
  }

  private static String token(String observed) {
    int colon = observed.lastIndexOf(':');
    return colon < 0 ? observed : observed.substring(0, colon);
  }

  private static List<String> evidenceOf(List<Op> ops, String token) {
    List<String> out = new ArrayList<>();
    for (Op op : ops) {
      if (op.observed().startsWith(token + ":") || token.equals(op.value())) {
        out.add(describe(op));
      }
    }
    return out;
  }

  private static List<String> neighbours(List<Entry> entries, long instant, long period) {
    List<String> out = new ArrayList<>();
    for (Entry entry : entries) {
      if (Math.abs(entry.instantMillis() - instant) <= 2 * period
          || entry.lastInstantMillis() >= instant - 2 * period
              && entry.instantMillis() <= instant + 2 * period) {
        out.add("nearby ledger: " + describe(entry));
      }
    }
    if (out.isEmpty()) {
      out.add("no ledger record of this job within two periods of the instant");
    }
    return out;
  }

  static String describe(Op op) {
    return String.format(
        Locale.ROOT,
        "%s %s %s%s called %s returned %s: %s %s",
        op.process(),
        op.kind(),
        op.job(),
        op.kind().equals("put") ? " " + op.value() : "",
        java.time.Instant.ofEpochMilli(op.callMicros() / 1000),
        op.pending() ? "never" : java.time.Instant.ofEpochMilli(op.returnMicros() / 1000),
        op.result(),
        op.observed());
  }

  static String describe(Launch launch) {
    return String.format(
        Locale.ROOT,
        "launch line in launches/%s.log: %s attempt %d on %s at %s",
        launch.job(),
        launch.runId(),
        launch.attempt(),
        launch.agent(),
        java.time.Instant.ofEpochSecond(0, launch.startNanos()));
  }

  static String describe(Entry entry) {
    return String.format(
        Locale.ROOT,
        "%s %s %s%s attempts=%d agent=%s",
        entry.open() ? "open run" : "record",
        entry.runId(),
        entry.outcome(),
        entry.skipReason().equals("-") ? "" : "(" + entry.skipReason() + ")",
        entry.attempts(),
        entry.agent());
  }

  /** For tests: counts of anomalies by kind. */
  static Map<String, Integer> kinds(Result result) {
    Map<String, Integer> kinds = new HashMap<>();
    for (Anomaly anomaly : result.anomalies()) {
      kinds.merge(anomaly.kind(), 1, Integer::sum);
    }
    return kinds;
  }
}
