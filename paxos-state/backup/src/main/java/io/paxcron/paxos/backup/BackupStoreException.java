package io.paxcron.paxos.backup;

/**
 * A backup store operation that failed, and why. The message names the store (its URL, never a
 * credential) and the object.
 */
public final class BackupStoreException extends Exception {
  private static final long serialVersionUID = 1L;

  /** What went wrong, for callers that react differently (an existing object is not an outage). */
  public enum Kind {
    /** The store cannot be reached or answered with a server error: retry later. */
    UNAVAILABLE,
    /** The object does not exist. */
    NOT_FOUND,
    /** A write-once object already exists. */
    EXISTS,
    /** The object is larger than the caller accepts. */
    TOO_LARGE,
    /** The store refused the request (permissions, bad bucket, bad configuration). */
    REFUSED
  }

  private final Kind kind;

  public BackupStoreException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public BackupStoreException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
