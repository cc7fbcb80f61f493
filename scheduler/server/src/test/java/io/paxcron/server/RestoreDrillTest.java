package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.backup.LocalS3Server;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short restore drill CI runs on every build: a real S3-compatible server, a real 3-replica
 * cron cluster, a backup, every replica's data destroyed, a restore from the bucket, identical jobs
 * and ledger. {@code ops/restore-drill} runs the same drill longer.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class RestoreDrillTest {

  @TempDir Path work;

  @Test
  void aClusterRebuiltFromTheBucketHoldsTheBackedUpJobsAndLedger() throws Exception {
    RestoreDrill.Result result =
        new RestoreDrill(
                new RestoreDrill.Options(
                    work, LocalS3Server.jarFromProperty(), 6, Duration.ofSeconds(4)),
                System.out)
            .run();
    System.out.println(result.line());
    assertEquals(List.of(), result.mismatches());
    assertTrue(result.ok());
    assertEquals(6, result.jobs());
    assertTrue(result.ledger() >= 3, "the every-second job ran before the backup: " + result);
    assertTrue(
        result.line().matches("DRILL ok=true jobs=6 ledger=\\d+ seconds=\\d+"), result.line());
  }

  @Test
  void anInstantRecordedAgainAfterTheRestoreIsAMismatch() {
    java.time.Instant t = java.time.Instant.parse("2026-12-01T10:00:00Z");
    io.paxcron.proto.v1.RunRecord backedUp = record(1, t);
    io.paxcron.proto.v1.RunRecord next = record(2, t.plusSeconds(1));
    io.paxcron.proto.v1.RunRecord again = record(3, t);
    List<String> mismatches = new java.util.ArrayList<>();

    RestoreDrill.checkNoRunLaunchedTwice(
        "j", List.of(backedUp), List.of(next, backedUp), mismatches);
    assertEquals(List.of(), mismatches);

    RestoreDrill.checkNoRunLaunchedTwice(
        "j", List.of(backedUp), List.of(again, backedUp), mismatches);
    assertEquals(1, mismatches.size(), mismatches.toString());
    assertTrue(mismatches.get(0).contains("recorded again after the restore"), mismatches.get(0));
  }

  private static io.paxcron.proto.v1.RunRecord record(long sequence, java.time.Instant instant) {
    return io.paxcron.proto.v1.RunRecord.newBuilder()
        .setSequence(sequence)
        .setJob("j")
        .setInstant(io.paxcron.api.JobProtos.timestamp(instant))
        .setOutcomeText("SUCCEEDED")
        .build();
  }
}
