package io.paxcron.server;

import io.paxcron.api.JobBatchStateMachine;
import io.paxcron.api.JobClient;
import io.paxcron.api.JobProtos;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.backup.BackupRepository;
import io.paxcron.paxos.backup.LocalS3Server;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.paxos.storage.LogStore;
import io.paxcron.paxos.storage.Restore;
import io.paxcron.paxos.storage.StoreOptions;
import io.paxcron.proto.v1.BackupResponse;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.JobView;
import io.paxcron.scheduler.LedgerRecord;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The restore drill: proof that a backup restores. It starts a real S3-compatible server and a
 * 3-replica cron cluster shipping backups to it, applies jobs through {@link JobClient}, lets them
 * run, asks the leader for a backup, SIGKILLs every replica and deletes its data, restores fresh
 * replicas from the bucket with {@code paxcron restore}, starts them, and checks:
 *
 * <ol>
 *   <li>the backup image equals the state replayed from the old leader's own log up to the backup's
 *       slot — job definitions, versions, chosen {@code ?} values, every ledger record and the open
 *       runs (two independent paths to the same state);
 *   <li>through the job API of the restored cluster: every job's definition, version and resolved
 *       schedule, and every ledger record up to the backup's slot, are identical;
 *   <li>every restored replica runs as restore generation 1;
 *   <li>{@link #checkNoRunLaunchedTwice}: no instant is recorded twice across the restore.
 * </ol>
 *
 * It prints exactly one line on stdout, {@code DRILL ok=<bool> jobs=<n> ledger=<n> seconds=<n>};
 * progress and any mismatch go to the log stream.
 */
public final class RestoreDrill {

  /** What the drill runs: how many jobs, how long they run before the backup, where it works. */
  public record Options(Path work, Path s3MockJar, int jobs, Duration runFor) {
    public Options {
      if (jobs < 3 || jobs > 500) {
        throw new IllegalArgumentException("--jobs must be between 3 and 500, got " + jobs);
      }
      if (runFor.isNegative() || runFor.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("--run-for must be between 0 and 1h, got " + runFor);
      }
    }
  }

  /** The outcome: what was compared, and every mismatch found (none when {@code ok}). */
  public record Result(
      boolean ok, int jobs, int ledger, long seconds, long backupSlot, List<String> mismatches) {
    public Result {
      mismatches = List.copyOf(mismatches);
    }

    public String line() {
      return "DRILL ok=" + ok + " jobs=" + jobs + " ledger=" + ledger + " seconds=" + seconds;
    }
  }

  private static final String BUCKET = "paxcron-drill";
  private static final Duration START = Duration.ofSeconds(90);

  private final Options options;
  private final PrintStream log;
  private final List<String> mismatches = new ArrayList<>();

  public RestoreDrill(Options options, PrintStream log) {
    this.options = options;
    this.log = log;
  }

  public static void main(String[] args) throws Exception {
    Path work = null;
    Path jar = null;
    int jobs = 12;
    Duration runFor = Duration.ofSeconds(20);
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--work" -> work = Path.of(require(args[i], value));
        case "--s3mock-jar" -> jar = Path.of(require(args[i], value));
        case "--jobs" -> jobs = Integer.parseInt(require(args[i], value));
        case "--run-for" -> runFor = BackupSettings.duration(require(args[i], value));
        default -> {
          System.err.println(
              "error: unknown argument '"
                  + args[i]
                  + "'; known: --work DIR --s3mock-jar JAR --jobs N --run-for DURATION");
          System.exit(Paxcron.EXIT_USAGE);
        }
      }
      i++;
    }
    Path workDir = work != null ? work : Files.createTempDirectory("paxcron-drill");
    Result result =
        new RestoreDrill(
                new Options(
                    workDir, jar != null ? jar : LocalS3Server.jarFromProperty(), jobs, runFor),
                System.err)
            .run();
    System.out.println(result.line());
    if (work == null && result.ok()) {
      LocalCluster.deleteTree(workDir);
    } else {
      System.err.println("drill: logs and data kept in " + workDir);
    }
    System.exit(result.ok() ? 0 : 1);
  }

  private static String require(String flag, String value) {
    if (value == null) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return value;
  }

  /** Runs the drill; every resource it started is stopped when it returns. */
  public Result run() throws IOException {
    long started = System.nanoTime();
    Path credentials = LocalS3Server.writeCredentials(options.work().resolve("aws-credentials"));
    step("starting the S3-compatible server");
    try (LocalS3Server s3 =
        LocalS3Server.start(options.s3MockJar(), options.work().resolve("s3"), BUCKET)) {
      String target = s3.targetUrl(BUCKET, "cluster", credentials);
      BackupResponse backup;
      Map<Integer, LocalCluster.Member> oldMembers;
      try (LocalCluster old =
              new LocalCluster(
                  options.work().resolve("old"),
                  3,
                  List.of(
                      "--state-machine",
                      "cron",
                      "--backup-target",
                      target,
                      "--backup-interval",
                      "1h",
                      "--snapshot-every-entries",
                      "1000000"));
          LogClient probe = old.client(1)) {
        oldMembers = old.members();
        step("starting the old cluster");
        old.startAll();
        old.awaitLeader(probe, START);
        old.startAgent("drill-agent", List.of("--capacity", "32"));
        try (JobClient client = JobClient.connect(old.clientAddresses())) {
          List<Job> jobs = jobs(options.jobs());
          client.apply(jobs, Map.of());
          step("applied " + jobs.size() + " jobs; running for " + options.runFor());
          awaitRecords(client, "drill-every-second", 3, Duration.ofSeconds(60));
          LockSupport.parkNanos(options.runFor().toNanos());
          backup = client.backup(Duration.ofMinutes(2));
          step(
              "backup "
                  + backup.getName()
                  + " at slot "
                  + backup.getSlot()
                  + ", "
                  + backup.getSizeBytes()
                  + " bytes");
        }
        for (int id : oldMembers.keySet()) {
          old.kill(id);
        }
      }
      int leader =
          Integer.parseInt(backup.getName().substring(backup.getName().lastIndexOf('r') + 1));
      CronStateMachine replayed =
          replay(oldMembers.get(leader).dataDir(), leader, backup.getSlot());
      step("destroying every replica's data");
      for (LocalCluster.Member member : oldMembers.values()) {
        LocalCluster.deleteTree(member.dataDir());
      }

      CronStateMachine image;
      try (BackupRepository repo = BackupCommand.open(target)) {
        ImageSummary summary = ImageSummary.of(repo.verify(backup.getName()).snapshot());
        if (!(summary instanceof ImageSummary.Cron cron)) {
          throw new IllegalStateException(
              "the backup image is not a cron image: " + summary.describe());
        }
        image = cron.state();
      } catch (BackupRepository.InvalidBackupException
          | io.paxcron.paxos.backup.BackupStoreException e) {
        throw new IllegalStateException(
            "the drill's own backup does not verify: " + e.getMessage(), e);
      }
      compareStates(
          "backup image vs old leader's log replayed to slot " + backup.getSlot(), replayed, image);

      int ledger = 0;
      try (LocalCluster restored =
              new LocalCluster(
                  options.work().resolve("new"), 3, List.of("--state-machine", "cron"));
          LogClient probe = restored.client(2)) {
        step("restoring 3 fresh replicas from " + target);
        for (LocalCluster.Member member : restored.members().values()) {
          int exit = restoreInto(target, member);
          if (exit != 0) {
            throw new IllegalStateException(
                "paxcron restore of replica " + member.id() + " exited with " + exit);
          }
          long generation = Restore.generationOf(member.dataDir());
          if (generation != 1) {
            mismatches.add(
                "replica " + member.id() + " restored as generation " + generation + ", not 1");
          }
        }
        restored.startAll();
        restored.awaitLeader(probe, START);
        step("restored cluster elected a leader; comparing through the job API");
        ledger = compareThroughApiRetrying(replayed, restored, backup.getSlot());
      }
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
      mismatches.forEach(m -> log.println("drill: MISMATCH " + m));
      return new Result(
          mismatches.isEmpty(),
          replayed.jobs().size(),
          ledger,
          seconds,
          backup.getSlot(),
          mismatches);
    } catch (io.paxcron.paxos.storage.StoreException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /**
   * Runs {@code paxcron restore} in this process, its report going to the drill's log: stdout
   * carries the one DRILL line only.
   */
  private int restoreInto(String target, LocalCluster.Member member) {
    PrintStream stdout = System.out;
    System.setOut(log);
    try {
      return Paxcron.run(
          "restore",
          "--from",
          target,
          "--data-dir",
          member.dataDir().toString(),
          "--id",
          String.valueOf(member.id()),
          "--cluster-id",
          "local");
    } finally {
      System.setOut(stdout);
    }
  }

  /** A mix: fixed schedules every second and two seconds, and {@code ?} schedules. */
  static List<Job> jobs(int count) {
    List<Job> jobs = new ArrayList<>();
    Job.Command ok = Job.Command.newBuilder().addArgv("/bin/true").build();
    jobs.add(
        Job.newBuilder()
            .setName("drill-every-second")
            .setSchedule("* * * * * *")
            .setCommand(ok)
            .build());
    jobs.add(
        Job.newBuilder()
            .setName("drill-every-2s")
            .setSchedule("*/2 * * * * *")
            .setCommand(ok)
            .build());
    for (int n = jobs.size(); n < count; n++) {
      jobs.add(
          Job.newBuilder()
              .setName("drill-report-" + n)
              .setSchedule("? ? * * *")
              .setCommand(ok)
              .build());
    }
    return jobs;
  }

  /**
   * The old leader's state at {@code slot}, rebuilt from its own data dir (its snapshot, if any,
   * and its log), independently of the backup.
   */
  private CronStateMachine replay(Path dataDir, int replicaId, long slot)
      throws io.paxcron.paxos.storage.StoreException {
    CronStateMachine cron = new CronStateMachine();
    SessionStateMachine sessions =
        new SessionStateMachine(
            new io.paxcron.api.auth.SecuredStateMachine(new JobBatchStateMachine(cron)),
            ImageSummary.MAX_SESSIONS);
    try (LogStore store = LogStore.open(dataDir, StoreOptions.defaults("local", replicaId))) {
      DurableState state = store.load();
      if (state.snapshot().slot() > slot) {
        throw new IllegalStateException("the old leader snapshotted past the backup's slot");
      }
      sessions.restore(state.snapshot());
      for (LogEntry entry : state.log()) {
        if (entry.slot() > slot) {
          break;
        }
        // The leader applied every slot up to the backup's, so its entries there are chosen.
        sessions.apply(new LogEntry(entry.slot(), entry.ballot(), entry.value(), true));
      }
    }
    if (sessions.appliedThroughSlot() != slot) {
      throw new IllegalStateException(
          "the old leader's log reaches slot "
              + sessions.appliedThroughSlot()
              + ", not the backup's "
              + slot);
    }
    step(
        "replayed the old leader's log to slot "
            + slot
            + ": "
            + cron.jobs().size()
            + " jobs, "
            + cron.ledgerSize()
            + " ledger records");
    return cron;
  }

  private void compareStates(String what, CronStateMachine expected, CronStateMachine actual) {
    Map<String, JobView> expectedJobs = byName(expected.jobs());
    Map<String, JobView> actualJobs = byName(actual.jobs());
    if (!expectedJobs.equals(actualJobs)) {
      mismatches.add(
          what
              + ": jobs differ: expected "
              + expectedJobs.keySet()
              + ", got "
              + actualJobs.keySet());
    }
    for (String name : expectedJobs.keySet()) {
      List<LedgerRecord> want = expected.ledger(JobName.of(name));
      List<LedgerRecord> got = actual.ledger(JobName.of(name));
      if (!want.equals(got)) {
        mismatches.add(
            what
                + ": ledger of "
                + name
                + " differs: "
                + want.size()
                + " vs "
                + got.size()
                + " records");
      }
    }
    if (!new HashSet<>(expected.openRuns()).equals(new HashSet<>(actual.openRuns()))) {
      mismatches.add(what + ": open runs differ");
    }
  }

  private static Map<String, JobView> byName(List<JobView> jobs) {
    Map<String, JobView> map = new TreeMap<>();
    jobs.forEach(job -> map.put(job.spec().name(), job));
    return map;
  }

  /**
   * {@link #compareThroughApi}, again from the start if the client runs out of attempts (an
   * election on a loaded machine): only a complete comparison counts.
   */
  private int compareThroughApiRetrying(
      CronStateMachine expected, LocalCluster restored, long slot) {
    for (int attempt = 1; ; attempt++) {
      List<String> found = new ArrayList<>();
      try (JobClient client = JobClient.connect(restored.clientAddresses())) {
        int compared = compareThroughApi(expected, client, slot, found);
        mismatches.addAll(found);
        return compared;
      } catch (io.paxcron.api.JobClientException e) {
        if (attempt == 3) {
          throw e;
        }
        step("the job API did not answer (" + e.getMessage() + "); comparing again");
      }
    }
  }

  /** Compares through the restored cluster's API; returns the ledger records compared. */
  private int compareThroughApi(
      CronStateMachine expected, JobClient client, long slot, List<String> mismatches) {
    int compared = 0;
    Map<String, Job> restoredJobs = new TreeMap<>();
    client.listAll().forEach(job -> restoredJobs.put(job.getName(), job));
    for (JobView view : expected.jobs()) {
      String name = view.spec().name();
      Job want = JobProtos.toProto(view);
      Job got = restoredJobs.get(name);
      if (got == null) {
        mismatches.add("job " + name + " is missing from the restored cluster");
        continue;
      }
      if (!JobProtos.toProto(view.spec()).equals(definition(got))
          || want.getVersion() != got.getVersion()
          || !want.getResolvedSchedule().equals(got.getResolvedSchedule())
          || !want.getChosenMap().equals(got.getChosenMap())) {
        mismatches.add(
            "job "
                + name
                + " differs: expected version "
                + want.getVersion()
                + " "
                + want.getResolvedSchedule()
                + ", got version "
                + got.getVersion()
                + " "
                + got.getResolvedSchedule());
      }
      List<RunRecord> wantLedger = new ArrayList<>();
      expected.ledger(JobName.of(name)).forEach(r -> wantLedger.add(JobProtos.toProto(r)));
      List<RunRecord> restoredLedger = ledger(client, name);
      List<RunRecord> gotUpToSlot =
          restoredLedger.stream().filter(r -> r.getSlot() <= slot).toList();
      if (!wantLedger.equals(gotUpToSlot)) {
        mismatches.add(
            "ledger of "
                + name
                + " up to slot "
                + slot
                + " differs: expected "
                + wantLedger.size()
                + " records, got "
                + gotUpToSlot.size());
      }
      checkNoRunLaunchedTwice(name, wantLedger, restoredLedger, mismatches);
      compared += wantLedger.size();
    }
    if (restoredJobs.size() != expected.jobs().size()) {
      mismatches.add(
          "the restored cluster holds "
              + restoredJobs.size()
              + " jobs, expected "
              + expected.jobs().size());
    }
    return compared;
  }

  /**
   * Across the restore, no scheduled instant may be recorded twice: records the restored cluster
   * adds (slot above the backup's) must not cover an instant a record in the backup covers.
   *
   * <p>Integration point for the worker agent: the restored cluster re-dispatches instants the old
   * cluster launched after the backup (their misfire policy decides), and only the agent can refuse
   * a {@code (runId, attempt)} it already ran. When the agent process exists, extend this check
   * with its testimony (e.g. {@code agent_testimony} of LOST records, or the agent's launch
   * journal): no run id may have been started twice by any agent.
   */
  static void checkNoRunLaunchedTwice(
      String job, List<RunRecord> backedUp, List<RunRecord> restored, List<String> mismatches) {
    Set<Instant> covered = new HashSet<>();
    for (RunRecord record : backedUp) {
      covered.add(JobProtos.instant(record.getInstant()));
    }
    Set<Long> backedUpSequences = new HashSet<>();
    backedUp.forEach(r -> backedUpSequences.add(r.getSequence()));
    for (RunRecord record : restored) {
      if (backedUpSequences.contains(record.getSequence())) {
        continue;
      }
      if (!record.getManual() && covered.contains(JobProtos.instant(record.getInstant()))) {
        mismatches.add(
            job
                + ": instant "
                + JobProtos.instant(record.getInstant())
                + " recorded again after the restore: "
                + record.getOutcomeText());
      }
    }
  }

  /** The definition fields of a job as the API returns it (read-only fields cleared). */
  private static Job definition(Job job) {
    return job.toBuilder()
        .clearVersion()
        .clearResolvedSchedule()
        .clearCreatedVersion()
        .clearOpenRuns()
        .clearLedgerRecords()
        .clearChosen()
        .clearNextDue()
        .build();
  }

  private static List<RunRecord> ledger(JobClient client, String job) {
    List<RunRecord> records = new ArrayList<>();
    String token = "";
    do {
      ListRunsResponse page = client.listRuns(job, 100, token);
      records.addAll(page.getRecordsList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return records;
  }

  private static void awaitRecords(JobClient client, String job, int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (ledgerSizeOrZero(client, job) < count) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            job + " recorded fewer than " + count + " runs within " + timeout);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    }
  }

  /** The ledger's size, or 0 while an election leaves the client without an answer. */
  private static int ledgerSizeOrZero(JobClient client, String job) {
    try {
      return ledger(client, job).size();
    } catch (io.paxcron.api.JobClientException e) {
      return 0;
    }
  }

  private void step(String message) {
    log.println("drill: " + Instant.now() + " " + message);
  }
}
