package io.paxcron.simkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class EventLoopTest {

  @Test
  void eventsRunInOrderOfTheirInstantAndTiesInTheOrderTheyWereScheduled() {
    EventLoop loop = new EventLoop();
    List<String> ran = new ArrayList<>();
    loop.schedule(5, () -> ran.add("b@" + loop.now()));
    loop.schedule(1, () -> ran.add("a@" + loop.now()));
    loop.schedule(5, () -> ran.add("c@" + loop.now()));
    loop.schedule(-3, () -> ran.add("now@" + loop.now()));
    while (loop.runNext(Long.MAX_VALUE)) {}
    assertEquals(List.of("now@0", "a@1", "b@5", "c@5"), ran);
    assertEquals(4, loop.events());
  }

  @Test
  void anEventScheduledByAnEventCountsFromTheVirtualTimeItRunsAt() {
    EventLoop loop = new EventLoop();
    List<Long> at = new ArrayList<>();
    loop.schedule(10, () -> loop.schedule(7, () -> at.add(loop.now())));
    while (loop.runNext(Long.MAX_VALUE)) {}
    assertEquals(List.of(17L), at);
  }

  @Test
  void theRunStopsBeforeTheFirstEventPastItsEndAndLeavesIt() {
    EventLoop loop = new EventLoop();
    List<Long> at = new ArrayList<>();
    loop.schedule(10, () -> at.add(loop.now()));
    loop.schedule(30, () -> at.add(loop.now()));
    while (loop.runNext(20)) {}
    assertEquals(List.of(10L), at);
    loop.advanceTo(20);
    assertEquals(20, loop.now());
    assertFalse(loop.runNext(29));
    loop.runNext(30);
    assertEquals(List.of(10L, 30L), at);
  }
}
