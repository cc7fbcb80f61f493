package io.paxcron.scheduler.sim;

import io.paxcron.api.JobChange;
import io.paxcron.paxos.Ballot;
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.RunId;
import java.util.List;

/** The messages of the simulated system: replica and agent, client and replica. */
final class SystemMessages {
  private SystemMessages() {}

  /** What a replica sends an agent. */
  sealed interface AgentMessage {}

  record LaunchMessage(RunId runId, int attempt, Ballot ballot, JobSpec spec)
      implements AgentMessage {}

  record GetRunMessage(RunId runId, int attempt, Ballot ballot) implements AgentMessage {}

  record CancelMessage(RunId runId, int attempt, Ballot ballot) implements AgentMessage {}

  /** The leader's log holds the agent's report: stop re-sending it. */
  record AckMessage(RunId runId, int attempt, boolean finish) implements AgentMessage {}

  /**
   * The leader (at {@code ballot}) heard the heartbeat sent at {@code sentAtMillis}: the agent's
   * lease.
   */
  record HeartbeatAckMessage(long sentAtMillis, Ballot ballot) implements AgentMessage {}

  /** What an agent sends a replica: a heartbeat, or an answer or report for the dispatcher. */
  sealed interface AgentToReplica {}

  /**
   * {@code sentAtMillis}: the agent's clock when it sent the heartbeat, echoed in the
   * acknowledgement.
   */
  record Heartbeat(long sentAtMillis) implements AgentToReplica {}

  record Report(AgentAnswer answer) implements AgentToReplica {}

  /**
   * An API call before the leader stamps it: the job changes of one request, as the server's API
   * makes them ({@code Put}, {@code Delete}, … one change; {@code Apply} several, all or nothing).
   */
  record ClientRequest(int client, long clientId, long sequence, List<JobChange> changes) {}

  sealed interface ClientReply {}

  /** One result per change of the request, in order. */
  record Answer(long sequence, List<CommandResult> results) implements ClientReply {}

  record Redirect(long sequence, int leaderHint) implements ClientReply {}
}
