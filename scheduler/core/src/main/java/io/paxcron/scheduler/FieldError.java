package io.paxcron.scheduler;

import java.util.Objects;

/**
 * One problem with a request, as the API reports it: the path of the field (e.g. {@code
 * retries.maxAttempts}, {@code env[PATH]}, {@code command.argv[0]}) and the reason.
 *
 * @param path the field path in the job spec
 * @param reason what is wrong, naming the limit when a limit was exceeded
 */
public record FieldError(String path, String reason) {
  public FieldError {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(reason, "reason");
  }

  /** The message shown to users, e.g. {@code retries.maxAttempts: must be 1..100, got 0}. */
  @Override
  public String toString() {
    return path + ": " + reason;
  }
}
