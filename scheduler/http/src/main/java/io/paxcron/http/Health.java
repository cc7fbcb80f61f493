package io.paxcron.http;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code /healthz} and {@code /readyz}. Liveness is proven, not asserted: a no-op goes through the
 * replica's event loop and must come back within the deadline, so a wedged loop (a deadlock, a
 * stuck disk write holding it) fails the check. Readiness means this replica can serve consistent
 * reads soon: it knows a leader, and it has applied every slot it knows chosen.
 *
 * <p>Thread-safe; each check is independent.
 */
final class Health {

  /** The answer to one check: whether it passed, and what was seen, for the body. */
  record Check(boolean ok, Map<String, Object> details) {}

  private final ReplicaProbe probe;
  private final Duration deadline;

  Health(ReplicaProbe probe, Duration deadline) {
    this.probe = probe;
    this.deadline = deadline;
  }

  Check live() {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("deadlineMillis", deadline.toMillis());
    long started = System.nanoTime();
    CompletableFuture<Long> answered = new CompletableFuture<>();
    if (!probe.runOnLoop(() -> answered.complete(System.nanoTime()))) {
      details.put("reason", "the replica stopped; its event loop takes no more work");
      return new Check(false, details);
    }
    try {
      long at = answered.get(deadline.toNanos(), TimeUnit.NANOSECONDS);
      details.put("loopMillis", (at - started) / 1_000_000.0);
      return new Check(true, details);
    } catch (TimeoutException e) {
      details.put(
          "reason", "the event loop did not run a no-op within " + deadline.toMillis() + " ms");
      return new Check(false, details);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      details.put("reason", "interrupted");
      return new Check(false, details);
    } catch (ExecutionException e) {
      details.put("reason", "the no-op failed: " + e.getCause());
      return new Check(false, details);
    }
  }

  Check ready() {
    ReplicaProbe.View view = probe.view();
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("replica", view.replicaId());
    details.put("role", view.role());
    details.put("leader", view.leaderId());
    details.put("appliedSlot", view.appliedSlot());
    details.put("chosenSlot", view.firstUnchosenSlot() - 1);
    boolean ok = true;
    if (view.stopped()) {
      ok = false;
      details.put("reason", "the replica stopped");
    } else if (view.leaderId() < 0) {
      ok = false;
      details.put("reason", "no leader is known");
    } else if (view.appliedSlot() < view.firstUnchosenSlot() - 1) {
      ok = false;
      details.put(
          "reason",
          "slots "
              + (view.appliedSlot() + 1)
              + ".."
              + (view.firstUnchosenSlot() - 1)
              + " are chosen but not yet applied here");
    }
    return new Check(ok, details);
  }
}
