package io.paxcron.server;

import io.paxcron.scheduler.AgentId;
import io.paxcron.scheduler.AgentInfo;
import io.paxcron.scheduler.AgentRegistry;
import io.paxcron.scheduler.AgentRegistryConfig;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The leader's {@link AgentRegistry} shared by two threads: the loop (registrations, the
 * dispatcher's directory, launch outcomes) and the gRPC threads that acknowledge agents' heartbeats
 * off the loop ({@link LeaderDispatch}). The registry itself stays pure and single-threaded; every
 * call here holds this object's monitor for the call's length (each is a map update or a copy of
 * one agent list).
 */
final class SharedAgentRegistry {
  private final AgentRegistry registry;

  SharedAgentRegistry(AgentRegistry registry) {
    this.registry = registry;
  }

  AgentRegistryConfig config() {
    return registry.config();
  }

  synchronized AgentRegistry.Registration onRegister(
      String name,
      Map<String, String> labels,
      int capacity,
      String version,
      String peer,
      Instant now) {
    return registry.onRegister(name, labels, capacity, version, peer, now);
  }

  synchronized boolean isCurrent(AgentId name, long connection) {
    return registry.isCurrent(name, connection);
  }

  synchronized boolean onHeartbeat(
      AgentId name, long connection, int running, int capacity, Instant now) {
    return registry.onHeartbeat(name, connection, running, capacity, now);
  }

  synchronized void onHeard(AgentId name, long connection, Instant now) {
    registry.onHeard(name, connection, now);
  }

  synchronized void onDisconnected(AgentId name, long connection) {
    registry.onDisconnected(name, connection);
  }

  synchronized void onLaunchSucceeded(AgentId name) {
    registry.onLaunchSucceeded(name);
  }

  synchronized void onLaunchFailed(AgentId name, Instant now) {
    registry.onLaunchFailed(name, now);
  }

  synchronized void onCapacityFull(AgentId name) {
    registry.onCapacityFull(name);
  }

  synchronized void clear() {
    registry.clear();
  }

  synchronized List<AgentInfo> directory(Instant now) {
    return registry.directory(now);
  }

  synchronized List<AgentRegistry.AgentStatus> status(Instant now) {
    return registry.status(now);
  }
}
