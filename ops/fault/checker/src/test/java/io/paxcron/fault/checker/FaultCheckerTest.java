package io.paxcron.fault.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checker on small hand-written records: a clean run passes, and each promise broken in the
 * record (a lost write, a stale read, a second start, a missing instant, a replica that ignored its
 * disk fault) is found and counted in the summary line.
 */
class FaultCheckerTest {
  static final long T0 = 1_800_000_000_000L;

  @TempDir Path dir;

  /** A clean record: one ledger job every 2 s for 40 s, each instant run once; writes that hold. */
  private Record clean() {
    Record r = new Record();
    r.history.add(op("w1", "put", "churn-0", "w1-1", 1_000, 1_050, "ok", "-"));
    r.history.add(op("w2", "pause", "churn-0", "-", 1_100, 1_200, "ok", "-"));
    r.history.add(op("r3", "get", "churn-0", "-", 1_300, 1_320, "ok", "w1-1:paused"));
    r.history.add(op("w1", "delete", "churn-1", "-", 1_400, 1_450, "fail", "NOT_FOUND"));
    r.history.add(op("w1", "put", "churn-1", "w1-2", 1_500, -1, "info", "-"));
    r.history.add(op("final", "get", "churn-0", "-", 90_000, 90_010, "ok", "w1-1:paused"));
    r.history.add(op("final", "get", "churn-1", "-", 90_100, 90_110, "ok", "w1-2:active"));
    r.jobs.add("job-2s\t2\tat-most-once\tCONCURRENCY_FORBID\tMODE_RUN_ONCE\t" + T0);
    for (long at = T0 + 4_000; at <= T0 + 70_000; at += 2_000) {
      String runId = "job-2s@" + java.time.Instant.ofEpochMilli(at);
      r.ledger.add(entry("job-2s", runId, "record", at, "SUCCEEDED", 1));
      r.launches.add(runId + " 1 agent-1 " + (at + 30) * 1_000_000);
    }
    r.faults.add((T0 + 10_000) + "\t" + (T0 + 15_000) + "\tkill\tleader\treplica_1\t1");
    return r;
  }

  @Test
  void aCleanRecordHasNoAnomaliesAndCountsEverything() throws IOException {
    FaultChecker.Result result = check(clean());
    assertEquals(List.of(), result.anomalies());
    assertEquals(4, result.counts().attempted());
    assertEquals(2, result.counts().acknowledged());
    assertEquals(1, result.counts().recovered());
    assertEquals(0, result.counts().lost());
    assertTrue(result.counts().linearizability().startsWith("linearizable"));
    assertEquals(result.counts().instantsExpected(), result.counts().instantsAccounted());
    assertTrue(result.counts().instantsExpected() > 10);
    assertEquals(1, result.gaps().size());
  }

  @Test
  void anAcknowledgedLastWriteMissingFromTheFinalStateIsLost() throws IOException {
    Record r = clean();
    r.history.add(op("w2", "put", "churn-2", "w2-9", 2_000, 2_100, "ok", "-"));
    r.history.add(op("final", "get", "churn-2", "-", 90_200, 90_210, "fail", "NOT_FOUND"));
    FaultChecker.Result result = check(r);
    assertEquals(1, result.counts().lost());
    assertEquals(1, FaultChecker.kinds(result).get("lost"));
    assertEquals(1, FaultChecker.kinds(result).get("not-linearizable"));
    String line = FaultChecker.summaryLine(RunData.read(dir), result);
    assertTrue(line.contains(" lost=1 "), line);
    assertTrue(FaultChecker.failed(result));
  }

  @Test
  void aStaleReadIsNotLinearizable() throws IOException {
    Record r = clean();
    r.history.add(op("w2", "resume", "churn-0", "-", 2_000, 2_100, "ok", "-"));
    r.history.add(op("r3", "get", "churn-0", "-", 2_200, 2_300, "ok", "w1-1:paused"));
    FaultChecker.Result result = check(r);
    assertEquals(Map.of("not-linearizable", 1, "lost", 1), FaultChecker.kinds(result));
  }

  @Test
  void anAtMostOnceRunStartedTwiceIsDuplicated() throws IOException {
    Record r = clean();
    String runId = "job-2s@" + java.time.Instant.ofEpochMilli(T0 + 20_000);
    r.launches.add(runId + " 1 agent-2 " + (T0 + 21_000) * 1_000_000);
    FaultChecker.Result result = check(r);
    assertEquals(1, result.counts().duplicated());
    assertEquals(Map.of("duplicated", 1), FaultChecker.kinds(result));
    assertTrue(result.anomalies().get(0).evidence().size() >= 3, "both starts and the record");
  }

  @Test
  void anInstantWithoutARecordIsUnaccountedAndOneWithTwoIsDoubled() throws IOException {
    Record r = clean();
    String missing = "job-2s@" + java.time.Instant.ofEpochMilli(T0 + 30_000);
    r.ledger.removeIf(line -> line.contains(missing + "\t"));
    r.launches.removeIf(line -> line.startsWith(missing + " "));
    long doubled = T0 + 40_000;
    r.ledger.add(
        entry(
            "job-2s",
            "job-2s@" + java.time.Instant.ofEpochMilli(doubled),
            "open",
            doubled,
            "RUNNING",
            1));
    FaultChecker.Result result = check(r);
    assertEquals(1, result.unaccounted());
    assertEquals(1, result.counts().instantsDoubled());
    assertEquals(Map.of("unaccounted", 1, "doubled", 1), FaultChecker.kinds(result));
  }

  @Test
  void aLaunchTheLedgerDoesNotKnowAndASuccessWithoutLaunchAreFound() throws IOException {
    Record r = clean();
    String runId = "job-2s@" + java.time.Instant.ofEpochMilli(T0 + 20_000);
    r.launches.removeIf(line -> line.startsWith(runId + " "));
    r.launches.add(
        "job-2s@"
            + java.time.Instant.ofEpochMilli(T0 + 21_000)
            + " 1 agent-1 "
            + (T0 + 21_000) * 1_000_000);
    FaultChecker.Result result = check(r);
    assertEquals(
        Map.of("success-without-launch", 1, "launch-without-record", 1),
        FaultChecker.kinds(result));
  }

  @Test
  void aReplicaThatKeptRunningAfterItsFsyncFailedIsAnAnomalyButAFullDiskNeedNotStopIt()
      throws IOException {
    Record r = clean();
    r.disks.add("3\tfsync\t" + (T0 + 20_000) + "\t-1\t-1");
    r.disks.add("4\tfull\t" + (T0 + 40_000) + "\t" + (T0 + 40_800) + "\t1");
    r.disks.add("5\tfull\t" + (T0 + 50_000) + "\t-1\t-1");
    FaultChecker.Result result = check(r);
    assertEquals(Map.of("disk-fault-ignored", 1), FaultChecker.kinds(result));
  }

  @Test
  void aMalformedLineNamesItsFileAndLine() throws IOException {
    Record r = clean();
    r.jobs.add("broken\tline");
    r.write(dir);
    IllegalArgumentException error =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> RunData.read(dir));
    assertTrue(
        error.getMessage().contains("jobs.tsv:2: expected 6 fields, found 2"), error.getMessage());
  }

  @Test
  void theReportHasTheTableTheAnomaliesAndThreePictures() throws IOException {
    Record r = clean();
    r.launches.add(
        "job-2s@"
            + java.time.Instant.ofEpochMilli(T0 + 20_000)
            + " 1 agent-2 "
            + (T0 + 21_000) * 1_000_000);
    r.write(dir);
    assertEquals(1, CheckerMain.checkAndReport(dir));
    String report = Files.readString(dir.resolve("report.md"));
    assertTrue(report.contains("| **duplicated** runs | 1 |"), report);
    assertTrue(report.contains("launch line in launches/job-2s.log"), report);
    for (String svg : List.of("latency.svg", "lateness.svg", "launches-per-second.svg")) {
      assertTrue(
          Files.readString(dir.resolve(svg)).contains("fill-opacity"), svg + " shades faults");
    }
    assertTrue(
        Files.readString(dir.resolve("summary.txt"))
            .startsWith(
                "FAULT seed=7 minutes=1 nemeses=kill acknowledged=2 lost=0 duplicated=1 unaccounted=0 anomalies=1"));
  }

  private FaultChecker.Result check(Record r) throws IOException {
    r.write(dir);
    return new FaultChecker(1_000_000).check(RunData.read(dir));
  }

  static String op(
      String p,
      String kind,
      String job,
      String value,
      long callMs,
      long retMs,
      String result,
      String observed) {
    return String.join(
        "\t",
        p,
        kind,
        job,
        value,
        String.valueOf((T0 + callMs) * 1000),
        String.valueOf(retMs < 0 ? -1 : (T0 + retMs) * 1000),
        result,
        observed);
  }

  static String entry(
      String job, String runId, String kind, long at, String outcome, int attempts) {
    return String.join(
        "\t",
        job,
        runId,
        kind,
        String.valueOf(at),
        String.valueOf(at),
        "1",
        outcome,
        "-",
        String.valueOf(attempts),
        "agent-1",
        String.valueOf(at + 40));
  }

  /** The files of a report directory, as lines. */
  static final class Record {
    final List<String> history = new ArrayList<>();
    final List<String> jobs = new ArrayList<>();
    final List<String> ledger = new ArrayList<>();
    final List<String> launches = new ArrayList<>();
    final List<String> faults = new ArrayList<>();
    final List<String> disks = new ArrayList<>();

    void write(Path dir) throws IOException {
      Files.writeString(
          dir.resolve("run.properties"),
          "seed=7\nminutes=1\nnemeses=kill\nstart_ms="
              + T0
              + "\nheal_ms="
              + (T0 + 70_000)
              + "\nledger_read_ms="
              + (T0 + 90_000)
              + "\n");
      Files.write(dir.resolve("history.tsv"), history, StandardCharsets.UTF_8);
      Files.write(dir.resolve("jobs.tsv"), jobs, StandardCharsets.UTF_8);
      Files.write(dir.resolve("ledger.tsv"), ledger, StandardCharsets.UTF_8);
      Files.write(dir.resolve("faults.tsv"), faults, StandardCharsets.UTF_8);
      Files.write(dir.resolve("disk.tsv"), disks, StandardCharsets.UTF_8);
      Files.createDirectories(dir.resolve("launches"));
      Files.write(dir.resolve("launches/job-2s.log"), launches, StandardCharsets.UTF_8);
    }
  }
}
