package io.paxcron.scheduler;

import java.util.Objects;

/** The terminal outcome of a scheduled instant in the run ledger (DESIGN §1 promise 3). */
public sealed interface Outcome {

  /**
   * Whether an agent ran the command and reported this outcome (rather than the scheduler deciding
   * it).
   */
  default boolean reportedByAgent() {
    return this instanceof Succeeded || this instanceof Failed || this instanceof TimedOut;
  }

  /** Whether another attempt may follow (at-least-once jobs with attempts left). */
  default boolean isFailure() {
    return this instanceof Failed || this instanceof TimedOut;
  }

  /** The command exited with status 0. */
  record Succeeded() implements Outcome {
    @Override
    public String toString() {
      return "SUCCEEDED";
    }
  }

  /** The command exited with a non-zero status (or was killed; the agent reports 128 + signal). */
  record Failed(int exitCode) implements Outcome {
    @Override
    public String toString() {
      return "FAILED(" + exitCode + ")";
    }
  }

  /** The agent stopped the command when the job's timeout elapsed. */
  record TimedOut() implements Outcome {
    @Override
    public String toString() {
      return "TIMED_OUT";
    }
  }

  /** The instant did not run. */
  record Skipped(SkipReason reason) implements Outcome {
    public Skipped {
      Objects.requireNonNull(reason, "reason");
    }

    @Override
    public String toString() {
      return "SKIPPED(" + reason + ")";
    }
  }

  /**
   * An at-most-once run whose agent vanished: it may or may not have run, and is never launched
   * again.
   */
  record Lost() implements Outcome {
    @Override
    public String toString() {
      return "LOST";
    }
  }

  Outcome SUCCEEDED = new Succeeded();
  Outcome TIMED_OUT = new TimedOut();
  Outcome LOST = new Lost();

  static Outcome failed(int exitCode) {
    return new Failed(exitCode);
  }

  static Outcome skipped(SkipReason reason) {
    return new Skipped(reason);
  }
}
