package io.paxcron.paxos.backup;

import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.storage.Backup;
import io.paxcron.paxos.storage.BackupManifest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The backup format on top of any {@link BackupStore}: per backup an image object {@code
 * snapshot-<slot:20>-<epochMillis:20>-r<replica>.image} holding the raw snapshot, and a manifest
 * object of the same stem ending {@code .manifest} ({@link BackupManifest}: cluster id, slot,
 * leader ballot round, time, format version, size, CRC32C, SHA-256, restore generation), written
 * once each, image first, manifest last — a backup exists exactly when its manifest does. The
 * layout is the one {@code BackupTarget} writes to a directory, so older backup directories read
 * unchanged.
 *
 * <p>Threading: one thread at a time, off any event loop; every method blocks on the store.
 */
public final class BackupRepository implements AutoCloseable {

  /** The largest image accepted: a snapshot is one Java array. */
  public static final long MAX_IMAGE_BYTES = Integer.MAX_VALUE - 8;

  /** The most backups a target may be asked to keep ({@code backup-keep}). */
  public static final int LIMIT_KEEP = 10_000;

  static final String MANIFEST_SUFFIX = ".manifest";
  static final String IMAGE_SUFFIX = ".image";
  private static final Pattern NAME = Pattern.compile("snapshot-(\\d{20})-(\\d{20})-r(\\d{1,10})");

  private final BackupStore store;

  /** Who writes a backup: the cluster, the replica that leads, its ballot round, the generation. */
  public record Writer(String clusterId, int replicaId, long leaderRound, long restoreGeneration) {}

  /** An object that is not a usable backup, and why. */
  public record Problem(String object, String reason) {
    @Override
    public String toString() {
      return object + ": " + reason;
    }
  }

  /**
   * One backup found by {@link #list}: its name (the common stem), and its manifest if that parsed
   * and its image is present with the declared size; otherwise the problem.
   */
  public record Entry(
      String name,
      long slot,
      Instant takenAt,
      Optional<BackupManifest> manifest,
      Optional<String> problem) {
    public boolean looksValid() {
      return problem.isEmpty();
    }
  }

  /**
   * Every backup, newest first (restore generation, then slot, then time), and every object that is
   * not one.
   */
  public record Listing(List<Entry> backups, List<Problem> problems) {
    public Listing {
      backups = List.copyOf(backups);
      problems = List.copyOf(problems);
    }
  }

  /** A backup whose image was downloaded and matched every checksum of its manifest. */
  public record Verified(String name, BackupManifest manifest, Snapshot snapshot) {}

  /** The backup a restore should use, and every backup skipped on the way, with the reason. */
  public record Selection(Optional<Verified> chosen, List<Problem> skipped) {
    public Selection {
      skipped = List.copyOf(skipped);
    }
  }

  /** A backup that does not verify; the message says why. */
  public static final class InvalidBackupException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidBackupException(String message) {
      super(message);
    }
  }

  public BackupRepository(BackupStore store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  public BackupStore store() {
    return store;
  }

  /**
   * Writes {@code snapshot} as a new backup: image, then manifest.
   *
   * @throws BackupStoreException if the store fails, or ({@link BackupStoreException.Kind#REFUSED})
   *     if its newest backup belongs to another cluster
   */
  public BackupManifest write(Snapshot snapshot, Writer writer, Instant takenAt)
      throws BackupStoreException {
    Objects.requireNonNull(snapshot, "snapshot");
    if (takenAt.isBefore(Instant.EPOCH)) {
      throw new IllegalArgumentException("takenAt must not precede 1970, got " + takenAt);
    }
    // Only the newest manifest is read: a target holds one cluster's backups, and reading every
    // manifest before each upload would cost one request per retained backup.
    for (Named named : names()) {
      Entry newest = entry(named.name(), Optional.empty());
      if (newest.manifest().isEmpty()) {
        continue;
      }
      String owner = newest.manifest().get().clusterId();
      if (!owner.equals(writer.clusterId())) {
        throw new BackupStoreException(
            BackupStoreException.Kind.REFUSED,
            store.describe()
                + ": holds backups of cluster '"
                + owner
                + "'; refusing to add one of cluster '"
                + writer.clusterId()
                + "'");
      }
      break;
    }
    String name =
        String.format(
            "snapshot-%020d-%020d-r%d",
            snapshot.slot(), takenAt.toEpochMilli(), writer.replicaId());
    byte[] data = snapshot.data();
    BackupManifest manifest =
        new BackupManifest(
            BackupManifest.FORMAT_VERSION,
            writer.clusterId(),
            writer.replicaId(),
            snapshot.slot(),
            takenAt,
            name + IMAGE_SUFFIX,
            data.length,
            BackupManifest.crc32cOf(data),
            Backup.sha256(data),
            writer.leaderRound(),
            writer.restoreGeneration(),
            snapshot.membership());
    store.putOnce(name + IMAGE_SUFFIX, data);
    store.putOnce(name + MANIFEST_SUFFIX, manifest.toBytes());
    return manifest;
  }

  /**
   * Lists the backups, reading each manifest (small) but no image; an image's presence and size are
   * checked against the store's listing, so a truncated upload shows here already.
   */
  public Listing list() throws BackupStoreException {
    List<StoredObject> objects = store.list();
    Map<String, StoredObject> byName = new HashMap<>();
    objects.forEach(o -> byName.put(o.name(), o));
    List<Entry> backups = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    for (StoredObject object : objects) {
      String name = object.name();
      if (name.endsWith(MANIFEST_SUFFIX) && NAME.matcher(stem(name, MANIFEST_SUFFIX)).matches()) {
        backups.add(entry(stem(name, MANIFEST_SUFFIX), Optional.of(byName)));
      } else if (name.endsWith(IMAGE_SUFFIX) && NAME.matcher(stem(name, IMAGE_SUFFIX)).matches()) {
        if (!byName.containsKey(stem(name, IMAGE_SUFFIX) + MANIFEST_SUFFIX)) {
          problems.add(
              new Problem(
                  name, "image without a manifest (a backup write that did not finish); ignored"));
        }
      } else if (name.endsWith(DirectoryStore.TEMP_SUFFIX)) {
        problems.add(
            new Problem(name, "temporary file of a backup write that did not finish; ignored"));
      } else {
        problems.add(new Problem(name, "not a backup object; ignored"));
      }
    }
    backups.sort(NEWEST_FIRST);
    return new Listing(backups, problems);
  }

  /** A backup known by its manifest's name only: slot and time come from the name. */
  private record Named(String name, long slot, Instant takenAt) {}

  /** The backups whose manifest objects exist, newest first, without reading any of them. */
  private List<Named> names() throws BackupStoreException {
    List<Named> named = new ArrayList<>();
    for (StoredObject object : store.list()) {
      if (object.name().endsWith(MANIFEST_SUFFIX)) {
        Matcher matcher = NAME.matcher(stem(object.name(), MANIFEST_SUFFIX));
        if (matcher.matches()) {
          named.add(
              new Named(
                  matcher.group(),
                  Long.parseLong(matcher.group(1)),
                  Instant.ofEpochMilli(Long.parseLong(matcher.group(2)))));
        }
      }
    }
    named.sort(
        Comparator.comparingLong(Named::slot)
            .thenComparing(Named::takenAt)
            .thenComparing(Named::name)
            .reversed());
    return named;
  }

  /**
   * Restore generation first, then slot, then time: after a restore from an older backup, the
   * restored cluster's backups (generation + 1) are newer than the dead cluster's later ones, whose
   * higher slots belong to a history that no longer exists.
   */
  private static final Comparator<Entry> NEWEST_FIRST =
      Comparator.comparingLong(BackupRepository::generationOf)
          .thenComparingLong(Entry::slot)
          .thenComparing(Entry::takenAt)
          .thenComparing(Entry::name)
          .reversed();

  /**
   * An unreadable manifest's generation is unknown; it counts as 0, so it never outranks (nor is
   * kept by retention in place of) a valid backup.
   */
  private static long generationOf(Entry entry) {
    return entry.manifest().map(BackupManifest::restoreGeneration).orElse(0L);
  }

  /** Reads and checks a manifest; with a listing, also the listed image's presence and size. */
  private Entry entry(String name, Optional<Map<String, StoredObject>> listing)
      throws BackupStoreException {
    Matcher matcher = NAME.matcher(name);
    if (!matcher.matches()) {
      throw new IllegalStateException("entry() is called only for backup names: " + name);
    }
    long slot = Long.parseLong(matcher.group(1));
    Instant takenAt = Instant.ofEpochMilli(Long.parseLong(matcher.group(2)));
    BackupManifest manifest;
    try {
      manifest =
          BackupManifest.parse(
              store.get(name + MANIFEST_SUFFIX, BackupManifest.MAX_MANIFEST_BYTES));
    } catch (BackupManifest.InvalidManifestException e) {
      return new Entry(
          name,
          slot,
          takenAt,
          Optional.empty(),
          Optional.of(name + MANIFEST_SUFFIX + ": invalid manifest: " + e.getMessage()));
    } catch (BackupStoreException e) {
      if (e.kind() != BackupStoreException.Kind.NOT_FOUND
          && e.kind() != BackupStoreException.Kind.TOO_LARGE) {
        throw e;
      }
      return new Entry(
          name,
          slot,
          takenAt,
          Optional.empty(),
          Optional.of(name + MANIFEST_SUFFIX + ": " + e.getMessage()));
    }
    if (manifest.slot() != slot || !manifest.imageFile().equals(name + IMAGE_SUFFIX)) {
      return new Entry(
          name,
          slot,
          takenAt,
          Optional.of(manifest),
          Optional.of(
              name
                  + MANIFEST_SUFFIX
                  + ": the manifest (slot "
                  + manifest.slot()
                  + ", image "
                  + manifest.imageFile()
                  + ") does not match its name"));
    }
    if (listing.isEmpty()) {
      return new Entry(name, slot, manifest.takenAt(), Optional.of(manifest), Optional.empty());
    }
    StoredObject image = listing.get().get(name + IMAGE_SUFFIX);
    if (image == null) {
      return new Entry(
          name,
          slot,
          manifest.takenAt(),
          Optional.of(manifest),
          Optional.of(name + IMAGE_SUFFIX + ": the manifest's image is missing"));
    }
    if (image.sizeBytes() != manifest.sizeBytes()) {
      return new Entry(
          name,
          slot,
          manifest.takenAt(),
          Optional.of(manifest),
          Optional.of(
              name
                  + IMAGE_SUFFIX
                  + ": image holds "
                  + image.sizeBytes()
                  + " bytes, the manifest declares "
                  + manifest.sizeBytes()
                  + " (truncated?)"));
    }
    return new Entry(name, slot, manifest.takenAt(), Optional.of(manifest), Optional.empty());
  }

  /**
   * Downloads backup {@code name}'s manifest and image and checks size, CRC32C and SHA-256.
   *
   * @throws InvalidBackupException saying what does not match
   * @throws BackupStoreException if the store cannot be read
   */
  public Verified verify(String name) throws InvalidBackupException, BackupStoreException {
    if (!NAME.matcher(name).matches()) {
      throw new InvalidBackupException(
          "'" + name + "' is not a backup name (snapshot-<slot>-<millis>-r<replica>)");
    }
    Entry entry = entry(name, Optional.empty());
    if (entry.problem().isPresent() || entry.manifest().isEmpty()) {
      throw new InvalidBackupException(entry.problem().orElse(name + ": no manifest"));
    }
    BackupManifest manifest = entry.manifest().get();
    byte[] data;
    try {
      data = store.get(manifest.imageFile(), Math.min(MAX_IMAGE_BYTES, manifest.sizeBytes()));
    } catch (BackupStoreException e) {
      switch (e.kind()) {
        case NOT_FOUND ->
            throw new InvalidBackupException(
                manifest.imageFile() + ": the manifest's image is missing");
        case TOO_LARGE ->
            throw new InvalidBackupException(
                manifest.imageFile()
                    + ": image is larger than the "
                    + manifest.sizeBytes()
                    + " bytes its manifest declares");
        default -> throw e;
      }
    }
    String mismatch = mismatch(manifest, data);
    if (mismatch != null) {
      throw new InvalidBackupException(manifest.imageFile() + ": " + mismatch);
    }
    return new Verified(name, manifest, new Snapshot(manifest.slot(), data, manifest.membership()));
  }

  private static String mismatch(BackupManifest manifest, byte[] data) {
    if (data.length != manifest.sizeBytes()) {
      return "image holds "
          + data.length
          + " bytes, the manifest declares "
          + manifest.sizeBytes()
          + " (truncated?)";
    }
    int crc = BackupManifest.crc32cOf(data);
    if (crc != manifest.crc32c()) {
      return "image CRC32C "
          + HexFormat.of().toHexDigits(crc)
          + " does not match the manifest's "
          + HexFormat.of().toHexDigits(manifest.crc32c());
    }
    String sha = Backup.sha256(data);
    if (!sha.equals(manifest.sha256())) {
      return "image SHA-256 " + sha + " does not match the manifest's " + manifest.sha256();
    }
    return null;
  }

  /**
   * The newest backup taken at or before {@code at} (any time if empty) that verifies completely.
   * Newer backups that fail are skipped with the reason, so a restore can say it fell back.
   */
  public Selection newestValid(Optional<Instant> at) throws BackupStoreException {
    Listing listing = list();
    List<Problem> skipped = new ArrayList<>();
    for (Entry entry : listing.backups()) {
      if (at.isPresent() && entry.takenAt().isAfter(at.get())) {
        continue;
      }
      if (entry.problem().isPresent()) {
        skipped.add(new Problem(entry.name(), entry.problem().get()));
        continue;
      }
      try {
        return new Selection(Optional.of(verify(entry.name())), skipped);
      } catch (InvalidBackupException e) {
        skipped.add(new Problem(entry.name(), e.getMessage()));
      }
    }
    return new Selection(Optional.empty(), skipped);
  }

  /**
   * Deletes backups beyond the newest {@code keep} (in {@link #list}'s order: generation, slot,
   * time), and those older than {@code maxAge}; the newest backup is never deleted, whatever its
   * age. Manifest first, so no backup is left half-there.
   *
   * @return the names deleted
   */
  public List<String> prune(int keep, Optional<Duration> maxAge, Instant now)
      throws BackupStoreException {
    if (keep < 1 || keep > LIMIT_KEEP) {
      throw new IllegalArgumentException(
          "backup-keep must be between 1 and " + LIMIT_KEEP + ", got " + keep);
    }
    List<Entry> backups = list().backups();
    List<String> deleted = new ArrayList<>();
    for (int i = 1; i < backups.size(); i++) {
      Entry entry = backups.get(i);
      boolean tooOld = maxAge.isPresent() && entry.takenAt().isBefore(now.minus(maxAge.get()));
      if (i >= keep || tooOld) {
        store.delete(entry.name() + MANIFEST_SUFFIX);
        store.delete(entry.name() + IMAGE_SUFFIX);
        deleted.add(entry.name());
      }
    }
    return deleted;
  }

  @Override
  public void close() {
    store.close();
  }

  private static String stem(String name, String suffix) {
    return name.substring(0, name.length() - suffix.length());
  }
}
