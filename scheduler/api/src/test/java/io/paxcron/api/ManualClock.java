package io.paxcron.api;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

/** The leader's clock in tests: moves only when the test says so. */
final class ManualClock implements InstantSource {
  private final AtomicReference<Instant> now;

  ManualClock(Instant start) {
    now = new AtomicReference<>(start);
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  Instant advance(Duration duration) {
    return now.updateAndGet(instant -> instant.plus(duration));
  }
}
