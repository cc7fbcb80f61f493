package io.paxcron.paxos.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.KeyValueStateMachine;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.StateMachine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A single-replica {@link ReplicaNode} over an in-memory store: the snapshot is encoded on the
 * snapshot thread while the loop keeps applying, it holds exactly the state at its slot, and a
 * crash between the image and the durable write leaves a store the replica recovers from. The
 * encoding is held by a gate the test opens, so the interleaving is fixed, not timed.
 */
final class ReplicaSnapshotTest {

  private static final long CLIENT = 7;
  private static final int SNAPSHOT_EVERY = 5;

  /** A store in memory with the store's semantics (LogStore, SimDisk): each write is atomic. */
  private static final class MemoryDurability implements Durability {
    private Ballot promised = Ballot.ZERO;
    private Snapshot snapshot = Snapshot.EMPTY;
    private final TreeMap<Long, LogEntry> log = new TreeMap<>();

    MemoryDurability() {}

    MemoryDurability(DurableState state) {
      promised = state.promised();
      snapshot = state.snapshot();
      state.log().forEach(entry -> log.put(entry.slot(), entry));
    }

    @Override
    public synchronized DurableState load() {
      return new DurableState(promised, snapshot, List.copyOf(log.values()));
    }

    /** Whether a written snapshot's image is marked readable from here, as LogStore does. */
    boolean storesImages;

    @Override
    public synchronized CompletableFuture<Void> write(Persist persist) {
      if (persist.snapshot() != null && persist.snapshot().slot() > snapshot.slot()) {
        if (storesImages) {
          byte[] kept = persist.snapshot().data().clone();
          persist
              .snapshot()
              .image()
              .storedIn(
                  (offset, length) ->
                      Arrays.copyOfRange(kept, (int) offset, (int) (offset + length)));
        }
        snapshot = persist.snapshot();
        log.headMap(snapshot.slot(), true).clear();
      }
      for (LogEntry entry : persist.entries()) {
        if (entry.slot() > snapshot.slot()) {
          log.put(entry.slot(), entry);
        }
      }
      if (persist.promised() != null && persist.promised().isAbove(promised)) {
        promised = persist.promised();
      }
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {}
  }

  /**
   * A key-value machine whose first image is encoded only once {@code gate} opens, and any later
   * one once {@code later} opens (so that one snapshot is under test).
   */
  private static final class GatedMachine implements StateMachine {
    final KeyValueStateMachine inner = new KeyValueStateMachine();
    final CompletableFuture<Void> gate = new CompletableFuture<>();
    final CompletableFuture<Void> later = new CompletableFuture<>();
    private int images;
    final CompletableFuture<Integer> imageTaken = new CompletableFuture<>();
    final CompletableFuture<String> encodedOn = new CompletableFuture<>();

    @Override
    public byte[] apply(long slot, byte[] command) {
      return inner.apply(slot, command);
    }

    @Override
    public byte[] snapshot() {
      return inner.snapshot();
    }

    @Override
    public Image image() {
      Image taken = inner.image();
      imageTaken.complete(inner.view().size());
      CompletableFuture<Void> opens = images++ == 0 ? gate : later;
      return () -> {
        opens.join();
        encodedOn.complete(Thread.currentThread().getName());
        return taken.encode();
      };
    }

    @Override
    public void restore(byte[] snapshot) {
      inner.restore(snapshot);
    }
  }

  private static final class Node implements AutoCloseable {
    final ReplicaNode node;
    final CompletableFuture<Void> leading = new CompletableFuture<>();
    final CompletableFuture<Snapshot> durableSnapshot = new CompletableFuture<>();
    long sequence;

    Node(Durability durability, StateMachine machine, long firstSequence) {
      PaxosConfig paxos = PaxosConfig.defaults(ReplicaId.of(1), List.of(ReplicaId.of(1)));
      ReplicaSettings settings = new ReplicaSettings(paxos, 5, SNAPSHOT_EVERY, 64L << 20, 100);
      node =
          new ReplicaNode(
              settings,
              durability,
              new PeerNetwork() {
                @Override
                public void start(PeerNetwork.Inbound inbound) {}

                @Override
                public void send(io.paxcron.paxos.Envelope envelope) {}

                @Override
                public void close() {}
              },
              durableSnapshot::complete,
              machine,
              request -> request,
              error -> {});
      node.observe(
          new ReplicaObserver() {
            @Override
            public void onLeaderChanged(int leaderId) {
              if (leaderId == 1) {
                leading.complete(null);
              }
            }
          });
      sequence = firstSequence;
      node.start();
      leading.orTimeout(30, TimeUnit.SECONDS).join();
    }

    /** Puts {@code key=value} through the log; returns the slot it was applied in. */
    long put(String key, String value) {
      long mine = ++sequence;
      for (int attempt = 0; ; attempt++) {
        try {
          return node.propose(CLIENT, mine, KeyValueStateMachine.put(key, value))
              .orTimeout(30, TimeUnit.SECONDS)
              .join()
              .slot();
        } catch (java.util.concurrent.CompletionException e) {
          // A replica that knows itself leader may still be in phase 1 for its first proposal.
          if (!(e.getCause() instanceof ReplicaNode.NotLeaderException) || attempt > 1_000) {
            throw e;
          }
        }
      }
    }

    @Override
    public void close() {
      node.close();
    }
  }

  /**
   * The log between snapshots is four times the last snapshot's size, from 4 MiB up to the
   * configured bound: a small state's log stays short, a large state's keeps the bound, and before
   * the first snapshot (size unknown) the bound applies.
   */
  @Test
  void aSnapshotIsDueAfterFourTimesTheLastSnapshotsSizeOfLogWithinTheBounds() {
    long cap = 64L << 20;
    assertEquals(cap, ReplicaNode.snapshotDueBytes(Long.MAX_VALUE, cap), "before the first");
    assertEquals(4L << 20, ReplicaNode.snapshotDueBytes(300_000, cap), "a small state");
    assertEquals(8L << 20, ReplicaNode.snapshotDueBytes(2L << 20, cap));
    assertEquals(cap, ReplicaNode.snapshotDueBytes(20L << 20, cap), "a large state");
    assertEquals(cap, ReplicaNode.snapshotDueBytes(300L << 20, cap), "a million jobs");
    assertEquals(1_000, ReplicaNode.snapshotDueBytes(10, 1_000), "a bound under 4 MiB holds");
    assertEquals(1_000, ReplicaNode.snapshotDueBytes(0, 1_000));
  }

  @Test
  void snapshotIsEncodedOffTheLoopWhileCommandsKeepApplyingAndHoldsTheStateAtItsSlot() {
    MemoryDurability disk = new MemoryDurability();
    GatedMachine machine = new GatedMachine();
    try (Node replica = new Node(disk, machine, 0)) {
      for (int i = 0; i < SNAPSHOT_EVERY; i++) {
        replica.put("k" + i, "v" + i);
      }
      int keysInImage = machine.imageTaken.orTimeout(30, TimeUnit.SECONDS).join();
      // The encoding waits for the gate; the loop goes on applying and answering.
      for (int i = SNAPSHOT_EVERY; i < 3 * SNAPSHOT_EVERY; i++) {
        replica.put("k" + i, "v" + i);
      }
      DurableState beforeEncoded = disk.load();
      assertEquals(
          0, beforeEncoded.snapshot().slot(), "no snapshot is durable before it is encoded");
      assertEquals(1, beforeEncoded.log().get(0).slot(), "the log is whole until then");

      machine.gate.complete(null);
      Snapshot durable = replica.durableSnapshot.orTimeout(30, TimeUnit.SECONDS).join();

      assertTrue(
          machine.encodedOn.join().endsWith("-snapshot"), "encoded on " + machine.encodedOn.join());
      DurableState after = disk.load();
      assertEquals(durable.slot(), after.snapshot().slot());
      assertTrue(after.log().isEmpty() || after.log().get(0).slot() == durable.slot() + 1);
      // A replica that applied only up to the snapshot's slot holds exactly what it encodes.
      KeyValueStateMachine reference = new KeyValueStateMachine();
      SessionStateMachine upToSlot = new SessionStateMachine(reference, 100);
      for (LogEntry entry : beforeEncoded.log()) {
        if (entry.slot() <= durable.slot()) {
          // Every slot up to the snapshot was applied, so chosen, whether or not its mark was kept.
          upToSlot.apply(new LogEntry(entry.slot(), entry.ballot(), entry.value(), true));
        }
      }
      assertEquals(keysInImage, reference.view().size());
      assertArrayEquals(upToSlot.snapshot().data(), after.snapshot().data());
      KeyValueStateMachine restored = new KeyValueStateMachine();
      new SessionStateMachine(restored, 100).restore(after.snapshot());
      assertEquals(reference.view(), restored.view());
      assertTrue(
          restored.view().size() < 3 * SNAPSHOT_EVERY,
          "the state moved on after the image: " + restored.view().size() + " keys");
    } finally {
      machine.later.complete(null);
    }
  }

  @Test
  void aSnapshotOnceDurableLeavesTheHeapAndIsReadBackFromTheStore() {
    MemoryDurability disk = new MemoryDurability();
    disk.storesImages = true;
    GatedMachine machine = new GatedMachine();
    machine.gate.complete(null);
    try (Node replica = new Node(disk, machine, 0)) {
      for (int i = 0; i < SNAPSHOT_EVERY; i++) {
        replica.put("k" + i, "v" + i);
      }
      Snapshot durable = replica.durableSnapshot.orTimeout(30, TimeUnit.SECONDS).join();

      // The backup sink runs once the write is durable; the replica dropped its copy by then.
      assertFalse(durable.image().inMemory(), "the replica still holds the durable image");
      KeyValueStateMachine restored = new KeyValueStateMachine();
      new SessionStateMachine(restored, 100).restore(durable);
      assertEquals(SNAPSHOT_EVERY, restored.view().size());
    } finally {
      machine.later.complete(null);
    }
  }

  @Test
  void crashBetweenImageAndDurableWriteLeavesARecoverableStore() {
    MemoryDurability disk = new MemoryDurability();
    GatedMachine machine = new GatedMachine();
    Node crashed = new Node(disk, machine, 0);
    Map<String, String> written = new TreeMap<>();
    List<Long> slots = new ArrayList<>();
    for (int i = 0; i < 2 * SNAPSHOT_EVERY; i++) {
      slots.add(crashed.put("k" + i, "v" + i));
      written.put("k" + i, "v" + i);
    }
    machine.imageTaken.orTimeout(30, TimeUnit.SECONDS).join();
    // The process dies with the image taken and not yet written.
    crashed.close();
    DurableState left = disk.load();
    machine.gate.complete(null);
    machine.later.complete(null);
    assertEquals(0, left.snapshot().slot(), "the crash left the previous snapshot in place");
    assertEquals(1, left.log().get(0).slot(), "and the whole log above it");

    KeyValueStateMachine recovered = new KeyValueStateMachine();
    try (Node restarted = new Node(new MemoryDurability(left), recovered, crashed.sequence)) {
      long slot = restarted.put("after", "restart");
      assertTrue(slot > slots.get(slots.size() - 1));
      written.put("after", "restart");
      CompletableFuture<Map<String, String>> state = new CompletableFuture<>();
      restarted.node.runOnLoop(() -> state.complete(Map.copyOf(recovered.view())));
      assertEquals(written, new TreeMap<>(state.orTimeout(30, TimeUnit.SECONDS).join()));
    }
  }
}
