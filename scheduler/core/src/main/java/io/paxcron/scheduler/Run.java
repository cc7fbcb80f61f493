package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import java.time.Instant;
import java.util.Objects;

/**
 * An open run: due, launched, running or waiting to retry. Immutable; the state machine replaces it
 * on every change. Becomes a {@link LedgerRecord} when it ends.
 *
 * @param id the run
 * @param status where it stands
 * @param catchUp whether the misfire policy chose it after a leaderless gap (rate-limited by the
 *     dispatcher)
 * @param dueAt the leader stamp at which the state machine found it due
 * @param attempt the current attempt (0 before the first intent)
 * @param agentId the agent of the current attempt, {@code null} before the first intent
 * @param ballot the ballot of the current attempt's intent, {@link Ballot#ZERO} before
 * @param intentAt stamp of the current attempt's intent, or {@code null}
 * @param startedAt stamp of the current attempt's start report, or {@code null}
 * @param cancelRequested whether the run was superseded ({@code replace}) or its job deleted
 * @param retryNotBefore for {@link RunStatus#RETRY_WAIT}: earliest instant of the next attempt,
 *     else {@code null}
 * @param lastFailure outcome of the last failed attempt, or {@code null}
 * @param jobIncarnation the slot that created the job, so runs of a deleted and re-created job are
 *     told apart
 */
public record Run(
    RunId id,
    RunStatus status,
    boolean catchUp,
    Instant dueAt,
    int attempt,
    AgentId agentId,
    Ballot ballot,
    Instant intentAt,
    Instant startedAt,
    boolean cancelRequested,
    Instant retryNotBefore,
    Outcome lastFailure,
    long jobIncarnation) {

  public Run {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(dueAt, "dueAt");
    Objects.requireNonNull(ballot, "ballot");
  }

  static Run due(RunId id, boolean catchUp, Instant dueAt, long jobIncarnation) {
    return new Run(
        id,
        RunStatus.DUE,
        catchUp,
        dueAt,
        0,
        null,
        Ballot.ZERO,
        null,
        null,
        false,
        null,
        null,
        jobIncarnation);
  }

  /** Whether an agent may hold the current attempt (an intent is chosen and no finish recorded). */
  public boolean launched() {
    return status == RunStatus.LAUNCHED || status == RunStatus.RUNNING;
  }

  Run withIntent(int newAttempt, AgentId newAgent, Ballot newBallot, Instant at) {
    return new Run(
        id,
        RunStatus.LAUNCHED,
        catchUp,
        dueAt,
        newAttempt,
        newAgent,
        newBallot,
        at,
        null,
        cancelRequested,
        null,
        lastFailure,
        jobIncarnation);
  }

  Run withStarted(Instant at) {
    return new Run(
        id,
        RunStatus.RUNNING,
        catchUp,
        dueAt,
        attempt,
        agentId,
        ballot,
        intentAt,
        at,
        cancelRequested,
        null,
        lastFailure,
        jobIncarnation);
  }

  Run withRetry(Instant notBefore, Outcome failure) {
    return new Run(
        id,
        RunStatus.RETRY_WAIT,
        catchUp,
        dueAt,
        attempt,
        agentId,
        ballot,
        intentAt,
        startedAt,
        cancelRequested,
        notBefore,
        failure,
        jobIncarnation);
  }

  Run withCancelRequested() {
    return new Run(
        id,
        status,
        catchUp,
        dueAt,
        attempt,
        agentId,
        ballot,
        intentAt,
        startedAt,
        true,
        retryNotBefore,
        lastFailure,
        jobIncarnation);
  }
}
