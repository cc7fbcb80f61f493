package io.paxcron.scheduler;

/** How often one scheduled run may be accepted by agents when things fail (DESIGN §1 promise 2). */
public enum Semantics {
  /**
   * At most one attempt of a run is ever accepted by an agent. A run whose agent vanishes is
   * recorded {@code LOST}, never launched elsewhere. Retries are therefore not allowed. Default.
   */
  AT_MOST_ONCE,
  /**
   * A run whose agent vanishes gets a new attempt on another agent, and failed attempts are retried
   * up to {@link RetryPolicy#maxAttempts()}; the command must be idempotent (it receives {@code
   * PAXCRON_RUN_ID} and {@code PAXCRON_ATTEMPT}).
   */
  AT_LEAST_ONCE
}
