package io.paxcron.paxos.transport;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.paxcron.paxos.Message;
import io.paxcron.proto.v1.Accept;
import io.paxcron.proto.v1.AcceptReply;
import io.paxcron.proto.v1.CatchUpChunk;
import io.paxcron.proto.v1.CatchUpRequest;
import io.paxcron.proto.v1.PaxosPeerGrpc;
import io.paxcron.proto.v1.Prepare;
import io.paxcron.proto.v1.PrepareReply;
import io.paxcron.proto.v1.Sender;
import java.util.Map;
import java.util.function.Function;

/**
 * The server side of {@code PaxosPeer}: checks who is calling, decodes, registers the call where
 * the core's answer will find it ({@link PeerSessions}), then hands the message to the inbound
 * queue. Registration comes first so that an answer can never overtake it.
 *
 * <p>Threading: runs on gRPC network threads (the server uses a direct executor) and does no
 * blocking work: decoding and one hand-off per message.
 */
final class PaxosPeerService extends PaxosPeerGrpc.PaxosPeerImplBase {

  private final Identity identity;
  private final Map<Integer, PeerSessions> sessions;
  private final TransportOptions options;
  private final Counters counters;
  private final TransportListener listener;
  private final PeerTransport.Inbound deliver;

  /** Told the sender of every admitted request: its Accept socket port may have changed. */
  private final java.util.function.Consumer<io.paxcron.proto.v1.Sender> senderSeen;

  PaxosPeerService(
      Identity identity,
      Map<Integer, PeerSessions> sessions,
      TransportOptions options,
      Counters counters,
      TransportListener listener,
      PeerTransport.Inbound deliver,
      java.util.function.Consumer<io.paxcron.proto.v1.Sender> senderSeen) {
    this.identity = identity;
    this.sessions = sessions;
    this.options = options;
    this.counters = counters;
    this.listener = listener;
    this.deliver = deliver;
    this.senderSeen = senderSeen;
  }

  @Override
  public StreamObserver<Accept> replicate(StreamObserver<AcceptReply> responses) {
    ServerCallStreamObserver<AcceptReply> call = (ServerCallStreamObserver<AcceptReply>) responses;
    StreamOutbox<AcceptReply> outbox =
        new StreamOutbox<>(options.maxQueuedRepliesPerPeer(), counters);
    PeerSessions.ServerAcceptStream stream = outbox::offer;
    call.setOnReadyHandler(outbox::drain);
    call.setOnCancelHandler(outbox::cancelled);
    outbox.attach(call);
    return new StreamObserver<>() {
      private int peer = -1;

      @Override
      public void onNext(Accept accept) {
        Status refusal = checkAccept(identity, accept, peer);
        int sender = accept.getSender().getReplicaId();
        Message message = null;
        if (refusal == null) {
          try {
            message = ProtoCodec.decodeAccept(accept);
          } catch (IllegalArgumentException e) {
            refusal = Status.INVALID_ARGUMENT.withDescription(e.getMessage());
          }
        }
        if (refusal != null) {
          refuse(accept.hasSender() ? sender : -1, "Replicate", refusal);
          if (peer != -1) {
            sessions.get(peer).acceptStreamEnded(stream);
          }
          outbox.terminate(refusal);
          return;
        }
        peer = sender;
        sessions.get(peer).acceptArrivedOn(stream);
        senderSeen.accept(accept.getSender());
        deliver.onMessage(peer, message, false);
      }

      @Override
      public void onError(Throwable error) {
        if (peer != -1) {
          sessions.get(peer).acceptStreamEnded(stream);
        }
        outbox.cancelled();
      }

      @Override
      public void onCompleted() {
        if (peer != -1) {
          sessions.get(peer).acceptStreamEnded(stream);
        }
        outbox.terminate(null);
      }
    };
  }

  /**
   * Checks the sender of an Accept that came on a stream or Accept socket connection speaking for
   * {@code peer} (-1 before its first message); null if it is admitted.
   */
  static Status checkAccept(Identity identity, Accept accept, int peer) {
    Status refusal = identity.checkInbound(accept.hasSender(), accept.getSender());
    int sender = accept.getSender().getReplicaId();
    if (refusal == null && peer != -1 && sender != peer) {
      refusal =
          Status.PERMISSION_DENIED.withDescription(
              "sender.replica_id changed from " + peer + " to " + sender + " on one stream");
    }
    return refusal;
  }

  @Override
  public void prepare(Prepare request, StreamObserver<PrepareReply> responses) {
    ServerCallStreamObserver<PrepareReply> call =
        (ServerCallStreamObserver<PrepareReply>) responses;
    Message prepare =
        admit(
            request.hasSender(),
            request.getSender(),
            "Prepare",
            request,
            ProtoCodec::decodePrepareOrPreVote,
            call);
    if (prepare != null) {
      int peer = request.getSender().getReplicaId();
      sessions
          .get(peer)
          .awaitPrepareAnswer(
              new PeerSessions.PrepareKey(prepare.ballot(), request.getPreVote()), call);
      senderSeen.accept(request.getSender());
      deliver.onMessage(peer, prepare, false);
    }
  }

  @Override
  public void catchUp(CatchUpRequest request, StreamObserver<CatchUpChunk> responses) {
    ServerCallStreamObserver<CatchUpChunk> call =
        (ServerCallStreamObserver<CatchUpChunk>) responses;
    Message.CatchUpRequest catchUp =
        admit(
            request.hasSender(),
            request.getSender(),
            "CatchUp",
            request,
            ProtoCodec::decodeCatchUpRequest,
            call);
    if (catchUp != null) {
      int peer = request.getSender().getReplicaId();
      sessions.get(peer).awaitCatchUpAnswer(call);
      senderSeen.accept(request.getSender());
      deliver.onMessage(peer, catchUp, false);
    }
  }

  /** Checks and decodes the request of a call; refuses the call and returns null if it fails. */
  private <P, M extends Message> M admit(
      boolean senderPresent,
      Sender sender,
      String rpc,
      P request,
      Function<P, M> decoder,
      StreamObserver<?> call) {
    Status refusal = identity.checkInbound(senderPresent, sender);
    if (refusal == null) {
      try {
        return decoder.apply(request);
      } catch (IllegalArgumentException e) {
        refusal = Status.INVALID_ARGUMENT.withDescription(e.getMessage());
      }
    }
    refuse(senderPresent ? sender.getReplicaId() : -1, rpc, refusal);
    call.onError(refusal.asRuntimeException());
    return null;
  }

  private void refuse(int peer, String rpc, Status refusal) {
    counters.refused.increment();
    listener.onMessageRefused(peer, rpc, refusal);
  }
}
