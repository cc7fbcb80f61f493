package io.paxcron.scheduler;

import static io.paxcron.scheduler.Fixture.at;
import static io.paxcron.scheduler.Fixture.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Ballot;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The due runs are walked every tick while some agent has room, and once per {@code tickInterval}
 * while every agent is full: a backlog walked every 20 ms only to find no agent with room took a
 * third of the leader's loop at a million jobs (docs/performance.md, scale, ninth round).
 */
final class DispatcherDueWalkTest {
  private static final Ballot NEW = new Ballot(2, 2);

  private final Fixture fixture = new Fixture();
  private int dueWalks;

  /** The state machine as the dispatcher reads it, counting the walks of the due runs. */
  private final CronView view =
      (CronView)
          Proxy.newProxyInstance(
              CronView.class.getClassLoader(),
              new Class<?>[] {CronView.class},
              (proxy, method, args) -> {
                if (method.getName().equals("runsDue")) {
                  dueWalks++;
                }
                try {
                  return method.invoke(fixture.machine, args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                }
              });

  private final Dispatcher dispatcher =
      new Dispatcher(
          view, DispatcherConfig.DEFAULT, new SplittableRandom(Seeds.seed("DispatcherDueWalk", 3)));

  private List<DispatchEffect> choose(List<DispatchEffect> effects, Instant now) {
    for (DispatchEffect effect : effects) {
      if (effect instanceof DispatchEffect.Propose propose) {
        for (CronCommand command : propose.commands()) {
          fixture.apply(command);
        }
      }
    }
    return dispatcher.onApplied(now, true);
  }

  private int walksOver(Instant from, int ticks) {
    int before = dueWalks;
    for (int tick = 0; tick < ticks; tick++) {
      choose(dispatcher.onTick(from.plusMillis(20L * tick), true), from.plusMillis(20L * tick));
    }
    return dueWalks - before;
  }

  @Test
  void whileEveryAgentIsFullTheDueRunsAreWalkedOncePerTickIntervalNotEveryTick() {
    fixture.put(job("a", "@every 10s").build(), at(0));
    fixture.put(job("b", "@every 10s").build(), at(0));
    // One agent with room for one run: one job's run takes it, the other's waits as due.
    dispatcher.onAgents(List.of(new AgentInfo(AgentId.of("agent-1"), Map.of(), 1, at(100_000))));
    choose(dispatcher.onLeadership(at(0), true, NEW), at(0));
    choose(dispatcher.onTick(at(10), true), at(10));
    choose(dispatcher.onTick(at(10).plusMillis(20), true), at(10).plusMillis(20));
    assertEquals(1, fixture.machine.runsDue(null, 10).size(), "one run waits for room");

    int walks = walksOver(at(11), 50);
    assertTrue(walks <= 2, "one second of 20 ms ticks with every agent full: " + walks + " walks");

    // Room again (a second agent): the waiting run is placed on the next tick.
    dispatcher.onAgents(
        List.of(
            new AgentInfo(AgentId.of("agent-1"), Map.of(), 1, at(100_000)),
            new AgentInfo(AgentId.of("agent-2"), Map.of(), 1, at(100_000))));
    List<DispatchEffect> next = dispatcher.onTick(at(12).plusMillis(10), true);
    assertEquals(
        1,
        next.stream()
            .filter(DispatchEffect.Propose.class::isInstance)
            .flatMap(effect -> ((DispatchEffect.Propose) effect).commands().stream())
            .filter(CronCommand.RunIntent.class::isInstance)
            .count(),
        "the waiting run gets an intent once an agent has room");
    assertEquals(50, walksOver(at(13), 50), "with room, every tick walks");
  }
}
