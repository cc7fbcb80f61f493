package io.paxcron.simkit;

/**
 * A replica's local clock as a function of true (virtual) time: a rate off by {@code driftPpm}
 * parts per million plus the sum of its jumps. Readings never go backwards (a backward jump shows
 * as a stall), as a monotonic clock's would.
 */
public final class SimClock {

  private long driftPpm;
  private long anchorTrueMillis;
  private long anchorLocalMillis;
  private long lastReading = Long.MIN_VALUE;

  public SimClock(long startOffsetMillis, long driftPpm) {
    this.anchorLocalMillis = startOffsetMillis;
    this.driftPpm = driftPpm;
  }

  public long read(long trueMillis) {
    long elapsed = trueMillis - anchorTrueMillis;
    long local = anchorLocalMillis + elapsed + Math.floorDiv(elapsed * driftPpm, 1_000_000L);
    lastReading = Math.max(lastReading, local);
    return lastReading;
  }

  public void jump(long trueMillis, long deltaMillis) {
    reanchor(trueMillis);
    anchorLocalMillis += deltaMillis;
  }

  public void setDrift(long trueMillis, long ppm) {
    reanchor(trueMillis);
    driftPpm = ppm;
  }

  private void reanchor(long trueMillis) {
    long elapsed = trueMillis - anchorTrueMillis;
    anchorLocalMillis += elapsed + Math.floorDiv(elapsed * driftPpm, 1_000_000L);
    anchorTrueMillis = trueMillis;
  }
}
