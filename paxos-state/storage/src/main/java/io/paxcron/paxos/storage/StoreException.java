package io.paxcron.paxos.storage;

import java.nio.file.Path;

/**
 * An operating error of the durable store: the data directory, a backup or a restore cannot be used
 * as it is. The message always names the file or directory and the problem; {@link #problem()} lets
 * a caller (the server's start-up, the restore CLI) react without parsing it. Nothing is ever
 * repaired or skipped silently: a replica that gets one of these at start-up refuses to start.
 */
public class StoreException extends Exception {
  private static final long serialVersionUID = 1L;

  /** What is wrong, one constant per kind of refusal. */
  public enum Problem {
    /** The data directory (or backup directory) cannot be read, listed or created. */
    UNREADABLE_DIRECTORY,
    /** The data directory (or backup directory) cannot be written. */
    UNWRITABLE_DIRECTORY,
    /** A directory that should be empty, or hold a store, holds something else. */
    UNEXPECTED_CONTENT,
    /** A column family the layout requires is absent, or one it does not know is present. */
    MISSING_COLUMN_FAMILY,
    /** The store was written by a different storage format version. */
    FORMAT_VERSION_MISMATCH,
    /** The store belongs to another cluster. */
    CLUSTER_ID_MISMATCH,
    /** The store belongs to another replica of this cluster. */
    REPLICA_ID_MISMATCH,
    /** A record (or backup file) failed its checksum, framing or decoding. */
    CORRUPT_RECORD,
    /** No backup in the backup directory verifies. */
    NO_VALID_BACKUP,
    /** The operating system or RocksDB reported an I/O error. */
    IO_ERROR,
    /** The store has failed a write and accepts no more (see {@link StoreFailedException}). */
    STORE_FAILED
  }

  private final Problem problem;
  private final transient Path location;

  public StoreException(Problem problem, Path location, String message) {
    this(problem, location, message, null);
  }

  public StoreException(Problem problem, Path location, String message, Throwable cause) {
    super(location + ": " + message, cause);
    this.problem = problem;
    this.location = location;
  }

  public Problem problem() {
    return problem;
  }

  /** The file or directory the problem was found in. */
  public Path location() {
    return location;
  }
}
