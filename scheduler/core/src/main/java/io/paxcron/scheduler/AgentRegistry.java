package io.paxcron.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The leader's soft state about worker agents (DESIGN §5): who is registered, with which labels and
 * capacity, when each was last heard from, and each agent's circuit breaker. Nothing here is
 * replicated: a new leader starts empty and learns the fleet as agents re-register with it.
 *
 * <p>Pure and single-threaded: time is an input of every call, and the caller (the leader's event
 * loop) is the only thread. It hands the {@link Dispatcher} its directory ({@link #directory}): an
 * agent is reachable until {@link AgentRegistryConfig#leaderLease} after it was last heard from,
 * and an agent whose circuit is open is listed with no capacity, so the dispatcher places nothing
 * new there but keeps the runs it already has (an open circuit is not a dead agent).
 *
 * <p>Streams: each registration gets a new connection number; a second registration under the same
 * name replaces the first, and messages from a replaced connection are ignored.
 *
 * <p>Bad input (a malformed name, bad capacity, too many labels or agents) is refused with a reason
 * naming the field and changes nothing.
 */
public final class AgentRegistry {

  /** The most runs one agent may declare it takes at once. */
  public static final int MAX_CAPACITY = 100_000;

  /** How the leader sees an agent's liveness, for the dashboard. */
  public enum Health {
    /** Heard from within {@link AgentRegistryConfig#suspectAfter}. */
    HEALTHY,
    /** Late, but within the leader's lease: still placed on. */
    SUSPECT,
    /** Past the leader's lease: unreachable (its runs are reconciled as such). */
    DOWN
  }

  /** The outcome of a registration. */
  public sealed interface Registration {
    /** Registered as {@code agent}; {@code connection} identifies this stream in later calls. */
    record Accepted(AgentId agent, long connection, boolean replaced) implements Registration {}

    /** Refused; the registry did not change. */
    record Refused(String reason) implements Registration {}
  }

  /** One agent as the dashboard shows it. */
  public record AgentStatus(
      AgentId name,
      Map<String, String> labels,
      int capacity,
      int running,
      Health health,
      boolean circuitOpen,
      Instant circuitOpenUntil,
      Instant lastHeard,
      String peer,
      String version,
      boolean connected) {
    public AgentStatus {
      Objects.requireNonNull(name, "name");
      labels = Map.copyOf(labels);
      Objects.requireNonNull(health, "health");
      Objects.requireNonNull(lastHeard, "lastHeard");
      Objects.requireNonNull(peer, "peer");
      Objects.requireNonNull(version, "version");
    }
  }

  private static final class Agent {
    final AgentId name;
    Map<String, String> labels;
    int capacity;
    int running;
    String peer;
    String version;
    long connection;
    boolean connected;
    Instant lastHeard;
    int consecutiveFailures;
    Instant circuitOpenUntil;

    Agent(AgentId name) {
      this.name = name;
    }
  }

  private final AgentRegistryConfig config;
  private final TreeMap<AgentId, Agent> agents = new TreeMap<>();
  private long nextConnection = 1;

  public AgentRegistry(AgentRegistryConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  public AgentRegistryConfig config() {
    return config;
  }

  /**
   * An agent opened a stream and sent {@code Register} under {@code name}, as it sent it (a name
   * that is not an {@link AgentId} is refused with the reason).
   */
  public Registration onRegister(
      String name,
      Map<String, String> labels,
      int capacity,
      String version,
      String peer,
      Instant now) {
    Objects.requireNonNull(now, "now");
    if (!AgentId.isValid(name)) {
      return new Registration.Refused(
          "name: must be 1-63 of a-z 0-9 '-', starting and ending alphanumeric,"
              + " got '"
              + name
              + "'");
    }
    if (capacity < 1 || capacity > MAX_CAPACITY) {
      return new Registration.Refused("capacity: must be 1.." + MAX_CAPACITY + ", got " + capacity);
    }
    if (labels.size() > config.maxLabels()) {
      return new Registration.Refused(
          "labels: at most " + config.maxLabels() + " (maxLabels), got " + labels.size());
    }
    for (Map.Entry<String, String> label : labels.entrySet()) {
      if (label.getKey().isEmpty()
          || label.getKey().length() > 63
          || label.getValue().length() > 253) {
        return new Registration.Refused(
            "labels." + label.getKey() + ": keys must be 1-63 characters and values at most 253");
      }
    }
    AgentId id = new AgentId(name);
    Agent agent = agents.get(id);
    if (agent == null) {
      if (agents.size() >= config.maxAgents() && !forgetOneDown(now)) {
        return new Registration.Refused(
            "name: the leader already holds "
                + config.maxAgents()
                + " agents (maxAgents), none of them down");
      }
      agent = new Agent(id);
      agents.put(id, agent);
    }
    boolean replaced = agent.connected;
    agent.labels = Map.copyOf(labels);
    agent.capacity = capacity;
    agent.running = 0;
    agent.version = version == null ? "" : version;
    agent.peer = peer == null ? "" : peer;
    agent.connection = nextConnection++;
    agent.connected = true;
    agent.lastHeard = now;
    return new Registration.Accepted(id, agent.connection, replaced);
  }

  /** Drops the agent that has been down longest, if any is down; true if one was dropped. */
  private boolean forgetOneDown(Instant now) {
    Agent oldest = null;
    for (Agent agent : agents.values()) {
      if (health(agent, now) == Health.DOWN
          && (oldest == null || agent.lastHeard.isBefore(oldest.lastHeard))) {
        oldest = agent;
      }
    }
    if (oldest == null) {
      return false;
    }
    agents.remove(oldest.name);
    return true;
  }

  /** Whether {@code connection} is the agent's current stream. */
  public boolean isCurrent(AgentId name, long connection) {
    Agent agent = agents.get(name);
    return agent != null && agent.connection == connection && agent.connected;
  }

  /**
   * A heartbeat arrived on {@code connection}. Returns false (and changes nothing) if that stream
   * is not the agent's current one. Bad counts are clamped: the registry never trusts an agent to
   * report more than its capacity.
   */
  public boolean onHeartbeat(
      AgentId name, long connection, int running, int capacity, Instant now) {
    Agent agent = agents.get(name);
    if (agent == null || agent.connection != connection || !agent.connected) {
      return false;
    }
    agent.lastHeard = now;
    if (capacity >= 1 && capacity <= MAX_CAPACITY) {
      agent.capacity = capacity;
    }
    agent.running = Math.max(0, Math.min(running, agent.capacity));
    return true;
  }

  /** Any other message from the agent on its current stream also shows it is alive. */
  public void onHeard(AgentId name, long connection, Instant now) {
    Agent agent = agents.get(name);
    if (agent != null && agent.connection == connection && agent.connected) {
      agent.lastHeard = now;
    }
  }

  /**
   * The agent's stream ended. The agent stays in the directory until its lease runs out: it may
   * still start what it accepted until then, and it usually re-registers long before.
   */
  public void onDisconnected(AgentId name, long connection) {
    Agent agent = agents.get(name);
    if (agent != null && agent.connection == connection) {
      agent.connected = false;
    }
  }

  /** A run started on the agent: the circuit closes. */
  public void onLaunchSucceeded(AgentId name) {
    Agent agent = agents.get(name);
    if (agent != null) {
      agent.consecutiveFailures = 0;
      agent.circuitOpenUntil = null;
    }
  }

  /**
   * A launch on the agent failed (the agent could not start the process, or gave it up). After
   * {@link AgentRegistryConfig#circuitFailures} in a row the circuit opens for {@link
   * AgentRegistryConfig#circuitOpenFor}; once that has passed, one more failure opens it again.
   */
  public void onLaunchFailed(AgentId name, Instant now) {
    Agent agent = agents.get(name);
    if (agent == null) {
      return;
    }
    agent.consecutiveFailures++;
    if (agent.consecutiveFailures >= config.circuitFailures()) {
      agent.circuitOpenUntil = now.plus(config.circuitOpenFor());
    }
  }

  /**
   * The agent answered a launch with back-pressure: count it full until its next heartbeat says
   * otherwise.
   */
  public void onCapacityFull(AgentId name) {
    Agent agent = agents.get(name);
    if (agent != null) {
      agent.running = agent.capacity;
    }
  }

  /** The current connection of the agent, if it has a stream open. */
  public Optional<Long> connection(AgentId name) {
    Agent agent = agents.get(name);
    return agent == null || !agent.connected ? Optional.empty() : Optional.of(agent.connection);
  }

  /** Forgets every agent (this replica stopped leading; the next leadership starts empty). */
  public void clear() {
    agents.clear();
  }

  /** The directory for the {@link Dispatcher}: every agent still within the leader's lease. */
  public List<AgentInfo> directory(Instant now) {
    List<AgentInfo> directory = new ArrayList<>();
    for (Agent agent : agents.values()) {
      Instant leaseExpiresAt = agent.lastHeard.plus(config.leaderLease());
      int capacity = circuitOpen(agent, now) ? 0 : agent.capacity;
      directory.add(new AgentInfo(agent.name, agent.labels, capacity, leaseExpiresAt));
    }
    return directory;
  }

  /** Every agent as the dashboard shows it, by name. */
  public List<AgentStatus> status(Instant now) {
    List<AgentStatus> status = new ArrayList<>();
    for (Agent agent : agents.values()) {
      boolean open = circuitOpen(agent, now);
      status.add(
          new AgentStatus(
              agent.name,
              agent.labels,
              agent.capacity,
              agent.running,
              health(agent, now),
              open,
              open ? agent.circuitOpenUntil : null,
              agent.lastHeard,
              agent.peer,
              agent.version,
              agent.connected));
    }
    return status;
  }

  private static boolean circuitOpen(Agent agent, Instant now) {
    return agent.circuitOpenUntil != null && now.isBefore(agent.circuitOpenUntil);
  }

  private Health health(Agent agent, Instant now) {
    Duration silent = Duration.between(agent.lastHeard, now);
    if (silent.compareTo(config.leaderLease()) >= 0) {
      return Health.DOWN;
    }
    return silent.compareTo(config.suspectAfter()) > 0 ? Health.SUSPECT : Health.HEALTHY;
  }
}
