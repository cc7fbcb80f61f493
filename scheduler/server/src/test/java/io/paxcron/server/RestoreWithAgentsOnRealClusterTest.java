package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Duration;
import io.paxcron.api.JobClient;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.paxos.storage.BackupTarget;
import io.paxcron.paxos.storage.StoreException;
import io.paxcron.proto.v1.Job;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * DESIGN promise 7 with agents: a cluster runs a once-a-second job on an agent, is backed up, runs
 * on, and is then restored from the older backup while the same agent stays up. The restored
 * cluster's fence generation is one higher, so the agent accepts it although it saw higher rounds
 * of the old cluster; it decides again the instants the old cluster launched after the backup
 * (run-all misfire policy), and the agent answers those launches REPEAT: no {@code (runId,
 * attempt)} is ever accepted twice.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RestoreWithAgentsOnRealClusterTest {

  @TempDir Path work;

  @Test
  void restoredClusterOutranksTheOldOneAndNeverRunsARunTwice() throws Exception {
    Path backups = work.resolve("backups");
    Path olderBackup = work.resolve("older-backup");
    Files.createDirectories(work.resolve("agents"));
    List<String> cron = List.of("--state-machine", "cron");
    try (LocalCluster old =
            new LocalCluster(
                work.resolve("old"),
                3,
                List.of(
                    "--state-machine",
                    "cron",
                    "--snapshot-every-entries",
                    "25",
                    "--backup-dir",
                    backups.toString(),
                    "--backup-every-entries",
                    "25"));
        LogClient probe = old.client(1);
        ScriptedAgent agent =
            new ScriptedAgent(
                "solo", Map.of(), 64, old.clientAddresses(), work.resolve("agents"))) {
      old.startAll();
      old.awaitLeader(probe, java.time.Duration.ofSeconds(60));
      agent.start(0);
      try (JobClient client = JobClient.connect(old.clientAddresses())) {
        client.put(
            Job.newBuilder()
                .setName("tick")
                .setSchedule("* * * * * *")
                .setConcurrency(Job.Concurrency.CONCURRENCY_ALLOW)
                .setMisfire(
                    Job.Misfire.newBuilder()
                        .setMode(Job.Misfire.Mode.MODE_RUN_ALL)
                        .setWindow(Duration.newBuilder().setSeconds(3600))
                        .setMaxCount(1000))
                .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
                .build());
      }
      awaitBackup(backups, 50);
      copyDirectory(backups, olderBackup);
      int acceptedAtCopy = accepted(agent).size();
      await(
          "the old cluster launched more runs after the backup",
          () -> accepted(agent).size() >= acceptedAtCopy + 5);
      for (int id : old.members().keySet()) {
        old.kill(id);
      }

      try (LocalCluster restored = new LocalCluster(work.resolve("new"), 3, cron);
          LogClient restoredProbe = restored.client(2)) {
        for (LocalCluster.Member member : restored.members().values()) {
          assertEquals(
              0,
              Paxcron.run(
                  "restore",
                  "--from",
                  olderBackup.toString(),
                  "--data-dir",
                  member.dataDir().toString(),
                  "--id",
                  String.valueOf(member.id())));
          assertEquals(
              1,
              io.paxcron.paxos.storage.Restore.generationOf(member.dataDir()),
              "one above the backed-up cluster's generation");
        }
        restored.startAll();
        restored.awaitLeader(restoredProbe, java.time.Duration.ofSeconds(60));
        agent.retarget(restored.clientAddresses());
        int acceptedBefore = accepted(agent).size();
        await(
            "the restored cluster asked again about a run the old one launched",
            () -> agent.events().stream().anyMatch(event -> event.endsWith(" repeat")));
        await(
            "the restored cluster launches new runs",
            () -> accepted(agent).size() >= acceptedBefore + 3);
        assertEquals(
            1, agent.highestSeen().getGeneration(), "the agent's fence is the restored generation");
      }
      Map<String, Integer> acceptances = new HashMap<>();
      for (String launch : accepted(agent)) {
        acceptances.merge(launch, 1, Integer::sum);
      }
      acceptances.forEach(
          (launch, count) -> assertEquals(1, count, launch + " accepted " + count + " times"));
      System.out.println(
          "RestoreWithAgentsOnRealClusterTest: "
              + acceptances.size()
              + " launches accepted once each, "
              + agent.events().stream().filter(event -> event.endsWith(" repeat")).count()
              + " repeats answered");
    }
  }

  /** "launch RUN attempt N" of every accepted launch, in order. */
  private static List<String> accepted(ScriptedAgent agent) {
    return agent.events().stream()
        .filter(event -> event.startsWith("launch ") && event.endsWith(" accepted"))
        .map(event -> event.substring(0, event.length() - " accepted".length()))
        .toList();
  }

  private static void copyDirectory(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path file : files.toList()) {
        if (!file.getFileName().toString().endsWith(".tmp")) {
          Files.copy(file, to.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void awaitBackup(Path backups, long slot) {
    await(
        "a backup of slot >= " + slot,
        () -> {
          try {
            var newest = BackupTarget.newestValidIn(backups).newest();
            return newest.isPresent() && newest.get().manifest().slot() >= slot;
          } catch (StoreException e) {
            return false;
          }
        });
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 90 s: " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }
}
