package io.paxcron.scheduler;

/** Where an open (not yet terminal) run stands. */
public enum RunStatus {
  /** The instant fell due and should run; no intent is chosen yet. */
  DUE,
  /**
   * A {@code RunIntent} is chosen: the leader may send the launch; the agent has not reported a
   * start.
   */
  LAUNCHED,
  /** The agent reported the start of the current attempt. */
  RUNNING,
  /** The current attempt failed and another attempt will follow after a backoff. */
  RETRY_WAIT
}
