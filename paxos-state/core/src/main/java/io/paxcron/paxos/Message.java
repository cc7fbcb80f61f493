package io.paxcron.paxos;

import java.util.List;

/**
 * The peer protocol: everything one replica says to another. Immutable, validated records; the
 * transport (gRPC in production, an in-memory network in the simulator) carries them unchanged.
 *
 * <p>Phase 1 is {@link Prepare}/{@link Promise}, phase 2 is {@link Accept}/{@link Accepted}, both
 * answered by {@link Rejected} when the acceptor has promised a higher ballot or is still bound to
 * a live leader. An {@link Accept} with no entries is the leader's heartbeat; every {@link Accept}
 * also tells followers the chosen prefix ({@code chosenBelowSlot}) so they can learn and apply.
 */
public sealed interface Message {

  /** Every message is sent in the context of some ballot; receivers use it to learn rounds. */
  Ballot ballot();

  /**
   * Phase 1a: the candidate asks for a promise covering every slot from {@code fromSlot} on (its
   * first unchosen slot).
   */
  record Prepare(Ballot ballot, long fromSlot, long sentAtMillis) implements Message {
    public Prepare {
      requirePositive(fromSlot, "fromSlot");
    }
  }

  /**
   * Phase 1b: the acceptor promised {@code ballot} and reports what it accepted at or above {@code
   * fromSlot}. {@code complete} is false when it cannot report every such slot — they lie below its
   * snapshot (truncated) or past the entry limit — and the candidate must catch up first.
   */
  record Promise(
      Ballot ballot,
      long fromSlot,
      List<LogEntry> accepted,
      boolean complete,
      long echoSentAtMillis)
      implements Message {
    public Promise {
      accepted = List.copyOf(accepted);
    }
  }

  /**
   * Phase 2a, also the heartbeat: proposals of this ballot, the chosen prefix, and the leader's
   * clock reading and probe number that acknowledgements echo (lease and read confirmation).
   */
  record Accept(
      Ballot ballot, List<LogEntry> entries, long chosenBelowSlot, long sentAtMillis, long probe)
      implements Message {
    public Accept {
      entries = List.copyOf(entries);
      for (LogEntry entry : entries) {
        if (!entry.ballot().equals(ballot)) {
          throw new IllegalArgumentException(
              "accept of ballot " + ballot + " carries an entry of ballot " + entry.ballot());
        }
      }
      requirePositive(chosenBelowSlot, "chosenBelowSlot");
    }
  }

  /** Phase 2b: the acceptor accepted these slots in {@code ballot} (empty for a heartbeat). */
  record Accepted(
      Ballot ballot, List<Long> slots, long firstUnchosenSlot, long echoSentAtMillis, long probe)
      implements Message {
    public Accepted {
      slots = List.copyOf(slots);
    }
  }

  /**
   * Refusal of a {@link Prepare} or {@link Accept} carrying {@code ballot}: the acceptor has
   * promised {@code promised}, or ({@code leaderAlive}) heard from leader {@code knownLeader}
   * within the lease period and will not depose it (leader stickiness). {@code knownLeader} is null
   * when the acceptor knows no leader.
   */
  record Rejected(Ballot ballot, Ballot promised, ReplicaId knownLeader, boolean leaderAlive)
      implements Message {}

  /**
   * Pre-vote (Raft thesis §9.6): would the receiver promise a new ballot now? Nothing changes on
   * the receiver. A replica campaigns only after a quorum said yes, so one that was cut off or
   * restarted cannot depose a leader that the others still hear from. {@code ballot} only names the
   * question; the campaign that may follow uses a higher one.
   */
  record PreVote(Ballot ballot, long sentAtMillis) implements Message {}

  /**
   * The receiver of {@link PreVote} {@code ballot} heard from no live leader within the lease and
   * would promise a new ballot. A refusal is a {@link Rejected} with {@code leaderAlive}.
   */
  record PreVoteGranted(Ballot ballot) implements Message {}

  /**
   * A lagging replica asks for chosen entries from {@code fromSlot} on; {@code fromSlot} 0 asks for
   * the sender's snapshot whatever its slot, which a replica that joins the cluster and knows no
   * configuration yet needs first (docs/membership.md).
   */
  record CatchUpRequest(Ballot ballot, long fromSlot) implements Message {
    public CatchUpRequest {
      if (fromSlot < 0) {
        throw new IllegalArgumentException("fromSlot must be >= 0, got " + fromSlot);
      }
    }
  }

  /**
   * Chosen entries for a lagging replica, preceded by a snapshot when the entries it asked for are
   * already truncated. {@code chosenBelowSlot} tells how far the sender's chosen prefix reaches.
   */
  record CatchUpReply(Ballot ballot, Snapshot snapshot, List<LogEntry> chosen, long chosenBelowSlot)
      implements Message {
    public CatchUpReply {
      chosen = List.copyOf(chosen);
      for (LogEntry entry : chosen) {
        if (!entry.chosen()) {
          throw new IllegalArgumentException("catch-up carries only chosen entries: " + entry);
        }
      }
    }
  }

  private static void requirePositive(long slot, String name) {
    if (slot < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, got " + slot);
    }
  }
}
