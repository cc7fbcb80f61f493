package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.api.JobBatchStateMachine;
import io.paxcron.api.JobClient;
import io.paxcron.api.JobClientException;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.backup.BackupRepository;
import io.paxcron.paxos.backup.LocalS3Server;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.paxos.storage.BackupManifest;
import io.paxcron.paxos.storage.Restore;
import io.paxcron.proto.v1.BackupResponse;
import io.paxcron.proto.v1.ClusterStatusResponse;
import io.paxcron.proto.v1.Job;
import io.paxcron.scheduler.CronStateMachine;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups on real replica processes and a real S3-compatible server: only the leader ships (one
 * copy, not three; a new leader takes over), status reports the last backup and the last failure, a
 * target that is down fails loudly while jobs keep running, and {@code paxcron restore} refuses a
 * corrupted backup with the reason and falls back to the newest valid one.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BackupOnRealClusterTest {

  private static final String BUCKET = "paxcron-backups";
  private static LocalS3Server s3;
  private static Path credentials;

  @TempDir static Path shared;
  @TempDir Path work;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = LocalS3Server.start(LocalS3Server.jarFromProperty(), shared.resolve("s3"), BUCKET);
    credentials = LocalS3Server.writeCredentials(shared.resolve("aws-credentials"));
  }

  @AfterAll
  static void stopS3() {
    if (s3 != null) {
      s3.close();
    }
  }

  private static String target(String prefix) {
    return s3.targetUrl(BUCKET, prefix, credentials);
  }

  @Test
  void onlyTheLeaderShipsAndANewLeaderTakesOver() throws Exception {
    String target = target("leader-only");
    try (LocalCluster cluster =
            new LocalCluster(
                work,
                3,
                List.of(
                    "--state-machine",
                    "cron",
                    "--backup-target",
                    target,
                    "--backup-interval",
                    "1h"));
        LogClient probe = cluster.client(1);
        BackupRepository repo = BackupCommand.open(target)) {
      cluster.startAll();
      cluster.awaitLeader(probe, Duration.ofSeconds(60));
      // A new leader with an empty target ships at once.
      await(() -> backups(repo) >= 1, "the leader's first backup");
      int shipper;
      try (JobClient client = JobClient.connect(cluster.clientAddresses())) {
        client.put(
            Job.newBuilder()
                .setName("nightly")
                .setSchedule("? 3 * * *")
                .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
                .build());
        BackupResponse first = client.backup(Duration.ofSeconds(60));
        BackupResponse second = client.backup(Duration.ofSeconds(60));
        assertTrue(second.getSlot() >= first.getSlot());
        assertEquals(target, second.getTarget());

        shipper = writerOf(second);
        ClusterStatusResponse status = status(cluster, shipper);
        assertEquals(second.getName(), status.getLastBackupName());
        assertEquals(second.getSlot(), status.getLastBackupSlot());
        assertEquals(target, status.getBackupTarget());
        assertEquals("", status.getLastBackupFailure());
      }
      Map<Integer, Integer> writers = writers(repo);
      assertEveryBackupCountedByItsWriterAlone(cluster, writers);
      if (writers.size() == 1) {
        // The usual case: leadership did not move, so one copy per backup, all by one replica.
        assertEquals(Map.of(shipper, 3), writers);
      } else {
        System.out.println("leadership moved during the test; backups by replica: " + writers);
      }

      long shipped = status(cluster, shipper).getBackupsWritten();
      cluster.kill(shipper);
      cluster.awaitLeader(probe, Duration.ofSeconds(30));
      int newShipper;
      try (JobClient client = JobClient.connect(cluster.clientAddresses())) {
        BackupResponse afterFailover = client.backup(Duration.ofSeconds(60));
        newShipper = writerOf(afterFailover);
        assertTrue(newShipper != shipper, afterFailover.getName());
        assertEquals(afterFailover.getName(), status(cluster, newShipper).getLastBackupName());
      }
      Map<Integer, Integer> after = writers(repo);
      assertEquals(shipped, after.get(shipper).longValue());
      assertEveryBackupCountedByItsWriterAlone(cluster, after);
      if (writers.size() == 1) {
        assertEquals(
            Map.of(shipper, 3, newShipper, 1),
            after,
            "the new leader read the recent backup from the target and shipped only when asked");
      }
      BackupManifest newest = repo.list().backups().get(0).manifest().orElseThrow();
      assertEquals(0, newest.restoreGeneration());
      assertTrue(newest.leaderRound() > 0);
      assertEquals(0, Paxcron.run("backup", "verify", "--target", target));
      assertEquals(
          0,
          Paxcron.run(
              "backup", "status", "--cluster", String.join(",", cluster.clientAddresses())));
      assertEquals(0, Paxcron.run("backup", "list", "--target", target));
    }
  }

  @Test
  void aTargetThatIsDownFailsLoudlyWhileJobsKeepRunning() throws Exception {
    // Never handed to the cluster below (LocalCluster gives no port twice), and closed.
    int closedPort = LocalCluster.freePort();
    String target =
        "s3://"
            + BUCKET
            + "/down?endpoint=http://127.0.0.1:"
            + closedPort
            + "&credentials-file="
            + credentials;
    try (LocalCluster cluster =
            new LocalCluster(
                work,
                3,
                List.of(
                    "--state-machine",
                    "cron",
                    "--backup-target",
                    target,
                    "--backup-interval",
                    "1h",
                    "--backup-every-entries",
                    "5"));
        LogClient probe = cluster.client(1);
        JobClient client = JobClient.connect(cluster.clientAddresses())) {
      cluster.startAll();
      cluster.awaitLeader(probe, Duration.ofSeconds(60));
      cluster.startAgent("backup-agent", List.of("--capacity", "16"));
      client.put(
          Job.newBuilder()
              .setName("every-second")
              .setSchedule("* * * * * *")
              .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
              .build());

      JobClientException failed =
          assertThrows(JobClientException.class, () -> client.backup(Duration.ofSeconds(60)));
      assertTrue(failed.getMessage().contains("127.0.0.1:" + closedPort), failed.getMessage());
      assertFalse(failed.getMessage().contains("paxcron-test-secret"), failed.getMessage());

      // The replica that tried (the leader at the time) reports the failure.
      int[] tried = {-1};
      await(
          () -> {
            for (int id : cluster.members().keySet()) {
              try {
                if (status(cluster, id).getBackupsFailed() >= 1) {
                  tried[0] = id;
                  return true;
                }
              } catch (JobClientException e) {
                // Busy or electing; asked again on the next poll.
              }
            }
            return false;
          },
          "a replica reporting the failed backup");
      ClusterStatusResponse status = status(cluster, tried[0]);
      assertTrue(status.getBackupsFailed() >= 1, status.toString());
      assertTrue(
          status.getLastBackupFailure().contains("127.0.0.1:" + closedPort),
          status.getLastBackupFailure());
      assertTrue(status.hasLastBackupFailureTime());
      assertEquals(0, status.getBackupsWritten());
      String addresses = String.join(",", cluster.clientAddresses());
      assertEquals(
          Paxcron.EXIT_FAILED,
          Paxcron.run("backup", "status", "--cluster", addresses),
          "backup status fails while the last attempt failed");
      Path logFile = cluster.members().get(tried[0]).logFile();
      await(() -> read(logFile).contains("BACKUP FAILED"), "a BACKUP FAILED log line");
      assertFalse(read(logFile).contains("paxcron-test-secret"), "no credential in the log");

      // Scheduling goes on: the every-second job keeps adding ledger records.
      int[] before = {-1};
      await(() -> (before[0] = records(client, "every-second")) >= 0, "the ledger of every-second");
      await(
          () -> records(client, "every-second") >= before[0] + 3,
          "three more runs of every-second while the target is down");
    }
  }

  @Test
  void restoreRefusesACorruptedAndATruncatedBackupAndFallsBackSayingSo() throws Exception {
    String target = target("fallback");
    String prefix = "fallback/";
    String corruptedName;
    try (BackupRepository repo = BackupCommand.open(target)) {
      BackupRepository.Writer writer = new BackupRepository.Writer("local", 1, 4, 2);
      Instant t0 = Instant.parse("2026-12-01T10:00:00Z");
      repo.write(cronImage(10, 1), writer, t0);
      BackupManifest corrupted = repo.write(cronImage(20, 2), writer, t0.plusSeconds(60));
      BackupManifest truncated = repo.write(cronImage(30, 3), writer, t0.plusSeconds(120));
      corruptedName = corrupted.imageFile().replace(".image", "");
      byte[] image = repo.store().get(corrupted.imageFile(), 1 << 20);
      image[image.length / 2] ^= 0x40;
      overwrite(prefix + corrupted.imageFile(), image);
      byte[] whole = repo.store().get(truncated.imageFile(), 1 << 20);
      overwrite(prefix + truncated.imageFile(), java.util.Arrays.copyOf(whole, whole.length / 2));
    }
    Path dataDir = work.resolve("restored");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit =
        withStreams(
            out,
            err,
            () ->
                Paxcron.run(
                    "restore", "--from", target, "--data-dir", dataDir.toString(), "--id", "2"));
    String errors = err.toString(StandardCharsets.UTF_8);
    String printed = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, exit, errors);
    assertTrue(
        errors.contains("refused backup snapshot-00000000000000000030")
            && errors.contains("truncated"),
        errors);
    assertTrue(
        errors.contains("refused backup snapshot-00000000000000000020")
            && errors.contains("CRC32C"),
        errors);
    assertTrue(errors.contains("fell back past 2 newer backup(s)"), errors);
    assertTrue(
        printed.contains("cluster local")
            && printed.contains("slot 10")
            && printed.contains("cron state machine image: 1 jobs")
            && printed.contains("restore generation 2 -> 3"),
        printed);
    assertEquals(3, Restore.generationOf(dataDir));

    // --at picks the newest valid backup taken at or before the instant.
    ByteArrayOutputStream none = new ByteArrayOutputStream();
    assertEquals(
        Paxcron.EXIT_FAILED,
        withStreams(
            new ByteArrayOutputStream(),
            none,
            () ->
                Paxcron.run(
                    "restore",
                    "--from",
                    target,
                    "--at",
                    "2026-12-01T09:59:59Z",
                    "--data-dir",
                    work.resolve("too-early").toString(),
                    "--id",
                    "1")));
    assertTrue(
        none.toString(StandardCharsets.UTF_8).contains("taken at or before"), none.toString());
    ByteArrayOutputStream verifyOut = new ByteArrayOutputStream();
    assertEquals(
        Paxcron.EXIT_FAILED,
        withStreams(
            verifyOut,
            new ByteArrayOutputStream(),
            () -> Paxcron.run("backup", "verify", "--target", target, "--name", corruptedName)));
    assertTrue(verifyOut.toString(StandardCharsets.UTF_8).contains("CRC32C"), verifyOut.toString());
  }

  /** A cron state machine image at {@code slot} holding {@code jobs} jobs. */
  private static Snapshot cronImage(long slot, int jobs) {
    CronStateMachine cron = new CronStateMachine();
    SessionStateMachine sessions =
        new SessionStateMachine(new JobBatchStateMachine(cron), ImageSummary.MAX_SESSIONS);
    ReplicaCronClusterImages.putJobs(sessions, slot, jobs);
    return sessions.snapshot();
  }

  private static void overwrite(String key, byte[] bytes) {
    try (software.amazon.awssdk.services.s3.S3Client client =
        software.amazon.awssdk.services.s3.S3Client.builder()
            .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create())
            .endpointOverride(java.net.URI.create(s3.endpoint()))
            .region(software.amazon.awssdk.regions.Region.US_EAST_1)
            .forcePathStyle(true)
            .credentialsProvider(
                software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                    software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(
                        "paxcron-test", "paxcron-test-secret")))
            .build()) {
      client.putObject(
          b -> b.bucket(BUCKET).key(key),
          software.amazon.awssdk.core.sync.RequestBody.fromBytes(bytes));
    }
  }

  private interface Command {
    int run();
  }

  private static synchronized int withStreams(
      ByteArrayOutputStream out, ByteArrayOutputStream err, Command command) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      return command.run();
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
      oldOut.print(out.toString(StandardCharsets.UTF_8));
      oldErr.print(err.toString(StandardCharsets.UTF_8));
    }
  }

  private static ClusterStatusResponse status(LocalCluster cluster, int id) {
    try (JobClient one = JobClient.connect(List.of(cluster.members().get(id).clientAddress()))) {
      return one.status();
    }
  }

  /** The replica id at the end of a backup's name ({@code …-r<id>}). */
  private static int writerOf(BackupResponse backup) {
    return Integer.parseInt(backup.getName().substring(backup.getName().lastIndexOf("-r") + 2));
  }

  /**
   * Each running replica's own count of backups written equals the backups in the target that name
   * it: no backup is written by a replica that does not count it, and a replica that never led
   * wrote none.
   */
  private static void assertEveryBackupCountedByItsWriterAlone(
      LocalCluster cluster, Map<Integer, Integer> writers) {
    for (int id : cluster.members().keySet()) {
      if (cluster.running(id)) {
        assertEquals(
            writers.getOrDefault(id, 0).intValue(),
            status(cluster, id).getBackupsWritten(),
            "replica " + id + "; backups by replica: " + writers);
      }
    }
  }

  private static int backups(BackupRepository repo) {
    try {
      return repo.list().backups().size();
    } catch (io.paxcron.paxos.backup.BackupStoreException e) {
      throw new AssertionError(e);
    }
  }

  private static Map<Integer, Integer> writers(BackupRepository repo) throws Exception {
    Map<Integer, Integer> byReplica = new TreeMap<>();
    for (BackupRepository.Entry entry : repo.list().backups()) {
      byReplica.merge(entry.manifest().orElseThrow().replicaId(), 1, Integer::sum);
    }
    return byReplica;
  }

  /** The job's ledger size, or -1 while an election leaves the client without an answer. */
  private static int records(JobClient client, String job) {
    try {
      return client.listRuns(job, 100, "").getRecordsCount();
    } catch (JobClientException e) {
      return -1;
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (java.io.IOException e) {
      return "";
    }
  }

  /** Polls a condition with a bounded deadline (never a fixed sleep). */
  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 60 s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }
}
