package io.paxcron.simkit;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.Configuration;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Membership;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.Ready;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The simulator's safety checkers. They watch what replicas say and do — votes sent, values
 * applied, snapshots taken — and never trust a replica's own belief about what is chosen: the
 * ground truth of "chosen" is a majority of acceptors having sent an acceptance for one ballot.
 *
 * <ol>
 *   <li>At most one value per slot ever gathers a majority of votes (so a chosen value never
 *       changes), and a leader proposes one value per slot per ballot. The majority is of the
 *       voters of the slot's configuration, which the checker derives itself from the values it saw
 *       chosen, by the rule of {@link Membership}: a change chosen in slot s governs slots from s +
 *       {@link Membership#DELAY_SLOTS} on. A vote for a slot whose configuration is not decided yet
 *       (some slot {@code DELAY_SLOTS} below it is not chosen) is itself a violation: no leader
 *       following the rule proposes such a slot.
 *   <li>Every value a replica applies is the one chosen for that slot, and every replica applies
 *       the same value in each slot: applied sequences are prefixes of one another. Snapshots of
 *       the same slot are byte-for-byte equal.
 *   <li>Every client command takes effect in exactly one slot (retries are deduplicated), and every
 *       acknowledged command took effect.
 *   <li>A leader announces a prefix chosen ({@code Accept.chosenBelowSlot}) only once a majority of
 *       acceptors has durably accepted every slot in it — the leader's own acceptance counts from
 *       the moment its write is durable, not from the moment it proposed.
 * </ol>
 *
 * <p>The first violation is kept with the virtual time it happened at; the run then stops.
 */
public final class Invariants {

  public record ClientSequence(long clientId, long sequence) {}

  private Membership membership;

  /** Every slot below this is chosen (ground truth), so configurations up to it are decided. */
  private long chosenBelow = 1;

  private final List<String> configurationChanges = new ArrayList<>();
  private final Map<Long, Map<Ballot, Value>> proposals = new HashMap<>();
  private final Map<Long, Map<Ballot, Set<ReplicaId>>> votes = new HashMap<>();
  private final Map<Long, Value> chosen = new HashMap<>();
  private final Map<Long, Value> applied = new HashMap<>();
  private final Map<ClientSequence, Long> tookEffectInSlot = new HashMap<>();
  private final Map<Long, byte[]> snapshots = new HashMap<>();
  private String violation;
  private long checks;

  /** Every slot below this was checked chosen when some leader announced it (truth only grows). */
  private long announcedChosenBelow = 1;

  /** Checkers for a cluster whose start-up voters are replicas {@code 0..replicas-1}. */
  public Invariants(int replicas) {
    List<ReplicaId> voters = new ArrayList<>();
    for (int id = 0; id < replicas; id++) {
      voters.add(ReplicaId.of(id));
    }
    this.membership = Membership.bootstrap(Configuration.bootstrap(voters));
  }

  /** The configurations as the ground truth decides them, from the start. */
  public Membership membership() {
    return membership;
  }

  /** Each change the ground truth saw chosen: "slot s: configuration". */
  public List<String> configurationChanges() {
    return List.copyOf(configurationChanges);
  }

  public String violation() {
    return violation;
  }

  public long checks() {
    return checks;
  }

  public Map<Long, Value> chosenValues() {
    return new TreeMap<>(chosen);
  }

  public void fail(long atMillis, String what) {
    if (violation == null) {
      violation = "t=" + atMillis + "ms: " + what;
    }
  }

  /** A leader sent (or wrote for itself) its proposal of {@code entry} in its ballot. */
  public void onProposal(long atMillis, int leader, LogEntry entry) {
    checks++;
    Value previous =
        proposals
            .computeIfAbsent(entry.slot(), s -> new HashMap<>())
            .putIfAbsent(entry.ballot(), entry.value());
    if (previous != null && !previous.equals(entry.value())) {
      fail(
          atMillis,
          "replica "
              + leader
              + " proposed two values in slot "
              + entry.slot()
              + " ballot "
              + entry.ballot()
              + ": "
              + previous
              + " and "
              + entry.value());
    }
  }

  /** Acceptor {@code acceptor} told the leader it accepted {@code slot} in {@code ballot}. */
  public void onVote(long atMillis, int acceptor, long slot, Ballot ballot) {
    checks++;
    Map<Ballot, Value> bySlot = proposals.get(slot);
    Value value = bySlot == null ? null : bySlot.get(ballot);
    if (value == null) {
      fail(
          atMillis,
          "replica "
              + acceptor
              + " voted for slot "
              + slot
              + " ballot "
              + ballot
              + " that no leader proposed");
      return;
    }
    if (slot - Membership.DELAY_SLOTS >= chosenBelow) {
      fail(
          atMillis,
          "replica "
              + acceptor
              + " voted for slot "
              + slot
              + " ballot "
              + ballot
              + " whose configuration is not decided: slot "
              + chosenBelow
              + " is not chosen");
      return;
    }
    Configuration governing = membership.at(slot);
    ReplicaId voter = ReplicaId.of(acceptor);
    Set<ReplicaId> voters =
        votes
            .computeIfAbsent(slot, s -> new HashMap<>())
            .computeIfAbsent(ballot, b -> new TreeSet<>());
    if (voters.add(voter)
        && governing.isVoter(voter)
        && countVoters(voters, governing) == governing.majority()) {
      Value before = chosen.putIfAbsent(slot, value);
      if (before == null) {
        advanceChosen();
      }
      if (before != null && !before.equals(value)) {
        fail(
            atMillis,
            "slot "
                + slot
                + " had "
                + before
                + " chosen, and now a majority "
                + voters
                + " accepted "
                + value
                + " in ballot "
                + ballot
                + ": a chosen value changed");
      }
    }
  }

  private static int countVoters(Set<ReplicaId> voters, Configuration governing) {
    int counted = 0;
    for (ReplicaId voter : voters) {
      if (governing.isVoter(voter)) {
        counted++;
      }
    }
    return counted;
  }

  /** Extends the chosen prefix; each change in it decides the configuration DELAY_SLOTS later. */
  private void advanceChosen() {
    while (chosen.containsKey(chosenBelow)) {
      if (chosen.get(chosenBelow) instanceof Value.Reconfigure reconfigure) {
        membership =
            membership.with(chosenBelow, chosenBelow + Membership.DELAY_SLOTS, reconfigure.next());
        configurationChanges.add("slot " + chosenBelow + ": " + reconfigure.next());
      }
      chosenBelow++;
    }
  }

  /**
   * Replica {@code replica} is about to send {@code ready}'s messages: every proposal it makes (its
   * own acceptances in the Persist, and the entries of its Accepts) and every vote it casts (its
   * Accepteds) counts from now on.
   */
  public void onSending(long atMillis, int replica, Ready ready) {
    for (LogEntry entry : ready.persist().entries()) {
      if (!entry.chosen() && entry.ballot().replicaId() == replica) {
        onProposal(atMillis, replica, entry);
        onVote(atMillis, replica, entry.slot(), entry.ballot());
      }
    }
    for (Envelope envelope : ready.messages()) {
      switch (envelope.message()) {
        case Message.Accept accept -> {
          for (LogEntry entry : accept.entries()) {
            onProposal(atMillis, replica, entry);
          }
          onAnnouncedChosen(atMillis, replica, accept.chosenBelowSlot());
        }
        case Message.Accepted accepted -> {
          for (long slot : accepted.slots()) {
            onVote(atMillis, replica, slot, accepted.ballot());
          }
        }
        default -> {}
      }
    }
  }

  /**
   * Replica {@code replica} is about to send {@code accepts} before its write of them is durable:
   * the proposals count from now on, its own acceptance of them only once {@link #onSending} sees
   * the durable Persist.
   */
  public void onProposing(long atMillis, int replica, List<Envelope> accepts) {
    for (Envelope envelope : accepts) {
      if (envelope.message() instanceof Message.Accept accept) {
        for (LogEntry entry : accept.entries()) {
          onProposal(atMillis, replica, entry);
        }
        onAnnouncedChosen(atMillis, replica, accept.chosenBelowSlot());
      }
    }
  }

  private void onAnnouncedChosen(long atMillis, int leader, long chosenBelowSlot) {
    for (long slot = announcedChosenBelow; slot < chosenBelowSlot; slot++) {
      checks++;
      if (!chosen.containsKey(slot)) {
        fail(
            atMillis,
            "replica "
                + leader
                + " announced every slot below "
                + chosenBelowSlot
                + " chosen, but no majority of acceptors has durably accepted a value in slot "
                + slot);
        return;
      }
    }
    announcedChosenBelow = Math.max(announcedChosenBelow, chosenBelowSlot);
  }

  /** Replica {@code replica} applied the entry of {@code entry.slot()}. */
  public void onApply(long atMillis, int replica, LogEntry entry) {
    checks++;
    Value truth = chosen.get(entry.slot());
    if (truth == null) {
      fail(
          atMillis,
          "replica "
              + replica
              + " applied slot "
              + entry.slot()
              + " = "
              + entry.value()
              + " but no majority of acceptors ever accepted a value there");
      return;
    }
    if (!truth.equals(entry.value())) {
      fail(
          atMillis,
          "replica "
              + replica
              + " applied slot "
              + entry.slot()
              + " = "
              + entry.value()
              + " but the chosen value is "
              + truth);
      return;
    }
    Value first = applied.putIfAbsent(entry.slot(), entry.value());
    if (first != null && !first.equals(entry.value())) {
      fail(
          atMillis,
          "replica "
              + replica
              + " applied slot "
              + entry.slot()
              + " = "
              + entry.value()
              + " where another replica applied "
              + first);
    }
  }

  /** A command took effect (not a deduplicated retry) at replica {@code replica}. */
  public void onTookEffect(long atMillis, int replica, Command command, long slot) {
    checks++;
    ClientSequence key = new ClientSequence(command.clientId(), command.sequence());
    Long before = tookEffectInSlot.putIfAbsent(key, slot);
    if (before != null && before != slot) {
      fail(
          atMillis,
          "command "
              + command.clientId()
              + "#"
              + command.sequence()
              + " took effect twice: in slot "
              + before
              + " and (at replica "
              + replica
              + ") in slot "
              + slot);
    }
  }

  /** The slot an acknowledged command took effect in; violation if it never did. */
  public void onAcknowledged(long atMillis, long clientId, long sequence) {
    checks++;
    if (!tookEffectInSlot.containsKey(new ClientSequence(clientId, sequence))) {
      fail(
          atMillis,
          "command " + clientId + "#" + sequence + " was acknowledged but never took effect");
    }
  }

  public Long tookEffectIn(long clientId, long sequence) {
    return tookEffectInSlot.get(new ClientSequence(clientId, sequence));
  }

  public void onSnapshot(long atMillis, int replica, Snapshot snapshot) {
    checks++;
    byte[] before = snapshots.putIfAbsent(snapshot.slot(), snapshot.data());
    if (before != null && !java.util.Arrays.equals(before, snapshot.data())) {
      fail(
          atMillis,
          "replica "
              + replica
              + " took a snapshot at slot "
              + snapshot.slot()
              + " that differs from another replica's snapshot of the same slot");
    }
  }

  public void onLeaseHolders(long atMillis, List<Integer> holders) {
    checks++;
    if (holders.size() > 1) {
      fail(atMillis, "replicas " + holders + " all believe they hold the leader lease");
    }
  }
}
