package io.paxcron.scheduler;

import static io.paxcron.scheduler.Fixture.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

final class DueRunTimerTest {
  private final DueRunTimer timer = new DueRunTimer();

  @Test
  void timerReturnsDueJobsEarliestFirstAndOnlyOnce() {
    timer.schedule("b", at(10));
    timer.schedule("a", at(10));
    timer.schedule("c", at(5));
    timer.schedule("d", at(20));
    assertEquals(
        List.of(
            new DueRunTimer.Due("c", at(5)),
            new DueRunTimer.Due("a", at(10)),
            new DueRunTimer.Due("b", at(10))),
        timer.pollDue(at(10), 100));
    assertEquals(List.of(), timer.pollDue(at(10), 100));
    assertEquals(at(20), timer.nextDue());
  }

  @Test
  void reschedulingAndRemovalReplaceEarlierEntries() {
    timer.schedule("a", at(5));
    timer.schedule("a", at(50));
    timer.schedule("b", at(6));
    timer.remove("b");
    assertEquals(List.of(), timer.pollDue(at(10), 100));
    assertEquals(List.of(new DueRunTimer.Due("a", at(50))), timer.pollDue(at(60), 100));
    assertNull(timer.nextDue());
  }

  @Test
  void staleEntriesDoNotAccumulate() {
    for (int i = 0; i < 100_000; i++) {
      timer.schedule("a", at(i));
    }
    assertEquals(1, timer.size());
    assertEquals(at(99_999), timer.nextDue());
  }

  @Test
  void pollRespectsItsLimit() {
    for (int i = 0; i < 10; i++) {
      timer.schedule("job-" + i, at(1));
    }
    assertEquals(4, timer.pollDue(at(1), 4).size());
    assertEquals(6, timer.pollDue(at(1), 100).size());
  }
}
