package io.paxcron.paxos;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A client command: an opaque payload tagged with its client session.
 *
 * <p>{@code (clientId, sequence)} identifies the command across retries: a client that did not hear
 * an answer sends the same pair again, and {@link SessionStateMachine} applies it once and answers
 * the retry with the first result. The payload array is owned by the command and never mutated.
 */
public record Command(long clientId, long sequence, byte[] payload) {

  public Command {
    if (sequence < 1) {
      throw new IllegalArgumentException("command sequence must be >= 1, got " + sequence);
    }
    if (payload == null) {
      throw new IllegalArgumentException("command payload must not be null");
    }
  }

  public int sizeBytes() {
    return payload.length + 16;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Command c
        && c.clientId == clientId
        && c.sequence == sequence
        && Arrays.equals(c.payload, payload);
  }

  @Override
  public int hashCode() {
    return (Long.hashCode(clientId) * 31 + Long.hashCode(sequence)) * 31 + Arrays.hashCode(payload);
  }

  @Override
  public String toString() {
    String shown =
        payload.length <= 16
            ? HexFormat.of().formatHex(payload)
            : HexFormat.of().formatHex(payload, 0, 16) + "…";
    return "Command[" + clientId + "#" + sequence + " " + shown + "]";
  }
}
