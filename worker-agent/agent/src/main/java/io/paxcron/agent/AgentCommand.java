package io.paxcron.agent;

import io.paxcron.agent.core.CorruptJournalException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code paxcron agent}: runs a worker agent until the process is stopped. Bad flags print one line
 * naming the flag and the reason, and exit 2.
 */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    version = "paxcron agent " + WorkerAgent.VERSION,
    description = "Run a worker agent: dial the cluster, take launches, run them as processes.")
public final class AgentCommand implements Callable<Integer> {
  @Option(
      names = "--cluster",
      required = true,
      split = ",",
      description = "replica client API addresses host:port,...")
  List<String> cluster = new ArrayList<>();

  @Option(names = "--name", required = true, description = "unique agent name")
  String name;

  @Option(names = "--label", description = "label k=v (repeatable)")
  List<String> labels = new ArrayList<>();

  @Option(
      names = "--capacity",
      defaultValue = "4",
      description = "runs at once (default ${DEFAULT-VALUE})")
  int capacity;

  @Option(names = "--data-dir", required = true, description = "journal and run output directory")
  Path dataDir;

  @Option(
      names = "--output-max-bytes",
      defaultValue = "1048576",
      description = "output bytes kept per run (head)")
  long outputMaxBytes;

  @Option(
      names = "--output-retention",
      defaultValue = "100",
      description =
          "ended runs whose output is kept: a count (100), an age (7d, 12h), or both (100,7d)")
  String outputRetention;

  @Option(
      names = "--allow-user",
      description = "a user run_as may name (repeatable); root only if listed")
  List<String> allowedUsers = new ArrayList<>();

  @Option(
      names = "--heartbeat-interval",
      defaultValue = "500ms",
      description = "heartbeat interval (e.g. 500ms, 1s)")
  String heartbeatInterval;

  @Option(
      names = "--run-niceness",
      defaultValue = "0",
      description =
          "niceness added to the agent's own for the runs' processes, 0-19 (default"
              + " ${DEFAULT-VALUE}: the agent's own); on hosts whose runs can take every CPU,"
              + " 10 keeps the agent's heartbeats on time")
  int runNiceness;

  @Option(
      names = "--tls-trust",
      description = "CA (PEM) the replicas' certificates chain to: dial with TLS")
  Path tlsTrust;

  @Option(
      names = "--tls-cert",
      description = "this agent's certificate (PEM); its common name must be --name")
  Path tlsCert;

  @Option(names = "--tls-key", description = "its private key (PEM, PKCS#8)")
  Path tlsKey;

  @Option(
      names = "--token-file",
      description = "a file holding an agent token named like --name (or set PAXCRON_TOKEN)")
  Path tokenFile;

  private final PrintStream out;
  private final PrintStream err;

  /** The process's command: its log lines carry the time (see {@link StampedLines}). */
  public AgentCommand() {
    this(
        StampedLines.forProcess(System.out, System.getenv(), java.time.Clock.systemUTC()),
        System.err);
  }

  /** {@code out} gets the agent's log, {@code err} the one-line flag errors. */
  public AgentCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /** The options these flags describe. */
  AgentOptions options() {
    Map<String, String> labelMap = new LinkedHashMap<>();
    for (String label : labels) {
      int eq = label.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--label: '" + label + "' is not k=v");
      }
      labelMap.put(label.substring(0, eq), label.substring(eq + 1));
    }
    int retentionRuns = 100;
    Duration retentionAge = Duration.ofDays(7);
    for (String part : outputRetention.split(",")) {
      if (part.matches("\\d+")) {
        retentionRuns = Integer.parseInt(part);
      } else {
        retentionAge = duration("--output-retention", part);
      }
    }
    return new AgentOptions(
        cluster,
        name,
        labelMap,
        capacity,
        dataDir,
        outputMaxBytes,
        retentionRuns,
        retentionAge,
        Set.copyOf(allowedUsers),
        duration("--heartbeat-interval", heartbeatInterval),
        Duration.ofSeconds(5),
        runNiceness,
        name.hashCode());
  }

  /** The TLS and token settings these flags (and {@code PAXCRON_TOKEN}) describe. */
  AgentSecurity security(String tokenFromEnvironment) {
    Optional<String> token =
        tokenFile != null
            ? Optional.of(AgentSecurity.readToken(tokenFile))
            : Optional.ofNullable(tokenFromEnvironment)
                .map(String::strip)
                .filter(text -> !text.isEmpty());
    return new AgentSecurity(
        Optional.ofNullable(tlsTrust),
        Optional.ofNullable(tlsCert),
        Optional.ofNullable(tlsKey),
        token);
  }

  static Duration duration(String flag, String text) {
    try {
      if (text.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
      }
      if (text.endsWith("d")) {
        return Duration.ofDays(Long.parseLong(text.substring(0, text.length() - 1)));
      }
      if (text.matches("\\d+[smh]")) {
        return Duration.parse("PT" + text.toUpperCase());
      }
      throw new IllegalArgumentException("x");
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw new IllegalArgumentException(
          flag + ": '" + text + "' is not a duration like 500ms, 30s, 12h or 7d");
    }
  }

  @Override
  public Integer call() throws Exception {
    AgentOptions options;
    try {
      options = options();
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      return 2;
    }
    AgentSecurity security;
    try {
      security = security(System.getenv("PAXCRON_TOKEN"));
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      return 2;
    }
    WorkerAgent agent = new WorkerAgent(options, security, out);
    try {
      agent.start();
    } catch (CorruptJournalException | IOException e) {
      err.println("--data-dir: " + e.getMessage());
      agent.close();
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  agent.close();
                  stopped.countDown();
                }));
    stopped.await();
    return 0;
  }
}
