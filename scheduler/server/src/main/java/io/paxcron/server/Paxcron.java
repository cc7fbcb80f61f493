package io.paxcron.server;

import io.paxcron.cli.ApplyCommand;
import io.paxcron.cli.Cli;
import io.paxcron.cli.CliContext;
import io.paxcron.cli.ClusterAddress;
import io.paxcron.cli.ExitCodes;
import io.paxcron.cli.JobActionCommands;
import io.paxcron.cli.JobsCommand;
import io.paxcron.cli.LintCommand;
import io.paxcron.cli.OutputCommand;
import io.paxcron.cli.PlanCommand;
import io.paxcron.cli.RunsCommand;
import io.paxcron.cli.ShowJobCommand;
import io.paxcron.cli.WatchCommand;
import io.paxcron.paxos.KeyValueStateMachine;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.paxos.storage.StoreException;
import io.paxcron.proto.v1.ProposeReply;
import io.paxcron.proto.v1.ReadReply;
import io.paxcron.proto.v1.StatusReply;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code paxcron} command: one {@code main}, subcommands wired with {@code new}. */
@Command(
    name = "paxcron",
    mixinStandardHelpOptions = true,
    version = Paxcron.VERSION,
    description = "A distributed cron replicated with Multi-Paxos.",
    subcommands = {
      Paxcron.ServerCommand.class,
      io.paxcron.agent.AgentCommand.class,
      BackupCommand.RestoreCommand.class,
      BackupCommand.class,
      Paxcron.StatusCommand.class,
      Paxcron.PutCommand.class,
      Paxcron.GetCommand.class,
      LintCommand.class,
      PlanCommand.class,
      ApplyCommand.class,
      JobsCommand.class,
      ShowJobCommand.class,
      RunsCommand.class,
      OutputCommand.class,
      WatchCommand.class,
      JobActionCommands.TriggerCommand.class,
      JobActionCommands.PauseCommand.class,
      JobActionCommands.ResumeCommand.class,
      JobActionCommands.DeleteCommand.class,
      io.paxcron.cli.AccessCommands.TokenCommand.class,
      io.paxcron.cli.AccessCommands.Audit.class,
      io.paxcron.cli.AccessCommands.WhoAmI.class,
      io.paxcron.cli.MembersCommand.Group.class
    })
public final class Paxcron implements Callable<Integer> {

  static final String VERSION = "paxcron 0.1.0";
  static final int EXIT_USAGE = 2;
  static final int EXIT_FAILED = 1;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String... args) {
    return run(CliContext.system(), args);
  }

  /** Runs {@code args} with the CLI commands created for {@code context} (tests pass their own). */
  static int run(CliContext context, String... args) {
    CommandLine commandLine;
    if (args.length > 0 && (args[0].equals("server") || args[0].equals("agent"))) {
      // A replica's and an agent's start-up are on the recovery path (after a loss of quorum, after
      // a host restart): build the model of the one command the process runs, not of every CLI
      // command (a fifth of a replica's start-up CPU; on a loaded machine a restarted agent spent
      // seconds here before it dialled the cluster).
      Object command =
          args[0].equals("server") ? new ServerCommand() : new io.paxcron.agent.AgentCommand();
      commandLine = new CommandLine(command, Cli.factory(context));
      commandLine.setCommandName("paxcron " + args[0]);
      args = java.util.Arrays.copyOfRange(args, 1, args.length);
    } else {
      commandLine = new CommandLine(new Paxcron(), Cli.factory(context));
    }
    helpEverywhere(commandLine);
    commandLine.setOut(context.out());
    commandLine.setErr(context.err());
    int exit = commandLine.execute(args);
    context.out().flush();
    context.err().flush();
    return exit;
  }

  /** {@code -h}/{@code --help} (and {@code -V}) on every command, not only on {@code paxcron}. */
  static void helpEverywhere(CommandLine commandLine) {
    CommandLine.Model.CommandSpec spec = commandLine.getCommandSpec();
    spec.mixinStandardHelpOptions(true);
    if (spec.version().length == 0) {
      spec.version(VERSION);
    }
    for (CommandLine sub : commandLine.getSubcommands().values()) {
      helpEverywhere(sub);
    }
  }

  @Override
  public Integer call() {
    CommandLine.usage(this, System.err);
    return EXIT_USAGE;
  }

  @Command(name = "server", description = "Run one replica until stopped.")
  static final class ServerCommand implements Callable<Integer> {
    @Option(names = "--config", description = "A config file of 'key = value' lines.")
    Path configFile;

    @Option(names = "--id", description = "This replica's id (one of the peer ids).")
    String id;

    @Option(names = "--cluster-id", description = "The cluster's name; every replica agrees.")
    String clusterId;

    @Option(names = "--data-dir", description = "Where this replica keeps its log.")
    String dataDir;

    @Option(names = "--peer", description = "ID=HOST:PEER_PORT:CLIENT_PORT, once per replica.")
    List<String> peers = new ArrayList<>();

    @Option(names = "--backup-dir", description = "Ship backups to this directory.")
    String backupDir;

    @Option(
        names = "--backup-target",
        description = "Ship backups to a directory or s3://bucket/prefix?endpoint=…&region=….")
    String backupTarget;

    @Option(names = "--backup-interval", description = "Back up at least this often (1h).")
    String backupInterval;

    @Option(names = "--backup-every-entries", description = "And after this many slots (0: off).")
    String backupEveryEntries;

    @Option(names = "--backup-keep", description = "Keep this many backups (48).")
    String backupKeep;

    @Option(names = "--backup-max-age", description = "Delete backups older than this (e.g. 14d).")
    String backupMaxAge;

    @Option(names = "--snapshot-every-entries", description = "Snapshot after this many slots.")
    String snapshotEvery;

    @Option(
        names = "--proposal-fanout",
        description =
            "quorum (default): a proposal goes at once to a quorum's followers, the others get it"
                + " with the next heartbeat; all: to every member.")
    String proposalFanout;

    @Option(
        names = "--accept-port",
        description =
            "Where this replica takes Accepts from its leader on plain TCP: any (default, a free"
                + " port it tells its peers), a port number, or off (Accepts on gRPC only).")
    String acceptPort;

    @Option(
        names = "--command-port",
        description =
            "Where the log's clients send commands on plain TCP: any (default, a free port that"
                + " Status tells them), a port number, or off (gRPC only). Not opened with API TLS"
                + " or token auth.")
    String commandPort;

    @Option(
        names = "--max-jobs",
        description = "Most jobs the cluster holds (1000000); the same on every replica.")
    String maxJobs;

    @Option(
        names = "--max-ledger-records",
        description = "Run records kept across all jobs (1000000); the same on every replica.")
    String maxLedgerRecords;

    @Option(
        names = "--max-apply-jobs",
        description = "Most jobs and deletions in one Apply request (1000, at most 1000).")
    String maxApplyJobs;

    @Option(
        names = "--state-machine",
        description =
            "cron (default: the job API) or kv (the log's key-value store, for the log benchmark).")
    String stateMachine;

    @Option(
        names = "--http-port",
        description = "Serve the dashboard, /metrics, /healthz and /readyz on this port (0: off).")
    String httpPort;

    @Option(
        names = "--metrics-per-job",
        description = "true: /metrics carries one series per job (next run, last success, paused).")
    String metricsPerJob;

    @Option(names = "--tls-cert")
    String tlsCert;

    @Option(names = "--tls-key")
    String tlsKey;

    @Option(names = "--tls-trust")
    String tlsTrust;

    @Option(
        names = "--api-tls-cert",
        description = "TLS certificate (PEM) of the client port and dashboard.")
    String apiTlsCert;

    @Option(names = "--api-tls-key", description = "Its private key (PEM, PKCS#8).")
    String apiTlsKey;

    @Option(
        names = "--api-tls-client-trust",
        description = "CA (PEM) client certificates must chain to; agents are named by theirs.")
    String apiTlsClientTrust;

    @Option(names = "--auth", description = "off (default) or token: every call needs a token.")
    String auth;

    @Option(names = "--write-rate-limit", description = "Writes per second per client (50).")
    String writeRateLimit;

    @Option(
        names = "--dashboard-token-file",
        description =
            "File (chmod 600) holding a viewer token the dashboard reads the cluster with; with"
                + " --auth token every replica of a multi-replica cluster needs one.")
    String dashboardTokenFile;

    @Option(
        names = "--insecure",
        description =
            "Start on a non-loopback address without TLS or auth anyway (and say so everywhere).")
    boolean insecure;

    @Option(
        names = "--join",
        description =
            "A new replica joining a running cluster with an empty data directory: it waits until"
                + " the leader adds it (paxcron members add), then catches up as a learner."
                + " --peer names it and the members it contacts.")
    boolean join;

    @Override
    public Integer call() throws Exception {
      ServerConfig config;
      try {
        Map<String, ServerConfig.Setting> settings =
            configFile != null
                ? new LinkedHashMap<>(ServerConfig.readFile(configFile))
                : new LinkedHashMap<>();
        flag(settings, "id", id);
        flag(settings, "cluster-id", clusterId);
        flag(settings, "data-dir", dataDir);
        flag(settings, "backup-dir", backupDir);
        flag(settings, "backup-target", backupTarget);
        flag(settings, "backup-interval", backupInterval);
        flag(settings, "backup-every-entries", backupEveryEntries);
        flag(settings, "backup-keep", backupKeep);
        flag(settings, "backup-max-age", backupMaxAge);
        flag(settings, "snapshot-every-entries", snapshotEvery);
        flag(settings, "proposal-fanout", proposalFanout);
        flag(settings, "accept-port", acceptPort);
        flag(settings, "command-port", commandPort);
        flag(settings, "max-jobs", maxJobs);
        flag(settings, "max-ledger-records", maxLedgerRecords);
        flag(settings, "max-apply-jobs", maxApplyJobs);
        flag(settings, "state-machine", stateMachine);
        flag(settings, "http-port", httpPort);
        flag(settings, "metrics-per-job", metricsPerJob);
        flag(settings, "tls-cert", tlsCert);
        flag(settings, "tls-key", tlsKey);
        flag(settings, "tls-trust", tlsTrust);
        flag(settings, "api-tls-cert", apiTlsCert);
        flag(settings, "api-tls-key", apiTlsKey);
        flag(settings, "api-tls-client-trust", apiTlsClientTrust);
        flag(settings, "auth", auth);
        flag(settings, "write-rate-limit", writeRateLimit);
        flag(settings, "dashboard-token-file", dashboardTokenFile);
        if (insecure) {
          flag(settings, "insecure", "true");
        }
        if (join) {
          flag(settings, "join", "true");
        }
        List<String> problems = new ArrayList<>();
        for (String peer : peers) {
          int equals = peer.indexOf('=');
          if (equals <= 0) {
            problems.add("--peer: '" + peer + "' must be ID=HOST:PEER_PORT:CLIENT_PORT");
            continue;
          }
          settings.put(
              "peer." + peer.substring(0, equals),
              new ServerConfig.Setting(peer.substring(equals + 1), "--peer " + peer));
        }
        if (!problems.isEmpty()) {
          throw new ServerConfig.ConfigException(problems);
        }
        config = ServerConfig.from(settings);
      } catch (ServerConfig.ConfigException e) {
        for (String problem : e.problems()) {
          System.err.println("error: " + problem);
        }
        return EXIT_USAGE;
      }
      ReplicaServer server =
          new ReplicaServer(
              config,
              io.paxcron.agent.StampedLines.forProcess(
                  System.out, System.getenv(), java.time.Clock.systemUTC()));
      try {
        server.start();
      } catch (StoreException e) {
        System.err.println("error: " + e.getMessage());
        server.close();
        return EXIT_FAILED;
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        // An unreadable or invalid certificate or key (api-tls-*): a configuration problem.
        System.err.println("error: " + e.getMessage());
        server.close();
        return EXIT_USAGE;
      }
      Runtime.getRuntime().addShutdownHook(new Thread(server::close, "shutdown"));
      Throwable cause = server.stopped().join();
      if (cause instanceof io.paxcron.paxos.replica.ReplicaNode.RemovedFromClusterException) {
        // An orderly end: a supervisor must not restart it (it would only stop again).
        System.err.println(cause.getMessage());
        return 0;
      }
      System.err.println("error: replica stopped: " + cause);
      return EXIT_FAILED;
    }

    private static void flag(Map<String, ServerConfig.Setting> settings, String key, String value) {
      if (value != null) {
        settings.put(key, new ServerConfig.Setting(value, "--" + key));
      }
    }
  }

  @Command(name = "status", description = "Show every replica's role, ballot and slots.")
  static final class StatusCommand implements Callable<Integer> {
    @Option(
        names = "--cluster",
        paramLabel = "HOST:PORT[,HOST:PORT...]",
        description =
            "Client addresses of the replicas. Default: $PAXCRON_CLUSTER, then 'cluster = ...'"
                + " in $PAXCRON_CONFIG or ~/.config/paxcron/cli.conf.")
    String cluster;

    @Override
    public Integer call() {
      List<String> addresses;
      try {
        addresses = CliContext.system().cluster(cluster).addresses();
      } catch (ClusterAddress.MissingException e) {
        System.err.println("error: " + e.getMessage());
        return ExitCodes.USAGE;
      }
      try (Connected connected = client(addresses)) {
        LogClient client = connected.client();
        int failures = 0;
        for (String address : addresses) {
          try {
            StatusReply status = client.status(address);
            System.out.printf(
                "%-22s replica %d %-9s ballot %d.%d leader %d applied %d lease %s%n",
                address,
                status.getReplicaId(),
                status.getRole(),
                status.getBallotRound(),
                status.getBallotReplica(),
                status.getLeaderId(),
                status.getAppliedSlot(),
                status.getHoldsLease() ? "held" : "-");
          } catch (RuntimeException e) {
            failures++;
            System.out.printf("%-22s unreachable: %s%n", address, e.getMessage());
          }
        }
        return failures == addresses.size() ? ExitCodes.UNREACHABLE : 0;
      }
    }
  }

  @Command(name = "put", description = "Write KEY=VALUE through the replicated log.")
  static final class PutCommand implements Callable<Integer> {
    @Option(names = "--cluster", required = true, split = ",")
    List<String> cluster;

    @Parameters(index = "0")
    String key;

    @Parameters(index = "1")
    String value;

    @Override
    public Integer call() {
      try (Connected connected = client(cluster)) {
        LogClient client = connected.client();
        ProposeReply reply = client.propose(KeyValueStateMachine.put(key, value));
        System.out.println(
            "slot "
                + reply.getSlot()
                + ": previous value '"
                + reply.getResult().toString(StandardCharsets.UTF_8)
                + "'");
        return 0;
      } catch (IllegalArgumentException | LogClient.LogClientException e) {
        System.err.println("error: " + e.getMessage());
        return EXIT_FAILED;
      }
    }
  }

  @Command(name = "get", description = "Read KEY with a linearizable lease read.")
  static final class GetCommand implements Callable<Integer> {
    @Option(names = "--cluster", required = true, split = ",")
    List<String> cluster;

    @Parameters(index = "0")
    String key;

    @Override
    public Integer call() {
      try (Connected connected = client(cluster)) {
        LogClient client = connected.client();
        ReadReply reply = client.read(key);
        System.out.println(reply.getFound() ? reply.getValue() : "(absent)");
        return reply.getFound() ? 0 : EXIT_FAILED;
      } catch (LogClient.LogClientException e) {
        System.err.println("error: " + e.getMessage());
        return EXIT_FAILED;
      }
    }
  }

  /**
   * A log client over the CLI's TLS and token settings (docs/security.md); closing it closes its
   * channels.
   */
  static Connected client(List<String> cluster) {
    io.paxcron.api.auth.ClientSecurity security =
        io.paxcron.cli.CliSecurity.resolve(
            System.getenv(), Path.of(System.getProperty("user.home")));
    Map<String, io.grpc.ManagedChannel> channels = new java.util.concurrent.ConcurrentHashMap<>();
    for (String address : cluster) {
      channels.put(address, security.channel(address));
    }
    return new Connected(
        new LogClient(
            new SecureRandom().nextLong() & Long.MAX_VALUE,
            cluster,
            Duration.ofSeconds(2),
            Duration.ofSeconds(10),
            channels),
        channels);
  }

  /** A log client and the channels it borrows; closing closes both. */
  record Connected(LogClient client, Map<String, io.grpc.ManagedChannel> channels)
      implements AutoCloseable {
    @Override
    public void close() {
      client.close();
      channels.values().forEach(io.grpc.ManagedChannel::shutdownNow);
    }
  }
}
