package io.paxcron.cli;

import io.paxcron.api.auth.ClientSecurity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How the CLI authenticates to the cluster (docs/security.md). The token is never a flag (flags
 * land in shell history and in {@code ps}); it comes from, in this order:
 *
 * <ol>
 *   <li>{@code PAXCRON_TOKEN} (the token itself);
 *   <li>{@code PAXCRON_TOKEN_FILE} (a file holding it);
 *   <li>the line {@code token-file = PATH} of the CLI config file.
 * </ol>
 *
 * TLS: {@code PAXCRON_TLS_TRUST} or {@code tls-trust = PATH} (the CA the replicas' certificates
 * chain to; without it the CLI speaks plaintext), and optionally {@code tls-cert}/{@code tls-key}
 * for a client certificate.
 */
public final class CliSecurity {
  private CliSecurity() {}

  /** A problem with the CLI's security settings: printed as one line, exit 64. */
  public static final class Problem extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Problem(String message) {
      super(message);
    }
  }

  public static ClientSecurity resolve(Map<String, String> env, Path home) {
    Map<String, String> file = configFile(env, home);
    Optional<String> token = Optional.empty();
    String inline = env.get("PAXCRON_TOKEN");
    if (inline != null && !inline.isBlank()) {
      token = Optional.of(inline.strip());
    } else {
      String tokenFile = firstNonBlank(env.get("PAXCRON_TOKEN_FILE"), file.get("token-file"));
      if (tokenFile != null) {
        token = Optional.of(readToken(Path.of(tokenFile)));
      }
    }
    Optional<Path> trust =
        Optional.ofNullable(firstNonBlank(env.get("PAXCRON_TLS_TRUST"), file.get("tls-trust")))
            .map(Path::of);
    Optional<Path> cert = Optional.ofNullable(file.get("tls-cert")).map(Path::of);
    Optional<Path> key = Optional.ofNullable(file.get("tls-key")).map(Path::of);
    Optional<String> bearer = token;
    return new ClientSecurity(trust, cert, key, () -> bearer);
  }

  private static String readToken(Path file) {
    try {
      String text = Files.readString(file).strip();
      if (text.isEmpty()) {
        throw new Problem(file + ": the token file is empty");
      }
      try {
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
        if (permissions.contains(PosixFilePermission.GROUP_READ)
            || permissions.contains(PosixFilePermission.OTHERS_READ)) {
          throw new Problem(
              file + ": the token file is readable by other users; chmod 600 " + file);
        }
      } catch (UnsupportedOperationException e) {
        // Not a POSIX file system: nothing to check.
      }
      return text;
    } catch (IOException e) {
      throw new Problem(file + ": cannot read the token file: " + e.getMessage());
    }
  }

  private static Map<String, String> configFile(Map<String, String> env, Path home) {
    String configured = env.get("PAXCRON_CONFIG");
    Path file =
        configured != null && !configured.isBlank()
            ? Path.of(configured)
            : home.resolve(".config").resolve("paxcron").resolve("cli.conf");
    Map<String, String> values = new HashMap<>();
    if (!Files.isRegularFile(file)) {
      return values;
    }
    try {
      for (String line : Files.readAllLines(file)) {
        String content = line.strip();
        int equals = content.indexOf('=');
        if (content.startsWith("#") || equals < 0) {
          continue;
        }
        values.put(content.substring(0, equals).strip(), content.substring(equals + 1).strip());
      }
    } catch (IOException e) {
      throw new Problem(file + ": cannot read the CLI config: " + e.getMessage());
    }
    return values;
  }

  private static String firstNonBlank(String first, String second) {
    if (first != null && !first.isBlank()) {
      return first.strip();
    }
    return second == null || second.isBlank() ? null : second;
  }
}
