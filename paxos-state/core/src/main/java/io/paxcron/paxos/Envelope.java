package io.paxcron.paxos;

/** A message with its sender and addressee, as the transport delivers it. */
public record Envelope(ReplicaId from, ReplicaId to, Message message) {
  public Envelope {
    if (from == null || to == null) {
      throw new IllegalArgumentException("envelope needs a sender and an addressee");
    }
    if (from.equals(to)) {
      throw new IllegalArgumentException("a replica never sends to itself: " + from);
    }
    if (message == null) {
      throw new IllegalArgumentException("envelope needs a message");
    }
  }
}
