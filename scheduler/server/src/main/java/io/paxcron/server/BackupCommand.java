package io.paxcron.server;

import io.paxcron.api.JobClient;
import io.paxcron.api.JobClientException;
import io.paxcron.api.JobProtos;
import io.paxcron.paxos.backup.BackupRepository;
import io.paxcron.paxos.backup.BackupStore;
import io.paxcron.paxos.backup.BackupStoreException;
import io.paxcron.paxos.backup.TargetUrl;
import io.paxcron.paxos.storage.BackupManifest;
import io.paxcron.paxos.storage.Restore;
import io.paxcron.paxos.storage.StoreException;
import io.paxcron.proto.v1.BackupResponse;
import io.paxcron.proto.v1.ClusterStatusResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code paxcron backup now|list|verify} and {@code paxcron restore}: operating on backups. Only
 * {@code backup now} talks to a cluster; {@code list}, {@code verify} and {@code restore} read the
 * target alone, so they work while the cluster is down. Target URLs are those of {@link TargetUrl};
 * credentials come from the AWS provider chain or the URL's {@code credentials-file}, never from a
 * flag.
 */
@Command(
    name = "backup",
    description = "Take, list and verify backups.",
    subcommands = {
      BackupCommand.Now.class,
      BackupCommand.StatusOfBackups.class,
      BackupCommand.ListBackups.class,
      BackupCommand.Verify.class
    })
final class BackupCommand implements Callable<Integer> {

  static final Duration STORE_TIMEOUT = Duration.ofSeconds(60);

  @Override
  public Integer call() {
    System.err.println("usage: paxcron backup now|status|list|verify (see --help)");
    return Paxcron.EXIT_USAGE;
  }

  @Command(name = "now", description = "Ask the leader to take a backup now; waits for it.")
  static final class Now implements Callable<Integer> {
    @Option(
        names = "--cluster",
        required = true,
        split = ",",
        description = "Client addresses HOST:PORT of the replicas.")
    List<String> cluster;

    @Option(names = "--timeout", description = "How long to wait (default 5m).")
    String timeout = "5m";

    @Override
    public Integer call() {
      Duration wait;
      try {
        wait = BackupSettings.duration(timeout);
      } catch (IllegalArgumentException e) {
        System.err.println("error: --timeout '" + timeout + "' " + e.getMessage());
        return Paxcron.EXIT_USAGE;
      }
      try (JobClient client = JobClient.connect(cluster)) {
        BackupResponse response = client.backup(wait);
        System.out.println(
            "backup "
                + response.getName()
                + " slot "
                + response.getSlot()
                + " "
                + response.getSizeBytes()
                + " bytes written to "
                + response.getTarget()
                + (response.getPrunedCount() == 0
                    ? ""
                    : "; retention deleted " + response.getPrunedList()));
        return 0;
      } catch (JobClientException e) {
        System.err.println("error: " + e.getMessage());
        return Paxcron.EXIT_FAILED;
      }
    }
  }

  @Command(
      name = "status",
      description = "Each replica's last backup and last failure (the leader ships them).")
  static final class StatusOfBackups implements Callable<Integer> {
    @Option(
        names = "--cluster",
        required = true,
        split = ",",
        description = "Client addresses HOST:PORT of the replicas.")
    List<String> cluster;

    @Override
    public Integer call() {
      int unreachable = 0;
      int failing = 0;
      for (String address : cluster) {
        try (JobClient client = JobClient.connect(List.of(address))) {
          ClusterStatusResponse status = client.status();
          System.out.printf(
              "%-22s replica %d %-9s generation %d target %s%n",
              address,
              status.getReplicaId(),
              status.getRole(),
              status.getRestoreGeneration(),
              status.getBackupTarget().isEmpty() ? "(none)" : status.getBackupTarget());
          if (!status.getLastBackupName().isEmpty()) {
            System.out.printf(
                "%-22s   last backup %s slot %d at %s (%d written, %d failed)%n",
                "",
                status.getLastBackupName(),
                status.getLastBackupSlot(),
                JobProtos.instant(status.getLastBackupTime()),
                status.getBackupsWritten(),
                status.getBackupsFailed());
          }
          if (!status.getLastBackupFailure().isEmpty()) {
            failing++;
            System.out.printf(
                "%-22s   LAST ATTEMPT FAILED at %s: %s%n",
                "",
                JobProtos.instant(status.getLastBackupFailureTime()),
                status.getLastBackupFailure());
          }
        } catch (JobClientException e) {
          unreachable++;
          System.out.printf("%-22s unreachable: %s%n", address, e.getMessage());
        }
      }
      return unreachable == cluster.size() || failing > 0 ? Paxcron.EXIT_FAILED : 0;
    }
  }

  @Command(name = "list", description = "List the backups in a target, newest first.")
  static final class ListBackups implements Callable<Integer> {
    @Option(names = "--target", required = true, description = "A directory or s3://… URL.")
    String target;

    @Override
    public Integer call() {
      try (BackupRepository repo = open(target)) {
        BackupRepository.Listing listing = repo.list();
        System.out.printf(
            "%-50s %12s %-24s %12s %s%n", "NAME", "SLOT", "TAKEN", "BYTES", "CLUSTER/GEN");
        for (BackupRepository.Entry entry : listing.backups()) {
          String tail =
              entry.manifest().map(m -> m.clusterId() + "/" + m.restoreGeneration()).orElse("-");
          System.out.printf(
              "%-50s %12d %-24s %12s %s%s%n",
              entry.name(),
              entry.slot(),
              entry.takenAt(),
              entry.manifest().map(m -> String.valueOf(m.sizeBytes())).orElse("?"),
              tail,
              entry.problem().map(p -> "  INVALID: " + p).orElse(""));
        }
        listing.problems().forEach(p -> System.out.println("warning: " + p));
        System.out.println(
            listing.backups().size()
                + " backups, "
                + listing.backups().stream().filter(BackupRepository.Entry::looksValid).count()
                + " look valid (run backup verify to check their images)");
        return 0;
      } catch (IllegalArgumentException | BackupStoreException e) {
        System.err.println("error: " + e.getMessage());
        return Paxcron.EXIT_FAILED;
      }
    }
  }

  @Command(
      name = "verify",
      description =
          "Download a backup (the newest by default), check every checksum and open"
              + " the image. Touches no cluster.")
  static final class Verify implements Callable<Integer> {
    @Option(names = "--target", required = true, description = "A directory or s3://… URL.")
    String target;

    @Option(names = "--name", description = "The backup's name (from backup list).")
    String name;

    @Override
    public Integer call() {
      try (BackupRepository repo = open(target)) {
        BackupRepository.Verified verified;
        if (name != null) {
          verified = repo.verify(name);
        } else {
          BackupRepository.Selection selection = repo.newestValid(Optional.empty());
          selection.skipped().forEach(p -> System.out.println("INVALID " + p));
          if (selection.chosen().isEmpty()) {
            System.err.println("error: no backup in " + target + " verifies");
            return Paxcron.EXIT_FAILED;
          }
          verified = selection.chosen().get();
        }
        ImageSummary summary = ImageSummary.of(verified.snapshot());
        BackupManifest m = verified.manifest();
        System.out.println(
            "OK "
                + verified.name()
                + ": cluster "
                + m.clusterId()
                + ", slot "
                + m.slot()
                + ", taken "
                + m.takenAt()
                + " by replica "
                + m.replicaId()
                + " (leader round "
                + m.leaderRound()
                + "), restore generation "
                + m.restoreGeneration()
                + ", "
                + m.sizeBytes()
                + " bytes, CRC32C and SHA-256 match; "
                + summary.describe());
        Restore.describeConfiguration(m.membership(), m.slot()).forEach(System.out::println);
        return summary instanceof ImageSummary.Unreadable ? Paxcron.EXIT_FAILED : 0;
      } catch (BackupRepository.InvalidBackupException e) {
        System.out.println("INVALID " + name + ": " + e.getMessage());
        return Paxcron.EXIT_FAILED;
      } catch (IllegalArgumentException | BackupStoreException e) {
        System.err.println("error: " + e.getMessage());
        return Paxcron.EXIT_FAILED;
      }
    }
  }

  @Command(
      name = "restore",
      description =
          "Seed a new replica's data dir from the newest valid backup (at or before"
              + " --at). Run once per replica of the new cluster, each with its own --id.")
  static final class RestoreCommand implements Callable<Integer> {
    @Option(
        names = "--from",
        required = true,
        description = "The backup target: a directory or s3://… URL.")
    String from;

    @Option(
        names = "--at",
        description = "Restore the newest backup taken at or before this instant (ISO-8601 UTC).")
    String at;

    @Option(names = "--data-dir", required = true, description = "The new, empty data dir.")
    Path dataDir;

    @Option(names = "--id", required = true, description = "The replica id it will serve as.")
    int id;

    @Option(names = "--cluster-id", description = "Refuse a backup of another cluster.")
    String clusterId;

    @Override
    public Integer call() {
      Optional<Instant> instant;
      try {
        instant = Optional.ofNullable(at).map(Instant::parse);
      } catch (DateTimeParseException e) {
        System.err.println(
            "error: --at '"
                + at
                + "' is not an ISO-8601 instant such as"
                + " 2026-12-01T10:00:00Z");
        return Paxcron.EXIT_USAGE;
      }
      try (BackupRepository repo = open(from)) {
        BackupRepository.Selection selection = repo.newestValid(instant);
        for (BackupRepository.Problem skipped : selection.skipped()) {
          System.err.println(
              "warning: refused backup " + skipped.object() + ": " + skipped.reason());
        }
        if (selection.chosen().isEmpty()) {
          System.err.println(
              "error: no backup in "
                  + from
                  + instant.map(i -> " taken at or before " + i).orElse("")
                  + " verifies");
          return Paxcron.EXIT_FAILED;
        }
        BackupRepository.Verified chosen = selection.chosen().get();
        BackupManifest m = chosen.manifest();
        if (clusterId != null && !clusterId.equals(m.clusterId())) {
          System.err.println(
              "error: backup "
                  + chosen.name()
                  + " belongs to cluster '"
                  + m.clusterId()
                  + "', not '"
                  + clusterId
                  + "'");
          return Paxcron.EXIT_FAILED;
        }
        if (!selection.skipped().isEmpty()) {
          System.err.println(
              "warning: fell back past "
                  + selection.skipped().size()
                  + " newer backup(s) that did not verify, to "
                  + chosen.name());
        }
        ImageSummary summary = ImageSummary.of(chosen.snapshot());
        if (summary instanceof ImageSummary.Unreadable unreadable) {
          System.err.println(
              "error: backup " + chosen.name() + " verifies but " + unreadable.describe());
          return Paxcron.EXIT_FAILED;
        }
        long generation = m.restoreGeneration() + 1;
        List<String> configuration = Restore.describeConfiguration(m.membership(), m.slot());
        try {
          Restore.seedSnapshot(chosen.snapshot(), m.clusterId(), dataDir, id, generation);
        } catch (StoreException e) {
          configuration.forEach(System.err::println);
          throw e;
        }
        System.out.println(
            "restored replica "
                + id
                + " of cluster "
                + m.clusterId()
                + " into "
                + dataDir
                + " from "
                + chosen.name()
                + " (slot "
                + m.slot()
                + ", taken "
                + m.takenAt()
                + " by replica "
                + m.replicaId()
                + " leading in round "
                + m.leaderRound()
                + "); "
                + summary.describe()
                + "; restore generation "
                + m.restoreGeneration()
                + " -> "
                + generation);
        configuration.forEach(System.out::println);
        return 0;
      } catch (IllegalArgumentException | BackupStoreException | StoreException e) {
        System.err.println("error: " + e.getMessage());
        return Paxcron.EXIT_FAILED;
      }
    }
  }

  static BackupRepository open(String url) throws BackupStoreException {
    return new BackupRepository(BackupStore.open(TargetUrl.parse(url), STORE_TIMEOUT));
  }
}
