package io.paxcron.paxos.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Transports on 127.0.0.1 for tests, closed together. Ports are found by binding port 0 and
 * releasing it, so that every transport's peer map can be written before any of them starts.
 */
final class Loopback implements AutoCloseable {

  static final String CLUSTER = "test-cluster";
  static final long SEED = 0x9a7c_2026L;

  private final List<PeerTransport> transports = new ArrayList<>();

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  static PeerAddress local(int port) {
    return new PeerAddress("127.0.0.1", port);
  }

  PeerTransport create(
      int id,
      String cluster,
      Map<Integer, PeerAddress> peers,
      int port,
      Optional<TlsConfig> tls,
      TransportOptions options,
      TransportListener listener) {
    PeerTransport transport =
        new PeerTransport(
            id, cluster, peers, port, tls, options, new SplittableRandom(SEED + id), listener);
    transports.add(transport);
    return transport;
  }

  PeerTransport start(
      int id,
      Map<Integer, PeerAddress> peers,
      int port,
      TransportOptions options,
      TransportListener listener,
      Inbox inbox)
      throws IOException {
    PeerTransport transport = create(id, CLUSTER, peers, port, Optional.empty(), options, listener);
    transport.start(inbox);
    return transport;
  }

  @Override
  public void close() {
    for (PeerTransport transport : transports) {
      transport.close();
    }
  }
}
