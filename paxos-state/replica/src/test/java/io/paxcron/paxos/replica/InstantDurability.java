package io.paxcron.paxos.replica;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Snapshot;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A store that starts empty and makes every write durable at once, on no disk. */
final class InstantDurability implements Durability {
  @Override
  public DurableState load() {
    return new DurableState(Ballot.ZERO, Snapshot.EMPTY, List.of());
  }

  @Override
  public CompletableFuture<Void> write(Persist persist) {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void close() {}
}
