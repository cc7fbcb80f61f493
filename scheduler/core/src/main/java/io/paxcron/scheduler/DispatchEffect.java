package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import java.util.List;
import java.util.Objects;

/**
 * What the leader's {@link Dispatcher} asks its driver to do. Plain data; the driver does the I/O.
 */
public sealed interface DispatchEffect {

  /** Propose these commands into the log, in this order, as one batch. */
  record Propose(List<CronCommand> commands) implements DispatchEffect {
    public Propose {
      commands = List.copyOf(commands);
    }
  }

  /**
   * Launch protocol step 2: send {@code Launch(runId, attempt, ballot)} with the job's command to
   * the agent.
   */
  record Launch(AgentId agentId, RunId runId, int attempt, Ballot ballot, JobSpec spec)
      implements DispatchEffect {
    public Launch {
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(ballot, "ballot");
      Objects.requireNonNull(spec, "spec");
    }

    /**
     * When the agent starts the process: a scheduled run at its instant (at once if that passed;
     * the launch may have been chosen ahead of it), a manual run at once ({@code null}).
     */
    public java.time.Instant startAt() {
      return runId.manual() ? null : runId.instant();
    }
  }

  /**
   * Launch protocol step 3: tell the agent that the applied log holds its start, finish or
   * never-started report, so it stops sending it (see {@link ReportAcknowledgement}).
   */
  record AcknowledgeReport(AgentAnswer report) implements DispatchEffect {
    public AcknowledgeReport {
      Objects.requireNonNull(report, "report");
      if (!(report instanceof AgentAnswer.Started
          || report instanceof AgentAnswer.Finished
          || report instanceof AgentAnswer.NeverStarted)) {
        throw new IllegalArgumentException("not a report: " + report);
      }
    }

    /** The agent that sent the report. */
    public AgentId agentId() {
      return switch (report) {
        case AgentAnswer.Started started -> started.agentId();
        case AgentAnswer.Finished finished -> finished.agentId();
        case AgentAnswer.NeverStarted never -> never.agentId();
        default -> throw new IllegalStateException("not a report: " + report);
      };
    }
  }

  /** Ask the agent to stop an attempt (replace policy, or job deleted). */
  record Cancel(AgentId agentId, RunId runId, int attempt, Ballot ballot)
      implements DispatchEffect {
    public Cancel {
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(ballot, "ballot");
    }
  }

  /**
   * Launch protocol step 4: ask the agent what it knows of an attempt; raises its fence to {@code
   * ballot}.
   */
  record GetRun(AgentId agentId, RunId runId, int attempt, Ballot ballot)
      implements DispatchEffect {
    public GetRun {
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(ballot, "ballot");
    }
  }
}
