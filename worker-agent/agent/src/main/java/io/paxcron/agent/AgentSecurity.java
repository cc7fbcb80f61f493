package io.paxcron.agent;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ConnectivityState;
import io.grpc.ForwardingClientCall;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How an agent proves who it is to the cluster (docs/security.md): mutual TLS with its own
 * certificate, whose common name must be its {@code --name}, and/or an agent token whose name must
 * be its {@code --name}. Without either it dials in plaintext, which a cluster with auth refuses.
 *
 * @param trust CA bundle (PEM) the replicas' certificates chain to; empty: plaintext
 * @param cert the agent's certificate chain (PEM); with {@code key}
 * @param key its private key (PEM, PKCS#8)
 * @param token an agent token, sent as "authorization: Bearer …"
 */
public record AgentSecurity(
    Optional<Path> trust, Optional<Path> cert, Optional<Path> key, Optional<String> token) {

  public static final AgentSecurity NONE =
      new AgentSecurity(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  public AgentSecurity {
    if (cert.isPresent() != key.isPresent()) {
      throw new IllegalArgumentException("--tls-cert, --tls-key: give both, or neither");
    }
    if (cert.isPresent() && trust.isEmpty()) {
      throw new IllegalArgumentException("--tls-cert: a client certificate needs --tls-trust");
    }
  }

  /** Reads the token file; a file others may read is refused, naming the file. */
  static String readToken(Path file) {
    try {
      String text = Files.readString(file).strip();
      if (text.isEmpty()) {
        throw new IllegalArgumentException("--token-file: " + file + " is empty");
      }
      return text;
    } catch (IOException e) {
      throw new IllegalArgumentException("--token-file: " + file + ": " + e.getMessage());
    }
  }

  /** A channel to {@code address} with these credentials. */
  ManagedChannel channel(String address) throws IOException {
    ManagedChannel channel = NettyChannelBuilder.forTarget(address, credentials()).build();
    if (token.isEmpty()) {
      return channel;
    }
    String header = "Bearer " + token.get();
    Channel intercepted =
        ClientInterceptors.intercept(
            channel,
            new ClientInterceptor() {
              @Override
              public <Q, A> ClientCall<Q, A> interceptCall(
                  MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(
                    next.newCall(method, options)) {
                  @Override
                  public void start(Listener<A> listener, Metadata headers) {
                    headers.put(AUTHORIZATION, header);
                    super.start(listener, headers);
                  }
                };
              }
            });
    return new ManagedChannel() {
      @Override
      public <Q, A> ClientCall<Q, A> newCall(MethodDescriptor<Q, A> method, CallOptions options) {
        return intercepted.newCall(method, options);
      }

      @Override
      public String authority() {
        return channel.authority();
      }

      @Override
      public ConnectivityState getState(boolean requestConnection) {
        return channel.getState(requestConnection);
      }

      @Override
      public void notifyWhenStateChanged(ConnectivityState source, Runnable callback) {
        channel.notifyWhenStateChanged(source, callback);
      }

      @Override
      public ManagedChannel shutdown() {
        channel.shutdown();
        return this;
      }

      @Override
      public boolean isShutdown() {
        return channel.isShutdown();
      }

      @Override
      public boolean isTerminated() {
        return channel.isTerminated();
      }

      @Override
      public ManagedChannel shutdownNow() {
        channel.shutdownNow();
        return this;
      }

      @Override
      public boolean awaitTermination(long timeout, java.util.concurrent.TimeUnit unit)
          throws InterruptedException {
        return channel.awaitTermination(timeout, unit);
      }
    };
  }

  private ChannelCredentials credentials() throws IOException {
    if (trust.isEmpty()) {
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    try {
      builder.trustManager(trust.get().toFile());
      if (cert.isPresent()) {
        builder.keyManager(cert.get().toFile(), key.get().toFile());
      }
    } catch (IOException | RuntimeException e) {
      throw new IOException(
          "--tls-trust/--tls-cert/--tls-key: cannot read "
              + trust.get()
              + cert.map(c -> ", " + c).orElse("")
              + ": "
              + e.getMessage(),
          e);
    }
    return builder.build();
  }
}
