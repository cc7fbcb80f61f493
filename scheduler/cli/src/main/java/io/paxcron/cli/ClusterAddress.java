package io.paxcron.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the cluster is: {@code --cluster}, else {@code PAXCRON_CLUSTER}, else the {@code cluster}
 * line of the config file ({@code $PAXCRON_CONFIG}, else {@code ~/.config/paxcron/cli.conf}). Pure:
 * the file is read through the function passed in.
 *
 * @param addresses the replicas' client API addresses, {@code host:port}
 * @param origin where they came from, named in errors ("--cluster", "PAXCRON_CLUSTER", a file:line)
 */
public record ClusterAddress(List<String> addresses, String origin) {
  /** Most replica addresses accepted. */
  public static final int MAX_ADDRESSES = 16;

  public ClusterAddress {
    addresses = List.copyOf(addresses);
    Objects.requireNonNull(origin, "origin");
  }

  /** Why no address could be found, naming every place looked at. */
  public static final class MissingException extends Exception {
    private static final long serialVersionUID = 1L;

    MissingException(String message) {
      super(message);
    }
  }

  /** Reads a file; empty if it does not exist. */
  @FunctionalInterface
  public interface FileReader {
    Optional<String> read(Path file) throws IOException;
  }

  /**
   * Resolves the address in the documented order.
   *
   * @param flag the {@code --cluster} value, or null
   * @param readFile the contents of a file, empty if it does not exist
   * @throws MissingException if no source names a cluster, or the one that does is malformed
   */
  public static ClusterAddress resolve(
      String flag, Map<String, String> env, Path home, FileReader readFile)
      throws MissingException {
    if (flag != null && !flag.isBlank()) {
      return parse(flag, "--cluster");
    }
    String fromEnv = env.get("PAXCRON_CLUSTER");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return parse(fromEnv, "PAXCRON_CLUSTER");
    }
    String configured = env.get("PAXCRON_CONFIG");
    Path file =
        configured != null && !configured.isBlank()
            ? Path.of(configured)
            : home.resolve(".config").resolve("paxcron").resolve("cli.conf");
    Optional<String> text;
    try {
      text = readFile.read(file);
    } catch (IOException e) {
      throw new MissingException(file + ": cannot read the CLI config: " + e.getMessage());
    }
    if (text.isPresent()) {
      String[] lines = text.get().split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i].strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        int equals = line.indexOf('=');
        String where = file + ":" + (i + 1);
        if (equals < 0) {
          throw new MissingException(where + ": expected 'key = value', got '" + line + "'");
        }
        String key = line.substring(0, equals).strip();
        if (key.equals("cluster")) {
          return parse(line.substring(equals + 1).strip(), where);
        }
        throw new MissingException(
            where + ": unknown key '" + key + "'; the CLI config knows 'cluster'");
      }
    }
    throw new MissingException(
        "no cluster address: give --cluster HOST:PORT[,HOST:PORT...], set"
            + " PAXCRON_CLUSTER, or write 'cluster = HOST:PORT,...' in "
            + file);
  }

  static ClusterAddress parse(String text, String origin) throws MissingException {
    List<String> addresses = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      String address = part.strip();
      int colon = address.lastIndexOf(':');
      boolean portOk =
          colon > 0
              && colon < address.length() - 1
              && address.substring(colon + 1).chars().allMatch(Character::isDigit)
              && address.length() - colon - 1 <= 5
              && Integer.parseInt(address.substring(colon + 1)) <= 65_535;
      if (!portOk) {
        throw new MissingException(origin + ": '" + address + "' is not HOST:PORT");
      }
      addresses.add(address);
    }
    if (addresses.size() > MAX_ADDRESSES) {
      throw new MissingException(
          origin + ": more than " + MAX_ADDRESSES + " addresses (MAX_ADDRESSES)");
    }
    return new ClusterAddress(addresses, origin);
  }
}
