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

  @Override
  void close();
}
