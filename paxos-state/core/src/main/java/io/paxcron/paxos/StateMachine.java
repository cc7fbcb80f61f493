package io.paxcron.paxos;

/**
 * The deterministic application the replicated log drives. Every replica applies the same chosen
 * commands in the same slot order, so every replica's state machine passes through the same states.
 *
 * <p>Contract: {@code apply} must be a pure function of the current state and the command (no
 * clock, randomness or I/O that changes the result); an unreadable command is an operating error
 * the state machine answers with an error result, never an exception. {@code snapshot} returns a
 * self-contained image that {@code restore} turns back into an equal state. Single-threaded.
 */
public interface StateMachine {

  /** Applies one command chosen in {@code slot} and returns the answer for its client. */
  byte[] apply(long slot, byte[] command);

  /** An image of the whole current state. */
  byte[] snapshot();

  /** Replaces the whole state with the image {@code snapshot} produced. */
  void restore(byte[] snapshot);
}
