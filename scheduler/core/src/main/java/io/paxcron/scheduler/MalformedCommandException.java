package io.paxcron.scheduler;

/**
 * An operating error: bytes that are not a command, result or snapshot of a known format version.
 * The state machine answers such a command with {@link CommandResult.Status#MALFORMED}.
 */
public final class MalformedCommandException extends io.paxcron.paxos.RecordFormatException {
  private static final long serialVersionUID = 1L;

  public MalformedCommandException(String message) {
    super(message);
  }

  public MalformedCommandException(String message, Throwable cause) {
    super(message, cause);
  }
}
