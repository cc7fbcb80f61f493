package io.paxcron.paxos.replica;

import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Persist;
import java.util.concurrent.CompletableFuture;

/**
 * Where a replica's promise, log and snapshot live (RocksDB in production). Writes complete in the
 * order they were made; a write completes only once it is synced to stable storage; a failed write
 * completes exceptionally and every later one too (the replica then stops).
 */
public interface Durability extends AutoCloseable {

  DurableState load();

  CompletableFuture<Void> write(Persist persist);

  @Override
  void close();
}
