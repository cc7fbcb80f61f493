package io.paxcron.paxos.transport;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.Message;
import io.paxcron.proto.v1.PeerMessage;
import io.paxcron.proto.v1.PrepareReply;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * The gRPC shell around one replica's peer protocol: carries the {@link Envelope}s the core emits
 * to their peers and hands every message that arrives to an {@link Inbound} queue. It never calls
 * the core and never touches disk.
 *
 * <p>Mapping (see {@code peer.proto} and this module's README): Accept travels on a long-lived
 * per-peer Replicate stream, opened lazily and reopened after a failure with capped exponential
 * backoff and jitter; Accepted and a Rejected of an Accept go back on the response side of the
 * stream the peer's latest Accept came in on. Prepare is a unary call with a deadline whose answer
 * arrives as the Promise or Rejected of that peer; the core's Promise or Rejected of a Prepare
 * answers the pending call from that peer with the same ballot. CatchUpRequest is a
 * server-streaming call with a deadline whose chunks are verified and reassembled into one
 * CatchUpReply; the core's CatchUpReply is streamed, in chunks, on the oldest pending CatchUp call
 * from that peer. An answer with no pending call to carry it is dropped and counted ({@link
 * #unmatchedCount}); the protocol tolerates loss and the core re-sends on its timers.
 *
 * <p>Identity: every message carries this replica's id and cluster id; a message from another
 * cluster or an unknown replica is refused with a status that names the field.
 *
 * <p>Threading: {@link #send} is thread-safe and never blocks on the network; it is meant for the
 * replica's event loop. {@link Inbound#onMessage} and the {@link TransportListener} are called from
 * gRPC network threads. Errors: a malformed {@link #send} (wrong sender, unknown peer) is a
 * programmer error and throws {@link IllegalArgumentException}; everything the network does wrong
 * is counted and reported to the listener, never thrown at the caller.
 */
public final class PeerTransport implements AutoCloseable {

  /** Where the transport puts what arrives. */
  public interface Inbound {
    /**
     * A message from peer {@code from}. Called from network threads, possibly concurrently; must
     * not block — queue the message for the event loop and return — unless {@code mayRunHere}: the
     * caller is a socket's selector thread with nothing more of that socket read behind this
     * message, which may handle it itself when the event loop is idle (sparing the loop's wake-up),
     * even if that takes a write.
     */
    void onMessage(int from, Message message, boolean mayRunHere);
  }

  private final Identity identity;
  private final Map<Integer, PeerAddress> peers;
  private Inbound deliver;
  private ChannelCredentials channelCredentials;
  private final int listenPort;
  private final Optional<TlsConfig> tls;
  private final TransportOptions options;
  private final TransportListener listener;
  private final ProtoCodec codec;
  private final ReconnectBackoff backoff;
  private final Counters counters = new Counters();
  private final ScheduledThreadPoolExecutor timer;

  /**
   * Writes the parts of catch-up answers: a part of a snapshot the store holds is read from disk,
   * which must not happen on the network threads that carry Accepts and heartbeats.
   */
  private final java.util.concurrent.ExecutorService catchUpSender;

  private final Map<Integer, PeerSessions> sessions =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<Integer, PeerLink> links = new java.util.concurrent.ConcurrentHashMap<>();

  /** Channels announcing this replica to its peers at start, until each is ready or has failed. */
  private final java.util.Set<ManagedChannel> announcements = new java.util.HashSet<>();

  private Server server;

  /**
   * The port for the Accept socket: -1 none (Accepts on the Replicate stream only), 0 any free
   * port; set before {@link #start}.
   */
  private int acceptSocketPort = -1;

  private FrameSocket<PeerMessage> acceptSocket;
  private volatile boolean started;
  private boolean closed;

  /**
   * @param replicaId this replica's id
   * @param clusterId the cluster every peer must belong to
   * @param peers every other replica's id and address; must not contain {@code replicaId}
   * @param listenPort the port to serve on; 0 picks a free one (see {@link #port})
   * @param tls mutual TLS for both directions, or empty for plaintext
   * @param options deadlines, backoff and limits
   * @param random jitter for the reconnect backoff; seeded in tests
   * @param listener told about failures and refusals; {@link TransportListener#NONE} to ignore
   */
  public PeerTransport(
      int replicaId,
      String clusterId,
      Map<Integer, PeerAddress> peers,
      int listenPort,
      Optional<TlsConfig> tls,
      TransportOptions options,
      RandomGenerator random,
      TransportListener listener) {
    if (replicaId < 0) {
      throw new IllegalArgumentException("replicaId must be >= 0, got " + replicaId);
    }
    if (clusterId == null || clusterId.isBlank()) {
      throw new IllegalArgumentException("clusterId must not be blank");
    }
    if (peers.containsKey(replicaId)) {
      throw new IllegalArgumentException(
          "peers must not contain this replica's own id " + replicaId);
    }
    for (Map.Entry<Integer, PeerAddress> peer : peers.entrySet()) {
      if (peer.getKey() == null || peer.getKey() < 0 || peer.getValue() == null) {
        throw new IllegalArgumentException(
            "peers must map ids >= 0 to addresses, got "
                + peer.getKey()
                + " -> "
                + peer.getValue());
      }
    }
    if (listenPort < 0 || listenPort > 65_535) {
      throw new IllegalArgumentException("listenPort must be in [0, 65535], got " + listenPort);
    }
    this.identity = new Identity(clusterId, replicaId, peers.keySet());
    this.peers = new java.util.concurrent.ConcurrentHashMap<>(peers);
    this.listenPort = listenPort;
    this.tls = tls;
    this.options = options;
    this.listener = listener;
    this.codec = new ProtoCodec(clusterId, replicaId);
    this.backoff =
        new ReconnectBackoff(
            options.reconnectInitialBackoff(),
            options.reconnectMaxBackoff(),
            options.reconnectJitter(),
            random);
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            runnable -> {
              Thread thread = new Thread(runnable, "paxcron-transport-" + replicaId + "-reconnect");
              thread.setDaemon(true);
              return thread;
            });
    this.timer.setRemoveOnCancelPolicy(true);
    this.catchUpSender =
        java.util.concurrent.Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "paxcron-transport-" + replicaId + "-catch-up");
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * Starts serving on the listen port and prepares (without connecting) a channel to every peer.
   *
   * @throws IOException if the port cannot be bound or a TLS file cannot be read
   */
  public synchronized void start(Inbound inbound) throws IOException {
    if (started || closed) {
      throw new IllegalStateException("a transport starts once, before close()");
    }
    Inbound deliver =
        (from, message, mayRunHere) -> {
          counters.received.increment();
          inbound.onMessage(from, message, mayRunHere);
        };
    this.deliver = deliver;
    for (int peer : peers.keySet()) {
      sessions.put(peer, new PeerSessions(options, counters, catchUpSender));
    }
    ServerCredentials serverCredentials = serverCredentials();
    ChannelCredentials channelCredentials = channelCredentials();
    this.channelCredentials = channelCredentials;
    server =
        NettyServerBuilder.forPort(listenPort, serverCredentials)
            .directExecutor()
            .maxInboundMessageSize(options.maxMessageBytes())
            .permitKeepAliveTime(options.keepAliveTime().toNanos() / 2, TimeUnit.NANOSECONDS)
            .permitKeepAliveWithoutCalls(false)
            .addService(
                new PaxosPeerService(
                    identity, sessions, options, counters, listener, deliver, this::senderSeen))
            .addTransportFilter(
                new io.grpc.ServerTransportFilter() {
                  @Override
                  public io.grpc.Attributes transportReady(io.grpc.Attributes attributes) {
                    peerConnected();
                    return attributes;
                  }
                })
            .build();
    try {
      server.start();
    } catch (IOException e) {
      throw new IOException("cannot serve on listenPort " + listenPort + ": " + e.getMessage(), e);
    }
    if (acceptSocketPort >= 0 && tls.isEmpty()) {
      try {
        acceptSocket =
            new FrameSocket<>(
                new java.net.InetSocketAddress(acceptSocketPort),
                options.maxMessageBytes(),
                Math.max(options.maxQueuedAcceptsPerPeer(), options.maxQueuedRepliesPerPeer()),
                FrameSocket.Overflow.DROP_OLDEST,
                PeerMessage.parser(),
                counters.sent,
                counters.dropped,
                new InboundAccepts(),
                "paxcron-transport-" + identity.replicaId() + "-accepts");
      } catch (IOException e) {
        server.shutdownNow();
        throw e;
      }
      codec.advertiseAcceptPort(acceptSocket.port());
    }
    for (Map.Entry<Integer, PeerAddress> peer : peers.entrySet()) {
      links.put(peer.getKey(), link(peer.getKey(), peer.getValue()));
    }
    // Announce this replica to every peer now: a peer whose link to this replica waits out a
    // backoff (this replica was down) sees the connection and tries again at once (its
    // peerConnected). The announcement has a channel of its own, closed once it is ready or has
    // failed: a link's own channel dials on its first call, since a dial that failed on it would
    // fail the calls made in the moment after (a peer that starts a little later).
    for (PeerAddress address : peers.values()) {
      announce(address);
    }
    started = true;
  }

  private void announce(PeerAddress address) {
    ManagedChannel channel = channel(address);
    synchronized (this) {
      announcements.add(channel);
    }
    watchAnnouncement(channel, channel.getState(true));
  }

  private void watchAnnouncement(ManagedChannel channel, io.grpc.ConnectivityState state) {
    switch (state) {
      case READY, TRANSIENT_FAILURE, SHUTDOWN -> {
        channel.shutdownNow();
        synchronized (this) {
          announcements.remove(channel);
        }
      }
      default ->
          channel.notifyWhenStateChanged(
              state, () -> watchAnnouncement(channel, channel.getState(false)));
    }
  }

  /**
   * A connection to the peer port is ready. It may come from a peer that just (re)started, so every
   * link waiting out a reconnect backoff tries now. Runs on a network thread; the links' own locks
   * order the work.
   */
  private void peerConnected() {
    for (PeerLink link : links.values()) {
      link.peerMayBeBack();
    }
  }

  private PeerLink link(int peer, PeerAddress address) {
    return new PeerLink(
        peer,
        address,
        acceptSocket,
        channel(address),
        options,
        identity,
        backoff,
        timer,
        counters,
        listener,
        deliver);
  }

  /**
   * Takes Accepts on a plain TCP port besides the Replicate stream
   * (paxos-state/transport/README.md, "The Accept socket"), and sends them to every peer that
   * advertises one: {@code port} 0 picks a free port, -1 (the default) keeps Accepts on gRPC.
   * Ignored with TLS: the socket is plaintext, so a cluster with mutual TLS keeps its Accepts on
   * the authenticated Replicate stream. Call before {@link #start}.
   */
  public synchronized void useAcceptSocket(int port) {
    if (started || closed) {
      throw new IllegalStateException("the Accept socket is chosen before start()");
    }
    if (port < -1 || port > 65_535) {
      throw new IllegalArgumentException("acceptPort must be in [0, 65535] or -1, got " + port);
    }
    this.acceptSocketPort = port;
  }

  /** The port of the Accept socket, or 0 if Accepts come on the Replicate stream only. */
  public synchronized int acceptSocketPort() {
    requireStarted();
    return acceptSocket == null ? 0 : acceptSocket.port();
  }

  /**
   * A peer called this replica: if it now takes Accepts on another port (it restarted), this
   * replica's link to it follows, even while its own Accepts to it go nowhere.
   */
  private void senderSeen(io.paxcron.proto.v1.Sender sender) {
    PeerLink link = links.get(sender.getReplicaId());
    if (link != null) {
      link.learnAcceptPort(sender);
    }
  }

  /** A peer's connection to the Accept socket: Accepts in, the core's answers back out. */
  private final class InboundAccepts implements FrameSocket.Handler<PeerMessage> {
    @Override
    public void onMessage(FrameSocket<PeerMessage>.Connection connection, PeerMessage message) {
      if (message.getKindCase() != PeerMessage.KindCase.ACCEPT) {
        refuse(
            connection,
            -1,
            Status.INVALID_ARGUMENT.withDescription(
                "the Accept socket takes accept, not "
                    + message.getKindCase().name().toLowerCase(java.util.Locale.ROOT)));
        return;
      }
      io.paxcron.proto.v1.Accept accept = message.getAccept();
      Status refusal = PaxosPeerService.checkAccept(identity, accept, connection.peer);
      int sender = accept.getSender().getReplicaId();
      Message decoded = null;
      if (refusal == null) {
        try {
          decoded = ProtoCodec.decodeAccept(accept);
        } catch (IllegalArgumentException e) {
          refusal = Status.INVALID_ARGUMENT.withDescription(e.getMessage());
        }
      }
      PeerSessions session = refusal == null ? sessions.get(sender) : null;
      if (refusal == null && session == null) {
        refusal = Status.PERMISSION_DENIED.withDescription("replica " + sender + " has no session");
      }
      if (refusal != null) {
        refuse(connection, accept.hasSender() ? sender : -1, refusal);
        return;
      }
      connection.peer = sender;
      counters.socketReceived.increment();
      senderSeen(accept.getSender());
      session.acceptArrivedOn(streamOf(connection));
      deliver.onMessage(sender, decoded, !connection.moreBuffered());
    }

    @Override
    public void onClosed(FrameSocket<PeerMessage>.Connection connection, String reason) {
      int peer = connection.peer;
      PeerSessions session = peer == -1 ? null : sessions.get(peer);
      PeerSessions.ServerAcceptStream stream = socketStreams.remove(connection);
      if (session != null && stream != null) {
        session.acceptStreamEnded(stream);
      }
    }

    private void refuse(FrameSocket<PeerMessage>.Connection connection, int peer, Status status) {
      counters.refused.increment();
      listener.onMessageRefused(peer, "Replicate", status);
      connection.close("refused: " + status.getDescription());
    }
  }

  /** The replies to a peer's Accepts on its socket connection: one object per connection. */
  private final Map<FrameSocket<PeerMessage>.Connection, PeerSessions.ServerAcceptStream>
      socketStreams = new java.util.concurrent.ConcurrentHashMap<>();

  private PeerSessions.ServerAcceptStream streamOf(FrameSocket<PeerMessage>.Connection connection) {
    return socketStreams.computeIfAbsent(connection, SocketReplyStream::new);
  }

  private record SocketReplyStream(FrameSocket<PeerMessage>.Connection connection)
      implements PeerSessions.ServerAcceptStream {
    @Override
    public void reply(io.paxcron.proto.v1.AcceptReply reply) {
      PeerMessage.Builder message = PeerMessage.newBuilder();
      switch (reply.getKindCase()) {
        case ACCEPTED -> message.setAccepted(reply.getAccepted());
        case REJECTED -> message.setRejected(reply.getRejected());
        case KIND_NOT_SET -> throw new IllegalArgumentException("accept_reply.kind is not set");
      }
      connection.send(message.build());
    }
  }

  private ManagedChannel channel(PeerAddress address) {
    return NettyChannelBuilder.forAddress(address.host(), address.port(), channelCredentials)
        .directExecutor()
        .disableRetry()
        .maxInboundMessageSize(options.maxMessageBytes())
        .keepAliveTime(options.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(options.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
        .build();
  }

  /**
   * Makes {@code current} the replicas this one talks to, as the membership in the log decides
   * (docs/membership.md): a new id gets a link and is accepted as a sender; an id whose address
   * changed gets a new link; an id no longer named loses its outbound link (what it still sends is
   * accepted, and answers to it are dropped and counted). This replica's own id is ignored.
   */
  public synchronized void updatePeers(Map<Integer, PeerAddress> current) {
    requireStarted();
    for (Map.Entry<Integer, PeerAddress> peer : current.entrySet()) {
      int id = peer.getKey();
      if (id == identity.replicaId()) {
        continue;
      }
      PeerAddress known = peers.get(id);
      if (known != null && known.equals(peer.getValue()) && links.containsKey(id)) {
        continue;
      }
      sessions.computeIfAbsent(id, ignored -> new PeerSessions(options, counters, catchUpSender));
      identity.peers().add(id);
      peers.put(id, peer.getValue());
      PeerLink previous = links.put(id, link(id, peer.getValue()));
      if (previous != null) {
        previous.close();
      }
    }
    for (Integer id : List.copyOf(links.keySet())) {
      if (!current.containsKey(id)) {
        PeerLink gone = links.remove(id);
        if (gone != null) {
          gone.close();
        }
      }
    }
  }

  /** The port this transport serves on (the chosen one if constructed with port 0). */
  public synchronized int port() {
    requireStarted();
    return server.getPort();
  }

  /**
   * Carries {@code envelope} to its addressee, or drops and counts it when the network cannot take
   * it now. Never blocks on the network.
   *
   * @throws IllegalArgumentException if the envelope is not from this replica or not to a peer
   */
  public void send(Envelope envelope) {
    requireStarted();
    if (envelope.from().value() != identity.replicaId()) {
      throw new IllegalArgumentException(
          "replica " + identity.replicaId() + " cannot send an envelope from " + envelope.from());
    }
    int to = envelope.to().value();
    PeerLink link = links.get(to);
    PeerSessions session = sessions.get(to);
    if (link == null || session == null) {
      // A replica the membership no longer (or not yet) names: an operating condition now that
      // membership changes, and the protocol tolerates the loss.
      counters.dropped.increment();
      return;
    }
    switch (envelope.message()) {
      case Message.Accept accept -> link.sendAccept(codec.encodeAccept(accept));
      case Message.Prepare prepare -> link.sendPrepare(codec.encodePrepare(prepare));
      case Message.PreVote preVote -> link.sendPrepare(codec.encodePreVote(preVote));
      case Message.PreVoteGranted granted ->
          countIfUnmatched(
              session.answerPrepare(
                  new PeerSessions.PrepareKey(granted.ballot(), true),
                  codec.encodePrepareReply(granted)));
      case Message.CatchUpRequest request -> link.sendCatchUp(codec.encodeCatchUpRequest(request));
      case Message.Accepted accepted ->
          countIfUnmatched(session.replyOnAcceptStream(codec.encodeAcceptReply(accepted)));
      case Message.Promise promise ->
          countIfUnmatched(
              session.answerPrepare(
                  new PeerSessions.PrepareKey(promise.ballot(), false),
                  codec.encodePrepareReply(promise)));
      case Message.Rejected rejected -> {
        // A Rejected answers a pre-vote, a Prepare or an Accept of its ballot; a pending call is
        // the more specific match, and a pre-vote is answered at once, before any Prepare of the
        // same ballot could follow it. Either way the asker learns the same.
        PrepareReply reply = codec.encodePrepareReply(rejected);
        boolean answered =
            session.answerPrepare(new PeerSessions.PrepareKey(rejected.ballot(), true), reply)
                || session.answerPrepare(
                    new PeerSessions.PrepareKey(rejected.ballot(), false), reply)
                || session.replyOnAcceptStream(codec.encodeAcceptReply(rejected));
        countIfUnmatched(answered);
      }
      case Message.CatchUpReply reply ->
          countIfUnmatched(
              session.answerCatchUp(new CatchUpChunks(codec, reply, options.snapshotChunkBytes())));
    }
  }

  private void countIfUnmatched(boolean answered) {
    if (!answered) {
      counters.unmatched.increment();
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Counters, monotonic since construction

  /**
   * Accepts, Accepted and Rejected that arrived on the Accept socket (also in the received count).
   */
  public long acceptSocketReceivedCount() {
    return counters.socketReceived.sum();
  }

  /** Messages handed to gRPC: Accepts and replies written, calls started, calls answered. */
  public long sentCount() {
    return counters.sent.sum();
  }

  /** Messages handed to {@link Inbound}. */
  public long receivedCount() {
    return counters.received.sum();
  }

  /** Messages dropped from a full queue, and pending calls evicted by a limit. */
  public long droppedCount() {
    return counters.dropped.sum();
  }

  /** Answers the core sent with no pending call or stream from that peer to carry them. */
  public long unmatchedCount() {
    return counters.unmatched.sum();
  }

  /** Reconnect attempts after a link failure. */
  public long reconnectCount() {
    return counters.reconnects.sum();
  }

  /** Outbound calls and streams that ended with an error. */
  public long failedCallCount() {
    return counters.failedCalls.sum();
  }

  /** Messages refused for their sender or content, inbound or as replies. */
  public long refusedCount() {
    return counters.refused.sum();
  }

  /** Catch-up transfers discarded as corrupt or incomplete. */
  public long rejectedTransferCount() {
    return counters.rejectedTransfers.sum();
  }

  // -----------------------------------------------------------------------------------------------

  /** Cancels every call, stops serving and waits up to {@code shutdownGrace} for the threads. */
  @Override
  public void close() {
    Server stopping;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      started = false;
      stopping = server;
    }
    timer.shutdownNow();
    catchUpSender.shutdownNow();
    List<ManagedChannel> announcing;
    synchronized (this) {
      announcing = List.copyOf(announcements);
    }
    announcing.forEach(ManagedChannel::shutdownNow);
    for (PeerLink link : links.values()) {
      link.close();
    }
    FrameSocket<PeerMessage> socket;
    synchronized (this) {
      socket = acceptSocket;
    }
    if (socket != null) {
      socket.close();
    }
    if (stopping != null) {
      stopping.shutdownNow();
    }
    long deadline = System.nanoTime() + options.shutdownGrace().toNanos();
    try {
      for (PeerLink link : links.values()) {
        link.channel().awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      }
      if (stopping != null) {
        stopping.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      }
      timer.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void requireStarted() {
    if (!started) {
      throw new IllegalStateException("the transport is not running: call start() first");
    }
  }

  private ServerCredentials serverCredentials() throws IOException {
    if (tls.isEmpty()) {
      return InsecureServerCredentials.create();
    }
    TlsConfig config = tls.get();
    TlsServerCredentials.Builder builder = TlsServerCredentials.newBuilder();
    try {
      builder.keyManager(config.certChain().toFile(), config.privateKey().toFile());
    } catch (IOException | RuntimeException e) {
      throw new IOException(
          "tls certChain "
              + config.certChain()
              + " or privateKey "
              + config.privateKey()
              + " cannot be read: "
              + e.getMessage(),
          e);
    }
    try {
      builder.trustManager(config.trustCerts().toFile());
    } catch (IOException | RuntimeException e) {
      throw new IOException(
          "tls trustCerts " + config.trustCerts() + " cannot be read: " + e.getMessage(), e);
    }
    return builder.clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build();
  }

  private ChannelCredentials channelCredentials() throws IOException {
    if (tls.isEmpty()) {
      return InsecureChannelCredentials.create();
    }
    TlsConfig config = tls.get();
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    try {
      builder.keyManager(config.certChain().toFile(), config.privateKey().toFile());
    } catch (IOException | RuntimeException e) {
      throw new IOException(
          "tls certChain "
              + config.certChain()
              + " or privateKey "
              + config.privateKey()
              + " cannot be read: "
              + e.getMessage(),
          e);
    }
    try {
      builder.trustManager(config.trustCerts().toFile());
    } catch (IOException | RuntimeException e) {
      throw new IOException(
          "tls trustCerts " + config.trustCerts() + " cannot be read: " + e.getMessage(), e);
    }
    return builder.build();
  }
}
