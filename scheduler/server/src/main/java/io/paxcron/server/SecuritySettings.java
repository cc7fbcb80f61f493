package io.paxcron.server;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How a replica protects its client port and dashboard (docs/security.md): TLS with its own
 * certificate, optional client certificates (a worker agent's name then comes from its
 * certificate), bearer-token auth, the per-client write rate, and whether the operator accepted an
 * insecure setup.
 *
 * @param apiCert the client port's and dashboard's certificate chain (PEM), with {@code apiKey}
 * @param apiKey its private key (PEM, PKCS#8)
 * @param clientTrust CA bundle (PEM) that client certificates must chain to; absent: none asked
 * @param authOn whether every call needs a token (or an agent's certificate)
 * @param insecure the operator's {@code --insecure}: start on a non-loopback address without TLS or
 *     auth anyway, and say so
 * @param writesPerSecond state-changing calls one client may make per second (the burst is twice)
 * @param dashboardTokenFile a file holding a viewer token this replica's dashboard reads the
 *     cluster with (with auth on, a follower's dashboard needs one: its own start-up credential is
 *     known to it alone, and reads go to the leader)
 */
public record SecuritySettings(
    Optional<Path> apiCert,
    Optional<Path> apiKey,
    Optional<Path> clientTrust,
    boolean authOn,
    boolean insecure,
    double writesPerSecond,
    Optional<Path> dashboardTokenFile) {

  public static final double DEFAULT_WRITES_PER_SECOND = 50;

  public static final SecuritySettings NONE =
      new SecuritySettings(
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          false,
          false,
          DEFAULT_WRITES_PER_SECOND,
          Optional.empty());

  /** The setting keys this record reads. */
  public static final List<String> KEYS =
      List.of(
          "api-tls-cert",
          "api-tls-key",
          "api-tls-client-trust",
          "auth",
          "insecure",
          "write-rate-limit",
          "dashboard-token-file");

  public boolean tlsOn() {
    return apiCert.isPresent();
  }

  /** One setting applied; a bad value adds a problem naming {@code where}. */
  SecuritySettings with(String key, String value, String where, List<String> problems) {
    switch (key) {
      case "api-tls-cert", "api-tls-key", "api-tls-client-trust" -> {
        if (!Files.isReadable(Path.of(value))) {
          problems.add(where + ": " + key + " file " + value + " is not readable");
        }
        Optional<Path> path = Optional.of(Path.of(value));
        return switch (key) {
          case "api-tls-cert" ->
              new SecuritySettings(
                  path, apiKey, clientTrust, authOn, insecure, writesPerSecond, dashboardTokenFile);
          case "api-tls-key" ->
              new SecuritySettings(
                  apiCert,
                  path,
                  clientTrust,
                  authOn,
                  insecure,
                  writesPerSecond,
                  dashboardTokenFile);
          default ->
              new SecuritySettings(
                  apiCert, apiKey, path, authOn, insecure, writesPerSecond, dashboardTokenFile);
        };
      }
      case "auth" -> {
        return switch (value) {
          case "token" ->
              new SecuritySettings(
                  apiCert,
                  apiKey,
                  clientTrust,
                  true,
                  insecure,
                  writesPerSecond,
                  dashboardTokenFile);
          case "off" ->
              new SecuritySettings(
                  apiCert,
                  apiKey,
                  clientTrust,
                  false,
                  insecure,
                  writesPerSecond,
                  dashboardTokenFile);
          default -> {
            problems.add(where + ": auth '" + value + "' must be token or off");
            yield this;
          }
        };
      }
      case "insecure" -> {
        return switch (value) {
          case "true" ->
              new SecuritySettings(
                  apiCert, apiKey, clientTrust, authOn, true, writesPerSecond, dashboardTokenFile);
          case "false" ->
              new SecuritySettings(
                  apiCert, apiKey, clientTrust, authOn, false, writesPerSecond, dashboardTokenFile);
          default -> {
            problems.add(where + ": insecure '" + value + "' must be true or false");
            yield this;
          }
        };
      }
      case "write-rate-limit" -> {
        try {
          double rate = Double.parseDouble(value);
          if (!(rate >= 0.1 && rate <= 1_000_000)) {
            problems.add(
                where + ": write-rate-limit " + value + " is outside 0.1..1000000 per second");
            return this;
          }
          return new SecuritySettings(
              apiCert, apiKey, clientTrust, authOn, insecure, rate, dashboardTokenFile);
        } catch (NumberFormatException e) {
          problems.add(
              where + ": write-rate-limit '" + value + "' is not a number (writes per second)");
          return this;
        }
      }
      case "dashboard-token-file" -> {
        Path path = Path.of(value);
        if (!Files.exists(path)) {
          // Allowed: the token can only be made once the cluster runs (docs/security.md); the
          // replica reads the file when it appears.
        } else if (!Files.isReadable(path)) {
          problems.add(where + ": dashboard-token-file " + value + " is not readable");
        } else if (othersMayRead(path)) {
          problems.add(
              where
                  + ": dashboard-token-file "
                  + value
                  + " may be read by others; chmod 600 it (it holds a token)");
        } else {
          try {
            new SecuritySettings(
                    apiCert,
                    apiKey,
                    clientTrust,
                    authOn,
                    insecure,
                    writesPerSecond,
                    Optional.of(path))
                .dashboardToken();
          } catch (IllegalArgumentException e) {
            problems.add(where + ": " + e.getMessage());
          }
        }
        return new SecuritySettings(
            apiCert, apiKey, clientTrust, authOn, insecure, writesPerSecond, Optional.of(path));
      }
      default -> throw new IllegalArgumentException("not a security key: " + key);
    }
  }

  private static boolean othersMayRead(Path path) {
    try {
      return Files.getPosixFilePermissions(path).stream()
          .anyMatch(
              permission ->
                  permission == java.nio.file.attribute.PosixFilePermission.GROUP_READ
                      || permission == java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
    } catch (java.io.IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /**
   * The dashboard's token, read from {@link #dashboardTokenFile} now; empty when none is set.
   *
   * @throws IllegalArgumentException naming the setting when the file is missing, unreadable or
   *     holds no token
   */
  Optional<String> dashboardToken() {
    if (dashboardTokenFile.isEmpty()) {
      return Optional.empty();
    }
    try {
      String token = Files.readString(dashboardTokenFile.get()).strip();
      if (!token.startsWith("pxc_") || token.contains("\n")) {
        throw new IllegalArgumentException(
            "dashboard-token-file "
                + dashboardTokenFile.get()
                + " does not hold one token (pxc_…): create one with `paxcron token create"
                + " dashboard --role viewer`");
      }
      return Optional.of(token);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(
          "dashboard-token-file " + dashboardTokenFile.get() + ": " + e.getMessage(), e);
    }
  }

  /** Problems of the settings together: the certificate and key come as a pair. */
  void check(List<String> problems) {
    if (apiCert.isPresent() != apiKey.isPresent()) {
      problems.add("api-tls-cert, api-tls-key: give both for TLS on the client port, or neither");
    }
    if (clientTrust.isPresent() && apiCert.isEmpty()) {
      problems.add(
          "api-tls-client-trust: client certificates need TLS (api-tls-cert, api-tls-key)");
    }
  }

  /**
   * What is missing for a replica whose client port is {@code host}, or empty when nothing is: a
   * loopback host needs nothing (the embedded demo); any other needs TLS between replicas, TLS on
   * the client port and auth.
   */
  Optional<String> weakness(String host, boolean peerTls) {
    if (isLoopback(host)) {
      return Optional.empty();
    }
    List<String> missing = new ArrayList<>();
    if (!peerTls) {
      missing.add("TLS between replicas (tls-cert, tls-key, tls-trust)");
    }
    if (!tlsOn()) {
      missing.add("TLS on the client port (api-tls-cert, api-tls-key)");
    }
    if (!authOn) {
      missing.add("auth (auth = token)");
    }
    return missing.isEmpty()
        ? Optional.empty()
        : Optional.of(
            host
                + " is not a loopback address and the replica runs without "
                + String.join(", ", missing));
  }

  static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
