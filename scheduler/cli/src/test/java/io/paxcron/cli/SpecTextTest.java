package io.paxcron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.paxcron.schedule.DstPolicy;
import io.paxcron.scheduler.MisfirePolicy;
import io.paxcron.scheduler.RetryPolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SpecTextTest {

  @Test
  void durationsReadAsPeopleWriteThem() {
    assertEquals("1h30m", SpecText.duration(Duration.ofMinutes(90)));
    assertEquals("2d", SpecText.duration(Duration.ofDays(2)));
    assertEquals("1d1h1m1s", SpecText.duration(Duration.ofSeconds(90_061)));
    assertEquals("PT0.5S", SpecText.duration(Duration.ofMillis(500)));
  }

  @Test
  void policiesReadInTheCrontabAnnotationVocabulary() {
    assertEquals("gap run-after-gap, overlap run-once", SpecText.dst(DstPolicy.DEFAULT));
    assertEquals("none (1 attempt)", SpecText.retries(RetryPolicy.NONE));
    assertEquals(
        "3 attempts, backoff 10s..10m, jitter 20%",
        SpecText.retries(new RetryPolicy(3, Duration.ofSeconds(10), Duration.ofMinutes(10), 20)));
    assertEquals("run-once within 1h, at most 10", SpecText.misfire(MisfirePolicy.DEFAULT));
  }
}
