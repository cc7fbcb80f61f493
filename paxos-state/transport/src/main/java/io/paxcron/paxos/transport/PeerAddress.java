package io.paxcron.paxos.transport;

/** Where a peer listens: a host name or IP literal and a TCP port. */
public record PeerAddress(String host, int port) {

  public PeerAddress {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("peer host must not be blank");
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("peer port must be in [1, 65535], got " + port);
    }
  }

  /** Parses {@code host:port}; an IPv6 literal is written in brackets, {@code [::1]:7000}. */
  public static PeerAddress parse(String hostAndPort) {
    int colon = hostAndPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostAndPort.length() - 1) {
      throw new IllegalArgumentException(
          "peer address must be host:port, got \"" + hostAndPort + "\"");
    }
    String host = hostAndPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(hostAndPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "peer address port must be a number, got \"" + hostAndPort + "\"", e);
    }
    return new PeerAddress(host, port);
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
