package io.paxcron.agent;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything a {@link WorkerAgent} is built from (the flags of {@code paxcron agent}).
 *
 * @param cluster replica client-API addresses ({@code host:port}); the agent dials any and follows
 *     redirects
 * @param name unique agent name: 1-63 of a-z 0-9 '-', starting and ending alphanumeric
 * @param labels labels for placement
 * @param capacity runs held at once
 * @param dataDir the journal and run directories live here
 * @param outputMaxBytes bytes of output kept per run (the head; more is cut and marked truncated)
 * @param outputRetentionRuns output directories of ended runs kept, newest first
 * @param outputRetentionAge output directories of ended runs older than this are deleted
 * @param allowedUsers users a job's run_as may name; root only if listed
 * @param heartbeatInterval how often to heartbeat (the leader's Registered value wins once
 *     connected)
 * @param killGrace time between SIGTERM and SIGKILL of a run's process group
 * @param runNiceness added to the agent's own niceness for the processes of runs (0-19; 0: the
 *     agent's own), so that runs that saturate the host's CPU do not starve the agent of the CPU it
 *     needs to keep its lease
 * @param seed seed of the reconnect backoff's jitter
 */
public record AgentOptions(
    List<String> cluster,
    String name,
    Map<String, String> labels,
    int capacity,
    Path dataDir,
    long outputMaxBytes,
    int outputRetentionRuns,
    Duration outputRetentionAge,
    Set<String> allowedUsers,
    Duration heartbeatInterval,
    Duration killGrace,
    int runNiceness,
    long seed) {

  /** The largest niceness adjustment for runs (nice(1)'s range above the agent's own). */
  public static final int MAX_RUN_NICENESS = 19;

  /** Most runs an agent takes at once. */
  public static final int MAX_CAPACITY = 10_000;

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern ADDRESS = Pattern.compile("[^:\\s]+:\\d{1,5}");

  public AgentOptions {
    cluster = List.copyOf(Objects.requireNonNull(cluster, "cluster"));
    labels = Map.copyOf(Objects.requireNonNull(labels, "labels"));
    allowedUsers = Set.copyOf(Objects.requireNonNull(allowedUsers, "allowedUsers"));
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(outputRetentionAge, "outputRetentionAge");
    Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
    Objects.requireNonNull(killGrace, "killGrace");
    if (cluster.isEmpty()) {
      throw new IllegalArgumentException("--cluster: give at least one host:port");
    }
    for (String address : cluster) {
      if (!ADDRESS.matcher(address).matches()) {
        throw new IllegalArgumentException("--cluster: '" + address + "' is not host:port");
      }
    }
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "--name: '" + name + "' must be 1-63 of a-z 0-9 '-', starting and ending alphanumeric");
    }
    if (capacity < 1 || capacity > MAX_CAPACITY) {
      throw new IllegalArgumentException(
          "--capacity: must be 1.." + MAX_CAPACITY + ", got " + capacity);
    }
    if (outputMaxBytes < 1024) {
      throw new IllegalArgumentException(
          "--output-max-bytes: must be >= 1024, got " + outputMaxBytes);
    }
    if (outputRetentionRuns < 1) {
      throw new IllegalArgumentException(
          "--output-retention: keep at least 1 run, got " + outputRetentionRuns);
    }
    if (outputRetentionAge.isNegative() || outputRetentionAge.isZero()) {
      throw new IllegalArgumentException(
          "--output-retention: age must be positive, got " + outputRetentionAge);
    }
    if (heartbeatInterval.toMillis() < 10
        || heartbeatInterval.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException(
          "--heartbeat-interval: must be 10ms..1m, got " + heartbeatInterval);
    }
    if (runNiceness < 0 || runNiceness > MAX_RUN_NICENESS) {
      throw new IllegalArgumentException(
          "--run-niceness: must be 0.." + MAX_RUN_NICENESS + ", got " + runNiceness);
    }
    for (Map.Entry<String, String> label : labels.entrySet()) {
      if (label.getKey().isEmpty() || label.getKey().length() > 63) {
        throw new IllegalArgumentException(
            "--label: key '" + label.getKey() + "' must be 1-63 characters");
      }
    }
  }

  /** Defaults for everything but the cluster, name and data directory. */
  public static AgentOptions of(List<String> cluster, String name, Path dataDir) {
    return new AgentOptions(
        cluster,
        name,
        Map.of(),
        4,
        dataDir,
        1L << 20,
        100,
        Duration.ofDays(7),
        Set.of(),
        Duration.ofMillis(500),
        Duration.ofSeconds(5),
        0,
        1);
  }

  public AgentOptions withCapacity(int newCapacity) {
    return new AgentOptions(
        cluster,
        name,
        labels,
        newCapacity,
        dataDir,
        outputMaxBytes,
        outputRetentionRuns,
        outputRetentionAge,
        allowedUsers,
        heartbeatInterval,
        killGrace,
        runNiceness,
        seed);
  }

  public AgentOptions withKillGrace(Duration grace) {
    return new AgentOptions(
        cluster,
        name,
        labels,
        capacity,
        dataDir,
        outputMaxBytes,
        outputRetentionRuns,
        outputRetentionAge,
        allowedUsers,
        heartbeatInterval,
        grace,
        runNiceness,
        seed);
  }

  public AgentOptions withRunNiceness(int niceness) {
    return new AgentOptions(
        cluster,
        name,
        labels,
        capacity,
        dataDir,
        outputMaxBytes,
        outputRetentionRuns,
        outputRetentionAge,
        allowedUsers,
        heartbeatInterval,
        killGrace,
        niceness,
        seed);
  }

  public AgentOptions withHeartbeatInterval(Duration interval) {
    return new AgentOptions(
        cluster,
        name,
        labels,
        capacity,
        dataDir,
        outputMaxBytes,
        outputRetentionRuns,
        outputRetentionAge,
        allowedUsers,
        interval,
        killGrace,
        runNiceness,
        seed);
  }
}
