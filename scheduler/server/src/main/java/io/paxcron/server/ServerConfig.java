package io.paxcron.server;

import io.paxcron.api.JobServiceImpl;
import io.paxcron.paxos.ProposalFanout;
import io.paxcron.paxos.transport.TlsConfig;
import io.paxcron.scheduler.CronLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One replica's configuration, from flags or from a config file of {@code key = value} lines
 * ({@code #} starts a comment). Every problem is reported with the flag or {@code file:line:col}
 * and the reason, and all problems are reported together; nothing starts with a bad config.
 *
 * <pre>
 * # paxcron.conf
 * id = 1
 * cluster-id = demo
 * data-dir = /var/lib/paxcron
 * peer.1 = 127.0.0.1:7001:7101      # host:peer-port:client-port
 * peer.2 = 127.0.0.1:7002:7102
 * peer.3 = 127.0.0.1:7003:7103
 * backup-target = s3://bucket/paxcron?endpoint=http://127.0.0.1:9000  # optional, see BackupSettings
 * snapshot-every-entries = 10000     # optional
 * proposal-fanout = quorum           # optional: quorum (default) or all — who hears a proposal at
 *                                    # once (docs/operations.md, "Proposal fanout")
 * accept-port = any                  # optional: the plain TCP port this replica takes Accepts on
 *                                    # from its leader: any (default, a free port it advertises
 *                                    # to its peers), a number, or off (Accepts on gRPC only);
 *                                    # ignored with tls-* (docs/operations.md, "The Accept socket")
 * command-port = any                 # optional: the plain TCP port the log's clients send commands
 *                                    # on: any (default, a free port Status advertises), a number,
 *                                    # or off (gRPC only); not opened with api-tls-* or auth = token
 *                                    # (docs/operations.md, "The command socket")
 * max-jobs = 1000000                 # optional: most jobs; the same on every replica
 * max-ledger-records = 1000000       # optional: run records kept; the same on every replica
 * max-apply-jobs = 1000              # optional: most jobs and deletions in one Apply request
 * tls-cert = /etc/paxcron/replica.pem  # optional, all three together: mutual TLS between replicas
 * tls-key = /etc/paxcron/replica.key
 * tls-trust = /etc/paxcron/ca.pem
 * state-machine = cron                # optional: cron (default, the job API) or kv (the log's
 *                                    # key-value store, for the log benchmark)
 * http-port = 7201                    # optional: dashboard, /metrics, /healthz, /readyz (0: off)
 * metrics-per-job = false             # optional: one /metrics series per job (cardinality)
 * api-tls-cert = /etc/paxcron/api.pem # optional, with api-tls-key: TLS on the client port and
 * api-tls-key = /etc/paxcron/api.key  # the dashboard
 * api-tls-client-trust = /etc/paxcron/ca.pem  # optional: verify client (agent) certificates
 * auth = token                        # optional: off (default) or token (docs/security.md)
 * write-rate-limit = 50               # optional: writes per second per client
 * insecure = false                    # true: start on a non-loopback address without TLS or auth
 * join = false                        # true: a new replica joining a running cluster; the peers
 *                                    # list names it and the members it contacts
 *                                    # (docs/membership.md)
 * </pre>
 */
public record ServerConfig(
    int id,
    String clusterId,
    Path dataDir,
    Map<Integer, Peer> peers,
    Path backupDir,
    long snapshotEveryEntries,
    Optional<TlsConfig> tls,
    StateMachineKind stateMachine,
    int httpPort,
    boolean metricsPerJob,
    BackupSettings backup,
    SecuritySettings security,
    CronLimits limits,
    int maxApplyJobs,
    boolean join,
    ProposalFanout proposalFanout,
    int acceptPort,
    int commandPort) {

  /** {@link #acceptPort} when Accepts travel on gRPC only ({@code accept-port = off}). */
  public static final int ACCEPT_PORT_OFF = -1;

  /**
   * {@link #commandPort} when the log's commands travel on gRPC only ({@code command-port = off}).
   */
  public static final int COMMAND_PORT_OFF = -1;

  /**
   * Set when the replica runs with {@code insecure = true} on a non-loopback address without TLS or
   * auth: what is missing, for the log, the status and the dashboard.
   */
  public Optional<String> insecureReason() {
    Peer self = peers.get(id);
    return self == null ? Optional.empty() : security.weakness(self.host(), tls.isPresent());
  }

  /** What the replicated log drives: the log's key-value store, or the cron state machine. */
  public enum StateMachineKind {
    KV,
    CRON
  }

  /** Where a replica listens: its peer port (replication) and its client port (API). */
  public record Peer(int id, String host, int peerPort, int clientPort) {
    public String peerAddress() {
      return host + ":" + peerPort;
    }

    public String clientAddress() {
      return host + ":" + clientPort;
    }
  }

  /** Every problem found, each naming where (a flag or file:line:col) and why. */
  public static final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient List<String> problems;

    public ConfigException(List<String> problems) {
      super(String.join("\n", problems));
      this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
      return problems;
    }
  }

  public static final long DEFAULT_SNAPSHOT_EVERY_ENTRIES = 10_000;

  private static final String BACKUP_KEYS =
      ", backup-target, backup-interval,"
          + " backup-every-entries, backup-keep, backup-max-age, backup-timeout";
  public static final int MAX_REPLICAS = 9;

  /** A raw setting and where it came from, for error messages. */
  public record Setting(String value, String where) {}

  /** Parses a config file; problems name {@code file:line:col}. */
  public static Map<String, Setting> readFile(Path file) throws ConfigException {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new ConfigException(List.of(file + ": cannot read config file: " + e.getMessage()));
    }
    Map<String, Setting> settings = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int hash = line.indexOf('#');
      String content = hash >= 0 ? line.substring(0, hash) : line;
      if (content.isBlank()) {
        continue;
      }
      int equals = content.indexOf('=');
      int firstColumn = firstNonBlank(content) + 1;
      if (equals < 0) {
        problems.add(
            file + ":" + (i + 1) + ":" + firstColumn + ": expected 'key = value', found no '='");
        continue;
      }
      String key = content.substring(0, equals).trim();
      String value = content.substring(equals + 1).trim();
      int valueColumn = equals + 2 + firstNonBlank(content.substring(equals + 1));
      if (key.isEmpty()) {
        problems.add(file + ":" + (i + 1) + ":" + firstColumn + ": missing key before '='");
        continue;
      }
      String where = file + ":" + (i + 1) + ":" + valueColumn;
      if (settings.containsKey(key)) {
        problems.add(
            file
                + ":"
                + (i + 1)
                + ":"
                + firstColumn
                + ": '"
                + key
                + "' is already set at "
                + settings.get(key).where());
        continue;
      }
      settings.put(key, new Setting(value, where));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return settings;
  }

  private static int firstNonBlank(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (!Character.isWhitespace(text.charAt(i))) {
        return i;
      }
    }
    return 0;
  }

  /**
   * Validates raw settings (from a file or flags) into a config. Known keys: {@code id}, {@code
   * cluster-id}, {@code data-dir}, {@code peer.<id>}, {@code backup-dir}, {@code
   * snapshot-every-entries}, {@code tls-cert}, {@code tls-key}, {@code tls-trust}, {@code
   * state-machine}, {@code http-port}, {@code metrics-per-job}, {@code max-jobs}, {@code
   * max-ledger-records}, {@code max-apply-jobs}.
   */
  public static ServerConfig from(Map<String, Setting> settings) throws ConfigException {
    List<String> problems = new ArrayList<>();
    Integer id = null;
    String clusterId = null;
    boolean idGiven = false;
    boolean clusterIdGiven = false;
    Path dataDir = null;
    Path backupDir = null;
    long snapshotEvery = DEFAULT_SNAPSHOT_EVERY_ENTRIES;
    StateMachineKind stateMachine = StateMachineKind.CRON;
    int httpPort = 0;
    Setting httpPortSetting = null;
    boolean metricsPerJob = false;
    boolean join = false;
    BackupSettings backup = BackupSettings.NONE;
    SecuritySettings security = SecuritySettings.NONE;
    CronLimits limits = CronLimits.DEFAULT;
    int maxApplyJobs = JobServiceImpl.DEFAULT_MAX_APPLY_JOBS;
    ProposalFanout proposalFanout = ProposalFanout.QUORUM;
    int acceptPort = 0;
    int commandPort = 0;
    Map<Integer, Peer> peers = new TreeMap<>();
    Map<String, String> portOwners = new HashMap<>();
    Map<String, Setting> tlsFiles = new TreeMap<>();
    for (Map.Entry<String, Setting> entry : settings.entrySet()) {
      String key = entry.getKey();
      String value = entry.getValue().value();
      String where = entry.getValue().where();
      switch (key) {
        case "id" -> {
          idGiven = true;
          id = parseInt(value, where, "id", 0, 1_000_000, problems);
        }
        case "cluster-id" -> {
          clusterIdGiven = true;
          if (!value.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
            problems.add(
                where
                    + ": cluster-id '"
                    + value
                    + "' must be 1-63 lowercase letters, digits or '-', not starting or ending with '-'");
          } else {
            clusterId = value;
          }
        }
        case "data-dir" -> dataDir = Path.of(value);
        case "proposal-fanout" -> {
          switch (value) {
            case "quorum" -> proposalFanout = ProposalFanout.QUORUM;
            case "all" -> proposalFanout = ProposalFanout.ALL;
            default ->
                problems.add(where + ": proposal-fanout '" + value + "' must be quorum or all");
          }
        }
        case "accept-port" -> acceptPort = portSetting(value, where, key, acceptPort, problems);
        case "command-port" -> commandPort = portSetting(value, where, key, commandPort, problems);
        case "state-machine" -> {
          switch (value) {
            case "kv" -> stateMachine = StateMachineKind.KV;
            case "cron" -> stateMachine = StateMachineKind.CRON;
            default -> problems.add(where + ": state-machine '" + value + "' must be kv or cron");
          }
        }
        case "tls-cert", "tls-key", "tls-trust" -> {
          tlsFiles.put(key, entry.getValue());
          if (!Files.isReadable(Path.of(value))) {
            problems.add(where + ": " + key + " file " + value + " is not readable");
          }
        }
        case "backup-dir",
            "backup-target",
            "backup-interval",
            "backup-every-entries",
            "backup-keep",
            "backup-max-age",
            "backup-timeout" -> {
          backup = backup.with(key, value, where, problems);
          if (key.equals("backup-dir")) {
            backupDir = Path.of(value);
          }
        }
        case "api-tls-cert",
            "api-tls-key",
            "api-tls-client-trust",
            "auth",
            "insecure",
            "write-rate-limit",
            "dashboard-token-file" ->
            security = security.with(key, value, where, problems);
        case "http-port" -> {
          Integer parsed = parseInt(value, where, key, 0, 65_535, problems);
          if (parsed != null) {
            httpPort = parsed;
            httpPortSetting = entry.getValue();
          }
        }
        case "join" -> {
          switch (value) {
            case "true" -> join = true;
            case "false" -> join = false;
            default -> problems.add(where + ": join '" + value + "' must be true or false");
          }
        }
        case "metrics-per-job" -> {
          switch (value) {
            case "true" -> metricsPerJob = true;
            case "false" -> metricsPerJob = false;
            default ->
                problems.add(where + ": metrics-per-job '" + value + "' must be true or false");
          }
        }
        case "max-jobs" -> {
          Integer parsed = parseInt(value, where, key, 1, CronLimits.MAX_JOBS_CEILING, problems);
          if (parsed != null) {
            limits = limits.withMaxJobs(parsed);
          }
        }
        case "max-ledger-records" -> {
          Integer parsed =
              parseInt(value, where, key, 1, (int) CronLimits.MAX_LEDGER_RECORDS_CEILING, problems);
          if (parsed != null) {
            limits = limits.withMaxLedgerRecords(parsed);
          }
        }
        case "max-apply-jobs" -> {
          Integer parsed = parseInt(value, where, key, 1, JobServiceImpl.MAX_APPLY_JOBS, problems);
          if (parsed != null) {
            maxApplyJobs = parsed;
          }
        }
        case "snapshot-every-entries" -> {
          Integer parsed = parseInt(value, where, key, 1, Integer.MAX_VALUE, problems);
          if (parsed != null) {
            snapshotEvery = parsed;
          }
        }
        default -> {
          if (key.startsWith("peer.")) {
            Integer peerId =
                parseInt(
                    key.substring(5),
                    where,
                    key + " (the id after 'peer.')",
                    0,
                    1_000_000,
                    problems);
            Peer peer = parsePeer(peerId, value, where, problems);
            if (peer != null) {
              peers.put(peerId, peer);
              for (int port : new int[] {peer.peerPort(), peer.clientPort()}) {
                String owner = portOwners.putIfAbsent(peer.host() + ":" + port, key);
                if (owner != null) {
                  problems.add(
                      where
                          + ": port "
                          + port
                          + " on "
                          + peer.host()
                          + " is already used by "
                          + owner);
                }
              }
            }
          } else {
            problems.add(
                where
                    + ": unknown setting '"
                    + key
                    + "'; known: id, cluster-id, "
                    + "data-dir, peer.<id>, backup-dir, snapshot-every-entries, proposal-fanout,"
                    + " accept-port, command-port, tls-cert, tls-key,"
                    + " tls-trust, state-machine, http-port, metrics-per-job, max-jobs,"
                    + " max-ledger-records, max-apply-jobs, join"
                    + BACKUP_KEYS
                    + ", "
                    + String.join(", ", SecuritySettings.KEYS));
          }
        }
      }
    }
    if (!idGiven) {
      problems.add("id: missing (this replica's id, one of the peer ids)");
    }
    if (!clusterIdGiven) {
      problems.add("cluster-id: missing");
    }
    if (dataDir == null) {
      problems.add("data-dir: missing");
    }
    if (peers.isEmpty()) {
      problems.add("peer.<id>: no peers given (every replica, this one included)");
    } else if (peers.size() > MAX_REPLICAS) {
      problems.add("peer.<id>: " + peers.size() + " peers exceed the maximum of " + MAX_REPLICAS);
    }
    if (id != null && !peers.isEmpty() && !peers.containsKey(id)) {
      problems.add("id: " + id + " is not one of the peer ids " + peers.keySet());
    }
    if (httpPort > 0 && id != null && peers.containsKey(id)) {
      Peer self = peers.get(id);
      String owner = portOwners.get(self.host() + ":" + httpPort);
      if (owner != null) {
        problems.add(
            httpPortSetting.where()
                + ": http-port "
                + httpPort
                + " on "
                + self.host()
                + " is already used by "
                + owner);
      }
    }
    if (dataDir != null) {
      checkDirectory(dataDir, "data-dir", problems);
    }
    if (backupDir != null) {
      checkDirectory(backupDir, "backup-dir", problems);
    }
    Optional<TlsConfig> tls = Optional.empty();
    if (!tlsFiles.isEmpty() && tlsFiles.size() < 3) {
      problems.add(
          "tls-cert, tls-key, tls-trust: give all three for mutual TLS, or none; got "
              + tlsFiles.keySet());
    } else if (tlsFiles.size() == 3 && problems.isEmpty()) {
      tls =
          Optional.of(
              new TlsConfig(
                  Path.of(tlsFiles.get("tls-cert").value()),
                  Path.of(tlsFiles.get("tls-key").value()),
                  Path.of(tlsFiles.get("tls-trust").value())));
    }
    security.check(problems);
    if (id != null && peers.containsKey(id) && !security.insecure()) {
      security
          .weakness(peers.get(id).host(), tlsFiles.size() == 3)
          .ifPresent(
              weakness ->
                  problems.add(
                      "insecure: refusing to start: "
                          + weakness
                          + "; configure them (docs/security.md) or accept the risk with"
                          + " --insecure"));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new ServerConfig(
        id,
        clusterId,
        dataDir,
        Map.copyOf(peers),
        backupDir,
        snapshotEvery,
        tls,
        stateMachine,
        httpPort,
        metricsPerJob,
        backup,
        security,
        limits,
        maxApplyJobs,
        join,
        proposalFanout,
        acceptPort,
        commandPort);
  }

  /** A second port's setting: any (0), off (-1) or a port 1-65535; else the problem is named. */
  private static int portSetting(
      String value, String where, String name, int unchanged, List<String> problems) {
    switch (value) {
      case "any" -> {
        return 0;
      }
      case "off" -> {
        return -1;
      }
      default -> {
        if (value.matches("[0-9]{1,5}")) {
          Integer port = parseInt(value, where, name, 1, 65_535, problems);
          return port == null ? unchanged : port;
        }
        problems.add(where + ": " + name + " '" + value + "' must be any, off or a port 1-65535");
        return unchanged;
      }
    }
  }

  private static void checkDirectory(Path dir, String name, List<String> problems) {
    Path existing = dir.toAbsolutePath();
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null || !Files.isDirectory(existing)) {
      problems.add(name + ": " + dir + " is not a directory and cannot be created");
    } else if (!Files.isWritable(existing) || !Files.isReadable(existing)) {
      problems.add(name + ": " + existing + " is not readable and writable by this user");
    }
  }

  private static Integer parseInt(
      String text, String where, String name, int min, int max, List<String> problems) {
    try {
      int value = Integer.parseInt(text.trim());
      if (value < min || value > max) {
        problems.add(where + ": " + name + " " + value + " is outside " + min + ".." + max);
        return null;
      }
      return value;
    } catch (NumberFormatException e) {
      problems.add(where + ": " + name + " '" + text + "' is not a whole number");
      return null;
    }
  }

  private static Peer parsePeer(Integer id, String value, String where, List<String> problems) {
    String[] parts = value.split(":");
    if (parts.length != 3 || parts[0].isBlank()) {
      problems.add(where + ": peer '" + value + "' must be host:peer-port:client-port");
      return null;
    }
    Integer peerPort = parseInt(parts[1], where, "peer port", 1, 65_535, problems);
    Integer clientPort = parseInt(parts[2], where, "client port", 1, 65_535, problems);
    if (id == null || peerPort == null || clientPort == null) {
      return null;
    }
    if (peerPort.equals(clientPort)) {
      problems.add(where + ": peer port and client port are both " + peerPort);
      return null;
    }
    return new Peer(id, parts[0].trim(), peerPort, clientPort);
  }
}
