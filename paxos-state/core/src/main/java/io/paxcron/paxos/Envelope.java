package io.paxcron.paxos;

/** A message with its sender and addressee, as the transport delivers it. */
public record Envelope(int from, int to, Message message) {
  public Envelope {
    if (from == to) {
      throw new IllegalArgumentException("a replica never sends to itself: " + from);
    }
    if (message == null) {
      throw new IllegalArgumentException("envelope needs a message");
    }
  }
}
