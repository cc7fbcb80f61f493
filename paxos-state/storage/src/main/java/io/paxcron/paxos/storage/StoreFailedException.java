package io.paxcron.paxos.storage;

import java.nio.file.Path;

/**
 * A write to the store failed (disk full, I/O error, a broken invariant in the writer), so the
 * store no longer knows what is durable. The failing write and every later write complete
 * exceptionally with this exception. The caller must stop the replica: an acceptor that cannot
 * persist its promises and accepted values must not answer anyone (DESIGN §3, "a failed write stops
 * the replica"). Restarting re-reads the disk, which is authoritative.
 */
public final class StoreFailedException extends StoreException {
  private static final long serialVersionUID = 1L;

  public StoreFailedException(Path dataDir, String message, Throwable cause) {
    super(Problem.STORE_FAILED, dataDir, message, cause);
  }
}
