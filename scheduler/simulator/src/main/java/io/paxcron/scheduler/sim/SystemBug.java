package io.paxcron.scheduler.sim;

/**
 * Deliberately broken variants of the launch protocol, planted in the simulator's driver and agents
 * (never in {@code scheduler/core}). Each must be caught by the whole-system checkers within a
 * bounded number of seeds; a checker that cannot fail proves nothing (DESIGN §6).
 */
public enum SystemBug {
  NONE,
  /**
   * The leader sends {@code Launch} to the agent as soon as it proposes the {@code RunIntent}, not
   * once the intent is chosen and applied (violates launch protocol step 1).
   */
  DISPATCH_BEFORE_CHOSEN,
  /** The agent accepts a launch whatever its ballot: no fence against deposed leaders (step 2). */
  NO_AGENT_FENCING,
  /**
   * Reconciliation ignores the decision table and always re-sends the launch: instead of asking the
   * agent ({@code GetRun}) it re-sends to it, and instead of recording an at-most-once run {@code
   * LOST} when its agent is unreachable past its lease, it re-sends the launch to another agent
   * (step 4).
   */
  RECONCILE_ALWAYS_RESENDS,
  /**
   * The agent starts the process of an accepted launch before the launch is durable in its journal
   * (violates step 2: "the agent persists the launch before it starts the process"); a crash then
   * forgets a process that ran.
   */
  AGENT_STARTS_BEFORE_PERSIST,
  /**
   * The leader acknowledges an agent's start or finish report as soon as it hears it, before the
   * log holds it (violates step 3: "acknowledged only once chosen"); the agent stops re-sending, so
   * a leader that dies before its proposal is chosen loses the report.
   */
  REPORT_ACKNOWLEDGED_BEFORE_CHOSEN,
  /**
   * Every replica resolves a job's {@code ?} itself when it applies the put (here: with its own
   * random source), instead of applying the values the leader chose and the log carries (DESIGN
   * §4): replicas then hold different schedules for the same job.
   */
  QUESTION_MARK_RESOLVED_PER_REPLICA,
  /**
   * A batch (one {@code Apply}) is applied command by command, each on its own, instead of all or
   * nothing (promise 6): a batch with one stale expected version changes the other jobs.
   */
  BATCH_APPLIED_PARTLY
}
