package io.paxcron.paxos.storage;

import io.paxcron.paxos.Membership;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.storage.StoreException.Problem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

/**
 * Seeds a new replica's data directory from the newest valid backup, for {@code paxcron restore
 * --from DIR --data-dir D}. A replica started on the seeded directory holds the snapshot and an
 * empty log above it, so it begins at the snapshot's slot; its promise starts at zero, as for any
 * new replica. Run it once per replica of the new replica set, each with its own replica id.
 */
public final class Restore {

  /**
   * The file in a restored data dir that records its restore generation. A fencing token built from
   * the leader's ballot must carry this generation first, so every ballot of a restored cluster
   * outranks every ballot of the cluster it replaces.
   */
  public static final String GENERATION_FILE = "paxcron-restore-generation";

  private Restore() {}

  /** What a restore used, and the problems it found in the backup directory on the way. */
  public record Result(Backup backup, List<BackupProblem> problems) {
    public Result {
      problems = List.copyOf(problems);
    }
  }

  /**
   * Creates {@code dataDir} holding the snapshot of the newest valid backup in {@code backupDir},
   * as replica {@code replicaId}. The directory is built under a temporary sibling name and renamed
   * into place at the end, so a failed restore never leaves a half-seeded store.
   *
   * @param expectedClusterId if present, the restore refuses a backup of any other cluster; if
   *     empty, the store takes the backup's cluster id
   * @throws StoreException if {@code dataDir} exists and is not empty, if no backup verifies
   *     ({@link Problem#NO_VALID_BACKUP}, listing every problem), if the newest valid backup
   *     belongs to another cluster, or on an I/O error
   */
  public static Result seed(
      Path backupDir, Path dataDir, Optional<String> expectedClusterId, int replicaId)
      throws StoreException {
    Objects.requireNonNull(backupDir, "backupDir");
    Objects.requireNonNull(expectedClusterId, "expectedClusterId");
    expectedClusterId.ifPresent(StoreOptions::checkClusterId);
    Path target = dataDir.toAbsolutePath().normalize();
    refuseNonEmpty(target);

    BackupTarget.Selection selection = BackupTarget.newestValidIn(backupDir);
    if (selection.newest().isEmpty()) {
      throw new StoreException(
          Problem.NO_VALID_BACKUP,
          backupDir.toAbsolutePath().normalize(),
          "no backup verifies"
              + (selection.problems().isEmpty() ? " (the directory holds none)" : "")
              + "; problems: "
              + selection.problems());
    }
    Backup backup = selection.newest().get();
    String clusterId = backup.manifest().clusterId();
    if (expectedClusterId.isPresent() && !expectedClusterId.get().equals(clusterId)) {
      throw new StoreException(
          Problem.CLUSTER_ID_MISMATCH,
          backup.manifestFile(),
          "the newest valid backup belongs to cluster '"
              + clusterId
              + "', not the expected '"
              + expectedClusterId.get()
              + "'");
    }
    Snapshot snapshot = backup.readSnapshot();
    seedSnapshot(snapshot, clusterId, target, replicaId, backup.manifest().restoreGeneration() + 1);
    return new Result(backup, selection.problems());
  }

  /**
   * Creates {@code dataDir} holding {@code snapshot} as replica {@code replicaId} of {@code
   * clusterId}, running as restore generation {@code restoreGeneration} (recorded in the file
   * {@link #GENERATION_FILE} beside the store; read it with {@link #generationOf}). The directory
   * is built under a temporary sibling name and renamed into place at the end.
   *
   * @throws StoreException if {@code dataDir} exists and is not empty, or on an I/O error
   */
  public static void seedSnapshot(
      Snapshot snapshot, String clusterId, Path dataDir, int replicaId, long restoreGeneration)
      throws StoreException {
    Objects.requireNonNull(snapshot, "snapshot");
    StoreOptions.checkClusterId(clusterId);
    if (restoreGeneration < 0) {
      throw new IllegalArgumentException(
          "restoreGeneration must be >= 0, got " + restoreGeneration);
    }
    Path target = dataDir.toAbsolutePath().normalize();
    refuseNonEmpty(target);
    refuseNonMember(snapshot, replicaId, target);

    Path staging = target.resolveSibling("." + target.getFileName() + ".restoring");
    if (Files.exists(staging)) {
      throw new StoreException(
          Problem.UNEXPECTED_CONTENT,
          staging,
          "a previous restore left this staging directory behind; remove it and run the"
              + " restore again");
    }
    StoreDirectory.prepareEmpty(staging);
    try (LogStore store = LogStore.open(staging, StoreOptions.defaults(clusterId, replicaId))) {
      store.write(new Persist(null, List.of(), snapshot)).get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StoreException storeFailure) {
        throw storeFailure;
      }
      throw new IllegalStateException("unexpected failure seeding " + staging, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(
          Problem.IO_ERROR, staging, "interrupted while seeding; the data dir was not created");
    }
    // After the store is closed: an empty directory holding only this file would not open.
    writeGeneration(staging, restoreGeneration);
    try {
      if (Files.exists(target)) {
        Files.delete(target);
      }
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      StoreDirectory.syncDirectory(target.getParent());
    } catch (IOException e) {
      throw new StoreException(
          Problem.IO_ERROR,
          target,
          "cannot move the seeded store from "
              + staging
              + " into place: "
              + StoreDirectory.describe(e),
          e);
    }
  }

  /**
   * The restore generation a data dir runs as: 0 for a replica never restored, otherwise one more
   * than the generation recorded in the backup it was restored from.
   *
   * @throws StoreException if the generation file exists but cannot be read or parsed
   */
  public static long generationOf(Path dataDir) throws StoreException {
    Path file = dataDir.resolve(GENERATION_FILE);
    if (!Files.exists(file)) {
      return 0;
    }
    try {
      String text = Files.readString(file).trim();
      long generation = Long.parseLong(text);
      if (generation < 0) {
        throw new NumberFormatException("negative");
      }
      return generation;
    } catch (IOException | NumberFormatException e) {
      throw new StoreException(
          Problem.CORRUPT_RECORD,
          file,
          "is not a restore generation (a whole number >= 0): " + e.getMessage(),
          e);
    }
  }

  private static void writeGeneration(Path staging, long generation) throws StoreException {
    try {
      Files.createDirectories(staging);
      StoreDirectory.writeAtomically(
          staging.resolve(GENERATION_FILE),
          (generation + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new StoreException(
          Problem.IO_ERROR,
          staging,
          "cannot record the restore generation: " + StoreDirectory.describe(e),
          e);
    }
  }

  /**
   * Refuses to seed replica {@code replicaId} from a snapshot whose configuration does not hold it:
   * started, it would wait forever outside the cluster (or be removed at once).
   */
  private static void refuseNonMember(Snapshot snapshot, int replicaId, Path dataDir)
      throws StoreException {
    Membership membership = snapshot.membership();
    if (membership == null
        || (replicaId >= 0 && membership.latest().isMember(ReplicaId.of(replicaId)))) {
      return;
    }
    throw new StoreException(
        Problem.REPLICA_ID_MISMATCH,
        dataDir,
        "replica "
            + replicaId
            + " is not a member of the configuration this backup restores ("
            + membership.latest()
            + "); restore each replica under one of those ids, start them, then change the"
            + " configuration with 'paxcron members add|remove|replace' (docs/membership.md);"
            + " the data dir was not created");
  }

  /**
   * What an operator needs to know about the configuration a restore brings back, one line per
   * item: the members with their roles and addresses, a change still to take effect, and how to
   * change it. {@code membership} null means a backup that predates configurations in backups.
   */
  public static List<String> describeConfiguration(Membership membership, long slot) {
    List<String> lines = new java.util.ArrayList<>();
    if (membership == null) {
      lines.add(
          "configuration: not recorded in this backup (taken before backups carried it): the"
              + " cluster restores with its start-up configuration, the replica ids and addresses"
              + " of the peers setting");
    } else {
      io.paxcron.paxos.Configuration governing = membership.at(slot + 1);
      lines.add("configuration restored (as of slot " + slot + "): " + members(governing));
      if (!membership.latest().equals(governing)) {
        lines.add(
            "a change chosen before the backup takes effect at slot "
                + membership.latestFromSlot()
                + ": "
                + members(membership.latest()));
      }
      lines.add(
          "members shown as 'start-up address' take their address from each replica's peers"
              + " setting; the others must be reachable at the address shown");
    }
    lines.add(
        "to change it once the restored replicas run: paxcron members add|remove|replace"
            + " (docs/membership.md)");
    return List.copyOf(lines);
  }

  private static String members(io.paxcron.paxos.Configuration configuration) {
    StringBuilder out = new StringBuilder("voters ");
    out.append(list(configuration.voters()));
    out.append("; learners ")
        .append(configuration.learners().isEmpty() ? "none" : list(configuration.learners()));
    return out.toString();
  }

  private static String list(java.util.SortedMap<ReplicaId, String> members) {
    List<String> items = new java.util.ArrayList<>();
    for (java.util.Map.Entry<ReplicaId, String> member : members.entrySet()) {
      String address = member.getValue();
      if (address.isEmpty()) {
        items.add(member.getKey() + " (start-up address)");
      } else {
        String[] parts = address.split(":");
        items.add(
            member.getKey()
                + " ("
                + (parts.length == 3
                    ? parts[0] + ", peer port " + parts[1] + ", client port " + parts[2]
                    : address)
                + ")");
      }
    }
    return String.join(", ", items);
  }

  private static void refuseNonEmpty(Path dataDir) throws StoreException {
    if (!Files.exists(dataDir)) {
      return;
    }
    if (!Files.isDirectory(dataDir)) {
      throw new StoreException(
          Problem.UNEXPECTED_CONTENT, dataDir, "exists but is not a directory");
    }
    try (Stream<Path> entries = Files.list(dataDir)) {
      List<String> names = entries.map(p -> p.getFileName().toString()).sorted().limit(5).toList();
      if (!names.isEmpty()) {
        throw new StoreException(
            Problem.UNEXPECTED_CONTENT,
            dataDir,
            "the data dir is not empty (e.g. "
                + names
                + "); a restore only seeds a new replica, so move the old data dir aside first");
      }
    } catch (IOException e) {
      throw new StoreException(
          Problem.UNREADABLE_DIRECTORY,
          dataDir,
          "cannot list the data dir: " + StoreDirectory.describe(e),
          e);
    }
  }
}
