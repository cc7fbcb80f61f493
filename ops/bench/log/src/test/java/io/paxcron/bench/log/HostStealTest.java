package io.paxcron.bench.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HostStealTest {

  @Test
  void stealIsTheEighthFieldsShareOfTheWindowsTicks() {
    HostSteal before = HostSteal.parse("cpu  100 10 50 800 20 0 5 15 7 0");
    HostSteal after = HostSteal.parse("cpu  160 10 80 1000 30 0 5 35 9 0");
    // 320 ticks passed: 60 user, 30 system, 200 idle, 10 iowait and 20 stolen (guest not counted).
    assertEquals(300 + 20, after.totalTicks() - before.totalTicks());
    assertEquals(100.0 * 20 / 320, after.percentSince(before), 1e-9);
  }

  @Test
  void unknownReadingsGiveNaN() {
    HostSteal unknown = new HostSteal(-1, -1);
    assertTrue(Double.isNaN(HostSteal.parse("cpu 1 1 1 1 1 1 1 1").percentSince(unknown)));
    assertTrue(Double.isNaN(unknown.percentSince(unknown)));
  }

  @Test
  void aPerCpuLineIsNotTheAggregate() {
    assertThrows(IllegalArgumentException.class, () -> HostSteal.parse("cpu0 1 2 3 4 5 6 7 8"));
  }
}
