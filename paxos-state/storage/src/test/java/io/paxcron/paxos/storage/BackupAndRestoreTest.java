package io.paxcron.paxos.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.storage.StoreException.Problem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupAndRestoreTest {

  private static final Instant T0 = Instant.parse("2026-11-21T10:00:00Z");

  @TempDir Path dir;

  private final RandomGenerator random = Fixtures.random("backups", 42);

  private Path backups() {
    return dir.resolve("backups");
  }

  @Test
  void aBackupRestoredIntoANewDataDirLoadsAsTheSnapshotWithAnEmptyLog() throws Exception {
    Snapshot snapshot = Fixtures.snapshot(1234, 300_000, random);
    BackupTarget target = BackupTarget.open(backups(), 3);
    Backup written = target.write(snapshot, Fixtures.CLUSTER, 1, T0);

    BackupTarget.Selection selection = target.newestValid();
    assertEquals(Optional.of(written), selection.newest());
    assertEquals(List.of(), selection.problems());

    Path data = dir.resolve("replica-3");
    Restore.Result result = Restore.seed(backups(), data, Optional.empty(), 3);
    assertEquals(written, result.backup());

    try (LogStore store = LogStore.open(data, StoreOptions.defaults(Fixtures.CLUSTER, 3))) {
      assertEquals(new DurableState(Ballot.ZERO, snapshot, List.of()), store.load());
    }
  }

  @Test
  void theManifestNamesClusterSlotTimeSizeAndChecksums() throws Exception {
    Snapshot snapshot = new Snapshot(77, "state".getBytes(StandardCharsets.UTF_8));
    Backup backup = BackupTarget.open(backups(), 3).write(snapshot, "prod", 2, T0);

    String manifest = Files.readString(backup.manifestFile());

    for (String line :
        List.of(
            "format-version=3",
            "cluster-id=prod",
            "replica-id=2",
            "slot=77",
            "taken-at=2026-11-21T10:00:00Z",
            "size-bytes=5",
            "sha256=" + Backup.sha256(snapshot.data()),
            "image=" + backup.imageFile().getFileName())) {
      assertTrue(manifest.contains(line + "\n"), line + " in:\n" + manifest);
    }
    assertEquals(snapshot, backup.readSnapshot());
    try (Stream<Path> files = Files.list(backups())) {
      assertEquals(2, files.count(), "no temporary files are left behind");
    }
  }

  @Test
  void aCorruptedNewestBackupIsReportedAndThePreviousValidOneIsUsed() throws Exception {
    BackupTarget target = BackupTarget.open(backups(), 3);
    Snapshot older = Fixtures.snapshot(100, 5000, random);
    Backup previous = target.write(older, Fixtures.CLUSTER, 1, T0);
    Backup newest =
        target.write(Fixtures.snapshot(200, 5000, random), Fixtures.CLUSTER, 1, T0.plusSeconds(60));
    byte[] image = Files.readAllBytes(newest.imageFile());
    image[2500] ^= 0x01;
    Files.write(newest.imageFile(), image);

    BackupTarget.Selection selection = target.newestValid();

    assertEquals(Optional.of(previous), selection.newest());
    assertEquals(1, selection.problems().size(), selection.problems().toString());
    BackupProblem problem = selection.problems().get(0);
    assertEquals(newest.imageFile(), problem.file());
    assertTrue(problem.reason().contains("CRC32C"), problem.reason());

    Restore.Result result =
        Restore.seed(backups(), dir.resolve("data"), Optional.of(Fixtures.CLUSTER), 1);
    assertEquals(previous, result.backup());
    assertEquals(selection.problems(), result.problems());
    try (LogStore store =
        LogStore.open(dir.resolve("data"), StoreOptions.defaults(Fixtures.CLUSTER, 1))) {
      assertEquals(older, store.load().snapshot());
    }
  }

  @Test
  void aDamagedManifestAnOrphanImageAndAStrayFileAreEachReported() throws Exception {
    BackupTarget target = BackupTarget.open(backups(), 5);
    Backup valid = target.write(Fixtures.snapshot(10, 100, random), Fixtures.CLUSTER, 1, T0);
    Backup damaged = target.write(Fixtures.snapshot(20, 100, random), Fixtures.CLUSTER, 1, T0);
    Files.writeString(
        damaged.manifestFile(),
        Files.readString(damaged.manifestFile()).replace("slot=20", "slot=21"));
    Backup orphan = target.write(Fixtures.snapshot(30, 100, random), Fixtures.CLUSTER, 1, T0);
    Files.delete(orphan.manifestFile());
    Files.writeString(backups().resolve("README"), "hello");

    BackupTarget.Selection selection = target.newestValid();

    assertEquals(Optional.of(valid), selection.newest());
    assertEquals(3, selection.problems().size(), selection.problems().toString());
    String report = selection.problems().toString();
    assertTrue(
        report.contains(damaged.manifestFile() + ": invalid manifest: manifest checksum mismatch"),
        report);
    assertTrue(report.contains(orphan.imageFile() + ": image without a manifest"), report);
    assertTrue(report.contains("README: not a backup file"), report);
  }

  @Test
  void theTargetKeepsOnlyTheNewestBackups() throws Exception {
    BackupTarget target = BackupTarget.open(backups(), 2);
    for (int i = 1; i <= 5; i++) {
      target.write(Fixtures.snapshot(i * 10L, 50, random), Fixtures.CLUSTER, 1, T0.plusSeconds(i));
    }

    List<String> names;
    try (Stream<Path> files = Files.list(backups())) {
      names = files.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertEquals(4, names.size(), names.toString());
    assertTrue(names.get(0).startsWith("snapshot-00000000000000000040-"), names.toString());
    assertTrue(names.get(2).startsWith("snapshot-00000000000000000050-"), names.toString());
    assertEquals(50, target.newestValid().newest().orElseThrow().manifest().slot());
  }

  @Test
  void theTargetRefusesToMixClusters() throws Exception {
    BackupTarget target = BackupTarget.open(backups(), 2);
    target.write(Fixtures.snapshot(1, 10, random), "alpha", 1, T0);

    StoreException e =
        assertThrows(
            StoreException.class,
            () -> target.write(Fixtures.snapshot(2, 10, random), "beta", 1, T0));

    assertEquals(Problem.CLUSTER_ID_MISMATCH, e.problem());
    assertTrue(e.getMessage().contains("backups of cluster 'alpha'"), e.getMessage());
  }

  @Test
  void restoreRefusesANonEmptyDataDir() throws Exception {
    BackupTarget.open(backups(), 2)
        .write(Fixtures.snapshot(1, 10, random), Fixtures.CLUSTER, 1, T0);
    Path data = Files.createDirectories(dir.resolve("data"));
    Files.writeString(data.resolve("CURRENT"), "MANIFEST-000001\n");

    StoreException e =
        assertThrows(
            StoreException.class, () -> Restore.seed(backups(), data, Optional.empty(), 1));

    assertEquals(Problem.UNEXPECTED_CONTENT, e.problem());
    assertTrue(
        e.getMessage().startsWith(data + ": the data dir is not empty (e.g. [CURRENT])"),
        e.getMessage());
    assertEquals("MANIFEST-000001\n", Files.readString(data.resolve("CURRENT")));
  }

  @Test
  void restoreRefusesWhenNoBackupVerifiesAndListsWhy() throws Exception {
    Backup only =
        BackupTarget.open(backups(), 2)
            .write(Fixtures.snapshot(1, 10, random), Fixtures.CLUSTER, 1, T0);
    Files.write(only.imageFile(), new byte[3]);

    StoreException e =
        assertThrows(
            StoreException.class,
            () -> Restore.seed(backups(), dir.resolve("data"), Optional.empty(), 1));

    assertEquals(Problem.NO_VALID_BACKUP, e.problem());
    assertTrue(
        e.getMessage().contains("image holds 3 bytes, the manifest declares 10"), e.getMessage());
    assertTrue(Files.notExists(dir.resolve("data")), "nothing is created");
  }

  @Test
  void restoreRefusesABackupOfAnotherCluster() throws Exception {
    BackupTarget.open(backups(), 2).write(Fixtures.snapshot(1, 10, random), "alpha", 1, T0);

    StoreException e =
        assertThrows(
            StoreException.class,
            () -> Restore.seed(backups(), dir.resolve("data"), Optional.of("beta"), 1));

    assertEquals(Problem.CLUSTER_ID_MISMATCH, e.problem());
    assertTrue(
        e.getMessage().contains("belongs to cluster 'alpha', not the expected 'beta'"),
        e.getMessage());
  }

  @Test
  void formatOneManifestsStillReadAndFormatTwoCarriesLeaderRoundAndGeneration() throws Exception {
    BackupManifest v1 =
        new BackupManifest(1, "prod", 2, 77, T0, "x.image", 5, 0x1234, "a".repeat(64), 0, 0);
    String text = new String(v1.toBytes(), StandardCharsets.UTF_8);
    assertTrue(text.contains("format-version=1\n") && !text.contains("restore-generation"), text);
    assertEquals(v1, BackupManifest.parse(v1.toBytes()));

    BackupManifest v2 =
        new BackupManifest(2, "prod", 2, 77, T0, "x.image", 5, 0x1234, "a".repeat(64), 9, 3);
    String v2text = new String(v2.toBytes(), StandardCharsets.UTF_8);
    assertTrue(v2text.contains("leader-round=9\nrestore-generation=3\n"), v2text);
    assertEquals(v2, BackupManifest.parse(v2.toBytes()));

    BackupManifest future =
        new BackupManifest(4, "prod", 2, 77, T0, "x.image", 5, 0x1234, "a".repeat(64), 9, 3);
    BackupManifest.InvalidManifestException refused =
        assertThrows(
            BackupManifest.InvalidManifestException.class,
            () -> BackupManifest.parse(future.toBytes()));
    assertTrue(refused.getMessage().contains("format version 4"), refused.getMessage());
  }

  /** Replicas 1-3 from start-up; 1 replaced by 4, which was added with an address; 5 learning. */
  private static io.paxcron.paxos.Membership changedMembership() {
    io.paxcron.paxos.Configuration start =
        io.paxcron.paxos.Configuration.bootstrap(
            java.util.List.of(
                io.paxcron.paxos.ReplicaId.of(1),
                io.paxcron.paxos.ReplicaId.of(2),
                io.paxcron.paxos.ReplicaId.of(3)));
    java.util.TreeMap<io.paxcron.paxos.ReplicaId, String> voters =
        new java.util.TreeMap<>(start.voters());
    voters.remove(io.paxcron.paxos.ReplicaId.of(1));
    voters.put(io.paxcron.paxos.ReplicaId.of(4), "10.0.0.4:7001:7101");
    io.paxcron.paxos.Configuration replaced =
        new io.paxcron.paxos.Configuration(voters, new java.util.TreeMap<>());
    io.paxcron.paxos.Configuration learning =
        new io.paxcron.paxos.Configuration(
            voters,
            new java.util.TreeMap<>(
                java.util.Map.of(io.paxcron.paxos.ReplicaId.of(5), "host 5;=%:7002:7102")));
    return io.paxcron.paxos.Membership.bootstrap(start)
        .with(40, 72, replaced)
        .with(70, 102, learning)
        .decidedThrough(77);
  }

  @Test
  void formatThreeCarriesTheMembershipAsOfItsSlotInAReadableLine() throws Exception {
    io.paxcron.paxos.Membership membership = changedMembership();
    assertEquals(2, membership.epochs().size(), membership.toString());
    BackupManifest v3 =
        new BackupManifest(
            3, "prod", 2, 77, T0, "x.image", 5, 0x1234, "a".repeat(64), 9, 3, membership);
    String text = new String(v3.toBytes(), StandardCharsets.UTF_8);
    assertTrue(
        text.contains(
            "membership=40:72 voters 2 3 4=10.0.0.4:7001:7101; 70:102 voters 2 3"
                + " 4=10.0.0.4:7001:7101 learners 5=host%205%3B%3D%25:7002:7102\n"),
        text);
    BackupManifest parsed = BackupManifest.parse(v3.toBytes());
    assertEquals(v3, parsed);
    assertEquals(membership, parsed.membership());

    assertThrows(
        IllegalArgumentException.class,
        () ->
            new BackupManifest(
                2, "prod", 2, 77, T0, "x.image", 5, 0x1234, "a".repeat(64), 9, 3, membership));
    for (String bad :
        java.util.List.of("", "1:2 voters", "x:2 voters 1", "1:2 members 1", "5:3 voters 1")) {
      assertThrows(
          BackupManifest.InvalidManifestException.class,
          () -> BackupManifest.parseMembership(bad),
          bad);
    }
  }

  @Test
  void aRestoreCarriesTheMembershipIntoTheStoreAndRefusesAReplicaOutsideIt() throws Exception {
    io.paxcron.paxos.Membership membership = changedMembership();
    Snapshot snapshot = new Snapshot(77, new byte[] {1, 2, 3}, membership);
    StoreException refused =
        assertThrows(
            StoreException.class,
            () -> Restore.seedSnapshot(snapshot, "prod", dir.resolve("one"), 1, 1));
    assertEquals(Problem.REPLICA_ID_MISMATCH, refused.problem());
    assertTrue(
        refused.getMessage().contains("replica 1 is not a member of the configuration")
            && refused.getMessage().contains("paxcron members"),
        refused.getMessage());
    assertTrue(!java.nio.file.Files.exists(dir.resolve("one")), "nothing created");

    Path dataDir = dir.resolve("four");
    Restore.seedSnapshot(snapshot, "prod", dataDir, 4, 1);
    try (LogStore store = LogStore.open(dataDir, StoreOptions.defaults("prod", 4))) {
      assertEquals(membership, store.load().snapshot().membership());
    }
    // A learner of a change chosen before the backup is a member too.
    Restore.seedSnapshot(snapshot, "prod", dir.resolve("five"), 5, 1);

    java.util.List<String> said = Restore.describeConfiguration(membership, 77);
    assertTrue(
        said.get(0)
            .equals(
                "configuration restored (as of slot 77): voters 2 (start-up address), 3"
                    + " (start-up address), 4 (10.0.0.4, peer port 7001, client port 7101);"
                    + " learners none"),
        said.toString());
    assertTrue(said.get(1).contains("takes effect at slot 102") && said.get(1).contains("5 ("));
    assertTrue(said.get(said.size() - 1).contains("paxcron members add|remove|replace"));
    assertTrue(Restore.describeConfiguration(null, 77).get(0).contains("start-up configuration"));
  }

  @Test
  void aSeededDataDirRecordsItsRestoreGeneration() throws Exception {
    Path dataDir = dir.resolve("seeded");
    Restore.seedSnapshot(new Snapshot(5, new byte[0]), "prod", dataDir, 1, 4);
    assertEquals(4, Restore.generationOf(dataDir));
    assertEquals(0, Restore.generationOf(dir.resolve("never-restored")));
    try (LogStore store = LogStore.open(dataDir, StoreOptions.defaults("prod", 1))) {
      assertEquals(5, store.load().snapshot().slot());
    }
  }
}
