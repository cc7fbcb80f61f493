package io.paxcron.agent.core;

/** What the agent knows of one launch; mirrors agent.proto {@code RunState.State}. */
public enum RunPhase {
  /** The agent never accepted this launch (and no lower ballot can make it, after this answer). */
  UNKNOWN,
  /** Accepted and persisted; the process has not started. */
  ACCEPTED,
  /** The process is running. */
  RUNNING,
  /** The process ended; the outcome is known. */
  FINISHED,
  /** Accepted but given up before it started: it will never start. */
  NEVER_STARTED,
  /** The question's ballot is below the agent's fence. */
  FENCED;

  /** Whether the launch holds a slot of the agent's capacity. */
  public boolean open() {
    return this == ACCEPTED || this == RUNNING;
  }

  /** Whether the launch has ended, run or not. */
  public boolean ended() {
    return this == FINISHED || this == NEVER_STARTED;
  }
}
