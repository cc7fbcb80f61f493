package io.paxcron.server;

import io.paxcron.paxos.Configuration;
import io.paxcron.paxos.Membership;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.replica.ReplicaNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a replica's client API is: from the membership in the log for a member added through it
 * (its log address is {@code host:peer-port:client-port}), else from the start-up peer list.
 */
final class MemberAddresses {
  private MemberAddresses() {}

  /**
   * The client address of replica {@code id}, or null when neither the log nor the list has it; a
   * negative {@code id} (the -1 of "no leader known" in a status) names no replica.
   */
  static String clientAddress(ReplicaNode node, Map<Integer, String> startUp, int id) {
    if (id < 0) {
      return null;
    }
    Membership membership = node.membership();
    if (membership != null) {
      String address = fromLog(membership.latest().address(ReplicaId.of(id)));
      if (address != null) {
        return address;
      }
    }
    return startUp.get(id);
  }

  /**
   * The client addresses of every member of the latest configuration this replica knows, voters
   * first, then learners (ids ascending within each); before the replica knows any configuration,
   * the start-up list. Agents dial these when the addresses they were given fail (agent.proto
   * {@code Registered.members}).
   */
  static List<String> clientAddresses(ReplicaNode node, Map<Integer, String> startUp) {
    Membership membership = node.membership();
    if (membership == null) {
      return List.copyOf(new java.util.TreeMap<>(startUp).values());
    }
    Configuration latest = membership.latest();
    List<String> addresses = new ArrayList<>();
    for (Map<ReplicaId, String> members : List.of(latest.voters(), latest.learners())) {
      for (Map.Entry<ReplicaId, String> member : members.entrySet()) {
        String address = fromLog(member.getValue());
        if (address == null) {
          address = startUp.get(member.getKey().value());
        }
        if (address != null && !addresses.contains(address)) {
          addresses.add(address);
        }
      }
    }
    return List.copyOf(addresses);
  }

  /** {@code host:client-port} from a log address {@code host:peer-port:client-port}, else null. */
  private static String fromLog(String logAddress) {
    if (logAddress == null) {
      return null;
    }
    String[] parts = logAddress.split(":");
    return parts.length == 3 ? parts[0] + ":" + parts[2] : null;
  }
}
