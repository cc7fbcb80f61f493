package io.paxcron.scheduler;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * What the ledger keeps about a run beside its outcome: the last bytes of its output and the
 * agent's reason, from the finish report, and for a {@code LOST} run what its agent said once it
 * was heard from again. Immutable (the tail is copied in and out).
 *
 * @param outputTail the last bytes of stdout and stderr, at most {@link #MAX_OUTPUT_TAIL_BYTES}
 *     (longer tails keep their end)
 * @param reason why a run failed without an exit status of its own, at most {@link #MAX_TEXT_CHARS}
 * @param agentTestimony for {@code LOST}: {@code NEVER_STARTED} or the outcome the agent saw
 *     ({@code SUCCEEDED}, {@code FAILED(2)}, ...); empty if it was never heard from
 */
public record RunDetail(byte[] outputTail, String reason, String agentTestimony) {

  /** The most output kept in the ledger per run; whole outputs stay on the agent. */
  public static final int MAX_OUTPUT_TAIL_BYTES = 1024;

  /** The most characters of a reason or testimony kept. */
  public static final int MAX_TEXT_CHARS = 512;

  /** Nothing known beyond the outcome. */
  public static final RunDetail NONE = new RunDetail(new byte[0], "", "");

  /** The testimony of an agent that gave a launch up before starting it. */
  public static final String NEVER_STARTED = "NEVER_STARTED";

  public RunDetail {
    Objects.requireNonNull(outputTail, "outputTail");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(agentTestimony, "agentTestimony");
    outputTail =
        outputTail.length <= MAX_OUTPUT_TAIL_BYTES
            ? outputTail.clone()
            : Arrays.copyOfRange(
                outputTail, outputTail.length - MAX_OUTPUT_TAIL_BYTES, outputTail.length);
    reason = cut(reason);
    agentTestimony = cut(agentTestimony);
  }

  /** A finish report's detail. */
  public static RunDetail of(byte[] outputTail, String reason) {
    return new RunDetail(outputTail, reason, "");
  }

  private static String cut(String text) {
    return text.length() <= MAX_TEXT_CHARS ? text : text.substring(0, MAX_TEXT_CHARS);
  }

  @Override
  public byte[] outputTail() {
    return outputTail.clone();
  }

  /** This detail with the agent's testimony. */
  public RunDetail withTestimony(String testimony) {
    return new RunDetail(outputTail, reason, testimony);
  }

  public boolean isEmpty() {
    return outputTail.length == 0 && reason.isEmpty() && agentTestimony.isEmpty();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof RunDetail detail
        && Arrays.equals(outputTail, detail.outputTail)
        && reason.equals(detail.reason)
        && agentTestimony.equals(detail.agentTestimony);
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(outputTail), reason, agentTestimony);
  }

  @Override
  public String toString() {
    return "RunDetail[outputTail="
        + HexFormat.of().formatHex(outputTail)
        + ", reason="
        + reason
        + ", agentTestimony="
        + agentTestimony
        + "]";
  }
}
