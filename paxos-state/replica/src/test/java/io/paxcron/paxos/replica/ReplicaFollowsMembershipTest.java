package io.paxcron.paxos.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.Configuration;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.KeyValueStateMachine;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.PaxosRules;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The transport's peers follow the membership in the log: a chosen change adds its new members at
 * once (both configurations govern until the change takes effect) and drops the members it removed
 * only once the first unchosen slot reaches the slot it takes effect from — the driver keeps the
 * peer map between those moments instead of rebuilding it every step, and must still notice the
 * second one, which no change of the membership itself announces.
 */
final class ReplicaFollowsMembershipTest {

  private static final Ballot LEADERS = new Ballot(1, 1);

  private static final class PeersRecorder implements PeerNetwork {
    final CompletableFuture<PeerNetwork.Inbound> inbound = new CompletableFuture<>();
    final List<Map<Integer, String>> peerSets = new CopyOnWriteArrayList<>();

    @Override
    public void start(PeerNetwork.Inbound inbound) {
      this.inbound.complete(inbound);
    }

    @Override
    public void send(Envelope envelope) {}

    @Override
    public void updatePeers(Map<Integer, String> members) {
      peerSets.add(Map.copyOf(members));
    }

    @Override
    public void close() {}

    Map<Integer, String> latest() {
      return peerSets.isEmpty() ? Map.of() : peerSets.get(peerSets.size() - 1);
    }
  }

  private static LogEntry command(long slot) {
    Command command = new Command(7, slot, KeyValueStateMachine.put("k" + slot, "v"));
    return new LogEntry(slot, LEADERS, new Value.Batch(List.of(command)), false);
  }

  /**
   * Waits until the transport was last told {@code expected} (the update comes at the end of the
   * step that causes it, after the step's answer has left).
   */
  private static void peersBecome(PeersRecorder network, Map<Integer, String> expected) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!network.latest().equals(expected)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "peers never became " + expected + "; updates so far: " + network.peerSets);
      }
      Thread.onSpinWait();
    }
  }

  @Test
  void aRemovedMemberLeavesThePeersWhenTheChangeTakesEffectNotBefore() throws Exception {
    List<ReplicaId> members = List.of(ReplicaId.of(1), ReplicaId.of(2), ReplicaId.of(3));
    InstantDurability disk = new InstantDurability();
    PeersRecorder network = new PeersRecorder();
    ReplicaNode follower =
        new ReplicaNode(
            new ReplicaSettings(
                PaxosConfig.defaults(ReplicaId.of(2), members), 5, 1_000_000, 1L << 30, 100),
            disk,
            network,
            snapshot -> {},
            new KeyValueStateMachine(),
            request -> request,
            error -> {});
    try {
      follower.start();
      PeerNetwork.Inbound inbound = network.inbound.get(30, TimeUnit.SECONDS);
      long delay = PaxosRules.STANDARD.reconfigurationDelaySlots();

      // Slot 1 replaces replica 3 with replica 4.
      TreeMap<ReplicaId, String> voters = new TreeMap<>();
      voters.put(ReplicaId.of(1), "");
      voters.put(ReplicaId.of(2), "");
      voters.put(ReplicaId.of(4), "127.0.0.1:7004");
      Configuration next = new Configuration(voters, new TreeMap<>());
      LogEntry change = new LogEntry(1, LEADERS, new Value.Reconfigure(next), false);
      inbound.onMessage(1, new Message.Accept(LEADERS, List.of(change), 1, 0, 1), false);
      peersBecome(network, Map.of(1, "", 3, ""));

      // Slots 2 .. 1 + delay carry commands; slot 1 is now known chosen. Until the change takes
      // effect both configurations govern, so replica 4 joins and replica 3 stays.
      List<LogEntry> commands = new ArrayList<>();
      for (long slot = 2; slot <= 1 + delay; slot++) {
        commands.add(command(slot));
      }
      inbound.onMessage(1, new Message.Accept(LEADERS, commands, 2, 0, 2), false);
      peersBecome(network, Map.of(1, "", 3, "", 4, "127.0.0.1:7004"));

      // Chosen up to the slot before the change's (nothing changes for the peers), then one more:
      // the first unchosen slot reaches the change's first slot and replica 3 is no longer a
      // peer, though the membership itself did not change in that step.
      inbound.onMessage(1, new Message.Accept(LEADERS, List.of(), 1 + delay, 0, 3), false);
      inbound.onMessage(1, new Message.Accept(LEADERS, List.of(), 2 + delay, 0, 4), false);
      peersBecome(network, Map.of(1, "", 4, "127.0.0.1:7004"));
      assertEquals(
          List.of(
              Map.of(1, "", 3, ""),
              Map.of(1, "", 3, "", 4, "127.0.0.1:7004"),
              Map.of(1, "", 4, "127.0.0.1:7004")),
          network.peerSets,
          "one update per change of the peers, the last when the change took effect");
    } finally {
      follower.close();
    }
  }
}
