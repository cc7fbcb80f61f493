package io.paxcron.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.stub.ServerCallStreamObserver;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.proto.v1.WatchRunsResponse;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.CronView;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A watch of every job that fell behind the state machine's kept ledger changes catches up in
 * bounded reads: it checks each remembered stretch of skips for growth once per catch-up (it used
 * to check all of them on every page, a walk of every job per page at a million jobs), sends every
 * grown stretch once, and goes on from the ledger changes afterwards without losing the growth that
 * happened meanwhile or sending anything twice.
 */
final class LedgerWatchCatchUpTest {
  private static final Instant T0 = Instant.parse("2026-12-04T10:00:00Z");
  private static final int JOBS = 2_000;
  private static final int BATCH = 100;

  private final CronStateMachine cron = new CronStateMachine();
  private long slot;

  /** Whether the view answers that the watch's revision is older than the kept changes. */
  private boolean fallenBehind;

  private int newestRecordCalls;
  private int reads;
  private final List<Runnable> listeners = new ArrayList<>();
  private final List<RunRecord> sent = new ArrayList<>();

  /** The state machine as a watch reads it: counted, and behind the kept changes when told. */
  private final CronView view =
      (CronView)
          Proxy.newProxyInstance(
              CronView.class.getClassLoader(),
              new Class<?>[] {CronView.class},
              (proxy, method, args) -> {
                switch (method.getName()) {
                  case "ledgerChangesAfter" -> {
                    if (fallenBehind) {
                      return Optional.empty();
                    }
                  }
                  case "newestRecord" -> newestRecordCalls++;
                  default -> {}
                }
                try {
                  return method.invoke(cron, args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                }
              });

  /** Reads and completions on the test's thread, one after the other. */
  private final CronCluster cluster =
      new CronCluster() {
        @Override
        public CompletableFuture<JobBatchStateMachine.Answer> submit(
            long clientId, long sequence, List<JobChange> changes) {
          throw new UnsupportedOperationException("the watch only reads");
        }

        @Override
        public <T> CompletableFuture<T> read(Function<CronView, T> query) {
          reads++;
          return CompletableFuture.completedFuture(query.apply(view));
        }

        @Override
        public ClusterInfo info() {
          throw new UnsupportedOperationException("the watch only reads");
        }

        @Override
        public Subscription onApplied(Runnable listener) {
          listeners.add(listener);
          return () -> listeners.remove(listener);
        }
      };

  private void apply(CronCommand command) {
    cron.apply(++slot, command);
    List.copyOf(listeners).forEach(Runnable::run);
  }

  /** The instant count of the newest record sent of every job. */
  private Map<String, Long> newestCounts() {
    Map<String, Long> counts = new HashMap<>();
    for (RunRecord record : sent) {
      counts.put(record.getJob(), record.getInstantCount());
    }
    return counts;
  }

  @Test
  void aWatchThatFellBehindChecksEachStretchOnceAndLosesNoGrowth() {
    for (int i = 0; i < JOBS; i++) {
      JobSpec spec =
          JobSpec.builder(
                  String.format(Locale.ROOT, "job-%05d", i),
                  "@every 10s",
                  new JobCommand.Argv(List.of("/bin/true")))
              .paused(true)
              .build();
      cron.apply(++slot, new CronCommand.PutJob(spec, ExpectedVersion.ANY, Map.of(), T0));
    }
    apply(new CronCommand.Tick(T0.plusSeconds(10)));
    new LedgerWatch(cluster, new Observer(), "", 0, BATCH, () -> {}).start();
    assertEquals(JOBS, sent.size(), "the first delivery pages through every stretch");
    assertEquals(0, newestRecordCalls, "nothing was remembered before the first delivery");

    // The watch falls behind while every stretch grows.
    fallenBehind = true;
    apply(new CronCommand.Tick(T0.plusSeconds(20)));
    assertEquals(2 * JOBS, sent.size(), "every grown stretch is sent once");
    assertEquals(
        JOBS,
        newestRecordCalls,
        "each remembered stretch is checked once per catch-up, not once per page");
    assertTrue(newestCounts().values().stream().allMatch(count -> count == 2), "grown to 2");

    // The changes are kept again: the watch goes on from them.
    fallenBehind = false;
    newestRecordCalls = 0;
    int readsBefore = reads;
    apply(new CronCommand.Tick(T0.plusSeconds(30)));
    assertEquals(3 * JOBS, sent.size(), "every stretch grown again is sent once more");
    assertEquals(0, newestRecordCalls, "read from the changes, not by checking every stretch");
    assertTrue(newestCounts().values().stream().allMatch(count -> count == 3), "grown to 3");
    assertTrue(
        reads - readsBefore <= 2 * JOBS / BATCH + 2, (reads - readsBefore) + " reads for one tick");
  }

  /** The stream the watch writes to: always ready, keeps what it is sent. */
  private final class Observer extends ServerCallStreamObserver<WatchRunsResponse> {
    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {}

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void onNext(WatchRunsResponse value) {
      sent.addAll(value.getRecordsList());
    }

    @Override
    public void onError(Throwable t) {
      throw new AssertionError("the watch failed", t);
    }

    @Override
    public void onCompleted() {}
  }
}
