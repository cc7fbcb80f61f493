package io.paxcron.server;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.paxcron.api.auth.AccessState;
import io.paxcron.api.auth.AuthInterceptor;
import io.paxcron.api.auth.Caller;
import io.paxcron.api.auth.ClientSecurity;
import io.paxcron.api.auth.ServerLimits;
import io.paxcron.api.auth.Tokens;
import io.paxcron.api.auth.WriteRateLimiter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * A replica's security, wired in one place from its {@link SecuritySettings}: the client port's
 * server (TLS, limits, bind address), the {@link AuthInterceptor} in front of every service, and
 * how the replica's own dashboard reaches the API.
 *
 * <p>The dashboard reads through the API with a credential made when the process starts and known
 * only to it (a viewer of every job; never in the log); a person's action from the dashboard is
 * sent with that person's own token, so the audit trail names them.
 */
final class ReplicaSecurity {
  private final ServerConfig config;
  private final SecuritySettings settings;
  private final AuthInterceptor interceptor;
  private final String internalBearer;
  private final DashboardToken dashboardToken;
  private final AccessState access;

  ReplicaSecurity(ServerConfig config, AccessState access) {
    this.config = config;
    this.settings = config.security();
    this.access = access;
    this.internalBearer = Tokens.mint(new SecureRandom()).bearer();
    this.dashboardToken = new DashboardToken(settings);
    Caller dashboard =
        new Caller(
            "replica-" + config.id() + "/dashboard",
            io.paxcron.api.auth.Role.VIEWER,
            "",
            Optional.empty(),
            "local");
    this.interceptor =
        new AuthInterceptor(
            new AuthInterceptor.Settings(
                settings.authOn(),
                config.insecureReason(),
                Optional.of(new AuthInterceptor.Internal(internalBearer, dashboard))),
            access::view,
            new WriteRateLimiter(
                settings.writesPerSecond(), 2 * settings.writesPerSecond(), System::nanoTime));
  }

  AuthInterceptor interceptor() {
    return interceptor;
  }

  AccessState access() {
    return access;
  }

  SecuritySettings settings() {
    return settings;
  }

  /**
   * The client port's server builder: bound to the configured host itself when it is a loopback
   * address (so the demo is not reachable from other hosts), to every interface otherwise.
   */
  NettyServerBuilder serverBuilder(ServerConfig.Peer self) throws IOException {
    InetSocketAddress address = clientFacing(self, self.clientPort());
    return ServerLimits.builder(
        address, settings.apiCert(), settings.apiKey(), settings.clientTrust());
  }

  /** {@code port} on the host the client port binds to (the loopback host itself, else all). */
  static InetSocketAddress clientFacing(ServerConfig.Peer self, int port) {
    return SecuritySettings.isLoopback(self.host())
        ? new InetSocketAddress(self.host(), port)
        : new InetSocketAddress(port);
  }

  /**
   * How this replica's dashboard dials the replicas' client ports: TLS trusting the replicas' CA
   * ({@code tls-trust}, else {@code api-tls-client-trust}, else the API certificate itself), with
   * the process's own credential unless a request supplies a person's token.
   */
  ClientSecurity dashboardClient(java.util.function.Supplier<Optional<String>> personToken) {
    Optional<Path> trust = Optional.empty();
    if (settings.tlsOn()) {
      trust =
          config
              .tls()
              .map(io.paxcron.paxos.transport.TlsConfig::trustCerts)
              .or(settings::clientTrust)
              .or(settings::apiCert);
    }
    return new ClientSecurity(
        trust,
        Optional.empty(),
        Optional.empty(),
        () -> personToken.get().or(dashboardToken::current).or(() -> Optional.of(internalBearer)));
  }

  /**
   * Why this replica's dashboard cannot follow the cluster while another replica leads, if it
   * cannot: with auth on, its start-up credential is known to it alone, and reads go to the leader.
   */
  Optional<String> dashboardWeakness(int replicas) {
    if (!settings.authOn() || replicas < 2) {
      return Optional.empty();
    }
    if (settings.dashboardTokenFile().isPresent()) {
      if (dashboardToken.current().isPresent()) {
        return Optional.empty();
      }
      return Optional.of(
          "dashboard-token-file "
              + settings.dashboardTokenFile().get()
              + " holds no token yet: until it does, this replica's dashboard shows live runs and"
              + " per-job metrics only while it leads. Create a viewer token (paxcron token create"
              + " dashboard --role viewer) and write it there (chmod 600); it is read when it"
              + " appears");
    }
    return Optional.of(
        "auth is on and dashboard-token-file is not set: this replica's dashboard shows live runs"
            + " and per-job metrics only while it leads (its own credential is known to it alone,"
            + " and reads go to the leader). Create a viewer token (paxcron token create dashboard"
            + " --role viewer) and give every replica dashboard-token-file (docs/security.md)");
  }

  /**
   * The token in {@code dashboard-token-file}, read again when the file changes (so it can be
   * written after the replica started, and rotated without a restart). Thread-safe.
   */
  private static final class DashboardToken {
    private final SecuritySettings settings;
    private long checkedAtNanos; // 0: never
    private java.nio.file.attribute.FileTime readModified;
    private Optional<String> token = Optional.empty();

    DashboardToken(SecuritySettings settings) {
      this.settings = settings;
    }

    synchronized Optional<String> current() {
      if (settings.dashboardTokenFile().isEmpty()) {
        return Optional.empty();
      }
      long now = System.nanoTime();
      if (checkedAtNanos != 0 && now - checkedAtNanos < 2_000_000_000L) {
        return token;
      }
      checkedAtNanos = now;
      try {
        java.nio.file.attribute.FileTime modified =
            java.nio.file.Files.getLastModifiedTime(settings.dashboardTokenFile().get());
        if (!modified.equals(readModified)) {
          token = settings.dashboardToken();
          readModified = modified;
        }
      } catch (java.io.IOException | IllegalArgumentException e) {
        token = Optional.empty();
        readModified = null;
      }
      return token;
    }
  }

  /** "api: TLS, client certificates, auth token" for the start-up line. */
  String describe() {
    return "api: "
        + (settings.tlsOn() ? "TLS" : "plaintext")
        + (settings.clientTrust().isPresent() ? " with client certificates" : "")
        + ", auth "
        + (settings.authOn() ? "token" : "off")
        + (config.insecureReason().isPresent() ? ", INSECURE" : "");
  }
}
