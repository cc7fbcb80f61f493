package io.paxcron.paxos;

/**
 * The deterministic application the replicated log drives. Every replica applies the same chosen
 * commands in the same slot order, so every replica's state machine passes through the same states.
 *
 * <p>Contract: {@code apply} must be a pure function of the current state and the command (no
 * clock, randomness or I/O that changes the result); an unreadable command is an operating error
 * the state machine answers with an error result, never an exception. {@code snapshot} returns a
 * self-contained image that {@code restore} turns back into an equal state. Single-threaded, except
 * for {@link Image#encode}, which may run on any thread.
 */
public interface StateMachine {

  /** Applies one command chosen in {@code slot} and returns the answer for its client. */
  byte[] apply(long slot, byte[] command);

  /** An image of the whole current state. */
  byte[] snapshot();

  /**
   * The current state, taken cheaply so that the caller can encode it later while this state
   * machine applies further commands (a replica takes the image on its loop thread and encodes and
   * writes it on another). Called on the state machine's thread. The default encodes at once; a
   * state machine whose snapshot is large captures immutable parts instead.
   */
  default Image image() {
    byte[] encoded = snapshot();
    return () -> encoded;
  }

  /**
   * A state as {@link #image()} took it. {@code encode} returns exactly what {@link #snapshot()}
   * returned at that moment, whatever was applied since; it is pure, reads nothing the state
   * machine still changes, and may be called from any thread, more than once.
   */
  @FunctionalInterface
  interface Image {
    byte[] encode();

    /**
     * Appends what {@link #encode} returns to {@code out}. A state machine whose snapshot is large
     * writes straight into {@code out}, so the snapshot that holds it is built without copying it.
     */
    default void encodeTo(BinaryWriter out) {
      out.writeRaw(encode());
    }
  }

  /**
   * Replaces the whole state with the image {@code snapshot} produced (an empty array: the initial
   * state). Images are {@link Frame}s of the state machine's {@link RecordKind}; images written
   * before frames existed are read too, or refused with a message naming the kind and version.
   */
  void restore(byte[] snapshot);
}
