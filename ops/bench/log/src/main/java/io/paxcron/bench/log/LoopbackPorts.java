package io.paxcron.bench.log;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on 127.0.0.1 for the servers a run starts. All sockets are open at once so the
 * ports are distinct. They are taken below the kernel's ephemeral range ({@code
 * ip_local_port_range}) when it is known: a port from inside it can be handed to an outgoing
 * connection (the replicas dial each other and the clients dial them) between its close here and a
 * slower replica's bind, which failed a five-replica start once in about thirty. Outside Linux, or
 * if no free port is found there, the kernel chooses; another program could still take a port
 * before the bind, in which case the server fails to start and says so in its log.
 */
final class LoopbackPorts {

  static final int MAX_PORTS = 32;

  /** The lowest port taken below the ephemeral range. */
  private static final int LOWEST = 10_000;

  private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

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
      int below = ephemeralStart();
      for (int attempt = 0; ports.size() < count && below > LOWEST && attempt < 64 * count; ) {
        attempt++;
        int port = ThreadLocalRandom.current().nextInt(LOWEST, below);
        if (ports.contains(port)) {
          continue;
        }
        ServerSocket socket = new ServerSocket();
        try {
          socket.bind(new InetSocketAddress(loopback(), port), 1);
        } catch (IOException taken) {
          socket.close();
          continue;
        }
        sockets.add(socket);
        ports.add(port);
      }
      while (ports.size() < count) {
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

  /** The first port of the kernel's ephemeral range, or {@link #LOWEST} if it is not known. */
  private static int ephemeralStart() {
    try {
      // Not readString: for a file the kernel reports as empty it returns the first character only.
      String[] range = Files.readAllLines(EPHEMERAL_RANGE).get(0).trim().split("\\s+");
      return Integer.parseInt(range[0]);
    } catch (IOException | RuntimeException unknown) {
      return LOWEST;
    }
  }
}
