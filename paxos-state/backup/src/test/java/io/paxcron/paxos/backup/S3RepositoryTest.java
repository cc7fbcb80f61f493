package io.paxcron.paxos.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.storage.BackupManifest;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The contract against a real S3-compatible server (S3Mock on loopback), plus S3-only cases. */
class S3RepositoryTest extends RepositoryContract {

  private static final AtomicInteger PREFIXES = new AtomicInteger();

  @Override
  BackupStore newStore() throws Exception {
    return BackupStore.open(
        TargetUrl.parse(SharedS3.url("t" + PREFIXES.incrementAndGet() + "-" + System.nanoTime())),
        Duration.ofSeconds(10));
  }

  @Override
  void damage(BackupStore store, String name, byte[] bytes) {
    TargetUrl.S3 url = (TargetUrl.S3) TargetUrl.parse(store.describe());
    SharedS3.overwrite(url.prefix() + name, bytes);
  }

  @Test
  void withoutConditionalWritesTheStoreChecksBeforeWritingAndStillWritesOnce() throws Exception {
    String url = SharedS3.url("nocond-" + System.nanoTime()) + "&conditional-writes=off";
    try (S3Store store = (S3Store) BackupStore.open(TargetUrl.parse(url), Duration.ofSeconds(10))) {
      assertFalse(store.conditionalWrites());
      store.putOnce("a.image", "1".getBytes(StandardCharsets.UTF_8));
      BackupStoreException again =
          assertThrows(
              BackupStoreException.class,
              () -> store.putOnce("a.image", "2".getBytes(StandardCharsets.UTF_8)));
      assertEquals(BackupStoreException.Kind.EXISTS, again.kind());
      BackupRepository repo = new BackupRepository(store);
      BackupManifest manifest = repo.write(snapshot(9, 500, 1), LEADER, T0);
      assertEquals(9, repo.newestValid(Optional.empty()).chosen().orElseThrow().manifest().slot());
      assertEquals(manifest, repo.list().backups().get(0).manifest().orElseThrow());
    }
  }

  @Test
  void aTargetThatIsDownFailsLoudlyNamingTheTargetAndNoCredential() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    String url =
        "s3://paxcron-backups/down?endpoint=http://127.0.0.1:"
            + closedPort
            + "&credentials-file="
            + SharedS3.credentials();
    try (BackupStore store = BackupStore.open(TargetUrl.parse(url), Duration.ofSeconds(2))) {
      BackupStoreException down =
          assertThrows(
              BackupStoreException.class,
              () -> new BackupRepository(store).write(snapshot(1, 10, 1), LEADER, T0));
      assertEquals(BackupStoreException.Kind.UNAVAILABLE, down.kind(), down.getMessage());
      assertTrue(down.getMessage().contains("127.0.0.1:" + closedPort), down.getMessage());
      assertFalse(down.getMessage().contains("paxcron-test-secret"), down.getMessage());
    }
  }

  @Test
  void aMissingBucketIsRefusedWithTheStoresReason() throws Exception {
    String url = SharedS3.url("x").replace("s3://" + SharedS3.BUCKET, "s3://no-such-bucket");
    try (BackupStore store = BackupStore.open(TargetUrl.parse(url), Duration.ofSeconds(10))) {
      BackupStoreException refused = assertThrows(BackupStoreException.class, store::list);
      assertEquals(BackupStoreException.Kind.REFUSED, refused.kind(), refused.getMessage());
      assertTrue(refused.getMessage().contains("NoSuchBucket"), refused.getMessage());
    }
  }

  @Test
  void anUnreadableCredentialsFileIsRefusedBeforeAnyRequest() {
    BackupStoreException refused =
        assertThrows(
            BackupStoreException.class,
            () ->
                BackupStore.open(
                    TargetUrl.parse(
                        "s3://paxcron-backups/p?endpoint=http://127.0.0.1:1&credentials-file=/nonexistent/c"),
                    Duration.ofSeconds(1)));
    assertTrue(refused.getMessage().contains("/nonexistent/c"), refused.getMessage());
  }
}
