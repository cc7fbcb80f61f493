package io.paxcron.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Liveness runs a no-op through a real single-threaded loop; readiness reads the replica's view.
 */
class HealthTest {

  private final ExecutorService loop = Executors.newSingleThreadExecutor();
  private volatile ReplicaProbe.View view =
      new ReplicaProbe.View(1, "FOLLOWER", 2, 11, 10, 0, false);

  private final ReplicaProbe probe =
      new ReplicaProbe() {
        @Override
        public boolean runOnLoop(Runnable task) {
          try {
            loop.execute(task);
            return true;
          } catch (RejectedExecutionException e) {
            return false;
          }
        }

        @Override
        public View view() {
          return view;
        }
      };

  @AfterEach
  void stopLoop() {
    loop.shutdownNow();
  }

  @Test
  void liveWhenTheLoopRunsANoOpWithinTheDeadline() {
    Health.Check check = new Health(probe, Duration.ofSeconds(5)).live();
    assertTrue(check.ok(), check.details().toString());
    assertTrue(check.details().containsKey("loopMillis"));
  }

  @Test
  void notLiveWhenTheLoopIsStuck() {
    CountDownLatch release = new CountDownLatch(1);
    loop.execute(
        () -> {
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    try {
      Health.Check check = new Health(probe, Duration.ofMillis(50)).live();
      assertFalse(check.ok());
      assertEquals(
          "the event loop did not run a no-op within 50 ms", check.details().get("reason"));
    } finally {
      release.countDown();
    }
  }

  @Test
  void notLiveWhenTheReplicaStopped() {
    loop.shutdown();
    Health.Check check = new Health(probe, Duration.ofSeconds(1)).live();
    assertFalse(check.ok());
    assertEquals(
        "the replica stopped; its event loop takes no more work", check.details().get("reason"));
  }

  @Test
  void readyOnlyWithALeaderAndTheChosenPrefixApplied() {
    Health health = new Health(probe, Duration.ofSeconds(1));
    assertTrue(health.ready().ok());

    view = new ReplicaProbe.View(1, "CANDIDATE", -1, 11, 10, 0, false);
    assertEquals("no leader is known", health.ready().details().get("reason"));

    view = new ReplicaProbe.View(1, "FOLLOWER", 2, 21, 10, 0, false);
    Health.Check behind = health.ready();
    assertFalse(behind.ok());
    assertEquals(
        "slots 11..20 are chosen but not yet applied here", behind.details().get("reason"));

    view = new ReplicaProbe.View(1, "FOLLOWER", 2, 11, 10, 0, true);
    assertEquals("the replica stopped", health.ready().details().get("reason"));
  }
}
