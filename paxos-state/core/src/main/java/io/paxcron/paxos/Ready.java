package io.paxcron.paxos;

import java.util.List;

/**
 * The effects of one input to {@link PaxosReplica}, in the order the driver must carry them out:
 *
 * <ol>
 *   <li>{@code persist}: make durable (one atomic, synced batch) before anything below happens —
 *       unless it is {@linkplain Persist#learnedOnly() learned-only}: then write it (in order) but
 *       go on at once, and leave its sync to the next write that needs one;
 *   <li>{@code messages}: send; the first {@code earlyMessages} of them (the leader's Accepts,
 *       under {@link PaxosReplica.LeaderWrites#IN_PARALLEL} only) may be sent before the persist is
 *       durable — sending them afterwards is correct too;
 *   <li>{@code restore}: if not null, replace the state machine with this snapshot;
 *   <li>{@code toApply}: apply these chosen entries, in the order given (ascending slots with no
 *       gaps, continuing where the previous apply or restore ended);
 *   <li>{@code reads}: answer lease reads once the state machine has applied through their slot;
 *   <li>{@code rejected}: tell these proposals' clients to retry (at {@code leaderHint} if known);
 *   <li>once {@code persist} is durable, a driver of a replica in {@link
 *       PaxosReplica.LeaderWrites#IN_PARALLEL} mode reports it through {@link
 *       PaxosReplica#onPersisted}.
 * </ol>
 *
 * <p>Replying before persisting is exactly the bug the simulator's "reply before persist" variant
 * plants; see docs/testing.md.
 */
public record Ready(
    Persist persist,
    List<Envelope> messages,
    int earlyMessages,
    Snapshot restore,
    List<LogEntry> toApply,
    List<ReadOutcome> reads,
    List<ProposalRejected> rejected) {

  public static final Ready NOTHING =
      new Ready(
          new Persist(null, List.of(), null), List.of(), 0, null, List.of(), List.of(), List.of());

  public Ready {
    messages = List.copyOf(messages);
    if (earlyMessages < 0 || earlyMessages > messages.size()) {
      throw new IllegalArgumentException(
          "earlyMessages must lie in 0.." + messages.size() + ", got " + earlyMessages);
    }
    toApply = List.copyOf(toApply);
    reads = List.copyOf(reads);
    rejected = List.copyOf(rejected);
  }

  /** A Ready whose messages all wait for the persist (the original contract). */
  public Ready(
      Persist persist,
      List<Envelope> messages,
      Snapshot restore,
      List<LogEntry> toApply,
      List<ReadOutcome> reads,
      List<ProposalRejected> rejected) {
    this(persist, messages, 0, restore, toApply, reads, rejected);
  }

  /** The messages that may leave before the persist is durable. */
  public List<Envelope> messagesBeforePersist() {
    return messages.subList(0, earlyMessages);
  }

  /** The messages that must wait until the persist is durable. */
  public List<Envelope> messagesAfterPersist() {
    return messages.subList(earlyMessages, messages.size());
  }

  public boolean isEmpty() {
    return persist.isEmpty()
        && messages.isEmpty()
        && restore == null
        && toApply.isEmpty()
        && reads.isEmpty()
        && rejected.isEmpty();
  }

  /** What became of a lease read. */
  public sealed interface ReadOutcome permits ReadReady, ReadRejected {
    long readId();
  }

  /**
   * The read may be served from the state machine once it has applied through {@code slot}: the
   * leader held its lease and a quorum confirmed its ballot after the read arrived.
   */
  public record ReadReady(long readId, long slot) implements ReadOutcome {}

  /**
   * This replica cannot serve the read; {@code leaderHint} is the leader it knows of, or null when
   * it knows none.
   */
  public record ReadRejected(long readId, ReplicaId leaderHint, String reason)
      implements ReadOutcome {}

  /**
   * A proposal this replica will not carry; the client retries, at {@code leaderHint} unless it is
   * null (no leader known).
   */
  public record ProposalRejected(Command command, ReplicaId leaderHint, String reason) {}
}
