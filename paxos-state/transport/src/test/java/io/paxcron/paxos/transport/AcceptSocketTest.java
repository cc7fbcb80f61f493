package io.paxcron.paxos.transport;

import static io.paxcron.paxos.transport.Loopback.local;
import static io.paxcron.paxos.transport.RecordingListener.next;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.proto.v1.PeerMessage;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Accept socket (README, "The Accept socket"): Accepts and their answers leave gRPC for a plain
 * TCP connection once the peer has advertised its port, with the same identity checks; a peer that
 * comes back on another port is followed; what does not parse or claims another cluster is refused
 * and the connection closed.
 */
class AcceptSocketTest {

  private static final TransportOptions OPTIONS =
      TransportOptions.defaults()
          .withBackoff(Duration.ofMillis(10), Duration.ofMillis(40), 0.5)
          .withDeadlines(Duration.ofSeconds(5), Duration.ofSeconds(20));

  private final Loopback loopback = new Loopback();

  @AfterEach
  void closeTransports() {
    loopback.close();
  }

  private PeerTransport start(
      int id,
      String cluster,
      Map<Integer, PeerAddress> peers,
      int port,
      RecordingListener listener,
      Inbox inbox)
      throws Exception {
    PeerTransport transport =
        loopback.create(id, cluster, peers, port, Optional.empty(), OPTIONS, listener);
    transport.useAcceptSocket(0);
    transport.start(inbox);
    return transport;
  }

  @Test
  void acceptsMoveToTheSocketOnceThePeerAdvertisedItsPortAndAnswersComeBackOnIt() throws Exception {
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    Inbox inbox1 = new Inbox();
    Inbox inbox2 = new Inbox();
    PeerTransport one =
        start(1, Loopback.CLUSTER, Map.of(2, local(port2)), port1, new RecordingListener(), inbox1);
    PeerTransport two =
        start(2, Loopback.CLUSTER, Map.of(1, local(port1)), port2, new RecordingListener(), inbox2);
    assertTrue(one.acceptSocketPort() > 0 && two.acceptSocketPort() > 0);

    // Before 1 has heard from 2, its Accept goes on the Replicate stream; 2's answer carries the
    // port of 2's Accept socket.
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(1)));
    assertEquals(new Inbox.Received(1, Fixtures.accept(1)), inbox2.next());
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.accepted(1)));
    assertEquals(new Inbox.Received(2, Fixtures.accepted(1)), inbox1.next());
    assertEquals(0, one.acceptSocketReceivedCount() + two.acceptSocketReceivedCount());

    // From now on both directions use the socket, in order.
    for (int i = 0; i < 50; i++) {
      one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(1)));
      one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.heartbeat()));
    }
    for (int i = 0; i < 50; i++) {
      assertEquals(new Inbox.Received(1, Fixtures.accept(1)), inbox2.next());
      assertEquals(new Inbox.Received(1, Fixtures.heartbeat()), inbox2.next());
    }
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.accepted(1)));
    assertEquals(new Inbox.Received(2, Fixtures.accepted(1)), inbox1.next());
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.rejectedWithoutLeader()));
    assertEquals(new Inbox.Received(2, Fixtures.rejectedWithoutLeader()), inbox1.next());
    assertEquals(100, two.acceptSocketReceivedCount());
    assertEquals(2, one.acceptSocketReceivedCount());
    assertEquals(0, one.droppedCount() + two.droppedCount());
    assertEquals(0, one.unmatchedCount() + two.unmatchedCount());
  }

  @Test
  void aPeerThatComesBackOnAnotherPortIsFollowed() throws Exception {
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    Inbox inbox1 = new Inbox();
    RecordingListener listener1 = new RecordingListener();
    PeerTransport one =
        start(1, Loopback.CLUSTER, Map.of(2, local(port2)), port1, listener1, inbox1);
    Inbox inbox2 = new Inbox();
    PeerTransport two =
        start(2, Loopback.CLUSTER, Map.of(1, local(port1)), port2, new RecordingListener(), inbox2);
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(1)));
    inbox2.next();
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.accepted(1)));
    inbox1.next();
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(1)));
    inbox2.next();
    assertEquals(1, two.acceptSocketReceivedCount());

    // 2 restarts: same peer port, a new Accept socket port.
    two.close();
    Inbox inbox3 = new Inbox();
    PeerTransport twoAgain =
        start(2, Loopback.CLUSTER, Map.of(1, local(port1)), port2, new RecordingListener(), inbox3);

    // 1's connection to the old socket ends: a failed Replicate. Nothing reaches 2 unasked, and
    // by then the socket's rest (at most 40 ms here) has passed: the old port has not been named
    // again, so it is not dialled (it would be refused after every rest, and the Accepts would
    // never reach the Replicate stream, whose answers name the new port). Accepts go on gRPC
    // until an answer names the new port, then take the new socket. The core's re-sending is
    // played here: send, and wait a moment for an arrival before sending again.
    assertEquals("Replicate", next(listener1.callFailures).rpc());
    assertNull(inbox3.poll(Duration.ofMillis(100)));
    boolean onSocket = false;
    for (int round = 0; round < 100 && !onSocket; round++) {
      one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(1)));
      Inbox.Received received = inbox3.poll(Duration.ofMillis(200));
      if (received == null) {
        continue;
      }
      assertEquals(new Inbox.Received(1, Fixtures.accept(1)), received);
      twoAgain.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.accepted(1)));
      assertEquals(new Inbox.Received(2, Fixtures.accepted(1)), inbox1.next());
      onSocket = twoAgain.acceptSocketReceivedCount() > 0;
    }
    assertTrue(onSocket, "Accepts never reached the restarted peer's new Accept socket");
  }

  @Test
  void aPeerThatStopsReadingNeverBlocksTheSenderAndWhatArrivesLaterIsWholeFramesInOrder()
      throws Exception {
    Counters counters = new Counters();
    FrameSocket.Handler<PeerMessage> ignore =
        new FrameSocket.Handler<PeerMessage>() {
          @Override
          public void onMessage(
              FrameSocket<PeerMessage>.Connection connection, PeerMessage message) {}

          @Override
          public void onClosed(FrameSocket<PeerMessage>.Connection connection, String reason) {}
        };
    int limit = 64;
    try (java.net.ServerSocket stalled = new java.net.ServerSocket(0);
        FrameSocket<PeerMessage> sockets =
            new FrameSocket<>(
                new java.net.InetSocketAddress(0),
                16 << 20,
                limit,
                FrameSocket.Overflow.DROP_OLDEST,
                PeerMessage.parser(),
                counters.sent,
                counters.dropped,
                ignore,
                "test")) {
      FrameSocket<PeerMessage>.Connection connection =
          sockets.dial("127.0.0.1", stalled.getLocalPort(), ignore);
      try (Socket peer = stalled.accept()) {
        // 2,000 frames of 64 KiB: far more than the socket buffers hold, while the peer reads
        // nothing. Every send returns; all but the queue's worth beyond the buffers is dropped.
        String bulk = "x".repeat(64 * 1024);
        int sent = 2_000;
        for (int i = 0; i < sent; i++) {
          connection.send(
              PeerMessage.newBuilder()
                  .setAccept(
                      io.paxcron.proto.v1.Accept.newBuilder()
                          .setProbe(i)
                          .setSender(io.paxcron.proto.v1.Sender.newBuilder().setClusterId(bulk)))
                  .build());
        }
        long dropped = counters.dropped.sum();
        assertTrue(dropped > 0, "nothing was dropped for a peer that reads nothing");

        // The peer reads again: whole frames, probes increasing, until the queue is drained.
        java.io.DataInputStream in = new java.io.DataInputStream(peer.getInputStream());
        long previous = -1;
        int received = 0;
        while (received < sent - dropped) {
          byte[] frame = new byte[in.readInt()];
          in.readFully(frame);
          long probe = PeerMessage.parseFrom(frame).getAccept().getProbe();
          assertTrue(probe > previous, "probe " + probe + " after " + previous);
          previous = probe;
          received++;
        }
        assertEquals(sent - 1, previous, "the newest frame did not arrive last");
      }
    }
  }

  @Test
  void heldMessagesLeaveOnlyWhenSentAndThenAllInOrderAndAClosedConnectionCountsThemDropped()
      throws Exception {
    Counters counters = new Counters();
    FrameSocket.Handler<PeerMessage> ignore =
        new FrameSocket.Handler<PeerMessage>() {
          @Override
          public void onMessage(
              FrameSocket<PeerMessage>.Connection connection, PeerMessage message) {}

          @Override
          public void onClosed(FrameSocket<PeerMessage>.Connection connection, String reason) {}
        };
    try (java.net.ServerSocket listening = new java.net.ServerSocket(0);
        FrameSocket<PeerMessage> sockets =
            new FrameSocket<>(
                null,
                1 << 20,
                64,
                FrameSocket.Overflow.CLOSE,
                PeerMessage.parser(),
                counters.sent,
                counters.dropped,
                null,
                "test")) {
      FrameSocket<PeerMessage>.Connection connection =
          sockets.dial("127.0.0.1", listening.getLocalPort(), ignore);
      try (Socket peer = listening.accept()) {
        java.io.DataInputStream in = new java.io.DataInputStream(peer.getInputStream());
        int held = 5;
        for (int i = 0; i < held; i++) {
          assertEquals(i == 0, connection.hold(probe(i)), "first held, message " + i);
        }
        peer.setSoTimeout(100);
        org.junit.jupiter.api.Assertions.assertThrows(
            java.net.SocketTimeoutException.class, in::readInt, "a held message left unsent");
        peer.setSoTimeout(0);

        connection.sendHeld();
        for (int i = 0; i < held; i++) {
          byte[] frame = new byte[in.readInt()];
          in.readFully(frame);
          assertEquals(i, PeerMessage.parseFrom(frame).getAccept().getProbe());
        }
        assertEquals(held, counters.sent.sum());
        assertTrue(connection.hold(probe(held)), "the first held after a send");

        connection.close("test");
        assertEquals(1, counters.dropped.sum(), "the message held at close was not counted");
        connection.sendHeld();
        assertEquals(held, counters.sent.sum(), "a closed connection sent");
      }
    }
  }

  private static PeerMessage probe(long probe) {
    return PeerMessage.newBuilder()
        .setAccept(io.paxcron.proto.v1.Accept.newBuilder().setProbe(probe))
        .build();
  }

  @Test
  void theHandlerLearnsWhetherMoreOfTheStreamWasReadBehindEachMessage() throws Exception {
    Counters counters = new Counters();
    java.util.concurrent.LinkedBlockingQueue<String> seen =
        new java.util.concurrent.LinkedBlockingQueue<>();
    FrameSocket.Handler<PeerMessage> record =
        new FrameSocket.Handler<PeerMessage>() {
          @Override
          public void onMessage(
              FrameSocket<PeerMessage>.Connection connection, PeerMessage message) {
            seen.add(message.getAccept().getProbe() + (connection.moreBuffered() ? "+" : ""));
          }

          @Override
          public void onClosed(FrameSocket<PeerMessage>.Connection connection, String reason) {}
        };
    try (FrameSocket<PeerMessage> sockets =
            new FrameSocket<>(
                new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                1 << 20,
                64,
                FrameSocket.Overflow.DROP_OLDEST,
                PeerMessage.parser(),
                counters.sent,
                counters.dropped,
                record,
                "test");
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), sockets.port())) {
      // Three frames and half of a fourth in one write, read at once: more follows the first
      // three, and the rest of the fourth, alone, has nothing behind it.
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      for (int probe = 1; probe <= 4; probe++) {
        bytes.write(FrameSocket.frame(probed(probe)).array());
      }
      byte[] all = bytes.toByteArray();
      int half = all.length - FrameSocket.frame(probed(4)).array().length / 2;
      socket.getOutputStream().write(all, 0, half);
      socket.getOutputStream().flush();
      assertEquals("1+", next(seen));
      assertEquals("2+", next(seen));
      assertEquals("3+", next(seen));
      socket.getOutputStream().write(all, half, all.length - half);
      assertEquals("4", next(seen));
    }
  }

  private static PeerMessage probed(long probe) {
    return PeerMessage.newBuilder()
        .setAccept(io.paxcron.proto.v1.Accept.newBuilder().setProbe(probe))
        .build();
  }

  @Test
  void aFrameFromAnotherClusterIsRefusedNamingTheFieldAndTheConnectionClosed() throws Exception {
    int port2 = Loopback.freePort();
    RecordingListener listener2 = new RecordingListener();
    Inbox inbox2 = new Inbox();
    PeerTransport two =
        start(2, "beta", Map.of(1, local(Loopback.freePort())), port2, listener2, inbox2);
    ProtoCodec alpha = new ProtoCodec("alpha", 1);
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), two.acceptSocketPort())) {
      ByteBuffer frame =
          FrameSocket.frame(
              PeerMessage.newBuilder().setAccept(alpha.encodeAccept(Fixtures.accept(1))).build());
      socket.getOutputStream().write(frame.array());
      assertEquals(
          "sender.cluster_id \"alpha\" is not this replica's cluster \"beta\"",
          next(listener2.refusals).status().getDescription());
      assertEquals(-1, socket.getInputStream().read(), "the refused connection was not closed");
    }
    assertTrue(inbox2.isEmpty());
  }

  @Test
  void aFrameLargerThanTheLimitOrNotAMessageClosesTheConnection() throws Exception {
    int port2 = Loopback.freePort();
    Inbox inbox2 = new Inbox();
    PeerTransport two =
        start(
            2,
            Loopback.CLUSTER,
            Map.of(1, local(Loopback.freePort())),
            port2,
            new RecordingListener(),
            inbox2);
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), two.acceptSocketPort())) {
      new DataOutputStream(socket.getOutputStream()).writeInt(OPTIONS.maxMessageBytes() + 1);
      assertEquals(-1, socket.getInputStream().read(), "an oversized frame was not refused");
    }
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), two.acceptSocketPort())) {
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeInt(3);
      out.write(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
      InputStream in = socket.getInputStream();
      assertEquals(-1, in.read(), "a frame that is not a message was not refused");
    }
    assertTrue(inbox2.isEmpty());
  }
}
