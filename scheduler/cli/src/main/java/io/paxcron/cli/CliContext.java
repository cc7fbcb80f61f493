package io.paxcron.cli;

import io.paxcron.api.JobClient;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Everything a CLI command takes from its surroundings, passed in so that tests run the commands
 * in-process with their own environment, streams and clock.
 *
 * @param env the environment variables ({@code PAXCRON_CLUSTER}, {@code PAXCRON_CONFIG}, {@code
 *     NO_COLOR})
 * @param home the user's home directory, for {@code ~/.config/paxcron/cli.conf}
 * @param terminal whether standard output is a terminal (colors are used only then)
 * @param out where results go
 * @param err where errors and warnings go
 * @param clock the time "next 5 runs" start from
 * @param clients opens a job client for the resolved replica addresses
 */
public record CliContext(
    Map<String, String> env,
    Path home,
    boolean terminal,
    PrintWriter out,
    PrintWriter err,
    InstantSource clock,
    Function<List<String>, JobClient> clients) {

  /**
   * The CLI's client settings: a short deadline and one pass over the replicas (plus one retry), so
   * an unreachable cluster is reported in seconds rather than after the library's patient default.
   */
  public static JobClient.Settings clientSettings(int replicas) {
    // Patient enough to ride out an election on a loaded machine (about 12 s of waiting between
    // attempts: 0.1, 0.2, 0.4, 0.8, 1.6, then 2 s each), short enough to fail a wrong address fast.
    return new JobClient.Settings(
        Duration.ofSeconds(5),
        Math.min(JobClient.MAX_ATTEMPTS_LIMIT, Math.max(10, 2 * replicas + 1)),
        Duration.ofMillis(100),
        Duration.ofSeconds(2));
  }

  public CliContext {
    env = Map.copyOf(env);
    Objects.requireNonNull(home, "home");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(err, "err");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(clients, "clients");
  }

  /** The real process: its environment, System.out/err, the system clock and plaintext gRPC. */
  public static CliContext system() {
    return new CliContext(
        System.getenv(),
        Path.of(System.getProperty("user.home")),
        Terminal.stdoutIsTerminal(),
        new PrintWriter(System.out, true, StandardCharsets.UTF_8),
        new PrintWriter(System.err, true, StandardCharsets.UTF_8),
        InstantSource.system(),
        addresses -> connect(addresses, CliSecurity.resolve(System.getenv(), userHome())));
  }

  private static Path userHome() {
    return Path.of(System.getProperty("user.home"));
  }

  /**
   * The cluster address in the documented order ({@code flag}, {@code PAXCRON_CLUSTER}, the config
   * file), reading the config file from disk.
   *
   * @param flag the {@code --cluster} value, or null
   */
  public ClusterAddress cluster(String flag) throws ClusterAddress.MissingException {
    return ClusterAddress.resolve(
        flag,
        env,
        home,
        file -> {
          try {
            return java.util.Optional.of(java.nio.file.Files.readString(file));
          } catch (java.nio.file.NoSuchFileException e) {
            return java.util.Optional.empty();
          }
        });
  }

  /** A plaintext gRPC client with {@link #clientSettings}. */
  public static JobClient connect(List<String> addresses) {
    return connect(addresses, io.paxcron.api.auth.ClientSecurity.PLAINTEXT);
  }

  /** A gRPC client with {@link #clientSettings}, TLS and token as {@code security} says. */
  public static JobClient connect(
      List<String> addresses, io.paxcron.api.auth.ClientSecurity security) {
    long clientId = JobClient.randomClientId();
    RandomGenerator jitter =
        RandomGeneratorFactory.<RandomGenerator>of("L64X128MixRandom").create(clientId);
    return new JobClient(
        clientId,
        addresses,
        security::channel,
        clientSettings(addresses.size()),
        JobClient.Sleeper.SYSTEM,
        jitter);
  }
}
