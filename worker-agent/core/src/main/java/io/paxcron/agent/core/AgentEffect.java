package io.paxcron.agent.core;

/** One thing the driver does once a {@link Ready}'s records are durable. */
public sealed interface AgentEffect {

  /** Send {@code reply} to the leader that asked. */
  record Reply(LeaderReply reply) implements AgentEffect {}

  /**
   * Start the launch's process now; then tell the core {@link AgentFence#onStarted} (or {@link
   * AgentFence#onFinished} with the reason if it cannot start: a bad spec fails the run).
   *
   * @param payload the launch spec exactly as the driver gave it to {@link AgentFence#onLaunch}
   */
  record Start(LaunchKey key, byte[] payload) implements AgentEffect {}

  /**
   * Stop the launch's process (Cancel): SIGTERM to its process group, a grace period, SIGKILL; its
   * finish is reported as usual through {@link AgentFence#onFinished}.
   */
  record Stop(LaunchKey key) implements AgentEffect {}

  /**
   * Send the report to the leader; re-send it (see {@link AgentFence#pendingReports}) until
   * acknowledged.
   */
  record Report(ReportKind kind, RunView run) implements AgentEffect {}

  /** What a report says. */
  enum ReportKind {
    STARTED,
    FINISHED
  }
}
