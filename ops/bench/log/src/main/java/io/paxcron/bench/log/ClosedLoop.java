package io.paxcron.bench.log;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Closed-loop clients: each of N threads issues its next write as soon as the previous one
 * returned, for a warm-up and then a measured window. Only writes that start inside the measured
 * window are counted; no new write starts after it, so the last ones end at most one write latency
 * late. The first failing write stops every client and fails the run. The CPU and context switches
 * of the system's servers and of this JVM are read as the window opens and as it closes.
 */
final class ClosedLoop {

  /** How long after the window closes a client may still be inside one write. */
  static final Duration STRAGGLER_LIMIT = Duration.ofSeconds(60);

  /** Fixed so that runs write the same bytes; the values' content does not matter otherwise. */
  static final long VALUE_SEED = 0x5EED_CAFEL;

  /** A write failed, or a client did not finish. */
  static final class RunFailure extends Exception {
    private static final long serialVersionUID = 1L;

    RunFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private ClosedLoop() {}

  /** Where a run's clients get their recorders of slow writes. */
  interface SlowWritesSink {
    SlowWrites.Recorder newRecorder();
  }

  static RunResult run(LogTarget target, int clients, Duration warmup, Duration measured)
      throws RunFailure, InterruptedException {
    return run(target, clients, warmup, measured, null);
  }

  /**
   * As above; with {@code slow}, each client also records its measured writes slower than the
   * recorders' threshold (one {@link SlowWrites.Recorder} per client, added to {@code slow}).
   */
  static RunResult run(
      LogTarget target, int clients, Duration warmup, Duration measured, SlowWritesSink slow)
      throws RunFailure, InterruptedException {
    CountDownLatch ready = new CountDownLatch(clients);
    CountDownLatch go = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long[] window = new long[2];
    List<LatencyHistogram> histograms = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    SplittableRandom seeds = new SplittableRandom(VALUE_SEED);
    for (int client = 0; client < clients; client++) {
      LatencyHistogram histogram = new LatencyHistogram();
      histograms.add(histogram);
      SlowWrites.Recorder slowWrites = slow == null ? null : slow.newRecorder();
      int id = client;
      SplittableRandom random = seeds.split();
      threads.add(
          Thread.ofPlatform()
              .name(target.system() + "-client-" + client)
              .daemon()
              .start(
                  () -> {
                    byte[] value = new byte[LogBenchmark.VALUE_BYTES];
                    random.nextBytes(value);
                    ready.countDown();
                    try {
                      go.await();
                      long from = window[0];
                      long until = window[1];
                      for (long seq = 0; failure.get() == null; seq++) {
                        long started = System.nanoTime();
                        if (started - until >= 0) {
                          break;
                        }
                        target.write(id, seq, value);
                        long elapsed = System.nanoTime() - started;
                        if (started - from >= 0) {
                          histogram.record(elapsed);
                          if (slowWrites != null) {
                            slowWrites.record(started, elapsed);
                          }
                        }
                      }
                    } catch (Throwable e) {
                      failure.compareAndSet(null, e);
                    }
                  }));
    }
    ready.await();
    long start = System.nanoTime();
    window[0] = start + warmup.toNanos();
    window[1] = window[0] + measured.toNanos();
    go.countDown();

    List<ProcessHandle> servers = target.serverProcesses();
    awaitNanoTime(window[0]);
    ProcessCpu serversAtStart = ProcessCpu.of(servers);
    ProcessCpu clientAtStart = ProcessCpu.self();
    HostSteal stealAtStart = HostSteal.now();
    awaitNanoTime(window[1]);
    double stealPercent = HostSteal.now().percentSince(stealAtStart);
    ProcessCpu serversUsed = ProcessCpu.of(servers).minus(serversAtStart);
    ProcessCpu clientUsed = ProcessCpu.self().minus(clientAtStart);

    long joinDeadline = window[1] + STRAGGLER_LIMIT.toNanos();
    for (Thread thread : threads) {
      long left = joinDeadline - System.nanoTime();
      if (left <= 0 || !thread.join(Duration.ofNanos(left))) {
        failure.compareAndSet(
            null,
            new IllegalStateException(
                thread.getName()
                    + " still inside a write "
                    + STRAGGLER_LIMIT
                    + " after the window"));
        break;
      }
    }
    Throwable failed = failure.get();
    if (failed != null) {
      throw new RunFailure(target.system() + " with " + clients + " clients: " + failed, failed);
    }
    LatencyHistogram all = new LatencyHistogram();
    histograms.forEach(all::add);
    return RunResult.of(
        target.system(),
        target.replicas(),
        clients,
        all,
        measured.toNanos(),
        serversUsed,
        clientUsed,
        stealPercent);
  }

  /** Parks the calling thread until {@code System.nanoTime()} reaches {@code deadline}. */
  private static void awaitNanoTime(long deadline) throws InterruptedException {
    for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
      LockSupport.parkNanos(left);
      if (Thread.interrupted()) {
        throw new InterruptedException("interrupted while waiting for the measured window");
      }
    }
  }
}
