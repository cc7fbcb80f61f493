package io.paxcron.paxos.storage;

import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.storage.StoreException.Problem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A directory (a mounted volume or an NFS path) that receives snapshot backups and keeps the newest
 * {@code keepNewest} of them. Each backup is two files written atomically (temporary file, fsync,
 * rename, fsync of the directory): the image first, then its {@link BackupManifest}, so a backup
 * exists exactly when its manifest does. One directory holds one cluster's backups; the replicas of
 * that cluster may share it.
 *
 * <p>Threading: {@link #write} must not run concurrently with itself on one directory; {@link
 * #newestValid} may run at any time. All methods block on file I/O: call them off the event loop.
 */
public final class BackupTarget {

  /** The most backups a target may be asked to keep. */
  public static final int LIMIT_KEEP_NEWEST = 1000;

  static final String MANIFEST_SUFFIX = ".manifest";
  static final String IMAGE_SUFFIX = ".image";

  /** {@code snapshot-<slot, 20 digits>-<epoch millis, 20 digits>-r<replica>}: sorts by age. */
  private static final Pattern BACKUP_NAME =
      Pattern.compile("snapshot-(\\d{20})-(\\d{20})-r(\\d{1,10})");

  private final Path dir;
  private final int keepNewest;

  /** The newest backup that verified, and every problem found on the way to it. */
  public record Selection(Optional<Backup> newest, List<BackupProblem> problems) {
    public Selection {
      problems = List.copyOf(problems);
    }
  }

  private BackupTarget(Path dir, int keepNewest) {
    this.dir = dir;
    this.keepNewest = keepNewest;
  }

  /**
   * A target writing to {@code dir} (created if absent) and keeping its newest {@code keepNewest}
   * backups.
   *
   * @throws StoreException if the directory cannot be created, listed or written
   */
  public static BackupTarget open(Path dir, int keepNewest) throws StoreException {
    if (keepNewest < 1 || keepNewest > LIMIT_KEEP_NEWEST) {
      throw new IllegalArgumentException(
          "keepNewest must be between 1 and " + LIMIT_KEEP_NEWEST + ", got " + keepNewest);
    }
    Path absolute = dir.toAbsolutePath().normalize();
    StoreDirectory.prepareDirectory(absolute);
    return new BackupTarget(absolute, keepNewest);
  }

  public Path dir() {
    return dir;
  }

  /**
   * Writes {@code snapshot} as the newest backup of replica {@code replicaId} of {@code clusterId},
   * then deletes the oldest backups beyond {@code keepNewest}.
   *
   * @throws StoreException if the directory holds another cluster's backups, or on an I/O error; a
   *     failed write leaves at most a temporary file or an image without a manifest, which {@link
   *     #newestValid} reports
   */
  public Backup write(Snapshot snapshot, String clusterId, int replicaId, Instant takenAt)
      throws StoreException {
    Objects.requireNonNull(snapshot, "snapshot");
    StoreOptions.checkClusterId(clusterId);
    if (replicaId < 0) {
      throw new IllegalArgumentException("replicaId must be >= 0, got " + replicaId);
    }
    if (takenAt.isBefore(Instant.EPOCH)) {
      throw new IllegalArgumentException("takenAt must not precede 1970, got " + takenAt);
    }
    List<Path> manifests = listManifests(dir);
    refuseOtherClusters(manifests, clusterId);

    String name =
        String.format(
            "snapshot-%020d-%020d-r%d", snapshot.slot(), takenAt.toEpochMilli(), replicaId);
    byte[] data = snapshot.data();
    BackupManifest manifest =
        new BackupManifest(
            BackupManifest.FORMAT_VERSION,
            clusterId,
            replicaId,
            snapshot.slot(),
            takenAt,
            name + IMAGE_SUFFIX,
            data.length,
            BackupManifest.crc32cOf(data),
            Backup.sha256(data),
            0,
            0,
            snapshot.membership());
    Path image = dir.resolve(name + IMAGE_SUFFIX);
    Path manifestFile = dir.resolve(name + MANIFEST_SUFFIX);
    try {
      StoreDirectory.writeAtomically(image, data);
      StoreDirectory.writeAtomically(manifestFile, manifest.toBytes());
    } catch (IOException e) {
      throw new StoreException(
          Problem.IO_ERROR,
          dir,
          "writing backup " + name + " failed: " + StoreDirectory.describe(e),
          e);
    }
    prune();
    return new Backup(manifestFile, image, manifest);
  }

  /** The newest backup in this target that verifies; see {@link #newestValidIn}. */
  public Selection newestValid() throws StoreException {
    return newestValidIn(dir);
  }

  /**
   * Finds the newest backup in {@code dir} whose manifest and image verify. Backups are tried
   * newest first (by slot, then time taken); every backup that fails on the way, and every file
   * that is not part of a complete backup, is returned as a problem rather than skipped silently.
   * Older backups than the one chosen are not read.
   *
   * @throws StoreException if the directory cannot be listed
   */
  public static Selection newestValidIn(Path dir) throws StoreException {
    Path absolute = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(absolute)) {
      throw new StoreException(
          Problem.UNREADABLE_DIRECTORY, absolute, "the backup directory does not exist");
    }
    List<BackupProblem> problems = new ArrayList<>();
    List<Path> manifests = new ArrayList<>();
    for (Path file : list(absolute)) {
      String fileName = file.getFileName().toString();
      if (fileName.endsWith(MANIFEST_SUFFIX) && isBackupName(fileName, MANIFEST_SUFFIX)) {
        manifests.add(file);
      } else if (fileName.endsWith(IMAGE_SUFFIX) && isBackupName(fileName, IMAGE_SUFFIX)) {
        Path manifest = file.resolveSibling(stem(fileName, IMAGE_SUFFIX) + MANIFEST_SUFFIX);
        if (!Files.exists(manifest)) {
          problems.add(
              new BackupProblem(
                  file, "image without a manifest (a backup write that did not finish); ignored"));
        }
      } else if (fileName.endsWith(".tmp")) {
        problems.add(
            new BackupProblem(
                file, "temporary file of a backup write that did not finish; ignored"));
      } else {
        problems.add(new BackupProblem(file, "not a backup file; ignored"));
      }
    }
    manifests.sort(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed());
    for (Path manifestFile : manifests) {
      Optional<Backup> backup = verify(manifestFile, problems);
      if (backup.isPresent()) {
        return new Selection(backup, problems);
      }
    }
    return new Selection(Optional.empty(), problems);
  }

  private static Optional<Backup> verify(Path manifestFile, List<BackupProblem> problems) {
    String stem = stem(manifestFile.getFileName().toString(), MANIFEST_SUFFIX);
    BackupManifest manifest;
    try {
      manifest = BackupManifest.parse(readManifestBytes(manifestFile));
    } catch (BackupManifest.InvalidManifestException e) {
      problems.add(new BackupProblem(manifestFile, "invalid manifest: " + e.getMessage()));
      return Optional.empty();
    } catch (IOException e) {
      problems.add(new BackupProblem(manifestFile, "cannot read: " + StoreDirectory.describe(e)));
      return Optional.empty();
    }
    Matcher name = BACKUP_NAME.matcher(stem);
    if (!name.matches()
        || Long.parseLong(name.group(1)) != manifest.slot()
        || !manifest.imageFile().equals(stem + IMAGE_SUFFIX)) {
      problems.add(
          new BackupProblem(
              manifestFile,
              "the manifest (slot "
                  + manifest.slot()
                  + ", image "
                  + manifest.imageFile()
                  + ") does not match its file name"));
      return Optional.empty();
    }
    Backup backup =
        new Backup(manifestFile, manifestFile.resolveSibling(manifest.imageFile()), manifest);
    try {
      String mismatch = backup.verify();
      if (mismatch != null) {
        problems.add(new BackupProblem(backup.imageFile(), mismatch));
        return Optional.empty();
      }
    } catch (NoSuchFileException e) {
      problems.add(new BackupProblem(backup.imageFile(), "the manifest's image is missing"));
      return Optional.empty();
    } catch (IOException e) {
      problems.add(
          new BackupProblem(backup.imageFile(), "cannot read: " + StoreDirectory.describe(e)));
      return Optional.empty();
    }
    return Optional.of(backup);
  }

  private static byte[] readManifestBytes(Path manifestFile)
      throws IOException, BackupManifest.InvalidManifestException {
    long size = Files.size(manifestFile);
    if (size > BackupManifest.MAX_MANIFEST_BYTES) {
      throw new BackupManifest.InvalidManifestException(
          "manifest of " + size + " bytes exceeds " + BackupManifest.MAX_MANIFEST_BYTES);
    }
    return Files.readAllBytes(manifestFile);
  }

  private void refuseOtherClusters(List<Path> manifests, String clusterId) throws StoreException {
    for (Path manifestFile : manifests) {
      try {
        BackupManifest manifest = BackupManifest.parse(readManifestBytes(manifestFile));
        if (!manifest.clusterId().equals(clusterId)) {
          throw new StoreException(
              Problem.CLUSTER_ID_MISMATCH,
              manifestFile,
              "the backup directory holds backups of cluster '"
                  + manifest.clusterId()
                  + "'; refusing to add a backup of cluster '"
                  + clusterId
                  + "' to it");
        }
      } catch (BackupManifest.InvalidManifestException | IOException e) {
        // An unreadable manifest is not evidence of another cluster; newestValid reports it.
      }
    }
  }

  /** Deletes the oldest backups beyond keepNewest: manifest first, so none is left half-there. */
  private void prune() throws StoreException {
    List<Path> manifests = listManifests(dir);
    manifests.sort(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed());
    if (manifests.size() <= keepNewest) {
      return;
    }
    try {
      for (Path manifestFile : manifests.subList(keepNewest, manifests.size())) {
        String stem = stem(manifestFile.getFileName().toString(), MANIFEST_SUFFIX);
        Files.deleteIfExists(manifestFile);
        Files.deleteIfExists(manifestFile.resolveSibling(stem + IMAGE_SUFFIX));
      }
      StoreDirectory.syncDirectory(dir);
    } catch (IOException e) {
      throw new StoreException(
          Problem.IO_ERROR,
          dir,
          "deleting backups beyond keepNewest="
              + keepNewest
              + " failed: "
              + StoreDirectory.describe(e),
          e);
    }
  }

  private static List<Path> listManifests(Path dir) throws StoreException {
    List<Path> manifests = new ArrayList<>();
    for (Path file : list(dir)) {
      String fileName = file.getFileName().toString();
      if (fileName.endsWith(MANIFEST_SUFFIX) && isBackupName(fileName, MANIFEST_SUFFIX)) {
        manifests.add(file);
      }
    }
    return manifests;
  }

  private static List<Path> list(Path dir) throws StoreException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.sorted().toList();
    } catch (IOException e) {
      throw new StoreException(
          Problem.UNREADABLE_DIRECTORY,
          dir,
          "cannot list the backup directory: " + StoreDirectory.describe(e),
          e);
    }
  }

  private static boolean isBackupName(String fileName, String suffix) {
    return BACKUP_NAME.matcher(stem(fileName, suffix)).matches();
  }

  private static String stem(String fileName, String suffix) {
    return fileName.substring(0, fileName.length() - suffix.length());
  }
}
