package io.paxcron.paxos.transport;

import static io.paxcron.paxos.transport.Loopback.local;
import static io.paxcron.paxos.transport.RecordingListener.next;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.proto.v1.CatchUpChunk;
import io.paxcron.proto.v1.CatchUpRequest;
import io.paxcron.proto.v1.PaxosPeerGrpc;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PeerTransportTest {

  private static final TransportOptions OPTIONS =
      TransportOptions.defaults()
          .withBackoff(Duration.ofMillis(10), Duration.ofMillis(40), 0.5)
          .withDeadlines(Duration.ofSeconds(5), Duration.ofSeconds(20));

  private final Loopback loopback = new Loopback();

  @AfterEach
  void closeTransports() {
    loopback.close();
  }

  @Test
  void threeTransportsOnLoopbackCarryEveryMessageKind() throws Exception {
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    int port3 = Loopback.freePort();
    Inbox inbox1 = new Inbox();
    Inbox inbox2 = new Inbox();
    Inbox inbox3 = new Inbox();
    PeerTransport one =
        loopback.start(
            1,
            Map.of(2, local(port2), 3, local(port3)),
            port1,
            OPTIONS,
            TransportListener.NONE,
            inbox1);
    PeerTransport two =
        loopback.start(
            2,
            Map.of(1, local(port1), 3, local(port3)),
            port2,
            OPTIONS,
            TransportListener.NONE,
            inbox2);
    PeerTransport three =
        loopback.start(
            3,
            Map.of(1, local(port1), 2, local(port2)),
            port3,
            OPTIONS,
            TransportListener.NONE,
            inbox3);

    // Phase 1: 1 campaigns; 2 promises, 3 refuses.
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.prepare()));
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(3), Fixtures.prepare()));
    assertEquals(new Inbox.Received(1, Fixtures.prepare()), inbox2.next());
    assertEquals(new Inbox.Received(1, Fixtures.prepare()), inbox3.next());
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.promise()));
    three.send(new Envelope(ReplicaId.of(3), ReplicaId.of(1), Fixtures.rejected()));
    assertEquals(
        Set.of(
            new Inbox.Received(2, Fixtures.promise()), new Inbox.Received(3, Fixtures.rejected())),
        Set.of(inbox1.next(), inbox1.next()));

    // Phase 2 on the streams: 2 accepts, 3 refuses the Accept.
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(1)));
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.heartbeat()));
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(3), Fixtures.accept(1)));
    assertEquals(new Inbox.Received(1, Fixtures.accept(1)), inbox2.next());
    assertEquals(new Inbox.Received(1, Fixtures.heartbeat()), inbox2.next());
    assertEquals(new Inbox.Received(1, Fixtures.accept(1)), inbox3.next());
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.accepted(1)));
    assertEquals(new Inbox.Received(2, Fixtures.accepted(1)), inbox1.next());
    three.send(new Envelope(ReplicaId.of(3), ReplicaId.of(1), Fixtures.rejectedWithoutLeader()));
    assertEquals(new Inbox.Received(3, Fixtures.rejectedWithoutLeader()), inbox1.next());

    // Catch-up: 3 asks 1, which answers with a snapshot and entries.
    Message.CatchUpReply reply = Fixtures.catchUpReply(64 * 1024, 5);
    three.send(new Envelope(ReplicaId.of(3), ReplicaId.of(1), Fixtures.catchUpRequest()));
    assertEquals(new Inbox.Received(3, Fixtures.catchUpRequest()), inbox1.next());
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(3), reply));
    assertEquals(new Inbox.Received(1, reply), inbox3.next());

    assertEquals(0, one.unmatchedCount() + two.unmatchedCount() + three.unmatchedCount());
    assertEquals(0, one.droppedCount() + two.droppedCount() + three.droppedCount());
    assertEquals(6, one.sentCount());
    assertEquals(5, one.receivedCount());
  }

  @Test
  void aTwentyMegabyteSnapshotTravelsInChunksAndArrivesIntact() throws Exception {
    // One chunk fits under the message limit, the image is twenty times larger: it can only
    // arrive if it travels in chunks.
    TransportOptions options = OPTIONS.withSnapshotLimits(1 << 20, (1 << 20) + 4096, 64 << 20);
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    Inbox inbox1 = new Inbox();
    Inbox inbox2 = new Inbox();
    PeerTransport one =
        loopback.start(1, Map.of(2, local(port2)), port1, options, TransportListener.NONE, inbox1);
    PeerTransport two =
        loopback.start(2, Map.of(1, local(port1)), port2, options, TransportListener.NONE, inbox2);
    Message.CatchUpReply reply = Fixtures.catchUpReply(20 << 20, 10);

    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.catchUpRequest()));
    inbox1.next();
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), reply));

    Inbox.Received received = inbox2.next();
    assertEquals(1, received.from());
    assertEquals(reply, received.message());
    assertEquals(0, two.rejectedTransferCount());
  }

  @Test
  void aCorruptedChunkIsRejectedAndTheTransferNeverReachesTheCore() throws Exception {
    Server faulty = startFaultyPeer(2, chunks -> corruptSecondPart(chunks));
    Inbox inbox = new Inbox();
    RecordingListener listener = new RecordingListener();
    PeerTransport one =
        loopback.start(1, Map.of(2, local(faulty.getPort())), 0, OPTIONS, listener, inbox);
    try {
      one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.catchUpRequest()));

      RecordingListener.TransferRejection rejection = next(listener.transferRejections);
      assertEquals(2, rejection.peer());
      assertTrue(
          rejection
              .error()
              .getMessage()
              .startsWith("snapshot part 1 (offset 1048576, 1048576 bytes) fails its CRC32C check"),
          rejection.error().getMessage());
      assertEquals(1, one.rejectedTransferCount());
      assertTrue(inbox.isEmpty());
    } finally {
      faulty.shutdownNow();
    }
  }

  @Test
  void aTransferCutShortIsRejectedAsIncomplete() throws Exception {
    Server faulty = startFaultyPeer(2, chunks -> withoutEndMarker(chunks));
    Inbox inbox = new Inbox();
    RecordingListener listener = new RecordingListener();
    PeerTransport one =
        loopback.start(1, Map.of(2, local(faulty.getPort())), 0, OPTIONS, listener, inbox);
    try {
      one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.catchUpRequest()));

      RecordingListener.TransferRejection rejection = next(listener.transferRejections);
      assertTrue(
          rejection.error().getMessage().startsWith("incomplete transfer"),
          rejection.error().getMessage());
      assertTrue(inbox.isEmpty());
    } finally {
      faulty.shutdownNow();
    }
  }

  @Test
  void aPeerThatIsDownAndComesBackIsReconnectedAfterCappedBackoff() throws Exception {
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    Inbox inbox1 = new Inbox();
    RecordingListener listener = new RecordingListener();
    PeerTransport one =
        loopback.start(1, Map.of(2, local(port2)), port1, OPTIONS, listener, inbox1);
    ReconnectBackoff expected =
        new ReconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(40), 0.5, () -> 0L);

    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(1)));
    for (int failures = 1; failures <= 5; failures++) {
      RecordingListener.Reconnect reconnect = next(listener.reconnects);
      Duration ceiling = expected.ceiling(failures);
      assertEquals(2, reconnect.peer());
      assertEquals(failures, reconnect.failures(), "seed " + Loopback.SEED);
      assertTrue(
          reconnect.delay().compareTo(ceiling) <= 0
              && reconnect.delay().compareTo(ceiling.dividedBy(2)) >= 0,
          "seed "
              + Loopback.SEED
              + ": delay "
              + reconnect.delay()
              + " outside [ceiling/2, "
              + ceiling
              + "]");
    }
    assertEquals(Duration.ofMillis(40), expected.ceiling(4), "the cap is reached by then");
    assertEquals(Status.Code.UNAVAILABLE, next(listener.callFailures).status().getCode());

    Inbox inbox2 = new Inbox();
    PeerTransport two =
        loopback.start(2, Map.of(1, local(port1)), port2, OPTIONS, TransportListener.NONE, inbox2);
    assertEquals(new Inbox.Received(1, Fixtures.accept(1)), inbox2.next());
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.accepted(1)));
    assertEquals(new Inbox.Received(2, Fixtures.accepted(1)), inbox1.next());
    assertTrue(one.reconnectCount() >= 5, "reconnects: " + one.reconnectCount());
  }

  @Test
  void aPeerThatStartsAndDialsIsReconnectedAtOnceNotAtTheEndOfTheBackoff() throws Exception {
    // A backoff of an hour: without the returning peer's dial, nothing would reach it in this test.
    TransportOptions patient = OPTIONS.withBackoff(Duration.ofHours(1), Duration.ofHours(1), 0.0);
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    RecordingListener listener = new RecordingListener();
    PeerTransport one =
        loopback.start(1, Map.of(2, local(port2)), port1, patient, listener, new Inbox());
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(1)));
    RecordingListener.Reconnect waiting = next(listener.reconnects);
    assertEquals(Duration.ofHours(1), waiting.delay(), "peer 2 is down: the link waits");

    Inbox inbox2 = new Inbox();
    loopback.start(2, Map.of(1, local(port1)), port2, patient, TransportListener.NONE, inbox2);
    assertEquals(
        new Inbox.Received(1, Fixtures.accept(1)),
        inbox2.next(),
        "peer 2's dial as it started told peer 1 to try at once");
    assertEquals(1, one.reconnectCount());
  }

  @Test
  void acceptsQueuedForAnAbsentPeerDropTheOldestWhenTheQueueIsFull() throws Exception {
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    PeerTransport one =
        loopback.start(
            1,
            Map.of(2, local(port2)),
            port1,
            OPTIONS.withQueueLimits(2, 2),
            TransportListener.NONE,
            new Inbox());

    for (int probe = 1; probe <= 5; probe++) {
      one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(probe)));
    }
    assertEquals(3, one.droppedCount());

    Inbox inbox2 = new Inbox();
    loopback.start(2, Map.of(1, local(port1)), port2, OPTIONS, TransportListener.NONE, inbox2);
    assertEquals(new Inbox.Received(1, Fixtures.accept(4)), inbox2.next());
    assertEquals(new Inbox.Received(1, Fixtures.accept(5)), inbox2.next());
  }

  @Test
  void aMessageFromAnotherClusterIsRefusedNamingTheClusterIdField() throws Exception {
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    RecordingListener listener1 = new RecordingListener();
    RecordingListener listener2 = new RecordingListener();
    Inbox inbox2 = new Inbox();
    PeerTransport one =
        loopback.create(
            1, "alpha", Map.of(2, local(port2)), port1, Optional.empty(), OPTIONS, listener1);
    one.start(new Inbox());
    loopback
        .create(2, "beta", Map.of(1, local(port1)), port2, Optional.empty(), OPTIONS, listener2)
        .start(inbox2);

    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.prepare()));
    RecordingListener.CallFailure prepare = next(listener1.callFailures);
    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(1)));
    RecordingListener.CallFailure replicate = next(listener1.callFailures);

    String expected = "sender.cluster_id \"alpha\" is not this replica's cluster \"beta\"";
    assertEquals("Prepare", prepare.rpc());
    assertEquals(Status.Code.PERMISSION_DENIED, prepare.status().getCode());
    assertEquals(expected, prepare.status().getDescription());
    assertEquals("Replicate", replicate.rpc());
    assertEquals(Status.Code.PERMISSION_DENIED, replicate.status().getCode());
    assertEquals(expected, replicate.status().getDescription());
    assertEquals(expected, next(listener2.refusals).status().getDescription());
    assertTrue(inbox2.isEmpty());
  }

  @Test
  void aMessageFromAnUnknownReplicaIsRefusedNamingTheReplicaIdField() throws Exception {
    int port7 = Loopback.freePort();
    int port2 = Loopback.freePort();
    RecordingListener listener7 = new RecordingListener();
    Inbox inbox2 = new Inbox();
    PeerTransport stranger =
        loopback.start(7, Map.of(2, local(port2)), port7, OPTIONS, listener7, new Inbox());
    loopback.start(
        2,
        Map.of(1, local(port7), 3, local(port7)),
        port2,
        OPTIONS,
        TransportListener.NONE,
        inbox2);

    stranger.send(new Envelope(ReplicaId.of(7), ReplicaId.of(2), Fixtures.catchUpRequest()));

    RecordingListener.CallFailure failure = next(listener7.callFailures);
    assertEquals(Status.Code.PERMISSION_DENIED, failure.status().getCode());
    assertEquals(
        "sender.replica_id 7 is not a peer of replica 2 (peers [1, 3])",
        failure.status().getDescription());
    assertTrue(inbox2.isEmpty());
  }

  @Test
  void answersWithNoPendingCallAreDroppedAndCounted() throws Exception {
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    Inbox inbox1 = new Inbox();
    loopback.start(1, Map.of(2, local(port2)), port1, OPTIONS, TransportListener.NONE, inbox1);
    PeerTransport two =
        loopback.start(
            2, Map.of(1, local(port1)), port2, OPTIONS, TransportListener.NONE, new Inbox());

    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.promise()));
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.accepted(1)));
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.rejected()));
    two.send(
        new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.catchUpReplyWithoutSnapshot()));

    assertEquals(4, two.unmatchedCount());
    assertEquals(0, two.sentCount());
    assertTrue(inbox1.isEmpty());
  }

  @Test
  void sendingAnEnvelopeFromAnotherReplicaIsAProgrammerError() throws Exception {
    PeerTransport one =
        loopback.start(
            1,
            Map.of(2, local(Loopback.freePort())),
            0,
            OPTIONS,
            TransportListener.NONE,
            new Inbox());

    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> one.send(new Envelope(ReplicaId.of(2), ReplicaId.of(3), Fixtures.prepare())));
    assertEquals("replica 1 cannot send an envelope from 2", error.getMessage());
  }

  // ---------------------------------------------------------------------------------------------

  /** A peer that answers every CatchUp with a 3 MiB snapshot whose chunks {@code damage} alters. */
  private Server startFaultyPeer(int id, UnaryOperator<List<CatchUpChunk>> damage)
      throws IOException {
    ProtoCodec codec = new ProtoCodec(Loopback.CLUSTER, id);
    Message.CatchUpReply reply = Fixtures.catchUpReply(3 << 20, 2);
    return NettyServerBuilder.forPort(0)
        .addService(
            new PaxosPeerGrpc.PaxosPeerImplBase() {
              @Override
              public void catchUp(CatchUpRequest request, StreamObserver<CatchUpChunk> responses) {
                List<CatchUpChunk> chunks = new ArrayList<>();
                Iterator<CatchUpChunk> parts = new CatchUpChunks(codec, reply, 1 << 20);
                parts.forEachRemaining(chunks::add);
                damage.apply(chunks).forEach(responses::onNext);
                responses.onCompleted();
              }
            })
        .build()
        .start();
  }

  private static List<CatchUpChunk> corruptSecondPart(List<CatchUpChunk> chunks) {
    CatchUpChunk second = chunks.get(1);
    byte[] data = second.getSnapshotPart().getData().toByteArray();
    data[12_345] ^= 0x01;
    chunks.set(
        1,
        second.toBuilder()
            .setSnapshotPart(
                second.getSnapshotPart().toBuilder().setData(ByteString.copyFrom(data)))
            .build());
    return chunks;
  }

  private static List<CatchUpChunk> withoutEndMarker(List<CatchUpChunk> chunks) {
    assertInstanceOf(CatchUpChunk.class, chunks.removeLast());
    return chunks;
  }
}
