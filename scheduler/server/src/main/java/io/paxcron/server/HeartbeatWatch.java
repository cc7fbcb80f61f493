package io.paxcron.server;

import io.paxcron.proto.v1.LeaderMessage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;

/**
 * What became of the agents' heartbeats on this replica, for the 10-second report line: how many
 * came, how many were acknowledged at once on the thread that received them, how many went to the
 * loop (and why) and how long they waited there, how many got no acknowledgement, the longest gap
 * between two heartbeats of one stream, the most messages waiting for a slow agent that an
 * acknowledgement overtook, and what was sent to agents, by kind. An agent whose lease lapses tells
 * from its side which of these it saw; this line tells the leader's side.
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

  private final AtomicLong[] sent = new AtomicLong[LeaderMessage.BodyCase.values().length];
  private final AtomicLong waited = new AtomicLong();
  private final AtomicLong repeatsNotQueued = new AtomicLong();
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong atOnce = new AtomicLong();
  private final AtomicLong[] toLoop = new AtomicLong[ToLoop.values().length];
  private final AtomicLong onLoop = new AtomicLong();
  private final AtomicLong unanswered = new AtomicLong();
  private final LongAccumulator longestLoopWaitNanos = new LongAccumulator(Math::max, 0);
  private final LongAccumulator longestGapNanos = new LongAccumulator(Math::max, 0);
  private final LongAccumulator mostOvertaken = new LongAccumulator(Math::max, 0);

  HeartbeatWatch() {
    for (int i = 0; i < toLoop.length; i++) {
      toLoop[i] = new AtomicLong();
    }
    for (int i = 0; i < sent.length; i++) {
      sent[i] = new AtomicLong();
    }
  }

  /** A message of {@code kind} was handed to gRPC for an agent. */
  void sent(LeaderMessage.BodyCase kind) {
    sent[kind.ordinal()].incrementAndGet();
  }

  /** A message had to wait for its agent's side to be ready. */
  void waited() {
    waited.incrementAndGet();
  }

  /** A repeated request was not queued because its earlier copy still waited. */
  void repeatNotQueued() {
    repeatsNotQueued.incrementAndGet();
  }

  /** A heartbeat arrived, {@code gapNanos} after the last one on its stream (0 for the first). */
  void received(long gapNanos) {
    received.incrementAndGet();
    longestGapNanos.accumulate(gapNanos);
  }

  void acknowledgedAtOnce(int overtook) {
    atOnce.incrementAndGet();
    mostOvertaken.accumulate(overtook);
  }

  void toLoop(ToLoop why) {
    toLoop[why.ordinal()].incrementAndGet();
  }

  void acknowledgedOnLoop(long waitedNanos, int overtook) {
    onLoop.incrementAndGet();
    longestLoopWaitNanos.accumulate(waitedNanos);
    mostOvertaken.accumulate(overtook);
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
    long loopWait = longestLoopWaitNanos.getThenReset() / 1_000_000;
    long gap = longestGapNanos.getThenReset() / 1_000_000;
    long overtaken = mostOvertaken.getThenReset();
    StringBuilder reasons = new StringBuilder();
    for (ToLoop why : ToLoop.values()) {
      long n = toLoop[why.ordinal()].getAndSet(0);
      if (n > 0) {
        reasons.append(reasons.isEmpty() ? "" : ", ").append(n).append(' ').append(why.words);
      }
    }
    StringBuilder traffic = new StringBuilder();
    for (LeaderMessage.BodyCase kind : LeaderMessage.BodyCase.values()) {
      long n = sent[kind.ordinal()].getAndSet(0);
      if (n > 0) {
        traffic
            .append(traffic.isEmpty() ? "" : ", ")
            .append(n)
            .append(' ')
            .append(kind.name().toLowerCase(java.util.Locale.ROOT));
      }
    }
    long held = waited.getAndSet(0);
    long repeats = repeatsNotQueued.getAndSet(0);
    if (count == 0 && traffic.isEmpty()) {
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
        + (loop > 0 ? " after up to " + loopWait + " ms" : "")
        + ", "
        + none
        + " not acknowledged, at most "
        + overtaken
        + " messages waiting for an agent overtaken by one; sent to agents "
        + (traffic.isEmpty() ? "nothing" : traffic)
        + " ("
        + held
        + " waited for an agent to read, "
        + repeats
        + " repeats not queued twice)";
  }
}
