package io.paxcron.scheduler;

import static io.paxcron.scheduler.Fixture.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.scheduler.AgentRegistry.Health;
import io.paxcron.scheduler.AgentRegistry.Registration;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class AgentRegistryTest {
  private final AgentRegistry registry = new AgentRegistry(AgentRegistryConfig.DEFAULT);

  private long register(String name, Map<String, String> labels, int capacity, Instant now) {
    Registration registration =
        registry.onRegister(name, labels, capacity, "1.0", "10.0.0.1:5000", now);
    return assertInstanceOf(Registration.Accepted.class, registration).connection();
  }

  private AgentInfo info(String name, Instant now) {
    return registry.directory(now).stream()
        .filter(agent -> agent.agentId().value().equals(name))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void registeredAgentIsReachableForTheLeaderLeaseAfterItWasLastHeard() {
    long connection = register("agent-1", Map.of("zone", "a"), 4, at(0));
    assertEquals(
        List.of(new AgentInfo(AgentId.of("agent-1"), Map.of("zone", "a"), 4, at(6))),
        registry.directory(at(0)));
    assertTrue(registry.onHeartbeat(AgentId.of("agent-1"), connection, 1, 4, at(3)));
    assertEquals(at(9), info("agent-1", at(3)).leaseExpiresAt());
    assertTrue(info("agent-1", at(8)).alive(at(8)));
    assertFalse(info("agent-1", at(9)).alive(at(9)), "past the leader's lease: unreachable");
  }

  @Test
  void healthGoesFromHealthyToSuspectToDownAsHeartbeatsAreMissed() {
    register("agent-1", Map.of(), 4, at(0));
    assertEquals(Health.HEALTHY, registry.status(at(1)).get(0).health());
    assertEquals(Health.SUSPECT, registry.status(at(2)).get(0).health());
    assertEquals(Health.DOWN, registry.status(at(6)).get(0).health());
  }

  @Test
  void leaderLeaseOutlastsTheAgentLeaseByTheDocumentedMargin() {
    AgentRegistryConfig config = AgentRegistryConfig.DEFAULT;
    assertEquals(Duration.ofSeconds(2), config.leaderLease().minus(config.agentLease()));
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new AgentRegistryConfig(
                    Duration.ofMillis(500),
                    Duration.ofSeconds(4),
                    Duration.ofSeconds(4),
                    Duration.ofSeconds(1),
                    3,
                    Duration.ofSeconds(30),
                    10,
                    10));
    assertTrue(
        error.getMessage().startsWith("leaderLease must exceed agentLease"), error.getMessage());
  }

  @Test
  void secondRegistrationUnderTheSameNameReplacesTheFirstStream() {
    long first = register("agent-1", Map.of(), 4, at(0));
    Registration second =
        registry.onRegister("agent-1", Map.of("gpu", "true"), 8, "1.1", "peer", at(1));
    long connection = assertInstanceOf(Registration.Accepted.class, second).connection();
    assertTrue(((Registration.Accepted) second).replaced());
    assertFalse(
        registry.onHeartbeat(AgentId.of("agent-1"), first, 0, 4, at(5)),
        "the replaced stream is not heard");
    assertEquals(at(7), info("agent-1", at(5)).leaseExpiresAt());
    assertTrue(registry.onHeartbeat(AgentId.of("agent-1"), connection, 0, 8, at(5)));
    assertEquals(Map.of("gpu", "true"), info("agent-1", at(5)).labels());
    registry.onDisconnected(AgentId.of("agent-1"), first);
    assertTrue(
        registry.isCurrent(AgentId.of("agent-1"), connection),
        "a late end of the old stream changes nothing");
  }

  @Test
  void disconnectedAgentStaysInTheDirectoryUntilItsLeaseRunsOut() {
    long connection = register("agent-1", Map.of(), 4, at(0));
    registry.onDisconnected(AgentId.of("agent-1"), connection);
    assertTrue(registry.connection(AgentId.of("agent-1")).isEmpty());
    assertTrue(info("agent-1", at(5)).alive(at(5)), "it may still start what it accepted");
    assertFalse(info("agent-1", at(6)).alive(at(6)));
  }

  @Test
  void badRegistrationsAreRefusedNamingTheFieldAndChangeNothing() {
    assertEquals(
        new Registration.Refused("capacity: must be 1..100000, got 0"),
        registry.onRegister("agent-1", Map.of(), 0, "", "", at(0)));
    Registration badName = registry.onRegister("Agent_1", Map.of(), 1, "", "", at(0));
    assertTrue(assertInstanceOf(Registration.Refused.class, badName).reason().startsWith("name: "));
    assertEquals(List.of(), registry.directory(at(0)));
  }

  @Test
  void repeatedLaunchFailuresOpenTheCircuitWhichKeepsTheAgentAliveButTakesNoNewRuns() {
    register("agent-1", Map.of(), 4, at(0));
    registry.onLaunchFailed(AgentId.of("agent-1"), at(1));
    registry.onLaunchFailed(AgentId.of("agent-1"), at(1));
    assertEquals(4, info("agent-1", at(1)).capacity(), "two failures: still closed");
    registry.onLaunchFailed(AgentId.of("agent-1"), at(2));
    AgentInfo open = info("agent-1", at(2));
    assertEquals(0, open.capacity(), "open: no new runs");
    assertTrue(open.alive(at(2)), "open is not dead: its runs are not reconciled as unreachable");
    assertTrue(registry.status(at(2)).get(0).circuitOpen());
    assertEquals(at(32), registry.status(at(2)).get(0).circuitOpenUntil());
    assertEquals(4, info("agent-1", at(32)).capacity(), "half-open after circuitOpenFor");
    registry.onLaunchFailed(AgentId.of("agent-1"), at(33));
    assertEquals(0, info("agent-1", at(33)).capacity(), "one more failure opens it again");
    registry.onLaunchSucceeded(AgentId.of("agent-1"));
    assertEquals(4, info("agent-1", at(33)).capacity(), "a start closes it");
  }

  @Test
  void fullRegistryForgetsTheLongestDownAgentOrRefuses() {
    AgentRegistry small =
        new AgentRegistry(
            new AgentRegistryConfig(
                Duration.ofMillis(500),
                Duration.ofSeconds(4),
                Duration.ofSeconds(6),
                Duration.ofSeconds(1),
                3,
                Duration.ofSeconds(30),
                2,
                8));
    assertInstanceOf(
        Registration.Accepted.class, small.onRegister("a", Map.of(), 1, "", "", at(0)));
    assertInstanceOf(
        Registration.Accepted.class, small.onRegister("b", Map.of(), 1, "", "", at(3)));
    Registration refused = small.onRegister("c", Map.of(), 1, "", "", at(4));
    assertTrue(
        assertInstanceOf(Registration.Refused.class, refused).reason().contains("maxAgents"));
    assertInstanceOf(
        Registration.Accepted.class, small.onRegister("c", Map.of(), 1, "", "", at(7)));
    assertEquals(
        List.of("b", "c"),
        small.directory(at(7)).stream().map(agent -> agent.agentId().value()).toList());
  }

  @Test
  void heartbeatCountsAreClampedToTheCapacity() {
    long connection = register("agent-1", Map.of(), 4, at(0));
    registry.onHeartbeat(AgentId.of("agent-1"), connection, 99, 4, at(1));
    assertEquals(4, registry.status(at(1)).get(0).running());
    registry.onHeartbeat(AgentId.of("agent-1"), connection, -3, 4, at(1));
    assertEquals(0, registry.status(at(1)).get(0).running());
  }
}
