package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import java.util.Objects;

/**
 * The decision table of launch-protocol step 4 (DESIGN §4): what a new leader does with a run that
 * has a chosen intent and no recorded finish, given what the run's agent says. A pure function.
 *
 * <pre>
 * agent reply                      at-most-once          at-least-once
 * Known(ACCEPTED | RUNNING)        adopt                 adopt
 * Known(FINISHED, outcome)         adopt: propose finish adopt: propose finish
 * Unknown (fence now raised)       re-send same launch   re-send same launch
 * Unreachable, lease not expired   wait                  wait
 * Unreachable past its lease       propose RecordLost    propose new attempt elsewhere
 * Fenced(higher ballot)            step down             step down
 * </pre>
 */
public final class Reconciliation {
  private Reconciliation() {}

  /** What the leader learned about the run's agent. */
  public sealed interface AgentReply {
    /** The agent knows the launch. */
    record Known(AgentRunState state, Outcome outcome) implements AgentReply {
      public Known {
        Objects.requireNonNull(state, "state");
        if (state == AgentRunState.FINISHED && (outcome == null || !outcome.reportedByAgent())) {
          throw new IllegalArgumentException(
              "a finished launch needs the agent's outcome, got " + outcome);
        }
      }
    }

    /** The agent never accepted the launch; our GetRun raised its fence to our ballot. */
    record Unknown() implements AgentReply {}

    /** The agent has not answered; {@code pastLease} when its lease has expired. */
    record Unreachable(boolean pastLease) implements AgentReply {}

    /** The agent has seen a higher ballot: another replica leads. */
    record Fenced(Ballot highestSeen) implements AgentReply {}
  }

  /** What to do. */
  public sealed interface Decision {
    /** Keep tracking the run; propose its start or finish if the agent is ahead of the log. */
    record Adopt(AgentRunState state, Outcome outcome) implements Decision {}

    /** Send {@code Launch(runId, attempt, currentBallot)} again to the same agent. */
    record ResendLaunch() implements Decision {}

    /** Propose a {@code RunIntent} with the next attempt on another agent. */
    record NewAttempt() implements Decision {}

    /** Propose {@code RecordLost}. */
    record RecordLost() implements Decision {}

    /** Ask again later. */
    record Wait() implements Decision {}

    /** This replica is no longer the leader: dispatch nothing. */
    record StepDown() implements Decision {}
  }

  /** The table above. */
  public static Decision decide(Semantics semantics, AgentReply reply) {
    Objects.requireNonNull(semantics, "semantics");
    return switch (reply) {
      case AgentReply.Known known -> new Decision.Adopt(known.state(), known.outcome());
      case AgentReply.Unknown unknown -> new Decision.ResendLaunch();
      case AgentReply.Unreachable unreachable when !unreachable.pastLease() -> new Decision.Wait();
      case AgentReply.Unreachable unreachable ->
          semantics == Semantics.AT_LEAST_ONCE
              ? new Decision.NewAttempt()
              : new Decision.RecordLost();
      case AgentReply.Fenced fenced -> new Decision.StepDown();
    };
  }
}
