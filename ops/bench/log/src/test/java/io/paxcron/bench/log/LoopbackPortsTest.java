package io.paxcron.bench.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

final class LoopbackPortsTest {

  @Test
  void portsAreDistinctFreeAndBelowTheKernelsEphemeralRange() throws Exception {
    List<Integer> ports = LoopbackPorts.allocate(LoopbackPorts.MAX_PORTS);
    assertEquals(LoopbackPorts.MAX_PORTS, new HashSet<>(ports).size(), "distinct: " + ports);
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    if (Files.isReadable(range)) {
      int ephemeralStart =
          Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0]);
      for (int port : ports) {
        assertTrue(
            port < ephemeralStart,
            "port " + port + " is inside the ephemeral range from " + ephemeralStart);
      }
    }
    for (int port : ports) {
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress(LoopbackPorts.loopback(), port));
      }
    }
  }
}
