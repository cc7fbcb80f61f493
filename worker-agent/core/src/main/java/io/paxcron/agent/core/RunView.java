package io.paxcron.agent.core;

import io.paxcron.scheduler.Outcome;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * What the agent tells a leader about one launch (agent.proto {@code RunState}).
 *
 * @param key the launch
 * @param phase its phase
 * @param outcome FINISHED: SUCCEEDED, FAILED or TIMED_OUT; otherwise null
 * @param reason why it failed or never started, empty when there is nothing to say
 * @param startedAt when the process started, or null
 * @param endedAt when it ended (or was given up), or null
 * @param outputTail the last bytes of its output (at most {@link AgentFence#MAX_OUTPUT_TAIL_BYTES})
 * @param highestSeen FENCED: the agent's fence; otherwise null
 */
public record RunView(
    LaunchKey key,
    RunPhase phase,
    Outcome outcome,
    String reason,
    Instant startedAt,
    Instant endedAt,
    byte[] outputTail,
    FenceBallot highestSeen) {
  public RunView {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(phase, "phase");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(outputTail, "outputTail");
    if ((phase == RunPhase.FINISHED) != (outcome != null)) {
      throw new IllegalArgumentException(
          "a FINISHED run, and only one, has an outcome: " + phase + " " + outcome);
    }
    if (outcome != null && !outcome.reportedByAgent()) {
      throw new IllegalArgumentException(
          "an agent reports SUCCEEDED, FAILED or TIMED_OUT, got " + outcome);
    }
    outputTail = outputTail.clone();
  }

  static RunView unknown(LaunchKey key) {
    return new RunView(key, RunPhase.UNKNOWN, null, "", null, null, new byte[0], null);
  }

  static RunView fenced(LaunchKey key, FenceBallot highestSeen) {
    return new RunView(key, RunPhase.FENCED, null, "", null, null, new byte[0], highestSeen);
  }

  @Override
  public byte[] outputTail() {
    return outputTail.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof RunView view
        && key.equals(view.key)
        && phase == view.phase
        && Objects.equals(outcome, view.outcome)
        && reason.equals(view.reason)
        && Objects.equals(startedAt, view.startedAt)
        && Objects.equals(endedAt, view.endedAt)
        && Arrays.equals(outputTail, view.outputTail)
        && Objects.equals(highestSeen, view.highestSeen);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        key, phase, outcome, reason, startedAt, endedAt, Arrays.hashCode(outputTail), highestSeen);
  }

  @Override
  public String toString() {
    return key
        + " "
        + phase
        + (outcome == null ? "" : " " + outcome)
        + (reason.isEmpty() ? "" : " (" + reason + ")");
  }
}
