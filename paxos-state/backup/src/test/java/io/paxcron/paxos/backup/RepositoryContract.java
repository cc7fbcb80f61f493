package io.paxcron.paxos.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.storage.BackupManifest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * What every backup store must do under the backup format, run against a directory and against a
 * real S3-compatible server. Each test gets a fresh, empty target.
 */
abstract class RepositoryContract {

  static final Instant T0 = Instant.parse("2026-11-21T10:00:00Z");
  static final BackupRepository.Writer LEADER = new BackupRepository.Writer("prod-eu", 2, 7, 1);

  /** A fresh, empty target. */
  abstract BackupStore newStore() throws Exception;

  /** Replaces an object's bytes behind the store's back (bit rot, a torn upload, an intruder). */
  abstract void damage(BackupStore store, String name, byte[] bytes) throws Exception;

  static Snapshot snapshot(long slot, int size, long seed) {
    byte[] data = new byte[size];
    new SplittableRandom(seed).nextBytes(data);
    return new Snapshot(slot, data);
  }

  @Test
  void aBackupRoundTripsThroughListVerifyAndSelection() throws Exception {
    try (BackupRepository repo = new BackupRepository(newStore())) {
      // The membership as of the slot rides along (replica 3 replaced by 4, added with an address).
      java.util.TreeMap<io.paxcron.paxos.ReplicaId, String> voters =
          new java.util.TreeMap<>(
              java.util.Map.of(
                  io.paxcron.paxos.ReplicaId.of(1),
                  "",
                  io.paxcron.paxos.ReplicaId.of(2),
                  "",
                  io.paxcron.paxos.ReplicaId.of(4),
                  "10.0.0.4:7001:7101"));
      io.paxcron.paxos.Membership membership =
          io.paxcron.paxos.Membership.bootstrap(
                  io.paxcron.paxos.Configuration.bootstrap(
                      List.of(
                          io.paxcron.paxos.ReplicaId.of(1),
                          io.paxcron.paxos.ReplicaId.of(2),
                          io.paxcron.paxos.ReplicaId.of(3))))
              .with(50, 82, new io.paxcron.paxos.Configuration(voters, new java.util.TreeMap<>()))
              .decidedThrough(120);
      Snapshot snapshot = snapshot(120, 70_000, 1).withMembership(membership);
      BackupManifest written = repo.write(snapshot, LEADER, T0);
      assertEquals(membership, written.membership());

      BackupRepository.Listing listing = repo.list();
      assertEquals(1, listing.backups().size(), listing.toString());
      assertEquals(List.of(), listing.problems());
      BackupRepository.Entry entry = listing.backups().get(0);
      assertTrue(entry.looksValid(), entry.toString());
      assertEquals(written, entry.manifest().orElseThrow());
      assertEquals(120, entry.slot());
      assertEquals("prod-eu", written.clusterId());
      assertEquals(7, written.leaderRound());
      assertEquals(1, written.restoreGeneration());

      BackupRepository.Verified verified = repo.verify(entry.name());
      assertEquals(120, verified.snapshot().slot());
      assertArrayEquals(snapshot.data(), verified.snapshot().data());
      assertEquals(membership, verified.snapshot().membership());

      BackupRepository.Selection selection = repo.newestValid(Optional.empty());
      assertEquals(entry.name(), selection.chosen().orElseThrow().name());
      assertEquals(List.of(), selection.skipped());
    }
  }

  @Test
  void objectsAreWrittenOnce() throws Exception {
    try (BackupStore store = newStore()) {
      store.putOnce("once.image", "first".getBytes(StandardCharsets.UTF_8));
      BackupStoreException again =
          assertThrows(
              BackupStoreException.class,
              () -> store.putOnce("once.image", "second".getBytes(StandardCharsets.UTF_8)));
      assertEquals(BackupStoreException.Kind.EXISTS, again.kind(), again.getMessage());
      assertArrayEquals("first".getBytes(StandardCharsets.UTF_8), store.get("once.image", 100));
    }
  }

  @Test
  void aCorruptedNewestImageIsRefusedWithTheReasonAndTheOlderOneIsChosen() throws Exception {
    try (BackupRepository repo = new BackupRepository(newStore())) {
      repo.write(snapshot(100, 5000, 2), LEADER, T0);
      BackupManifest newest = repo.write(snapshot(200, 5000, 3), LEADER, T0.plusSeconds(60));
      byte[] image = repo.store().get(newest.imageFile(), 10_000);
      image[2500] ^= 0x01;
      damage(repo.store(), newest.imageFile(), image);

      BackupRepository.Selection selection = repo.newestValid(Optional.empty());

      assertEquals(100, selection.chosen().orElseThrow().manifest().slot());
      assertEquals(1, selection.skipped().size(), selection.skipped().toString());
      String reason = selection.skipped().get(0).reason();
      assertTrue(reason.contains("CRC32C") && reason.contains("does not match"), reason);
      BackupRepository.InvalidBackupException direct =
          assertThrows(
              BackupRepository.InvalidBackupException.class,
              () -> repo.verify(selection.skipped().get(0).object()));
      assertTrue(direct.getMessage().contains("CRC32C"), direct.getMessage());
    }
  }

  @Test
  void aTruncatedImageIsRefusedAlreadyByTheListing() throws Exception {
    try (BackupRepository repo = new BackupRepository(newStore())) {
      repo.write(snapshot(100, 5000, 4), LEADER, T0);
      BackupManifest newest = repo.write(snapshot(200, 5000, 5), LEADER, T0.plusSeconds(60));
      byte[] image = repo.store().get(newest.imageFile(), 10_000);
      damage(repo.store(), newest.imageFile(), Arrays.copyOf(image, 4096));

      BackupRepository.Entry listed = repo.list().backups().get(0);
      assertTrue(listed.problem().orElseThrow().contains("truncated"), listed.toString());
      BackupRepository.InvalidBackupException refused =
          assertThrows(
              BackupRepository.InvalidBackupException.class, () -> repo.verify(listed.name()));
      assertTrue(refused.getMessage().contains("4096 bytes"), refused.getMessage());
      assertEquals(
          100, repo.newestValid(Optional.empty()).chosen().orElseThrow().manifest().slot());
    }
  }

  @Test
  void aDamagedManifestIsRefusedAndAnImageWithoutManifestIsReported() throws Exception {
    try (BackupRepository repo = new BackupRepository(newStore())) {
      repo.write(snapshot(100, 3000, 6), LEADER, T0);
      BackupManifest newest = repo.write(snapshot(200, 3000, 7), LEADER, T0.plusSeconds(60));
      String manifestName = newest.imageFile().replace(".image", ".manifest");
      byte[] manifest = repo.store().get(manifestName, 4096);
      manifest[40] ^= 0x20;
      damage(repo.store(), manifestName, manifest);
      repo.store()
          .putOnce("snapshot-00000000000000000300-00000001795255300000-r2.image", new byte[10]);

      BackupRepository.Listing listing = repo.list();
      // An unreadable manifest's generation is unknown: it sorts as generation 0, below valid ones.
      BackupRepository.Entry damaged =
          listing.backups().stream().filter(e -> e.slot() == 200).findFirst().orElseThrow();
      assertTrue(damaged.problem().orElseThrow().contains("checksum mismatch"), listing.toString());
      assertTrue(
          listing.problems().stream()
              .anyMatch(p -> p.reason().startsWith("image without a manifest")),
          listing.toString());
      BackupRepository.Selection selection = repo.newestValid(Optional.empty());
      assertEquals(100, selection.chosen().orElseThrow().manifest().slot());
    }
  }

  @Test
  void atAnInstantTheNewestBackupTakenAtOrBeforeItIsChosen() throws Exception {
    try (BackupRepository repo = new BackupRepository(newStore())) {
      repo.write(snapshot(100, 100, 8), LEADER, T0);
      repo.write(snapshot(200, 100, 9), LEADER, T0.plusSeconds(3600));
      repo.write(snapshot(300, 100, 10), LEADER, T0.plusSeconds(7200));

      assertEquals(
          200,
          repo.newestValid(Optional.of(T0.plusSeconds(3600)))
              .chosen()
              .orElseThrow()
              .manifest()
              .slot());
      assertEquals(
          200,
          repo.newestValid(Optional.of(T0.plusSeconds(7199)))
              .chosen()
              .orElseThrow()
              .manifest()
              .slot());
      assertTrue(repo.newestValid(Optional.of(T0.minusSeconds(1))).chosen().isEmpty());
    }
  }

  @Test
  void retentionKeepsTheNewestByCountAndDropsThoseTooOldButNeverTheNewest() throws Exception {
    try (BackupRepository repo = new BackupRepository(newStore())) {
      for (int i = 0; i < 5; i++) {
        repo.write(snapshot(100 + i, 100, i), LEADER, T0.plus(Duration.ofHours(i)));
      }
      List<String> deleted = repo.prune(3, Optional.empty(), T0.plus(Duration.ofHours(5)));
      assertEquals(2, deleted.size(), deleted.toString());
      assertEquals(
          List.of(104L, 103L, 102L),
          repo.list().backups().stream().map(BackupRepository.Entry::slot).toList());

      repo.prune(3, Optional.of(Duration.ofMinutes(90)), T0.plus(Duration.ofHours(5)));
      assertEquals(
          List.of(104L),
          repo.list().backups().stream().map(BackupRepository.Entry::slot).toList(),
          "only the newest survives max-age");
      assertEquals(List.of(), repo.list().problems(), "manifest and image deleted together");
    }
  }

  @Test
  void aTargetHoldingAnotherClustersBackupsRefusesNewOnes() throws Exception {
    try (BackupRepository repo = new BackupRepository(newStore())) {
      repo.write(snapshot(100, 100, 11), LEADER, T0);
      BackupStoreException refused =
          assertThrows(
              BackupStoreException.class,
              () ->
                  repo.write(
                      snapshot(101, 100, 12), new BackupRepository.Writer("other", 1, 1, 0), T0));
      assertEquals(BackupStoreException.Kind.REFUSED, refused.kind());
      assertTrue(refused.getMessage().contains("'prod-eu'"), refused.getMessage());
    }
  }

  @Test
  void afterARestoreTheRestoredClustersBackupsAreNewerThanTheDeadClustersLaterOnes()
      throws Exception {
    try (BackupRepository repo = new BackupRepository(newStore())) {
      BackupRepository.Writer old = new BackupRepository.Writer("prod-eu", 1, 3, 0);
      repo.write(snapshot(100, 100, 20), old, T0);
      repo.write(snapshot(300, 100, 21), old, T0.plusSeconds(60));
      // Restored from slot 100 (e.g. --at), the new history continues at slot 101.
      BackupRepository.Writer restored = new BackupRepository.Writer("prod-eu", 2, 1, 1);
      repo.write(snapshot(150, 100, 22), restored, T0.plusSeconds(120));

      assertEquals(
          150, repo.newestValid(Optional.empty()).chosen().orElseThrow().manifest().slot());
      repo.prune(1, Optional.empty(), T0.plusSeconds(180));
      assertEquals(
          List.of(150L), repo.list().backups().stream().map(BackupRepository.Entry::slot).toList());
    }
  }
}
