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

  /**
   * Starts applying one command in steps, so that the replica serving this state machine can handle
   * other work between them: one command may be a batch of a thousand jobs, and a replica that
   * handles no heartbeat for the hundreds of milliseconds it takes on a busy machine costs the
   * leader its lease. The steps together do exactly what {@link #apply} does, and return the same
   * answer; how a command is cut into steps is the state machine's own, deterministic choice.
   * Between steps the state holds part of the command and must not be read (no query, no image);
   * nothing else is applied until the last step. The default applies the whole command at once.
   */
  default Steps applyInSteps(long slot, byte[] command) {
    byte[] answer = apply(slot, command);
    return () -> answer;
  }

  /** A command being applied in steps ({@link #applyInSteps}). */
  @FunctionalInterface
  interface Steps {
    /** Applies the next step; returns the command's answer after the last one, null before. */
    byte[] next();
  }

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
