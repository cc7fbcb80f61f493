package io.paxcron.scheduler;

import java.util.List;
import java.util.Objects;

/**
 * The answer the state machine gives a command's client (encoded by {@link CronCodec}).
 *
 * @param status what happened
 * @param version for job commands: the job's version after the command, or the current version on a
 *     conflict; 0 when the job does not exist or the command is not about a job definition
 * @param message a sentence for the operator, empty when {@link Status#APPLIED}
 * @param errors for {@link Status#INVALID}: every problem with the request
 */
public record CommandResult(Status status, long version, String message, List<FieldError> errors) {

  public CommandResult {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(message, "message");
    errors = List.copyOf(errors);
  }

  /** What applying a command did. */
  public enum Status {
    /** The command changed the state. */
    APPLIED,
    /** The command repeats one already applied (a retried report or proposal); nothing changed. */
    DUPLICATE,
    /** The expected version did not match; {@code version} names the current one. */
    CONFLICT,
    /** The job does not exist. */
    NOT_FOUND,
    /** The request is invalid; {@code errors} says why. Nothing changed. */
    INVALID,
    /**
     * The command is well-formed but not allowed in the current state (e.g. an intent for a run
     * that is not due).
     */
    REJECTED,
    /** The bytes are not a command of a known format version. */
    MALFORMED
  }

  static CommandResult applied(long version) {
    return new CommandResult(Status.APPLIED, version, "", List.of());
  }

  static CommandResult duplicate(String message) {
    return new CommandResult(Status.DUPLICATE, 0, message, List.of());
  }

  static CommandResult rejected(String message) {
    return new CommandResult(Status.REJECTED, 0, message, List.of());
  }

  static CommandResult notFound(JobName job) {
    return new CommandResult(Status.NOT_FOUND, 0, "job '" + job + "' does not exist", List.of());
  }

  static CommandResult invalid(List<FieldError> errors) {
    return new CommandResult(Status.INVALID, 0, errors.size() + " problem(s): " + errors, errors);
  }

  public boolean applied() {
    return status == Status.APPLIED;
  }
}
