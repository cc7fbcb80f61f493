package io.paxcron.scheduler;

import java.time.Duration;
import java.util.Objects;

/**
 * The leader's agent-registry settings. Each is validated at construction with a message naming it.
 *
 * <p>Lease margin: an agent counts its lease ({@link #agentLease}) from the moment it <em>sent</em>
 * a heartbeat the leader acknowledged; the leader counts the agent reachable for {@link
 * #leaderLease} from the moment that heartbeat <em>arrived</em>. Arrival is after sending, so the
 * leader's window already starts later; the margin {@code leaderLease - agentLease} must further
 * cover how much faster the leader's clock may run than the agent's over one lease, plus a launch
 * sent by the leader just before it gives up that the agent receives late. The default margin is 2
 * s on a 4 s agent lease: a clock-rate error of 50 % would still be covered, and no network or GC
 * pause shorter than 2 s can make the leader give up on an agent (and record its run {@code LOST}
 * or launch a new attempt elsewhere) while that agent may still start a process.
 *
 * @param heartbeatInterval how often agents heartbeat (sent to them in {@code Registered})
 * @param agentLease how long an agent may start processes after sending an acknowledged heartbeat
 * @param leaderLease how long the leader counts an agent reachable after a heartbeat arrives; must
 *     exceed {@code agentLease}
 * @param suspectAfter silence after which an agent is shown {@code SUSPECT} (still placed on)
 * @param circuitFailures consecutive launch failures on one agent that open its circuit
 * @param circuitOpenFor how long an open circuit keeps new runs off the agent
 * @param maxAgents most agents the registry holds; registrations past it are refused
 * @param maxLabels most labels one agent may register
 */
public record AgentRegistryConfig(
    Duration heartbeatInterval,
    Duration agentLease,
    Duration leaderLease,
    Duration suspectAfter,
    int circuitFailures,
    Duration circuitOpenFor,
    int maxAgents,
    int maxLabels) {

  public static final AgentRegistryConfig DEFAULT =
      new AgentRegistryConfig(
          Duration.ofMillis(500),
          Duration.ofSeconds(4),
          Duration.ofSeconds(6),
          Duration.ofMillis(1500),
          3,
          Duration.ofSeconds(30),
          10_000,
          64);

  public AgentRegistryConfig {
    positive(heartbeatInterval, "heartbeatInterval");
    positive(agentLease, "agentLease");
    positive(leaderLease, "leaderLease");
    positive(suspectAfter, "suspectAfter");
    positive(circuitOpenFor, "circuitOpenFor");
    if (leaderLease.compareTo(agentLease) <= 0) {
      throw new IllegalArgumentException(
          "leaderLease must exceed agentLease (" + agentLease + "), got " + leaderLease);
    }
    if (agentLease.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
      throw new IllegalArgumentException(
          "agentLease must be at least two heartbeatIntervals ("
              + heartbeatInterval.multipliedBy(2)
              + "), got "
              + agentLease);
    }
    if (circuitFailures < 1 || circuitFailures > 1000) {
      throw new IllegalArgumentException("circuitFailures must be 1..1000, got " + circuitFailures);
    }
    if (maxAgents < 1 || maxAgents > 1_000_000) {
      throw new IllegalArgumentException("maxAgents must be 1..1000000, got " + maxAgents);
    }
    if (maxLabels < 0 || maxLabels > 1000) {
      throw new IllegalArgumentException("maxLabels must be 0..1000, got " + maxLabels);
    }
  }

  private static void positive(Duration value, String name) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }
}
