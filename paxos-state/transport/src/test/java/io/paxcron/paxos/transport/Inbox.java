package io.paxcron.paxos.transport;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.paxcron.paxos.Message;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An inbound queue standing in for a replica's event loop: tests take what arrived, in order. */
final class Inbox implements PeerTransport.Inbound {

  record Received(int from, Message message) {}

  private final LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();

  @Override
  public void onMessage(int from, Message message, boolean mayRunHere) {
    received.add(new Received(from, message));
  }

  /** The next message, waiting for it up to ten seconds. */
  Received next() throws InterruptedException {
    Received next = received.poll(10, TimeUnit.SECONDS);
    assertNotNull(next, "no message arrived within 10 s");
    return next;
  }

  /** The next message if one arrives within {@code wait}, else null. */
  Received poll(java.time.Duration wait) throws InterruptedException {
    return received.poll(wait.toNanos(), TimeUnit.NANOSECONDS);
  }

  boolean isEmpty() {
    return received.isEmpty();
  }
}
