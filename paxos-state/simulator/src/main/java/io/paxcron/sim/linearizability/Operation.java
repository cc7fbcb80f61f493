package io.paxcron.sim.linearizability;

import java.util.Objects;

/**
 * One operation of a recorded history: a client called it at {@code callTime} and learned {@code
 * output} at {@code returnTime}. Times are in any unit the recorder uses, as long as all operations
 * of one history share it (simulator ticks, for example).
 *
 * <p>A {@code returnTime} of {@link #UNKNOWN_RETURN} means the client never learned the outcome
 * (timeout, crash): the operation may have taken effect at any point after {@code callTime}, or not
 * at all. The checker then ignores {@code output} and passes null to the {@link Model}.
 *
 * @param clientId the client that issued the operation, for counterexamples only
 * @param callTime when the client invoked the operation
 * @param returnTime when the client received the response, or {@link #UNKNOWN_RETURN}
 * @param input what the client asked for; never null
 * @param output what the client observed; ignored for an operation with an unknown return
 */
public record Operation<I, O>(int clientId, long callTime, long returnTime, I input, O output) {

  /** The return time of an operation whose outcome the client never learned. */
  public static final long UNKNOWN_RETURN = Long.MAX_VALUE;

  public Operation {
    Objects.requireNonNull(input, "input");
    if (callTime > returnTime) {
      throw new IllegalArgumentException(
          "operation of client "
              + clientId
              + " has callTime "
              + callTime
              + " after returnTime "
              + returnTime
              + "; callTime must be <= returnTime");
    }
  }

  /** An operation whose outcome the client never learned. */
  public static <I, O> Operation<I, O> pending(int clientId, long callTime, I input) {
    return new Operation<>(clientId, callTime, UNKNOWN_RETURN, input, null);
  }

  /**
   * Whether the client never learned the outcome, so the operation may or may not have happened.
   */
  public boolean isPending() {
    return returnTime == UNKNOWN_RETURN;
  }
}
