package io.paxcron.paxos.transport;

import io.grpc.Status;
import io.paxcron.proto.v1.Sender;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who this replica is and whom it talks to; checks the {@link Sender} every peer message carries. A
 * check returns null when the sender is acceptable and otherwise the status to refuse the message
 * with, its description naming the field.
 */
record Identity(String clusterId, int replicaId, Set<Integer> peers) {

  Identity {
    // The peer set grows as membership changes add replicas (PeerTransport.updatePeers), read
    // from gRPC threads meanwhile.
    Set<Integer> concurrent = java.util.concurrent.ConcurrentHashMap.newKeySet();
    concurrent.addAll(peers);
    peers = concurrent;
  }

  /** Checks the sender of a message that arrived on a call a peer made to this replica. */
  Status checkInbound(boolean present, Sender sender) {
    if (!present) {
      return Status.INVALID_ARGUMENT.withDescription("sender is missing");
    }
    if (!sender.getClusterId().equals(clusterId)) {
      return Status.PERMISSION_DENIED.withDescription(
          "sender.cluster_id \""
              + sender.getClusterId()
              + "\" is not this replica's cluster \""
              + clusterId
              + "\"");
    }
    if (!peers.contains(sender.getReplicaId())) {
      return Status.PERMISSION_DENIED.withDescription(
          "sender.replica_id "
              + sender.getReplicaId()
              + " is not a peer of replica "
              + replicaId
              + " (peers "
              + new TreeSet<>(peers)
              + ")");
    }
    return null;
  }

  /** Checks the sender of a reply on a call this replica made to {@code peer}. */
  Status checkReply(boolean present, Sender sender, int peer) {
    Status refusal = checkInbound(present, sender);
    if (refusal == null && sender.getReplicaId() != peer) {
      return Status.PERMISSION_DENIED.withDescription(
          "sender.replica_id "
              + sender.getReplicaId()
              + " answered a call made to replica "
              + peer);
    }
    return refusal;
  }
}
