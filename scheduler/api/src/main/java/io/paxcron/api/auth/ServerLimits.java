package io.paxcron.api.auth;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The client port's transport limits and credentials, in one place so every replica's API server
 * (and the fuzz test's) is built the same way. The limits keep one client from holding the
 * replica's memory or connections: a request larger than {@link #MAX_MESSAGE_BYTES} is refused
 * before it is parsed, headers are bounded, each connection has a bounded number of concurrent
 * calls, and a TLS handshake or idle connection cannot hold a socket for ever.
 */
public final class ServerLimits {
  /** Largest message either way: 100 jobs at the job limits fit, with room. */
  public static final int MAX_MESSAGE_BYTES = 16 << 20;

  /** Largest header block (tokens are short). */
  public static final int MAX_HEADER_BYTES = 16 << 10;

  /** Concurrent calls on one connection (an agent stream and WatchRuns count as one each). */
  public static final int MAX_CALLS_PER_CONNECTION = 256;

  public static final long HANDSHAKE_TIMEOUT_SECONDS = 10;
  public static final long MAX_CONNECTION_IDLE_MINUTES = 30;

  private ServerLimits() {}

  /**
   * A server builder for {@code address} with the limits and, if {@code cert} is given, TLS ({@code
   * clientTrust}: client certificates are asked for and verified, but optional).
   */
  public static NettyServerBuilder builder(
      InetSocketAddress address,
      Optional<Path> cert,
      Optional<Path> key,
      Optional<Path> clientTrust)
      throws IOException {
    NettyServerBuilder builder =
        cert.isEmpty()
            ? NettyServerBuilder.forAddress(address)
            : NettyServerBuilder.forAddress(
                address, credentials(cert.get(), key.get(), clientTrust));
    return builder
        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
        .maxInboundMetadataSize(MAX_HEADER_BYTES)
        .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
        .handshakeTimeout(HANDSHAKE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .maxConnectionIdle(MAX_CONNECTION_IDLE_MINUTES, TimeUnit.MINUTES)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true);
  }

  private static ServerCredentials credentials(Path cert, Path key, Optional<Path> clientTrust)
      throws IOException {
    TlsServerCredentials.Builder builder = TlsServerCredentials.newBuilder();
    try {
      builder.keyManager(cert.toFile(), key.toFile());
    } catch (IOException | RuntimeException e) {
      throw new IOException(
          "api-tls-cert " + cert + " or api-tls-key " + key + " cannot be read: " + e.getMessage(),
          e);
    }
    if (clientTrust.isPresent()) {
      try {
        builder.trustManager(clientTrust.get().toFile());
      } catch (IOException | RuntimeException e) {
        throw new IOException(
            "api-tls-client-trust " + clientTrust.get() + " cannot be read: " + e.getMessage(), e);
      }
      builder.clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL);
    }
    return builder.build();
  }
}
