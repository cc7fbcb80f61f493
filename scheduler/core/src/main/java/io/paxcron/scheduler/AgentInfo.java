package io.paxcron.scheduler;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A worker agent as the leader sees it from its registrations and heartbeats.
 *
 * @param agentId the agent's stable id
 * @param labels the labels the agent registered with (matched against job selectors)
 * @param capacity how many runs it takes at once
 * @param leaseExpiresAt when the agent counts as unreachable if no heartbeat arrives (leader clock)
 */
public record AgentInfo(
    AgentId agentId, Map<String, String> labels, int capacity, Instant leaseExpiresAt) {
  public AgentInfo {
    Objects.requireNonNull(agentId, "agentId");
    labels = Map.copyOf(labels);
    Objects.requireNonNull(leaseExpiresAt, "leaseExpiresAt");
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
    }
  }

  /** Whether the agent carries every label of {@code selector} with the same value. */
  public boolean matches(Map<String, String> selector) {
    for (Map.Entry<String, String> label : selector.entrySet()) {
      if (!label.getValue().equals(labels.get(label.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** Whether the agent's lease holds at {@code now}. */
  public boolean alive(Instant now) {
    return now.isBefore(leaseExpiresAt);
  }
}
