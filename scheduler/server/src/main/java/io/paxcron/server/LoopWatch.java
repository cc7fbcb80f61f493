package io.paxcron.server;

import io.paxcron.paxos.PaxosReplica;
import io.paxcron.paxos.replica.ReplicaObserver;
import java.io.PrintStream;

/**
 * Tells the operator why leadership moved: every change of role with the core's reason, and the
 * replica's long tasks. A leader keeps its lease only while its consensus thread sends heartbeats
 * and reads acknowledgements, and a follower acknowledges only between that thread's tasks, so a
 * consensus task of {@value #LONG_CONSENSUS_TASK_MILLIS} ms or more is logged at once and is the
 * first suspect when leadership moves without a fault. The loop thread (applying, the dispatcher,
 * queries) no longer holds heartbeats back; its tasks of {@value #LONG_TASK_MILLIS} ms or more are
 * logged because the dispatcher and queries waited behind them. The 10-second report line carries
 * {@link #summary}.
 */
final class LoopWatch implements ReplicaObserver {
  /** A loop task at least this long is logged when it ends. */
  static final long LONG_TASK_MILLIS = 200;

  /** A consensus task at least this long is logged when it ends. */
  static final long LONG_CONSENSUS_TASK_MILLIS = 100;

  private final int replicaId;
  private final PrintStream log;

  // Written on the replica's threads, read by the reporter: a torn summary line is harmless.
  private volatile long tasks;
  private volatile long longTasks;
  private volatile long longestNanos;
  private volatile long longestApplyNanos;
  private volatile long consensusTasks;
  private volatile long longestConsensusNanos;

  LoopWatch(int replicaId, PrintStream log) {
    this.replicaId = replicaId;
    this.log = log;
  }

  @Override
  public void onRoleChanged(PaxosReplica.Role role, String reason) {
    log.println("replica " + replicaId + ": now " + role + ": " + reason);
  }

  @Override
  public void onQuorumPeersChanged(java.util.List<Integer> peers, String reason) {
    log.println("replica " + replicaId + ": proposals now go at once to " + peers + ": " + reason);
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
              + " ms in the dispatcher); the dispatcher and queries waited behind it");
    }
  }

  @Override
  public void onConsensusTask(String kind, long nanos) {
    consensusTasks++;
    if (nanos > longestConsensusNanos) {
      longestConsensusNanos = nanos;
    }
    if (nanos >= LONG_CONSENSUS_TASK_MILLIS * 1_000_000) {
      log.println(
          "replica "
              + replicaId
              + ": a consensus task ("
              + kind
              + ") took "
              + nanos / 1_000_000
              + " ms; heartbeats and acknowledgements waited behind it");
    }
  }

  /** Since the last summary: tasks of both threads, long ones, the longest; then resets. */
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
            + " ms applying); consensus "
            + consensusTasks
            + " tasks, longest "
            + longestConsensusNanos / 1_000_000
            + " ms";
    tasks = 0;
    longTasks = 0;
    longestNanos = 0;
    longestApplyNanos = 0;
    consensusTasks = 0;
    longestConsensusNanos = 0;
    return line;
  }
}
