package io.paxcron.paxos.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.KeyValueStateMachine;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.PaxosReplica;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.Value;
import io.paxcron.proto.v1.ProposeRequest;
import io.paxcron.proto.v1.ProposeStreamReply;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A leader whose proposal carries a lone command, with nothing else in flight or waiting, sends its
 * Accepts and then writes the proposal on the thread that made it (its sync overlaps its peers',
 * Raft thesis §10.2.1), sparing the store writer's wake-up and the notice back; a proposal that
 * carries several clients' commands (a sign of load, where the consensus thread has Accepteds and
 * commands to take during the sync and the writer groups writes) goes to the writer. A command
 * proposed by a thread that may step it (the command socket's selector thread) is stepped and
 * written on that thread when the leader is idle; one that may not never is — and the command
 * socket gives that leave only to a command read with nothing behind it on its connection. Three
 * replicas in one process over queues; the stores record how each of their leader's writes was
 * made.
 */
final class LeaderWritesHereTest {

  private static final List<ReplicaId> MEMBERS =
      List.of(ReplicaId.of(1), ReplicaId.of(2), ReplicaId.of(3));

  /** What the three replicas sent; delivered to the addressee's queue unless its sender is held. */
  private static final class Net {
    final Map<Integer, PeerNetwork.Inbound> inbounds = new ConcurrentHashMap<>();
    final List<Envelope> sent = new CopyOnWriteArrayList<>();
    final List<Envelope> held = new ArrayList<>();
    final java.util.Set<Integer> holdFrom = new java.util.HashSet<>();

    PeerNetwork link(int id) {
      return new PeerNetwork() {
        @Override
        public void start(PeerNetwork.Inbound inbound) {
          inbounds.put(id, inbound);
        }

        @Override
        public void send(Envelope envelope) {
          sent.add(envelope);
          synchronized (held) {
            if (holdFrom.contains(envelope.from().value())) {
              held.add(envelope);
              return;
            }
          }
          deliver(envelope);
        }

        @Override
        public void close() {}
      };
    }

    void deliver(Envelope envelope) {
      PeerNetwork.Inbound to = inbounds.get(envelope.to().value());
      if (to != null) {
        to.onMessage(envelope.from().value(), envelope.message(), false);
      }
    }

    /** Holds back everything {@code replica} sends until {@link #release}. */
    void hold(int replica) {
      synchronized (held) {
        holdFrom.add(replica);
      }
    }

    /** Stops holding; returns what was held, for the test to deliver. */
    List<Envelope> release() {
      synchronized (held) {
        holdFrom.clear();
        List<Envelope> out = new ArrayList<>(held);
        held.clear();
        return out;
      }
    }

    /** Whether {@code from} has sent an Accept carrying {@code slot}. */
    boolean acceptSent(int from, long slot) {
      for (Envelope envelope : sent) {
        if (envelope.from().value() == from
            && envelope.message() instanceof Message.Accept accept
            && accept.entries().stream().anyMatch(e -> e.slot() == slot)) {
          return true;
        }
      }
      return false;
    }
  }

  /** How one write of a replica's own proposal was made. */
  private record OwnWrite(
      List<Long> slots, int commands, boolean here, boolean acceptsHadLeft, Thread thread) {}

  /**
   * A store on no disk, written in order: on the caller when asked and nothing is outstanding,
   * otherwise a moment later on a writer thread of its own, as the real store does.
   */
  private static final class Disk implements Durability {
    final int id;
    final Net net;
    final List<OwnWrite> own = new CopyOnWriteArrayList<>();
    final AtomicInteger outstanding = new AtomicInteger();
    final ExecutorService writer = Executors.newSingleThreadExecutor();

    Disk(int id, Net net) {
      this.id = id;
      this.net = net;
    }

    @Override
    public DurableState load() {
      return new DurableState(Ballot.ZERO, Snapshot.EMPTY, List.of());
    }

    @Override
    public synchronized CompletableFuture<Void> write(Persist persist) {
      record(persist, false);
      outstanding.incrementAndGet();
      return CompletableFuture.runAsync(outstanding::decrementAndGet, writer);
    }

    @Override
    public synchronized CompletableFuture<Void> writeHere(Persist persist) {
      if (outstanding.get() > 0) {
        return write(persist);
      }
      record(persist, true);
      return CompletableFuture.completedFuture(null);
    }

    private void record(Persist persist, boolean here) {
      List<Long> slots = new ArrayList<>();
      int commands = 0;
      boolean acceptsLeft = true;
      for (LogEntry entry : persist.entries()) {
        if (!entry.chosen() && entry.ballot().replicaId() == id) {
          slots.add(entry.slot());
          if (entry.value() instanceof Value.Batch batch) {
            commands += batch.commands().size();
          }
          acceptsLeft &= net.acceptSent(id, entry.slot());
        }
      }
      if (!slots.isEmpty()) {
        own.add(new OwnWrite(slots, commands, here, acceptsLeft, Thread.currentThread()));
      }
    }

    @Override
    public void close() {
      writer.shutdownNow();
    }
  }

  private record Cluster(Net net, List<ReplicaNode> nodes, List<Disk> disks)
      implements AutoCloseable {
    static Cluster start() {
      Net net = new Net();
      List<ReplicaNode> nodes = new ArrayList<>();
      List<Disk> disks = new ArrayList<>();
      for (ReplicaId id : MEMBERS) {
        Disk disk = new Disk(id.value(), net);
        ReplicaSettings settings =
            new ReplicaSettings(PaxosConfig.defaults(id, MEMBERS), 5, 1_000_000, 1L << 30, 100);
        nodes.add(
            new ReplicaNode(
                settings,
                disk,
                net.link(id.value()),
                snapshot -> {},
                new KeyValueStateMachine(),
                request -> request,
                error -> {}));
        disks.add(disk);
      }
      nodes.forEach(ReplicaNode::start);
      return new Cluster(net, nodes, disks);
    }

    /** The leader, once one holds its lease (bounded wait). */
    int leader() {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        for (int i = 0; i < nodes.size(); i++) {
          ReplicaNode.Status status = nodes.get(i).status();
          if (status.role() == PaxosReplica.Role.LEADER && status.holdsLease()) {
            return i;
          }
        }
        Thread.onSpinWait();
      }
      throw new AssertionError("no leader within 30 s");
    }

    @Override
    public void close() {
      nodes.forEach(ReplicaNode::close);
      disks.forEach(Disk::close);
    }
  }

  private static void awaitIdle(ReplicaNode replica) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!replica.idle()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the replica never became idle");
      }
      Thread.onSpinWait();
    }
  }

  private static byte[] put(long n) {
    return KeyValueStateMachine.put("k" + n, "v" + n);
  }

  @Test
  void aLoneCommandIsWrittenByTheLeadersOwnThreadAfterItsAcceptsLeft() throws Exception {
    try (Cluster cluster = Cluster.start()) {
      int leader = cluster.leader();
      ReplicaNode node = cluster.nodes().get(leader);
      Disk disk = cluster.disks().get(leader);
      // One client, one command at a time, each handed over when the leader is idle, as a lone
      // client's next command comes a round trip after the answer. A tick now and then queued
      // behind the step sends its write to the writer, so most of 20, not all, are written here.
      for (long n = 1; n <= 20; n++) {
        awaitIdle(node);
        ReplicaNode.Applied applied = node.propose(9, n, put(n)).get(30, TimeUnit.SECONDS);
        assertTrue(applied.slot() > 0);
      }
      List<OwnWrite> writes = disk.own.stream().filter(w -> w.commands() == 1).toList();
      long here = writes.stream().filter(OwnWrite::here).count();
      assertTrue(here >= 10, "only " + here + " of " + writes.size() + " written here: " + writes);
      for (OwnWrite write : writes) {
        assertTrue(
            !write.here() || write.acceptsHadLeft(),
            "a proposal was written here before its Accepts left, so the sync did not overlap"
                + " the peers': "
                + write);
        assertTrue(
            write.thread() != Thread.currentThread(),
            "a command proposed without leave to step here was written on the proposer's thread: "
                + write);
      }
    }
  }

  @Test
  void aLoneCommandFromAThreadThatMayStepHereIsSteppedAndWrittenOnIt() throws Exception {
    try (Cluster cluster = Cluster.start()) {
      int leader = cluster.leader();
      ReplicaNode node = cluster.nodes().get(leader);
      Disk disk = cluster.disks().get(leader);
      // As a command socket's selector thread with nothing read behind the command: the leader's
      // consensus thread is idle, so this thread takes the step, sends the Accepts and writes the
      // proposal itself, and the consensus thread is not woken.
      Thread proposer = Thread.currentThread();
      for (long n = 1; n <= 20; n++) {
        awaitIdle(node);
        ReplicaNode.Applied applied =
            node.propose(9, n, put(n), /* mayStepHere= */ true).get(30, TimeUnit.SECONDS);
        assertTrue(applied.slot() > 0);
      }
      List<OwnWrite> writes = disk.own.stream().filter(w -> w.commands() == 1).toList();
      long onProposer = writes.stream().filter(w -> w.here() && w.thread() == proposer).count();
      assertTrue(
          onProposer >= 10,
          "only " + onProposer + " of " + writes.size() + " written on the proposer: " + writes);
      for (OwnWrite write : writes) {
        assertTrue(
            !write.here() || write.acceptsHadLeft(),
            "a proposal was written before its Accepts left: " + write);
      }
    }
  }

  @Test
  void aProposalCarryingSeveralClientsCommandsGoesToTheWriter() throws Exception {
    try (Cluster cluster = Cluster.start()) {
      int leader = cluster.leader();
      ReplicaNode node = cluster.nodes().get(leader);
      Disk disk = cluster.disks().get(leader);
      // The followers' answers are held, so the first command's slot stays in flight (the window is
      // one slot) while two more clients' commands arrive and wait; once it is chosen, the next
      // slot carries both. Five times: a write still outstanding at the store when the step comes
      // goes to the writer whatever the rule, so one round alone might not tell.
      for (int round = 0; round < 5; round++) {
        for (ReplicaId id : MEMBERS) {
          if (id.value() != leader + 1) {
            cluster.net().hold(id.value());
          }
        }
        awaitIdle(node);
        CompletableFuture<ReplicaNode.Applied> first = node.propose(1, round + 1, put(1));
        awaitIdle(node);
        CompletableFuture<ReplicaNode.Applied> second = node.propose(2, round + 1, put(2));
        CompletableFuture<ReplicaNode.Applied> third = node.propose(3, round + 1, put(3));
        awaitIdle(node);
        // Delivered one at a time, each once the leader is idle: the step that learns the first
        // slot chosen and proposes the next has nothing queued behind it, so only the rule sends
        // its write to the writer.
        for (Envelope envelope : cluster.net().release()) {
          cluster.net().deliver(envelope);
          awaitIdle(node);
        }
        long firstSlot = first.get(30, TimeUnit.SECONDS).slot();
        long nextSlot = second.get(30, TimeUnit.SECONDS).slot();
        assertEquals(nextSlot, third.get(30, TimeUnit.SECONDS).slot(), "one slot carries both");
        assertTrue(nextSlot > firstSlot);
        OwnWrite batch =
            disk.own.stream()
                .filter(w -> w.slots().contains(nextSlot))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no write of slot " + nextSlot));
        assertEquals(2, batch.commands(), batch.toString());
        assertTrue(
            !batch.here(), "a proposal under load was written on the leader's thread: " + batch);
      }
    }
  }

  @Test
  void theCommandSocketStepsOnlyACommandReadWithNothingBehindIt() throws Exception {
    try (Cluster cluster = Cluster.start()) {
      int leader = cluster.leader();
      ReplicaNode node = cluster.nodes().get(leader);
      Disk disk = cluster.disks().get(leader);
      try (CommandSocket commands =
              new CommandSocket(
                  new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                  new LogService(node, Map.of()),
                  source -> null,
                  64,
                  "test-commands");
          Socket client = new Socket(InetAddress.getLoopbackAddress(), commands.port())) {
        client.setTcpNoDelay(true);
        DataInputStream in = new DataInputStream(client.getInputStream());
        OutputStream out = client.getOutputStream();
        long sequence = 0;
        // One command per write, each once the leader is idle: read with nothing behind it, so
        // the socket's selector thread steps it and writes the proposal itself.
        List<Long> loneSlots = new ArrayList<>();
        for (int n = 0; n < 20; n++) {
          awaitIdle(node);
          out.write(frames(9, ++sequence, 1));
          loneSlots.add(readReplies(in, 1).get(sequence));
        }
        // Five commands in one write, each burst once the leader is idle: the first four are read
        // with more behind them and handed to the consensus thread, so the first one's proposal is
        // never written on the selector thread (stepping it there would keep the socket from
        // reading the rest until its sync is done).
        List<Long> firstOfBurst = new ArrayList<>();
        for (int round = 0; round < 10; round++) {
          awaitIdle(node);
          long first = sequence + 1;
          out.write(frames(9, first, 5));
          sequence += 5;
          firstOfBurst.add(readReplies(in, 5).get(first));
        }
        long loneOnSelector =
            disk.own.stream()
                .filter(w -> w.here() && w.thread().getName().equals("test-commands"))
                .filter(w -> w.slots().stream().anyMatch(loneSlots::contains))
                .count();
        assertTrue(
            loneOnSelector >= 10,
            "only " + loneOnSelector + " of 20 lone commands written on the selector: " + disk.own);
        for (long slot : firstOfBurst) {
          for (OwnWrite write : disk.own) {
            assertTrue(
                !write.slots().contains(slot) || !write.thread().getName().equals("test-commands"),
                "a command read with more behind it was stepped and written on the selector: "
                    + write);
          }
        }
      }
    }
  }

  /** {@code count} commands of {@code client}, sequences from {@code first}, as one buffer. */
  private static byte[] frames(long client, long first, int count) throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    for (long s = first; s < first + count; s++) {
      byte[] request =
          ProposeRequest.newBuilder()
              .setClientId(client)
              .setSequence(s)
              .setPayload(ByteString.copyFrom(put(s)))
              .build()
              .toByteArray();
      out.writeInt(request.length);
      out.write(request);
    }
    return bytes.toByteArray();
  }

  /** Reads {@code count} replies; their slots by sequence (a reply with an error fails). */
  private static Map<Long, Long> readReplies(DataInputStream in, int count) throws Exception {
    Map<Long, Long> slots = new java.util.HashMap<>();
    for (int i = 0; i < count; i++) {
      byte[] frame = new byte[in.readInt()];
      in.readFully(frame);
      ProposeStreamReply reply = ProposeStreamReply.parseFrom(frame);
      assertTrue(!reply.hasError(), reply.toString());
      slots.put(reply.getSequence(), reply.getSlot());
    }
    return slots;
  }
}
