package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import java.time.Instant;
import java.util.Objects;

/**
 * The terminal record of one scheduled instant, or of a stretch of consecutive scheduled instants
 * of one job that were skipped for the same reason (a paused week of a once-a-second job is one
 * record, not 604,800). Immutable.
 *
 * @param sequence position in the cluster-wide ledger order (1-based, increasing in apply order); a
 *     stretch keeps the sequence of its first instant
 * @param runId the run, or the first instant of a stretch
 * @param lastInstant the last scheduled instant the record covers ({@code runId.instant()} for one
 *     run)
 * @param instantCount how many scheduled instants the record covers, at least 1
 * @param outcome how the instant(s) ended
 * @param attempts attempts accepted for the run (0 for skips)
 * @param agentId agent of the last attempt, {@code null} for skips
 * @param ballot ballot of the last attempt's intent, {@link Ballot#ZERO} for skips
 * @param startedAt when the last attempt's start was recorded, or {@code null}
 * @param endedAt the leader stamp of the command that ended the run (for stretches: the latest one)
 * @param slot the log slot of that command
 * @param detail output tail and reason from the finish report, and a {@code LOST} run's agent
 *     testimony
 */
public record LedgerRecord(
    long sequence,
    RunId runId,
    Instant lastInstant,
    long instantCount,
    Outcome outcome,
    int attempts,
    AgentId agentId,
    Ballot ballot,
    Instant startedAt,
    Instant endedAt,
    long slot,
    RunDetail detail) {

  /** A record with nothing beyond its outcome. */
  public LedgerRecord(
      long sequence,
      RunId runId,
      Instant lastInstant,
      long instantCount,
      Outcome outcome,
      int attempts,
      AgentId agentId,
      Ballot ballot,
      Instant startedAt,
      Instant endedAt,
      long slot) {
    this(
        sequence,
        runId,
        lastInstant,
        instantCount,
        outcome,
        attempts,
        agentId,
        ballot,
        startedAt,
        endedAt,
        slot,
        RunDetail.NONE);
  }

  public LedgerRecord {
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(lastInstant, "lastInstant");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(ballot, "ballot");
    Objects.requireNonNull(endedAt, "endedAt");
    Objects.requireNonNull(detail, "detail");
    if (instantCount < 1) {
      throw new IllegalArgumentException("instantCount must be >= 1, got " + instantCount);
    }
  }

  /**
   * Whether the state machine may still extend this record in place (same sequence, a larger {@link
   * #instantCount}): a stretch of scheduled instants skipped for one reason grows while it is its
   * job's newest record. Records of runs, and skips of manual runs, never change count.
   */
  public boolean mayGrow() {
    return outcome instanceof Outcome.Skipped && !runId.manual();
  }

  /** Whether {@code instant} of this record's job is one the record accounts for. */
  public boolean covers(Instant instant) {
    return !instant.isBefore(runId.instant()) && !instant.isAfter(lastInstant);
  }

  /** This record with the agent's testimony about a {@code LOST} run. */
  public LedgerRecord withTestimony(String testimony) {
    return new LedgerRecord(
        sequence,
        runId,
        lastInstant,
        instantCount,
        outcome,
        attempts,
        agentId,
        ballot,
        startedAt,
        endedAt,
        slot,
        detail.withTestimony(testimony));
  }

  @Override
  public String toString() {
    return instantCount == 1
        ? runId + " " + outcome
        : runId + ".." + lastInstant + " " + outcome + " x" + instantCount;
  }
}
