package io.paxcron.paxos.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.KeyValueStateMachine;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.Value;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A follower's {@code Accepted} leaves the moment its write is durable, from the thread that
 * learned it durable, not after a trip back through the replica's loop (two thread hand-offs fewer
 * on every command's path, docs/performance.md), and never before; and the consensus thread takes
 * and acknowledges Accepts while the loop (the state machine, the host's tasks) is held. The
 * store's writes are futures the test completes and the loop is held by a task the test releases,
 * so the interleaving is fixed, not timed.
 */
final class ReplicaSendsAfterSyncTest {

  private static final Ballot LEADERS = new Ballot(1, 1);

  /** A store whose writes become durable when the test says so. */
  private static final class GatedDurability implements Durability {
    final LinkedBlockingQueue<Write> writes = new LinkedBlockingQueue<>();

    record Write(Persist persist, CompletableFuture<Void> durable) {}

    /**
     * The write that carries the entry for {@code slot}; any other write met first (the replica's
     * own bookkeeping) is made durable on the way.
     */
    CompletableFuture<Void> writeOf(long slot) throws InterruptedException {
      while (true) {
        Write write = writes.poll(30, TimeUnit.SECONDS);
        if (write == null) {
          throw new AssertionError("no write of slot " + slot + " within 30 s");
        }
        if (write.persist().entries().stream().anyMatch(e -> e.slot() == slot && !e.chosen())) {
          return write.durable();
        }
        write.durable().complete(null);
      }
    }

    @Override
    public DurableState load() {
      return new DurableState(Ballot.ZERO, Snapshot.EMPTY, List.of());
    }

    @Override
    public CompletableFuture<Void> write(Persist persist) {
      CompletableFuture<Void> durable = new CompletableFuture<>();
      writes.add(new Write(persist, durable));
      return durable;
    }

    @Override
    public void close() {}
  }

  /** Records what the replica sends; hands the test the inbound side. */
  private static final class Recorder implements PeerNetwork {
    final List<Envelope> sent = new CopyOnWriteArrayList<>();
    final CompletableFuture<PeerNetwork.Inbound> inbound = new CompletableFuture<>();

    @Override
    public void start(PeerNetwork.Inbound inbound) {
      this.inbound.complete(inbound);
    }

    final java.util.Map<Long, CompletableFuture<Void>> acknowledged =
        new java.util.concurrent.ConcurrentHashMap<>();

    /** The thread each slot's Accepted was sent from. */
    final java.util.Map<Long, Thread> acceptedOn = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void send(Envelope envelope) {
      sent.add(envelope);
      if (envelope.message() instanceof Message.Accepted accepted) {
        accepted.slots().forEach(slot -> acceptedOn.put(slot, Thread.currentThread()));
        accepted.slots().forEach(slot -> acknowledgedSlot(slot).complete(null));
      }
    }

    /** Completes once an Accepted for {@code slot} was sent. */
    CompletableFuture<Void> acknowledgedSlot(long slot) {
      return acknowledged.computeIfAbsent(slot, s -> new CompletableFuture<>());
    }

    @Override
    public void close() {}

    List<Long> acceptedSlots() {
      return sent.stream()
          .filter(e -> e.message() instanceof Message.Accepted)
          .flatMap(e -> ((Message.Accepted) e.message()).slots().stream())
          .toList();
    }
  }

  /** Waits (bounded) until nothing is queued for or running on either of the replica's threads. */
  private static void awaitIdle(ReplicaNode replica) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!replica.idle()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the replica never became idle");
      }
      Thread.onSpinWait();
    }
  }

  private static Message.Accept accept(long slot) {
    Command command = new Command(7, slot, KeyValueStateMachine.put("k" + slot, "v"));
    LogEntry entry = new LogEntry(slot, LEADERS, new Value.Batch(List.of(command)), false);
    // Nothing is known chosen yet, so each Accept makes exactly one write.
    return new Message.Accept(LEADERS, List.of(entry), 1, 0, 0);
  }

  /** Replica 2 of three, a follower until it hears from replica 1. */
  private static ReplicaNode follower(Durability disk, PeerNetwork network) {
    return follower(disk, network, new KeyValueStateMachine());
  }

  private static ReplicaNode follower(
      Durability disk, PeerNetwork network, io.paxcron.paxos.StateMachine stateMachine) {
    List<ReplicaId> members = List.of(ReplicaId.of(1), ReplicaId.of(2), ReplicaId.of(3));
    ReplicaSettings settings =
        new ReplicaSettings(
            PaxosConfig.defaults(ReplicaId.of(2), members), 5, 1_000_000, 1L << 30, 100);
    return new ReplicaNode(
        settings, disk, network, snapshot -> {}, stateMachine, request -> request, error -> {});
  }

  /** A key-value state machine that records the thread each slot was applied on. */
  private static final class ThreadRecordingStateMachine implements io.paxcron.paxos.StateMachine {
    final KeyValueStateMachine state = new KeyValueStateMachine();
    final java.util.Map<Long, Thread> appliedOn = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public byte[] apply(long slot, byte[] command) {
      appliedOn.put(slot, Thread.currentThread());
      return state.apply(slot, command);
    }

    @Override
    public byte[] snapshot() {
      return state.snapshot();
    }

    @Override
    public void restore(byte[] snapshot) {
      state.restore(snapshot);
    }
  }

  @Test
  void entriesAStepLearnsChosenAreAppliedByThatStepWhenTheLoopIsIdleAndListenersStayOnTheLoop()
      throws Exception {
    Recorder network = new Recorder();
    ThreadRecordingStateMachine stateMachine = new ThreadRecordingStateMachine();
    ReplicaNode follower = follower(new InstantDurability(), network, stateMachine);
    java.util.Set<String> listenerThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
    try {
      follower.onApplied(() -> listenerThreads.add(Thread.currentThread().getName()));
      follower.start();
      PeerNetwork.Inbound inbound = network.inbound.get(30, TimeUnit.SECONDS);
      // Each Accept tells the follower every slot below it is chosen: the step that takes it
      // applies the one before, on the caller's thread, while the loop is idle (most of 20; a tick
      // or a listener's task on the loop sends it to the loop now and then).
      int appliedHere = 0;
      for (long slot = 1; slot <= 21; slot++) {
        awaitIdle(follower);
        Command command = new Command(7, slot, KeyValueStateMachine.put("k" + slot, "v"));
        LogEntry entry = new LogEntry(slot, LEADERS, new Value.Batch(List.of(command)), false);
        inbound.onMessage(1, new Message.Accept(LEADERS, List.of(entry), slot, 0, 0), true);
        network.acknowledgedSlot(slot).get(30, TimeUnit.SECONDS);
        if (slot > 1 && stateMachine.appliedOn.get(slot - 1) == Thread.currentThread()) {
          appliedHere++;
        }
      }
      assertTrue(appliedHere >= 10, "only " + appliedHere + " of 20 slots were applied here");
      // The host's listeners never run on the network's thread: they are the loop's.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (follower.status().appliedSlot() < 20 || listenerThreads.isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("slot 20 was never applied, or no listener ran");
        }
        Thread.onSpinWait();
      }
      follower.runOnLoop(() -> {}); // after every listener task queued so far
      CompletableFuture<Void> loopDone = new CompletableFuture<>();
      follower.runOnLoop(() -> loopDone.complete(null));
      loopDone.get(30, TimeUnit.SECONDS);
      assertEquals(java.util.Set.of("replica-2-loop"), listenerThreads);
    } finally {
      follower.close();
    }
  }

  @Test
  void aFollowersAcceptedLeavesWhenItsWriteIsDurableEvenWhileTheLoopIsBusy() throws Exception {
    GatedDurability disk = new GatedDurability();
    Recorder network = new Recorder();
    ReplicaNode follower = follower(disk, network);
    try {
      follower.start();
      PeerNetwork.Inbound inbound = network.inbound.get(30, TimeUnit.SECONDS);

      inbound.onMessage(1, accept(1), false);
      CompletableFuture<Void> firstWrite = disk.writeOf(1);
      assertEquals(List.of(), network.acceptedSlots(), "nothing is acknowledged before the sync");

      // The loop is busy (applying a large slot, say) when the write becomes durable.
      CompletableFuture<Void> loopHeld = new CompletableFuture<>();
      CompletableFuture<Void> releaseLoop = new CompletableFuture<>();
      follower.runOnLoop(
          () -> {
            loopHeld.complete(null);
            releaseLoop.join();
          });
      loopHeld.get(30, TimeUnit.SECONDS);
      firstWrite.complete(null);
      // It leaves from the thread that completes the sync, or from the consensus thread if that
      // completion overtook the step's registration for it; either way, while the loop is held.
      network.acknowledgedSlot(1).get(30, TimeUnit.SECONDS);
      assertEquals(
          List.of(1L),
          network.acceptedSlots(),
          "the Accepted left with the sync, without waiting for the loop");
      releaseLoop.complete(null);

      // The next one is not acknowledged before its own sync either. (Whether it then leaves from
      // the writer or from the loop depends on whether the loop still owes an earlier step's
      // messages, such as a tick's, which leave first: it is waited for, not timed.)
      inbound.onMessage(1, accept(2), false);
      CompletableFuture<Void> secondWrite = disk.writeOf(2);
      assertEquals(List.of(1L), network.acceptedSlots());
      secondWrite.complete(null);
      network.acknowledgedSlot(2).get(30, TimeUnit.SECONDS);
      assertEquals(List.of(1L, 2L), network.acceptedSlots());
    } finally {
      follower.close();
    }
  }

  @Test
  void anAcceptTheNetworkMayHandleItselfIsAnsweredOnItsThreadWhenTheReplicaIsIdle()
      throws Exception {
    Recorder network = new Recorder();
    ReplicaNode follower = follower(new InstantDurability(), network);
    try {
      follower.start();
      PeerNetwork.Inbound inbound = network.inbound.get(30, TimeUnit.SECONDS);
      // Handed over with mayRunHere, an Accept reaching an idle replica is written and answered
      // before the call returns, on the caller's thread. The replica's ticks (every 5 ms) make it
      // busy now and then, and then the Accept is queued like any other: most of 20 run here.
      // Each is handed over once the replica is idle, as a leader's next Accept comes a network
      // round trip after the Accepted; without the wait, the next one arrives while the step
      // that sent the Accepted from the consensus thread is still finishing, and every one after
      // the first queued is queued too.
      int ranHere = 0;
      for (long slot = 1; slot <= 20; slot++) {
        awaitIdle(follower);
        inbound.onMessage(1, accept(slot), true);
        network.acknowledgedSlot(slot).get(30, TimeUnit.SECONDS);
        if (network.acceptedOn.get(slot) == Thread.currentThread()) {
          ranHere++;
        }
      }
      assertTrue(ranHere >= 10, "only " + ranHere + " of 20 Accepts were answered here");
      // Without it, never: the consensus thread takes every one.
      for (long slot = 21; slot <= 25; slot++) {
        inbound.onMessage(1, accept(slot), false);
        network.acknowledgedSlot(slot).get(30, TimeUnit.SECONDS);
        assertTrue(
            network.acceptedOn.get(slot) != Thread.currentThread(),
            "slot " + slot + " was answered on the network's thread");
      }
      assertEquals(
          java.util.stream.LongStream.rangeClosed(1, 25).boxed().toList(),
          network.acceptedSlots(),
          "every Accept is acknowledged once, in order");
    } finally {
      follower.close();
    }
  }

  @Test
  void aFollowerWhoseLoopIsHeldStillAcceptsAndAcknowledges() throws Exception {
    GatedDurability disk = new GatedDurability();
    Recorder network = new Recorder();
    ReplicaNode follower = follower(disk, network);
    CompletableFuture<Void> releaseLoop = new CompletableFuture<>();
    try {
      follower.start();
      PeerNetwork.Inbound inbound = network.inbound.get(30, TimeUnit.SECONDS);

      // The loop runs a long task of the host's (the dispatcher, a query) for the whole test.
      CompletableFuture<Void> loopHeld = new CompletableFuture<>();
      follower.runOnLoop(
          () -> {
            loopHeld.complete(null);
            releaseLoop.join();
          });
      loopHeld.get(30, TimeUnit.SECONDS);

      // The core still takes each Accept, writes it and acknowledges it once durable: the
      // leader's lease and its commands do not wait for the follower's loop.
      for (long slot = 1; slot <= 3; slot++) {
        inbound.onMessage(1, accept(slot), false);
        disk.writeOf(slot).complete(null);
        network.acknowledgedSlot(slot).get(30, TimeUnit.SECONDS);
      }
      assertEquals(List.of(1L, 2L, 3L), network.acceptedSlots());
    } finally {
      releaseLoop.complete(null);
      follower.close();
    }
  }

  /**
   * A store that writes on the caller when asked to ({@link Durability#writeHere}) and otherwise
   * completes each write a moment later on a thread of its own, as the real store's writer does.
   */
  private static final class HereDurability implements Durability {
    final java.util.concurrent.atomic.AtomicInteger writtenHere =
        new java.util.concurrent.atomic.AtomicInteger();
    final java.util.concurrent.ExecutorService writer =
        java.util.concurrent.Executors.newSingleThreadExecutor();

    @Override
    public DurableState load() {
      return new DurableState(Ballot.ZERO, Snapshot.EMPTY, List.of());
    }

    @Override
    public CompletableFuture<Void> write(Persist persist) {
      return CompletableFuture.runAsync(() -> {}, writer);
    }

    @Override
    public CompletableFuture<Void> writeHere(Persist persist) {
      writtenHere.incrementAndGet();
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
      writer.shutdownNow();
    }
  }

  @Test
  void aStepWrittenOnTheConsensusThreadIsAcknowledgedAndApplied() throws Exception {
    HereDurability disk = new HereDurability();
    Recorder network = new Recorder();
    ReplicaNode follower = follower(disk, network);
    try {
      follower.start();
      PeerNetwork.Inbound inbound = network.inbound.get(30, TimeUnit.SECONDS);

      for (long slot = 1; slot <= 4; slot++) {
        // Each Accept tells the follower every slot below it is chosen.
        Command command = new Command(7, slot, KeyValueStateMachine.put("k" + slot, "v"));
        LogEntry entry = new LogEntry(slot, LEADERS, new Value.Batch(List.of(command)), false);
        inbound.onMessage(1, new Message.Accept(LEADERS, List.of(entry), slot, 0, 0), false);
        network.acknowledgedSlot(slot).get(30, TimeUnit.SECONDS);
      }
      assertEquals(List.of(1L, 2L, 3L, 4L), network.acceptedSlots());
      // A write made on the consensus thread is durable when it returns: the step is released
      // there, so what it learned chosen reaches the state machine.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (follower.status().appliedSlot() < 3 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertEquals(3, follower.status().appliedSlot(), "slots 1-3 were chosen and must be applied");
      org.junit.jupiter.api.Assertions.assertTrue(
          disk.writtenHere.get() > 0, "an idle follower writes its Accepts on its own thread");
    } finally {
      follower.close();
      disk.close();
    }
  }
}
