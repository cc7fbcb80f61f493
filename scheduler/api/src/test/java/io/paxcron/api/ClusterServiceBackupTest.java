package io.paxcron.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.paxcron.proto.v1.BackupResponse;
import io.paxcron.proto.v1.ClusterStatusResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGeneratorFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ClusterService.Status}'s backup fields and {@code ClusterService.Backup}, over in-process
 * gRPC: how each outcome of the process's {@link BackupControl} reaches the client. A failed backup
 * is not retried by the client (it would only try the same target again).
 */
class ClusterServiceBackupTest {

  private static final Instant AT = Instant.parse("2030-01-07T03:00:00Z");

  private final List<Server> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final AtomicInteger calls = new AtomicInteger();

  private String serve(BackupControl control) throws Exception {
    String name = InProcessServerBuilder.generateName();
    servers.add(
        InProcessServerBuilder.forName(name)
            .addService(
                new ClusterServiceImpl(new DirectCronCluster(new ManualClock(AT), name), control))
            .build()
            .start());
    return name;
  }

  private JobClient client(String name) {
    return new JobClient(
        42,
        List.of(name),
        address -> {
          ManagedChannel channel = InProcessChannelBuilder.forName(address).build();
          channels.add(channel);
          return channel;
        },
        new JobClient.Settings(
            Duration.ofSeconds(10), 5, Duration.ofMillis(1), Duration.ofMillis(2)),
        wait -> {},
        RandomGeneratorFactory.of("L64X128MixRandom").create(7));
  }

  private BackupControl control(
      BackupControl.Status status, CompletableFuture<BackupControl.Result> now) {
    return new BackupControl() {
      @Override
      public Status status() {
        return status;
      }

      @Override
      public CompletableFuture<Result> backupNow() {
        calls.incrementAndGet();
        return now;
      }
    };
  }

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    servers.forEach(Server::shutdownNow);
  }

  @Test
  void statusCarriesTheLastBackupAndTheLastFailure() throws Exception {
    BackupControl.Status status =
        new BackupControl.Status(
            "s3://b/p",
            Optional.of(new BackupControl.Success("snapshot-1", 120, AT)),
            Optional.of(new BackupControl.Failure(AT.plusSeconds(60), "s3://b/p: 503 SlowDown")),
            4,
            1,
            2);
    try (JobClient client = client(serve(control(status, new CompletableFuture<>())))) {
      ClusterStatusResponse response = client.status();
      assertEquals("s3://b/p", response.getBackupTarget());
      assertEquals("snapshot-1", response.getLastBackupName());
      assertEquals(120, response.getLastBackupSlot());
      assertEquals(AT, JobProtos.instant(response.getLastBackupTime()));
      assertEquals("s3://b/p: 503 SlowDown", response.getLastBackupFailure());
      assertEquals(AT.plusSeconds(60), JobProtos.instant(response.getLastBackupFailureTime()));
      assertEquals(4, response.getBackupsWritten());
      assertEquals(1, response.getBackupsFailed());
      assertEquals(2, response.getRestoreGeneration());
    }
  }

  @Test
  void aBackupAnswersWithWhatWasWritten() throws Exception {
    BackupControl.Result result =
        new BackupControl.Result("snapshot-2", 130, AT, "s3://b/p", 999, List.of("snapshot-0"));
    try (JobClient client =
        client(
            serve(control(BackupControl.Status.NONE, CompletableFuture.completedFuture(result))))) {
      BackupResponse response = client.backup(Duration.ofSeconds(5));
      assertEquals("snapshot-2", response.getName());
      assertEquals(130, response.getSlot());
      assertEquals(999, response.getSizeBytes());
      assertEquals(List.of("snapshot-0"), response.getPrunedList());
    }
  }

  @Test
  void aFailedBackupIsReportedOnceWithTheReason() throws Exception {
    CompletableFuture<BackupControl.Result> failed =
        CompletableFuture.failedFuture(
            new BackupControl.BackupFailedException(
                "backup to s3://b/p failed: connection refused", null));
    try (JobClient client = client(serve(control(BackupControl.Status.NONE, failed)))) {
      JobClientException error =
          assertThrows(JobClientException.class, () -> client.backup(Duration.ofSeconds(5)));
      assertTrue(error.getMessage().contains("connection refused"), error.getMessage());
      assertEquals(1, calls.get(), "not retried");
    }
  }

  @Test
  void aReplicaWithoutATargetSaysSo() throws Exception {
    try (JobClient client = client(serve(BackupControl.NONE))) {
      JobClientException error =
          assertThrows(JobClientException.class, () -> client.backup(Duration.ofSeconds(5)));
      assertTrue(error.getMessage().contains("backup-target"), error.getMessage());
      assertEquals("", client.status().getBackupTarget());
    }
  }
}
