package io.paxcron.paxos.replica;

import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.Message;

/**
 * How replicas reach one another (gRPC in production). {@code send} never blocks; the protocol
 * tolerates loss, so a transport may drop when a peer is unreachable. {@code inbound} may be called
 * from any thread and must only hand the message to the event loop.
 */
public interface PeerNetwork extends AutoCloseable {

  /** Where the network puts what arrives. */
  @FunctionalInterface
  interface Inbound {
    /**
     * A message from peer {@code from}; must only hand it to the event loop unless {@code
     * mayRunHere}: the caller is a socket's selector thread with nothing more of that socket read
     * behind the message, which may handle it itself when the replica is idle.
     */
    void onMessage(int from, Message message, boolean mayRunHere);
  }

  void start(Inbound inbound);

  void send(Envelope envelope);

  /**
   * The replicas this one must reach changed, as the membership in the log decides: {@code members}
   * maps every member of the configurations that govern slots from this replica's first unchosen
   * one on (and of the newest) to its address, "" for a member of the start-up configuration whose
   * address the start-up list gives. Called on the event loop; must not block.
   */
  default void updatePeers(java.util.Map<Integer, String> members) {}

  @Override
  void close();
}
