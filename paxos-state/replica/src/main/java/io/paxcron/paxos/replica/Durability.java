package io.paxcron.paxos.replica;

import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Snapshot;
import java.util.concurrent.CompletableFuture;

/**
 * Where a replica's promise, log and snapshot live (RocksDB in production). Writes complete in the
 * order they were made; a write completes only once it is synced to stable storage; a failed write
 * completes exceptionally and every later one too (the replica then stops).
 */
public interface Durability extends AutoCloseable {

  DurableState load();

  CompletableFuture<Void> write(Persist persist);

  /**
   * Like {@link #write}, but the durability may carry the write out on the calling thread when
   * nothing written before it is still outstanding, and return a completed future: the caller has
   * nothing to do until it is durable and is spared the hand-offs. Order is kept as for {@link
   * #write}. By default, {@link #write}.
   */
  default CompletableFuture<Void> writeHere(Persist persist) {
    return write(persist);
  }

  /**
   * Writes the bulk of {@code snapshot} ahead of the {@link #write} that will install it, on the
   * calling thread (the replica's snapshot thread), so that write stays small; the later write must
   * carry a snapshot with the same {@code data} array. Nothing by default. Throws if the store
   * failed or is closed.
   */
  default void stage(Snapshot snapshot) {}

  @Override
  void close();
}
