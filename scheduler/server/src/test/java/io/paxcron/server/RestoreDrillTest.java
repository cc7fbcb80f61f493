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
 * cron cluster, a backup, every replica's data destroyed, a restore from the bucket, identical
 * jobs and ledger. {@code ops/restore-drill} runs the same drill longer.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class RestoreDrillTest {

  @TempDir Path work;

  @Test
  void aClusterRebuiltFromTheBucketHoldsTheBackedUpJobsAndLedger() throws Exception {
    RestoreDrill.Result result = new RestoreDrill(new RestoreDrill.Options(work,
        LocalS3Server.jarFromProperty(), 6, Duration.ofSeconds(4)), System.out).run();
    System.out.println(result.line());
    assertEquals(List.of(), result.mismatches());
    assertTrue(result.ok());
    assertEquals(6, result.jobs());
    assertTrue(result.ledger() >= 3, "the every-second job ran before the backup: " + result);
    assertTrue(result.line().matches("DRILL ok=true jobs=6 ledger=\\d+ seconds=\\d+"),
        result.line());
  }
}
