package io.paxcron.api.auth;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * How a client (the CLI, the dashboard, tests) reaches a replica's client port: plaintext or TLS
 * trusting {@code trust}, optionally with its own certificate, and with a bearer token on every
 * call when it has one. The token comes from a supplier so a caller (the dashboard) may act for
 * whoever made the current request.
 *
 * @param trust CA bundle (PEM) the replicas' certificates chain to; empty: plaintext
 * @param cert this client's certificate chain (PEM), with {@code key}; optional
 * @param key its private key (PEM, PKCS#8)
 * @param bearer the token to send, or empty for none
 */
public record ClientSecurity(
    Optional<Path> trust,
    Optional<Path> cert,
    Optional<Path> key,
    Supplier<Optional<String>> bearer) {

  public static final ClientSecurity PLAINTEXT =
      new ClientSecurity(Optional.empty(), Optional.empty(), Optional.empty(), Optional::empty);

  /** The same connection settings with another token source. */
  public ClientSecurity withBearer(Supplier<Optional<String>> bearer) {
    return new ClientSecurity(trust, cert, key, bearer);
  }

  /**
   * A channel to {@code address} ("host:port").
   *
   * @throws UncheckedIOException naming the file when a PEM file cannot be read
   */
  public ManagedChannel channel(String address) {
    ManagedChannel channel =
        NettyChannelBuilder.forTarget(address, credentials())
            .maxInboundMessageSize(ServerLimits.MAX_MESSAGE_BYTES)
            .build();
    return new TokenChannel(channel, bearer);
  }

  private ChannelCredentials credentials() {
    if (trust.isEmpty()) {
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    try {
      builder.trustManager(trust.get().toFile());
    } catch (IOException | RuntimeException e) {
      throw new UncheckedIOException(
          new IOException(
              "tls trust file " + trust.get() + " cannot be read: " + e.getMessage(), e));
    }
    if (cert.isPresent() && key.isPresent()) {
      try {
        builder.keyManager(cert.get().toFile(), key.get().toFile());
      } catch (IOException | RuntimeException e) {
        throw new UncheckedIOException(
            new IOException(
                "tls certificate "
                    + cert.get()
                    + " or key "
                    + key.get()
                    + " cannot be read: "
                    + e.getMessage(),
                e));
      }
    }
    return builder.build();
  }

  /** A channel that adds "authorization: Bearer …" to every call while it has a token. */
  private static final class TokenChannel extends ManagedChannel {
    private final ManagedChannel delegate;
    private final Channel intercepted;

    TokenChannel(ManagedChannel delegate, Supplier<Optional<String>> bearer) {
      this.delegate = delegate;
      this.intercepted =
          ClientInterceptors.intercept(
              delegate,
              new ClientInterceptor() {
                @Override
                public <Q, A> ClientCall<Q, A> interceptCall(
                    MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
                  Optional<String> token = bearer.get();
                  return new ForwardingClientCall.SimpleForwardingClientCall<>(
                      next.newCall(method, options)) {
                    @Override
                    public void start(Listener<A> listener, Metadata headers) {
                      token.ifPresent(
                          value -> headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + value));
                      super.start(listener, headers);
                    }
                  };
                }
              });
    }

    @Override
    public <Q, A> ClientCall<Q, A> newCall(MethodDescriptor<Q, A> method, CallOptions options) {
      return intercepted.newCall(method, options);
    }

    @Override
    public String authority() {
      return delegate.authority();
    }

    @Override
    public ManagedChannel shutdown() {
      delegate.shutdown();
      return this;
    }

    @Override
    public boolean isShutdown() {
      return delegate.isShutdown();
    }

    @Override
    public boolean isTerminated() {
      return delegate.isTerminated();
    }

    @Override
    public ManagedChannel shutdownNow() {
      delegate.shutdownNow();
      return this;
    }

    @Override
    public boolean awaitTermination(long timeout, java.util.concurrent.TimeUnit unit)
        throws InterruptedException {
      return delegate.awaitTermination(timeout, unit);
    }

    @Override
    public io.grpc.ConnectivityState getState(boolean requestConnection) {
      return delegate.getState(requestConnection);
    }
  }
}
