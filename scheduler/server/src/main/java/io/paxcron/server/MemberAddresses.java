package io.paxcron.server;

import io.paxcron.paxos.Membership;
import io.paxcron.paxos.replica.ReplicaNode;
import java.util.Map;

/**
 * Where a replica's client API is: from the membership in the log for a member added through it
 * (its log address is {@code host:peer-port:client-port}), else from the start-up peer list.
 */
final class MemberAddresses {
  private MemberAddresses() {}

  /** The client address of replica {@code id}, or null when neither the log nor the list has it. */
  static String clientAddress(ReplicaNode node, Map<Integer, String> startUp, int id) {
    Membership membership = node.membership();
    if (membership != null) {
      String logAddress = membership.latest().address(id);
      if (logAddress != null) {
        String[] parts = logAddress.split(":");
        if (parts.length == 3) {
          return parts[0] + ":" + parts[2];
        }
      }
    }
    return startUp.get(id);
  }
}
