package io.paxcron.server;

import io.paxcron.http.ReplicaProbe;
import io.paxcron.paxos.Configuration;
import io.paxcron.paxos.Membership;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.replica.ReplicaNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The configuration as a replica knows it, for the dashboard and {@code /metrics}: the members of
 * the configuration that governs its first unchosen slot with their roles and client addresses, how
 * far each is behind (on the leader, which hears every member's progress), and a change that is
 * chosen or proposed but does not govern yet.
 */
final class MemberView {
  private MemberView() {}

  static Optional<ReplicaProbe.Members> of(ReplicaNode node, Map<Integer, String> startUp) {
    Membership membership = node.membership();
    if (membership == null) {
      return Optional.empty();
    }
    ReplicaNode.Status status = node.status();
    long first = status.firstUnchosenSlot();
    Map<ReplicaId, Long> progress =
        status.role() == io.paxcron.paxos.PaxosReplica.Role.LEADER ? node.peerProgress() : Map.of();
    Configuration governing = membership.at(first);
    List<ReplicaProbe.Member> members = new ArrayList<>();
    for (ReplicaId id : governing.members()) {
      long lag = -1;
      if (!progress.isEmpty() || status.role() == io.paxcron.paxos.PaxosReplica.Role.LEADER) {
        if (id.value() == status.replicaId()) {
          lag = 0;
        } else if (progress.containsKey(id)) {
          lag = Math.max(0, first - progress.get(id));
        }
      }
      String address = MemberAddresses.clientAddress(node, startUp, id.value());
      members.add(
          new ReplicaProbe.Member(
              id.value(),
              governing.isLearner(id) ? "learner" : "voter",
              address == null ? "" : address,
              lag));
    }
    return Optional.of(new ReplicaProbe.Members(members, change(governing, membership, first)));
  }

  /** The change that does not govern {@code first} yet, in words; empty if none. */
  static String change(Configuration governing, Membership membership, long first) {
    Configuration next = membership.latest();
    if (next.equals(governing)) {
      return "";
    }
    List<String> steps = new ArrayList<>();
    for (ReplicaId id : next.members()) {
      if (!governing.isMember(id)) {
        steps.add("replica " + id + " added as a " + (next.isVoter(id) ? "voter" : "learner"));
      } else if (governing.isLearner(id) && next.isVoter(id)) {
        steps.add("replica " + id + " promoted to voter");
      }
    }
    for (ReplicaId id : governing.members()) {
      if (!next.isMember(id)) {
        steps.add("replica " + id + " removed");
      }
    }
    return String.join(", ", steps)
        + ": "
        + next
        + " from slot "
        + membership.latestFromSlot()
        + " ("
        + Math.max(0, membership.latestFromSlot() - first)
        + " slots from now)";
  }
}
