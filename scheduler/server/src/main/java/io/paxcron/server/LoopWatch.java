package io.paxcron.server;

import io.paxcron.paxos.PaxosReplica;
import io.paxcron.paxos.replica.ReplicaObserver;
import java.io.PrintStream;

/**
 * Tells the operator why leadership moved: every change of role with the core's reason, and the
 * replica loop's long tasks. A leader keeps its lease only while its loop thread sends heartbeats
 * and reads acknowledgements, and a follower acknowledges only between tasks, so a task that runs
 * longer than the lease ({@value #LONG_TASK_MILLIS} ms is logged at once) is the first suspect when
 * leadership moves without a fault. The 10-second report line carries {@link #summary}.
 */
final class LoopWatch implements ReplicaObserver {
  /** A loop task at least this long is logged when it ends. */
  static final long LONG_TASK_MILLIS = 200;

  private final int replicaId;
  private final PrintStream log;

  // Written on the loop thread, read by the reporter: a torn summary line is harmless.
  private volatile long tasks;
  private volatile long longTasks;
  private volatile long longestNanos;
  private volatile long longestApplyNanos;

  LoopWatch(int replicaId, PrintStream log) {
    this.replicaId = replicaId;
    this.log = log;
  }

  @Override
  public void onRoleChanged(PaxosReplica.Role role, String reason) {
    log.println("replica " + replicaId + ": now " + role + ": " + reason);
  }

  @Override
  public void onLoopTask(String kind, long nanos, long applyNanos, long listenerNanos) {
    tasks++;
    if (nanos > longestNanos) {
      longestNanos = nanos;
      longestApplyNanos = applyNanos;
    }
    if (nanos >= LONG_TASK_MILLIS * 1_000_000) {
      longTasks++;
      log.println(
          "replica "
              + replicaId
              + ": a loop task ("
              + kind
              + ") took "
              + nanos / 1_000_000
              + " ms ("
              + applyNanos / 1_000_000
              + " ms applying, "
              + listenerNanos / 1_000_000
              + " ms in the dispatcher); heartbeats and acknowledgements waited behind it");
    }
  }

  /** Since the last summary: tasks, long tasks, the longest and its applying time; then resets. */
  String summary() {
    String line =
        "loop "
            + tasks
            + " tasks, "
            + longTasks
            + " over "
            + LONG_TASK_MILLIS
            + " ms, longest "
            + longestNanos / 1_000_000
            + " ms ("
            + longestApplyNanos / 1_000_000
            + " ms applying)";
    tasks = 0;
    longTasks = 0;
    longestNanos = 0;
    longestApplyNanos = 0;
    return line;
  }
}
