package io.paxcron.paxos.transport;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.paxcron.paxos.Message;
import io.paxcron.proto.v1.Accept;
import io.paxcron.proto.v1.AcceptReply;
import io.paxcron.proto.v1.CatchUpChunk;
import io.paxcron.proto.v1.CatchUpRequest;
import io.paxcron.proto.v1.PaxosPeerGrpc;
import io.paxcron.proto.v1.PeerMessage;
import io.paxcron.proto.v1.Prepare;
import io.paxcron.proto.v1.PrepareReply;
import io.paxcron.proto.v1.Sender;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The calls this replica makes to one peer, over one channel: the long-lived Replicate stream that
 * carries Accepts, and the Prepare and CatchUp calls with their deadlines.
 *
 * <p>Reconnection: a stream that ends, or a call that fails with {@code UNAVAILABLE}, counts as a
 * failure of the link. After the {@code n}-th consecutive failure the link waits {@link
 * ReconnectBackoff#delay} and then resets the channel's own connect backoff — so this backoff, not
 * gRPC's default of up to two minutes, decides when a returning peer is dialled again — and reopens
 * the Accept stream if Accepts are waiting. Any answer from the peer resets the count. A peer that
 * connects to this replica may be one that just came back: {@link #peerMayBeBack} then makes the
 * waiting attempt at once instead of at the end of its backoff (a restarted follower would
 * otherwise wait up to the backoff's cap before its leader dials it again).
 *
 * <p>Threading: thread-safe. Calls come from the event loop; callbacks from gRPC network threads
 * (the channel uses a direct executor) and the reconnect timer. Lock order: this link, then its
 * outbox.
 */
final class PeerLink {

  private final int peer;
  private final ManagedChannel channel;
  private final PaxosPeerGrpc.PaxosPeerStub stub;
  private final TransportOptions options;
  private final Identity identity;
  private final ReconnectBackoff backoff;
  private final ScheduledExecutorService timer;
  private final Counters counters;
  private final TransportListener listener;
  private final PeerTransport.Inbound deliver;
  private final StreamOutbox<Accept> accepts;

  /** The peer's host, for its Accept socket; the carrier, or null when Accepts go on gRPC only. */
  private final String host;

  private final FrameSocket<PeerMessage> sockets;

  /** The Accept socket port the peer last advertised ({@code Sender.accept_port}); 0: none. */
  private int acceptPort;

  private FrameSocket<PeerMessage>.Connection socket;
  private int socketFailures;

  /**
   * When the socket last answered (or was dialled), {@link System#nanoTime}: a socket that has
   * carried Accepts and answered none for the keep-alive time and timeout is closed, as gRPC's
   * keep-alive would end a stream to a peer behind a silent network.
   */
  private long socketAnsweredAt;

  private final long silenceLimitNanos;

  /** After a socket failed: Accepts go on the Replicate stream until the backoff has passed. */
  private boolean socketResting;

  /**
   * Whether the peer has named {@link #acceptPort} since the socket last failed. A failed socket is
   * dialled again only once an answer or call of the peer (which, while the socket rests, come on
   * gRPC) names the port again: a peer that restarted on a new port and has not yet said so would
   * otherwise be dialled at its old port — refused — after every rest, and its Accepts, always sent
   * to the dead socket, would never reach the gRPC stream whose answers carry the new port.
   */
  private boolean portConfirmed;

  private AcceptStream stream;
  private boolean reconnectScheduled;
  private java.util.concurrent.ScheduledFuture<?> pendingReconnect;
  private boolean probing;
  private int failures;
  private boolean closed;
  private final ArrayDeque<PrepareCall> prepares = new ArrayDeque<>();
  private final ArrayDeque<CatchUpCall> catchUps = new ArrayDeque<>();

  PeerLink(
      int peer,
      PeerAddress address,
      FrameSocket<PeerMessage> sockets,
      ManagedChannel channel,
      TransportOptions options,
      Identity identity,
      ReconnectBackoff backoff,
      ScheduledExecutorService timer,
      Counters counters,
      TransportListener listener,
      PeerTransport.Inbound deliver) {
    this.peer = peer;
    this.host = address.host();
    this.sockets = sockets;
    this.channel = channel;
    this.stub = PaxosPeerGrpc.newStub(channel);
    this.options = options;
    this.identity = identity;
    this.backoff = backoff;
    this.timer = timer;
    this.counters = counters;
    this.listener = listener;
    this.deliver = deliver;
    this.accepts = new StreamOutbox<>(options.maxQueuedAcceptsPerPeer(), counters);
    this.silenceLimitNanos = options.keepAliveTime().plus(options.keepAliveTimeout()).toNanos();
  }

  // ---------------------------------------------------------------------------------------------
  // Accept stream

  void sendAccept(Accept accept) {
    FrameSocket<PeerMessage>.Connection connection;
    synchronized (this) {
      connection = socket();
    }
    if (connection != null) {
      connection.send(PeerMessage.newBuilder().setAccept(accept).build());
      return;
    }
    accepts.offer(accept);
    synchronized (this) {
      if (stream == null && !reconnectScheduled && !closed) {
        openStream();
      }
    }
  }

  /** The connection to the peer's Accept socket, dialled if needed; null if Accepts go on gRPC. */
  private FrameSocket<PeerMessage>.Connection socket() {
    if (sockets == null || closed || acceptPort == 0 || socketResting || !portConfirmed) {
      return null;
    }
    long now = System.nanoTime();
    if (socket == null) {
      socket = sockets.dial(host, acceptPort, new SocketReplies());
      socketAnsweredAt = now;
    } else if (now - socketAnsweredAt > silenceLimitNanos) {
      FrameSocket<PeerMessage>.Connection silent = socket;
      // Closed through the loop, which reports it and rests the socket; this Accept goes on gRPC.
      sockets.closeLater(silent, "no answer for " + (now - socketAnsweredAt) / 1_000_000 + " ms");
      socketResting = true;
      return null;
    }
    return socket;
  }

  /**
   * Notes the Accept socket port the peer stamps on its messages: a new port (the peer restarted)
   * replaces the connection, 0 (it has none) sends Accepts on the Replicate stream again.
   */
  void learnAcceptPort(Sender sender) {
    FrameSocket<PeerMessage>.Connection replaced = null;
    synchronized (this) {
      portConfirmed = true;
      if (sender.getAcceptPort() == acceptPort) {
        return;
      }
      acceptPort = sender.getAcceptPort();
      replaced = socket;
      socket = null;
    }
    if (replaced != null) {
      replaced.close("the peer now takes Accepts on port " + sender.getAcceptPort());
    }
  }

  /** The answers that come back on the Accept socket, and its end. */
  private final class SocketReplies implements FrameSocket.Handler<PeerMessage> {
    @Override
    public void onMessage(FrameSocket<PeerMessage>.Connection connection, PeerMessage message) {
      AcceptReply reply =
          switch (message.getKindCase()) {
            case ACCEPTED -> AcceptReply.newBuilder().setAccepted(message.getAccepted()).build();
            case REJECTED -> AcceptReply.newBuilder().setRejected(message.getRejected()).build();
            default -> null;
          };
      if (reply == null) {
        refuseReply(
            "Replicate",
            Status.INVALID_ARGUMENT.withDescription(
                "an Accept socket answers with accepted or rejected, not "
                    + message.getKindCase().name().toLowerCase(java.util.Locale.ROOT)));
        connection.close("refused an answer");
        return;
      }
      synchronized (PeerLink.this) {
        socketFailures = 0;
        socketAnsweredAt = System.nanoTime();
      }
      counters.socketReceived.increment();
      answered(reply, !connection.moreBuffered());
    }

    @Override
    public void onClosed(FrameSocket<PeerMessage>.Connection connection, String reason) {
      int failures;
      synchronized (PeerLink.this) {
        if (socket != connection) {
          return;
        }
        socket = null;
        if (closed) {
          return;
        }
        socketResting = true;
        portConfirmed = false;
        failures = ++socketFailures;
      }
      counters.failedCalls.increment();
      listener.onCallFailed(
          peer, "Replicate", Status.UNAVAILABLE.withDescription("Accept socket: " + reason));
      Duration rest = backoff.delay(failures);
      try {
        timer.schedule(
            () -> {
              synchronized (PeerLink.this) {
                socketResting = false;
              }
            },
            rest.toNanos(),
            TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // The transport is closing.
      }
    }
  }

  /**
   * An Accepted or Rejected from the peer, from the Replicate stream or the Accept socket ({@code
   * mayRunHere} as {@link PeerTransport.Inbound#onMessage} takes it).
   */
  private void answered(AcceptReply reply, boolean mayRunHere) {
    Status refusal =
        reply.getKindCase() == AcceptReply.KindCase.KIND_NOT_SET
            ? Status.INVALID_ARGUMENT.withDescription("accept_reply.kind is not set")
            : identity.checkReply(true, ProtoCodec.senderOf(reply), peer);
    Message message = null;
    if (refusal == null) {
      try {
        message = ProtoCodec.decodeAcceptReply(reply);
      } catch (IllegalArgumentException e) {
        refusal = Status.INVALID_ARGUMENT.withDescription(e.getMessage());
      }
    }
    if (refusal != null) {
      refuseReply("Replicate", refusal);
      return;
    }
    learnAcceptPort(ProtoCodec.senderOf(reply));
    peerAnswered();
    deliver.onMessage(peer, message, mayRunHere);
  }

  private void openStream() {
    AcceptStream opened = new AcceptStream();
    stream = opened;
    stub.replicate(opened);
    if (!opened.ended) {
      accepts.attach(opened.requests);
    }
  }

  private void streamEnded(AcceptStream ended, Status status) {
    synchronized (this) {
      ended.ended = true;
      accepts.detach(ended.requests);
      if (stream != ended) {
        return;
      }
      stream = null;
      if (closed) {
        return;
      }
    }
    counters.failedCalls.increment();
    listener.onCallFailed(peer, "Replicate", status);
    linkFailed();
  }

  /** One Replicate call: Accepts out, Accepted/Rejected back. */
  private final class AcceptStream implements ClientResponseObserver<Accept, AcceptReply> {
    private ClientCallStreamObserver<Accept> requests;
    private volatile boolean ended;

    @Override
    public void beforeStart(ClientCallStreamObserver<Accept> requestStream) {
      this.requests = requestStream;
      requestStream.setOnReadyHandler(accepts::drain);
    }

    @Override
    public void onNext(AcceptReply reply) {
      answered(reply, /* mayRunHere= */ false);
    }

    @Override
    public void onError(Throwable error) {
      streamEnded(this, Status.fromThrowable(error));
    }

    @Override
    public void onCompleted() {
      streamEnded(this, Status.UNAVAILABLE.withDescription("peer " + peer + " ended the stream"));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Prepare

  void sendPrepare(Prepare prepare) {
    PrepareCall call = new PrepareCall();
    PrepareCall evicted = null;
    synchronized (this) {
      if (closed) {
        counters.dropped.increment();
        return;
      }
      if (prepares.size() == options.maxPendingPreparesPerPeer()) {
        evicted = prepares.pollFirst();
        counters.dropped.increment();
      }
      stub.withDeadlineAfter(options.prepareDeadline().toNanos(), TimeUnit.NANOSECONDS)
          .prepare(prepare, call);
      if (!call.finished) {
        prepares.addLast(call);
      }
    }
    counters.sent.increment();
    if (evicted != null) {
      evicted.cancel("superseded: more than maxPendingPreparesPerPeer calls");
    }
  }

  private final class PrepareCall implements ClientResponseObserver<Prepare, PrepareReply> {
    private ClientCallStreamObserver<Prepare> call;
    private volatile boolean cancelledHere;
    private volatile boolean finished;

    @Override
    public void beforeStart(ClientCallStreamObserver<Prepare> requestStream) {
      this.call = requestStream;
    }

    void cancel(String reason) {
      cancelledHere = true;
      call.cancel(reason, null);
    }

    @Override
    public void onNext(PrepareReply reply) {
      Status refusal =
          reply.getKindCase() == PrepareReply.KindCase.KIND_NOT_SET
              ? Status.INVALID_ARGUMENT.withDescription("prepare_reply.kind is not set")
              : identity.checkReply(true, ProtoCodec.senderOf(reply), peer);
      Message message = null;
      if (refusal == null) {
        try {
          message = ProtoCodec.decodePrepareReply(reply);
        } catch (IllegalArgumentException e) {
          refusal = Status.INVALID_ARGUMENT.withDescription(e.getMessage());
        }
      }
      if (refusal != null) {
        refuseReply("Prepare", refusal);
        return;
      }
      learnAcceptPort(ProtoCodec.senderOf(reply));
      peerAnswered();
      deliver.onMessage(peer, message, false);
    }

    @Override
    public void onError(Throwable error) {
      finished = true;
      forget(this);
      if (!cancelledHere) {
        callFailed("Prepare", Status.fromThrowable(error));
      }
    }

    @Override
    public void onCompleted() {
      finished = true;
      forget(this);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Catch-up

  void sendCatchUp(CatchUpRequest request) {
    CatchUpCall call = new CatchUpCall();
    CatchUpCall evicted = null;
    synchronized (this) {
      if (closed) {
        counters.dropped.increment();
        return;
      }
      if (catchUps.size() == options.maxPendingCatchUpsPerPeer()) {
        evicted = catchUps.pollFirst();
        counters.dropped.increment();
      }
      stub.withDeadlineAfter(options.catchUpDeadline().toNanos(), TimeUnit.NANOSECONDS)
          .catchUp(request, call);
      if (!call.finished) {
        catchUps.addLast(call);
      }
    }
    counters.sent.increment();
    if (evicted != null) {
      evicted.cancel("superseded: more than maxPendingCatchUpsPerPeer calls", null);
    }
  }

  /** One CatchUp call: reassembles the stream and delivers the reply only if it is whole. */
  private final class CatchUpCall implements ClientResponseObserver<CatchUpRequest, CatchUpChunk> {
    private ClientCallStreamObserver<CatchUpRequest> call;
    private final CatchUpAssembler assembler =
        new CatchUpAssembler(options.maxSnapshotBytes(), options.maxCatchUpEntries());
    private volatile boolean cancelledHere;
    private volatile boolean finished;

    @Override
    public void beforeStart(ClientCallStreamObserver<CatchUpRequest> requestStream) {
      this.call = requestStream;
    }

    void cancel(String reason, Throwable cause) {
      cancelledHere = true;
      call.cancel(reason, cause);
    }

    @Override
    public void onNext(CatchUpChunk chunk) {
      if (cancelledHere) {
        return;
      }
      Status refusal = identity.checkReply(chunk.hasSender(), chunk.getSender(), peer);
      if (refusal != null) {
        refuseReply("CatchUp", refusal);
        cancel("refused: " + refusal.getDescription(), null);
        return;
      }
      try {
        assembler.add(chunk);
      } catch (CatchUpTransferException e) {
        rejectTransfer(this, e);
      }
    }

    @Override
    public void onError(Throwable error) {
      finished = true;
      forget(this);
      if (!cancelledHere) {
        callFailed("CatchUp", Status.fromThrowable(error));
      }
    }

    @Override
    public void onCompleted() {
      finished = true;
      forget(this);
      if (cancelledHere) {
        return;
      }
      Message.CatchUpReply reply;
      try {
        reply = assembler.finish();
      } catch (CatchUpTransferException e) {
        rejectTransfer(this, e);
        return;
      }
      peerAnswered();
      deliver.onMessage(peer, reply, false);
    }
  }

  private void rejectTransfer(CatchUpCall call, CatchUpTransferException error) {
    call.cancel("rejected transfer: " + error.getMessage(), error);
    counters.rejectedTransfers.increment();
    listener.onTransferRejected(peer, error);
  }

  // ---------------------------------------------------------------------------------------------
  // Failures and reconnection

  private synchronized void forget(PrepareCall call) {
    prepares.remove(call);
  }

  private synchronized void forget(CatchUpCall call) {
    catchUps.remove(call);
  }

  private void refuseReply(String rpc, Status refusal) {
    counters.refused.increment();
    listener.onMessageRefused(peer, rpc, refusal);
  }

  private void callFailed(String rpc, Status status) {
    counters.failedCalls.increment();
    listener.onCallFailed(peer, rpc, status);
    if (status.getCode() == Status.Code.UNAVAILABLE) {
      linkFailed();
    }
  }

  private synchronized void peerAnswered() {
    failures = 0;
  }

  private void linkFailed() {
    Duration delay;
    int failed;
    synchronized (this) {
      failures++;
      if (reconnectScheduled || closed) {
        return;
      }
      failed = failures;
      delay = backoff.delay(failed);
      reconnectScheduled = true;
    }
    // Reported before the timer can fire, so that reports arrive in the order of the failures.
    listener.onReconnectScheduled(peer, failed, delay);
    try {
      java.util.concurrent.ScheduledFuture<?> scheduled =
          timer.schedule(this::reconnect, delay.toNanos(), TimeUnit.NANOSECONDS);
      synchronized (this) {
        pendingReconnect = reconnectScheduled ? scheduled : null;
      }
    } catch (RejectedExecutionException e) {
      // The transport is closing and its timer is gone; there is nothing left to reconnect.
      synchronized (this) {
        reconnectScheduled = false;
      }
    }
  }

  /**
   * Something connected to this replica's peer port (a peer that restarts dials every peer as it
   * starts): if this link waits out a backoff, it has the channel dial now, and once the channel is
   * connected, makes the waiting attempt at once. A peer still down costs one refused connection;
   * the failure count is kept, so the next wait is as long as it would have been.
   */
  void peerMayBeBack() {
    synchronized (this) {
      if (!reconnectScheduled || closed || probing) {
        return;
      }
      probing = true;
    }
    channel.resetConnectBackoff();
    probe(channel.getState(true), false);
  }

  /** Follows the channel's dial: connected → reconnect now; failed or shut down → leave it. */
  private void probe(io.grpc.ConnectivityState state, boolean dialled) {
    switch (state) {
      case READY -> {
        endProbe();
        java.util.concurrent.ScheduledFuture<?> waiting;
        synchronized (this) {
          waiting = pendingReconnect;
        }
        if (waiting == null || waiting.cancel(false)) {
          reconnect();
        }
      }
      case SHUTDOWN -> endProbe();
      case TRANSIENT_FAILURE -> {
        if (dialled) {
          endProbe();
        } else {
          channel.notifyWhenStateChanged(state, () -> probe(channel.getState(false), false));
        }
      }
      case CONNECTING ->
          channel.notifyWhenStateChanged(state, () -> probe(channel.getState(false), true));
      case IDLE ->
          channel.notifyWhenStateChanged(state, () -> probe(channel.getState(true), dialled));
    }
  }

  private synchronized void endProbe() {
    probing = false;
  }

  private synchronized void reconnect() {
    if (!reconnectScheduled) {
      return;
    }
    reconnectScheduled = false;
    pendingReconnect = null;
    if (closed) {
      return;
    }
    counters.reconnects.increment();
    channel.resetConnectBackoff();
    if (stream == null && !accepts.isEmpty()) {
      openStream();
    }
  }

  /** Cancels every call and shuts the channel down; waiting for it is the caller's choice. */
  void close() {
    AcceptStream open;
    List<PrepareCall> openPrepares;
    List<CatchUpCall> openCatchUps;
    FrameSocket<PeerMessage>.Connection openSocket;
    synchronized (this) {
      closed = true;
      open = stream;
      stream = null;
      openSocket = socket;
      socket = null;
      openPrepares = List.copyOf(prepares);
      prepares.clear();
      openCatchUps = List.copyOf(catchUps);
      catchUps.clear();
    }
    for (PrepareCall call : openPrepares) {
      call.cancel("transport closed");
    }
    for (CatchUpCall call : openCatchUps) {
      call.cancel("transport closed", null);
    }
    if (open != null) {
      accepts.detach(open.requests);
      open.requests.cancel("transport closed", null);
    }
    if (openSocket != null) {
      openSocket.close("transport closed");
    }
    channel.shutdownNow();
  }

  ManagedChannel channel() {
    return channel;
  }
}
