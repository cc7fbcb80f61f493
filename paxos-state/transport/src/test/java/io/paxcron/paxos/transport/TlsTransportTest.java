package io.paxcron.paxos.transport;

import static io.paxcron.paxos.transport.Loopback.local;
import static io.paxcron.paxos.transport.RecordingListener.next;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.ReplicaId;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsTransportTest {

  @TempDir static Path certificates;

  private static TestCertificates.Identity replica1;
  private static TestCertificates.Identity replica2;
  private static TestCertificates.Identity outsider;
  private static Path clusterTrust;

  private final Loopback loopback = new Loopback();

  @BeforeAll
  static void generateCertificates() throws Exception {
    replica1 = TestCertificates.generate(certificates, "replica-1");
    replica2 = TestCertificates.generate(certificates, "replica-2");
    outsider = TestCertificates.generate(certificates, "outsider");
    clusterTrust = TestCertificates.bundle(certificates, "cluster", replica1, replica2);
  }

  @AfterEach
  void closeTransports() {
    loopback.close();
  }

  private static Optional<TlsConfig> tls(TestCertificates.Identity identity, Path trust) {
    return Optional.of(new TlsConfig(identity.certificate(), identity.privateKey(), trust));
  }

  private PeerTransport start(
      int id,
      int port,
      int peerPort,
      Optional<TlsConfig> tls,
      RecordingListener listener,
      Inbox inbox)
      throws Exception {
    int peer = id == 1 ? 2 : 1;
    PeerTransport transport =
        loopback.create(
            id,
            Loopback.CLUSTER,
            Map.of(peer, local(peerPort)),
            port,
            tls,
            TransportOptions.defaults(),
            listener);
    transport.start(inbox);
    return transport;
  }

  @Test
  void twoReplicasWithCertificatesTheClusterTrustsTalkOverMutualTls() throws Exception {
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    Inbox inbox1 = new Inbox();
    Inbox inbox2 = new Inbox();
    PeerTransport one =
        start(1, port1, port2, tls(replica1, clusterTrust), new RecordingListener(), inbox1);
    PeerTransport two =
        start(2, port2, port1, tls(replica2, clusterTrust), new RecordingListener(), inbox2);

    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.prepare()));
    assertEquals(new Inbox.Received(1, Fixtures.prepare()), inbox2.next());
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.promise()));
    assertEquals(new Inbox.Received(2, Fixtures.promise()), inbox1.next());

    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.accept(1)));
    assertEquals(new Inbox.Received(1, Fixtures.accept(1)), inbox2.next());
    two.send(new Envelope(ReplicaId.of(2), ReplicaId.of(1), Fixtures.accepted(1)));
    assertEquals(new Inbox.Received(2, Fixtures.accepted(1)), inbox1.next());
  }

  @Test
  void aClientThatDoesNotTrustTheServerCertificateCannotConnect() throws Exception {
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    Path ownOnly = TestCertificates.bundle(certificates, "replica-1-only", replica1);
    RecordingListener listener1 = new RecordingListener();
    Inbox inbox2 = new Inbox();
    PeerTransport one = start(1, port1, port2, tls(replica1, ownOnly), listener1, new Inbox());
    start(2, port2, port1, tls(replica2, clusterTrust), new RecordingListener(), inbox2);

    one.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.prepare()));

    RecordingListener.CallFailure failure = next(listener1.callFailures);
    assertEquals(Status.Code.UNAVAILABLE, failure.status().getCode());
    assertTrue(inbox2.isEmpty());
  }

  @Test
  void aServerRefusesAClientWhoseCertificateItDoesNotTrust() throws Exception {
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    RecordingListener listener1 = new RecordingListener();
    Inbox inbox2 = new Inbox();
    PeerTransport intruder =
        start(1, port1, port2, tls(outsider, clusterTrust), listener1, new Inbox());
    start(2, port2, port1, tls(replica2, clusterTrust), new RecordingListener(), inbox2);

    intruder.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), Fixtures.prepare()));

    RecordingListener.CallFailure failure = next(listener1.callFailures);
    assertEquals(Status.Code.UNAVAILABLE, failure.status().getCode());
    assertTrue(inbox2.isEmpty());
  }
}
