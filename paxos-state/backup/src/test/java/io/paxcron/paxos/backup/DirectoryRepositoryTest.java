package io.paxcron.paxos.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.storage.BackupTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryRepositoryTest extends RepositoryContract {

  @TempDir Path temp;
  private int targets;

  @Override
  BackupStore newStore() throws Exception {
    return BackupStore.open(
        TargetUrl.parse(temp.resolve("target-" + targets++).toString()),
        java.time.Duration.ofSeconds(5));
  }

  @Override
  void damage(BackupStore store, String name, byte[] bytes) throws Exception {
    Files.write(((DirectoryStore) store).dir().resolve(name), bytes);
  }

  @Test
  void backupsWrittenByTheOlderDirectoryTargetStillRead() throws Exception {
    Path dir = temp.resolve("legacy");
    BackupTarget.open(dir, 3).write(snapshot(42, 1000, 1), "prod-eu", 1, T0);
    try (BackupRepository repo = new BackupRepository(DirectoryStore.open(dir))) {
      BackupRepository.Verified verified =
          repo.newestValid(Optional.empty()).chosen().orElseThrow();
      assertEquals(42, verified.manifest().slot());
      assertEquals(0, verified.manifest().restoreGeneration());
    }
  }

  @Test
  void aMissingDirectoryFailsLoudly() throws Exception {
    Path dir = temp.resolve("gone");
    try (BackupStore store = DirectoryStore.open(dir)) {
      Files.delete(dir);
      BackupStoreException down =
          assertThrows(
              BackupStoreException.class,
              () -> new BackupRepository(store).write(snapshot(1, 10, 1), LEADER, T0));
      assertEquals(BackupStoreException.Kind.UNAVAILABLE, down.kind());
      assertTrue(down.getMessage().contains(dir.toString()), down.getMessage());
    }
  }
}
