package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader whose loop is busy for seconds still acknowledges its agents' heartbeats: at a million
 * jobs the loop ran dispatcher ticks of 200-900 ms back to back behind a backlog of agent messages,
 * heartbeats waited behind them, and every agent's lease lapsed again and again
 * (docs/performance.md, scale, ninth round). One real replica in this process (so the test can hold
 * its loop) and a scripted agent over real gRPC.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class LeaseWhileLoopBusyTest {

  @TempDir Path work;

  private static void put(Map<String, ServerConfig.Setting> settings, String key, String value) {
    settings.put(key, new ServerConfig.Setting(value, "--" + key));
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 60 s: " + what);
      }
      Thread.sleep(20); // polling a condition, bounded by the deadline
    }
  }

  @Test
  void aLeaderWhoseLoopIsHeldStillAcknowledgesHeartbeats() throws Exception {
    int peerPort = LocalCluster.freePort();
    int clientPort = LocalCluster.freePort();
    Map<String, ServerConfig.Setting> settings = new LinkedHashMap<>();
    put(settings, "id", "1");
    put(settings, "cluster-id", "busy");
    put(settings, "data-dir", work.resolve("data").toString());
    put(settings, "peer.1", "127.0.0.1:" + peerPort + ":" + clientPort);
    put(settings, "state-machine", "cron");
    put(settings, "http-port", Integer.toString(LocalCluster.freePort()));
    Files.createDirectories(work.resolve("agent"));
    ReplicaServer replica =
        new ReplicaServer(
            ServerConfig.from(settings), new PrintStream(OutputStream.nullOutputStream()));
    CountDownLatch release = new CountDownLatch(1);
    try (ScriptedAgent agent =
        new ScriptedAgent(
            "busy-agent", Map.of(), 4, List.of("127.0.0.1:" + clientPort), work.resolve("agent"))) {
      replica.start();
      agent.start(0);
      await("the agent registered and heard an acknowledgement", () -> agent.heartbeatAcks() > 0);

      CountDownLatch held = new CountDownLatch(1);
      replica
          .nodeForTests()
          .runOnLoop(
              "held by the test",
              () -> {
                held.countDown();
                try {
                  release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      assertTrue(held.await(10, TimeUnit.SECONDS), "the loop took the holding task");
      int before = agent.heartbeatAcks();
      Thread.sleep(Duration.ofSeconds(2).toMillis()); // the loop stays held for this long
      int during = agent.heartbeatAcks() - before;
      release.countDown();
      assertTrue(
          during >= 3,
          "acknowledgements in 2 s of a held loop (heartbeats every 500 ms): " + during);
    } finally {
      release.countDown();
      replica.close();
    }
  }
}
