package io.paxcron.scheduler;

import java.util.Objects;
import java.util.Optional;

/**
 * When the leader acknowledges an agent's start or finish report (launch protocol step 3). Agents
 * re-send each report until it is acknowledged, so the rule is: acknowledge exactly when the
 * applied log already holds what the report says (or no longer cares), otherwise hand the report to
 * the {@link Dispatcher}, which proposes it; the agent's next re-send then finds it applied.
 * Acknowledging before the log holds a report would lose it if the leader died in between.
 *
 * <p>A pure function of the applied state; the replica's driver and the simulator both use it.
 */
public final class ReportAcknowledgement {
  private ReportAcknowledgement() {}

  /** What to do with a report. */
  public enum Decision {
    /** The log holds it (or the attempt is no longer current): send the acknowledgement. */
    ACKNOWLEDGE,
    /** The log does not hold it yet: give it to the dispatcher, do not acknowledge. */
    PROPOSE
  }

  /**
   * The rule above for a {@link AgentAnswer.Started}, {@link AgentAnswer.Finished} or {@link
   * AgentAnswer.NeverStarted} report. A finish or never-started report about an attempt the ledger
   * records {@code LOST} without testimony is proposed as that testimony first.
   */
  public static Decision decide(CronView view, AgentAnswer report) {
    Objects.requireNonNull(view, "view");
    if (report instanceof AgentAnswer.Started
        || report instanceof AgentAnswer.Finished
        || report instanceof AgentAnswer.NeverStarted) {
      RunId runId = runId(report);
      if (view.run(runId).isEmpty() && view.ledgerRecord(runId).isEmpty()) {
        // The applied state has never seen this run: this leader has not applied the intent yet
        // (a new leader starts once it applied all it knows chosen, which may end before slots
        // its predecessor got chosen). Proposing lands after those slots, so it is safe; an
        // acknowledgement now would claim a log that does not hold the report.
        return Decision.PROPOSE;
      }
      if (view.run(runId).filter(run -> run.attempt() < attempt(report)).isPresent()) {
        // The run is open at an earlier attempt (for example due, its instant reached by a tick,
        // while the intent the agent ran is not applied here yet): the same as above.
        return Decision.PROPOSE;
      }
    }
    return switch (report) {
      case AgentAnswer.Started started -> {
        Optional<Run> run = current(view, started.runId(), started.attempt());
        yield run.isEmpty() || run.get().status() == RunStatus.RUNNING
            ? Decision.ACKNOWLEDGE
            : Decision.PROPOSE;
      }
      case AgentAnswer.Finished finished -> ended(view, finished.runId(), finished.attempt());
      case AgentAnswer.NeverStarted never -> ended(view, never.runId(), never.attempt());
      case AgentAnswer.Known known -> throw new IllegalArgumentException("not a report: " + known);
      case AgentAnswer.Unknown unknown ->
          throw new IllegalArgumentException("not a report: " + unknown);
      case AgentAnswer.Fenced fenced ->
          throw new IllegalArgumentException("not a report: " + fenced);
    };
  }

  private static int attempt(AgentAnswer report) {
    return switch (report) {
      case AgentAnswer.Started started -> started.attempt();
      case AgentAnswer.Finished finished -> finished.attempt();
      case AgentAnswer.NeverStarted never -> never.attempt();
      default -> throw new IllegalArgumentException("not a report: " + report);
    };
  }

  private static RunId runId(AgentAnswer report) {
    return switch (report) {
      case AgentAnswer.Started started -> started.runId();
      case AgentAnswer.Finished finished -> finished.runId();
      case AgentAnswer.NeverStarted never -> never.runId();
      default -> throw new IllegalArgumentException("not a report: " + report);
    };
  }

  private static Decision ended(CronView view, RunId runId, int attempt) {
    if (current(view, runId, attempt).isPresent() || awaitsTestimony(view, runId, attempt)) {
      return Decision.PROPOSE;
    }
    return Decision.ACKNOWLEDGE;
  }

  /** Whether the ledger records this attempt {@code LOST} and holds no testimony for it yet. */
  public static boolean awaitsTestimony(CronView view, RunId runId, int attempt) {
    return view.ledgerRecord(runId)
        .filter(
            record ->
                record.outcome() instanceof Outcome.Lost
                    && record.attempts() == attempt
                    && record.detail().agentTestimony().isEmpty())
        .isPresent();
  }

  /** The open run if {@code attempt} is its current, launched attempt. */
  private static Optional<Run> current(CronView view, RunId runId, int attempt) {
    return view.run(runId).filter(run -> run.attempt() == attempt && run.launched());
  }
}
