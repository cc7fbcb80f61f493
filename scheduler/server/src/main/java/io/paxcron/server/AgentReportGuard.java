package io.paxcron.server;

import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.scheduler.AgentId;
import io.paxcron.scheduler.CronView;
import io.paxcron.scheduler.RunId;
import java.util.Optional;

/**
 * An agent may speak only about runs it was launched with (docs/security.md): a start or finish
 * report, a run state or a launch reply about an attempt that the log records as launched on
 * another agent is dropped before it can reach the dispatcher, and the refusal is logged. Messages
 * about runs the log does not know go on to the usual handling, which ignores them.
 *
 * <p>Pure: it reads the applied cron state on the replica's loop thread.
 */
final class AgentReportGuard {
  private AgentReportGuard() {}

  /** Why {@code agent} may not send {@code message}, or empty if it may. */
  static Optional<String> refusal(CronView view, AgentId agent, AgentMessage message) {
    String runText;
    int attempt;
    switch (message.getBodyCase()) {
      case REPORT -> {
        runText = message.getReport().getState().getRunId();
        attempt = message.getReport().getState().getAttempt();
      }
      case RUN_STATE -> {
        runText = message.getRunState().getRunId();
        attempt = message.getRunState().getAttempt();
      }
      case LAUNCH_REPLY -> {
        runText = message.getLaunchReply().getRunId();
        attempt = message.getLaunchReply().getAttempt();
      }
      default -> {
        return Optional.empty();
      }
    }
    RunId runId;
    try {
      runId = RunId.parse(runText);
    } catch (IllegalArgumentException e) {
      return Optional.empty(); // the usual handling reports a bad run id
    }
    Optional<AgentId> launchedOn =
        view.run(runId)
            .filter(run -> run.attempt() == attempt && run.launched())
            .map(run -> run.agentId())
            .or(
                () ->
                    view.ledgerRecord(runId)
                        .filter(record -> record.attempts() == attempt)
                        .map(record -> record.agentId()));
    if (launchedOn.isPresent() && !launchedOn.get().equals(agent)) {
      return Optional.of(
          "agent "
              + agent
              + " sent "
              + message.getBodyCase()
              + " about attempt "
              + attempt
              + " of "
              + runId
              + ", launched on agent "
              + launchedOn.get()
              + "; dropped");
    }
    return Optional.empty();
  }
}
