package io.paxcron.bench.log;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Free TCP ports on 127.0.0.1, chosen by the kernel. All sockets are open at once so the ports are
 * distinct; another program could still take one between close and the replica's bind, in which
 * case the replica fails to start and says so in its log.
 */
final class LoopbackPorts {

  static final int MAX_PORTS = 32;

  private LoopbackPorts() {}

  static InetAddress loopback() {
    return InetAddress.getLoopbackAddress();
  }

  static List<Integer> allocate(int count) throws IOException {
    if (count < 1 || count > MAX_PORTS) {
      throw new IllegalArgumentException(
          "port count " + count + " outside 1..MAX_PORTS=" + MAX_PORTS);
    }
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      List<Integer> ports = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket(0, 1, loopback());
        sockets.add(socket);
        ports.add(socket.getLocalPort());
      }
      return List.copyOf(ports);
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }
}
