package io.paxcron.server;

import io.paxcron.paxos.Ballot;
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.RunId;
import java.util.Optional;

/**
 * The agent side of the launch protocol (DESIGN §4) as the leader's driver calls it. Each call
 * answers at once; progress after a launch (started, finished) comes back as reports through the
 * listener the agent was built with, re-sent until {@link #acknowledge} says the leader's log has
 * them. Implementations must be safe to call from any thread and must return quickly.
 */
interface AgentEndpoint {

  /** The agent's stable id, as runs name it. */
  String agentId();

  /**
   * {@code Launch(runId, attempt, ballot)}: a {@link AgentAnswer.Known} with the launch's state
   * (a repeat changes nothing), a {@link AgentAnswer.Fenced} if a higher ballot was seen, or empty
   * when the agent refuses for lack of room (the leader re-sends later).
   */
  Optional<AgentAnswer> launch(RunId runId, int attempt, Ballot ballot, JobSpec spec);

  /** {@code GetRun(runId, attempt, ballot)}: Known, Unknown or Fenced; raises the agent's fence. */
  AgentAnswer getRun(RunId runId, int attempt, Ballot ballot);

  /** Stops an attempt if it still runs; its finish is reported as usual. Fenced below the highest ballot. */
  Optional<AgentAnswer> cancel(RunId runId, int attempt, Ballot ballot);

  /** The leader's log holds the report ({@code finished}: the finish; else the start); stop re-sending it. */
  void acknowledge(RunId runId, int attempt, boolean finished);

  /** Reports not yet acknowledged, oldest first, for the leader's driver to take again. */
  java.util.List<AgentAnswer> unacknowledgedReports();
}
