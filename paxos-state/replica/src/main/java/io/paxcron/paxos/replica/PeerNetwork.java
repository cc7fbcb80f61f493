package io.paxcron.paxos.replica;

import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.Message;
import java.util.function.BiConsumer;

/**
 * How replicas reach one another (gRPC in production). {@code send} never blocks; the protocol
 * tolerates loss, so a transport may drop when a peer is unreachable. {@code inbound} may be called
 * from any thread and must only hand the message to the event loop.
 */
public interface PeerNetwork extends AutoCloseable {

  void start(BiConsumer<Integer, Message> inbound);

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
