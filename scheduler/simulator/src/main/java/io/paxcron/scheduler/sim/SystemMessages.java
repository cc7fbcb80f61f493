package io.paxcron.scheduler.sim;

import io.paxcron.paxos.Ballot;
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.RunId;
import java.time.Instant;
import java.util.Map;

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

  /** An API call before the leader stamps it. */
  sealed interface ApiOperation {
    CronCommand toCommand(Instant stamp);
  }

  record PutOperation(JobSpec spec, ExpectedVersion expected) implements ApiOperation {
    @Override
    public CronCommand toCommand(Instant stamp) {
      return new CronCommand.PutJob(spec, expected, Map.of(), stamp);
    }
  }

  record DeleteOperation(String job, ExpectedVersion expected) implements ApiOperation {
    @Override
    public CronCommand toCommand(Instant stamp) {
      return new CronCommand.DeleteJob(job, expected, stamp);
    }
  }

  record PauseOperation(String job, boolean pause) implements ApiOperation {
    @Override
    public CronCommand toCommand(Instant stamp) {
      return pause ? new CronCommand.PauseJob(job, stamp) : new CronCommand.ResumeJob(job, stamp);
    }
  }

  record TriggerOperation(String job) implements ApiOperation {
    @Override
    public CronCommand toCommand(Instant stamp) {
      return new CronCommand.TriggerJob(job, stamp);
    }
  }

  record ClientRequest(int client, long clientId, long sequence, ApiOperation operation) {}

  sealed interface ClientReply {}

  record Answer(long sequence, CommandResult result) implements ClientReply {}

  record Redirect(long sequence, int leaderHint) implements ClientReply {}
}
