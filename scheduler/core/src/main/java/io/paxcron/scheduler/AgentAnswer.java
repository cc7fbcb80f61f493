package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import java.util.Objects;

/** What an agent told the leader, as the driver hands it to the {@link Dispatcher}. */
public sealed interface AgentAnswer {

  AgentId agentId();

  /** The answer to {@code GetRun(runId, attempt, ballot)}: the agent knows the launch. */
  record Known(
      AgentId agentId,
      RunId runId,
      int attempt,
      Ballot ballot,
      AgentRunState state,
      Outcome outcome)
      implements AgentAnswer {
    public Known {
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(ballot, "ballot");
      Objects.requireNonNull(state, "state");
    }
  }

  /** The answer to {@code GetRun(runId, attempt, ballot)}: the agent never accepted the launch. */
  record Unknown(AgentId agentId, RunId runId, int attempt, Ballot ballot) implements AgentAnswer {
    public Unknown {
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(ballot, "ballot");
    }
  }

  /** The agent refused a launch or GetRun because it has seen {@code highestSeen}. */
  record Fenced(AgentId agentId, Ballot highestSeen) implements AgentAnswer {
    public Fenced {
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(highestSeen, "highestSeen");
    }
  }

  /** The agent reports that an attempt started (retried until the leader acknowledges it). */
  record Started(AgentId agentId, RunId runId, int attempt) implements AgentAnswer {
    public Started {
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(runId, "runId");
    }
  }

  /** The agent reports that an attempt ended (retried until the leader acknowledges it). */
  record Finished(AgentId agentId, RunId runId, int attempt, Outcome outcome, RunDetail detail)
      implements AgentAnswer {
    public Finished {
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(outcome, "outcome");
      Objects.requireNonNull(detail, "detail");
    }

    /** A finish report without output tail or reason. */
    public Finished(AgentId agentId, RunId runId, int attempt, Outcome outcome) {
      this(agentId, runId, attempt, outcome, RunDetail.NONE);
    }
  }

  /**
   * The agent reports that it gave an accepted launch up without starting it (its lease with the
   * cluster lapsed first): the attempt never ran and never will (retried until acknowledged).
   */
  record NeverStarted(AgentId agentId, RunId runId, int attempt, String reason)
      implements AgentAnswer {
    public NeverStarted {
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(reason, "reason");
    }
  }
}
