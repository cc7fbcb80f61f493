package io.paxcron.scheduler;

/** What an agent knows about one launch it accepted. */
public enum AgentRunState {
  /** Accepted and persisted; the process may not have started yet. */
  ACCEPTED,
  /** The process is running. */
  RUNNING,
  /** The process ended; the outcome is known. */
  FINISHED
}
