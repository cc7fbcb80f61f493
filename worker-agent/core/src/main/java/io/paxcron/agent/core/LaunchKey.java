package io.paxcron.agent.core;

import io.paxcron.scheduler.RunId;
import java.util.Objects;

/**
 * One launch: a run and its attempt. The agent accepts each key at most once, ever (DESIGN §1
 * promise 2).
 */
public record LaunchKey(RunId runId, int attempt) implements Comparable<LaunchKey> {
  public LaunchKey {
    Objects.requireNonNull(runId, "runId");
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be >= 1, got " + attempt);
    }
  }

  @Override
  public int compareTo(LaunchKey other) {
    int byRun = runId.compareTo(other.runId);
    return byRun != 0 ? byRun : Integer.compare(attempt, other.attempt);
  }

  @Override
  public String toString() {
    return runId + "#" + attempt;
  }
}
