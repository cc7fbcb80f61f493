package io.paxcron.server;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;

/**
 * What became of the agents' heartbeats on this replica, for the 10-second report line: how many
 * came, how many were acknowledged at once on the thread that received them, how many went to the
 * loop (and why) and how long they waited there, how many got no acknowledgement, the longest gap
 * between two heartbeats of one stream, and the most messages an acknowledgement found queued
 * unread ahead of it. An agent whose lease lapses tells from its side which of these it saw; this
 * line tells the leader's side.
 */
final class HeartbeatWatch {
  /** Why a heartbeat was not acknowledged on the thread that received it. */
  enum ToLoop {
    NOT_REGISTERED("not registered"),
    NOT_GRANTING("not granting"),
    LEASE_NOT_VALID("replica lease not valid"),
    NOT_CURRENT("stream not current");

    final String words;

    ToLoop(String words) {
      this.words = words;
    }
  }

  private final AtomicLong received = new AtomicLong();
  private final AtomicLong atOnce = new AtomicLong();
  private final AtomicLong[] toLoop = new AtomicLong[ToLoop.values().length];
  private final AtomicLong onLoop = new AtomicLong();
  private final AtomicLong unanswered = new AtomicLong();
  private final LongAccumulator longestLoopWaitNanos = new LongAccumulator(Math::max, 0);
  private final LongAccumulator longestGapNanos = new LongAccumulator(Math::max, 0);
  private final LongAccumulator mostUnread = new LongAccumulator(Math::max, 0);

  HeartbeatWatch() {
    for (int i = 0; i < toLoop.length; i++) {
      toLoop[i] = new AtomicLong();
    }
  }

  /** A heartbeat arrived, {@code gapNanos} after the last one on its stream (0 for the first). */
  void received(long gapNanos) {
    received.incrementAndGet();
    longestGapNanos.accumulate(gapNanos);
  }

  void acknowledgedAtOnce(int unreadAhead) {
    atOnce.incrementAndGet();
    mostUnread.accumulate(unreadAhead);
  }

  void toLoop(ToLoop why) {
    toLoop[why.ordinal()].incrementAndGet();
  }

  void acknowledgedOnLoop(long waitedNanos, int unreadAhead) {
    onLoop.incrementAndGet();
    longestLoopWaitNanos.accumulate(waitedNanos);
    mostUnread.accumulate(unreadAhead);
  }

  void unanswered() {
    unanswered.incrementAndGet();
  }

  /** Since the last summary; then resets. Empty when no heartbeat came. */
  String summary() {
    long count = received.getAndSet(0);
    long now = atOnce.getAndSet(0);
    long loop = onLoop.getAndSet(0);
    long none = unanswered.getAndSet(0);
    long waited = longestLoopWaitNanos.getThenReset() / 1_000_000;
    long gap = longestGapNanos.getThenReset() / 1_000_000;
    long unread = mostUnread.getThenReset();
    StringBuilder reasons = new StringBuilder();
    for (ToLoop why : ToLoop.values()) {
      long n = toLoop[why.ordinal()].getAndSet(0);
      if (n > 0) {
        reasons.append(reasons.isEmpty() ? "" : ", ").append(n).append(' ').append(why.words);
      }
    }
    if (count == 0) {
      return "";
    }
    return "; agent heartbeats "
        + count
        + " (longest gap "
        + gap
        + " ms): "
        + now
        + " acknowledged at once, "
        + loop
        + " on the loop"
        + (reasons.isEmpty() ? "" : " (" + reasons + ")")
        + (loop > 0 ? " after up to " + waited + " ms" : "")
        + ", "
        + none
        + " not acknowledged; at most "
        + unread
        + " messages unread ahead of an acknowledgement";
  }
}
