package io.paxcron.paxos.replica;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.paxcron.proto.v1.ProposeReply;
import io.paxcron.proto.v1.ProposeRequest;
import io.paxcron.proto.v1.ReadReply;
import io.paxcron.proto.v1.ReadRequest;
import io.paxcron.proto.v1.ReplicatedLogGrpc;
import io.paxcron.proto.v1.StatusReply;
import io.paxcron.proto.v1.StatusRequest;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletionException;

/**
 * The replicated log's client API over gRPC. Any replica accepts calls; one that is not the leader
 * answers FAILED_PRECONDITION with the leader's address in the {@link #LEADER_TRAILER} trailer, and
 * {@link LogClient} follows it.
 */
public final class LogService extends ReplicatedLogGrpc.ReplicatedLogImplBase {

  public static final Metadata.Key<String> LEADER_TRAILER =
      Metadata.Key.of("paxcron-leader", Metadata.ASCII_STRING_MARSHALLER);

  public static final int MAX_PAYLOAD_BYTES = 1 << 20;

  private final ReplicaNode node;
  private final Map<Integer, String> clientAddresses;

  /** {@code clientAddresses} maps every replica id to the host:port of its client API. */
  public LogService(ReplicaNode node, Map<Integer, String> clientAddresses) {
    this.node = node;
    this.clientAddresses = Map.copyOf(clientAddresses);
  }

  @Override
  public void propose(ProposeRequest request, StreamObserver<ProposeReply> response) {
    if (request.getSequence() < 1) {
      response.onError(
          Status.INVALID_ARGUMENT
              .withDescription("sequence: must be >= 1, got " + request.getSequence())
              .asRuntimeException());
      return;
    }
    if (request.getPayload().size() > MAX_PAYLOAD_BYTES) {
      response.onError(
          Status.INVALID_ARGUMENT
              .withDescription(
                  "payload: " + request.getPayload().size() + " bytes exceeds " + MAX_PAYLOAD_BYTES)
              .asRuntimeException());
      return;
    }
    node.propose(request.getClientId(), request.getSequence(), request.getPayload().toByteArray())
        .whenComplete(
            (applied, error) -> {
              if (error != null) {
                response.onError(toStatus(error));
              } else {
                response.onNext(
                    ProposeReply.newBuilder()
                        .setResult(ByteString.copyFrom(applied.result()))
                        .setSlot(applied.slot())
                        .build());
                response.onCompleted();
              }
            });
  }

  @Override
  public void read(ReadRequest request, StreamObserver<ReadReply> response) {
    if (request.getKey().isEmpty()) {
      response.onError(
          Status.INVALID_ARGUMENT.withDescription("key: must not be empty").asRuntimeException());
      return;
    }
    node.read(request.getKey().getBytes(StandardCharsets.UTF_8))
        .whenComplete(
            (result, error) -> {
              if (error != null) {
                response.onError(toStatus(error));
              } else {
                ReadReply.Builder reply = ReadReply.newBuilder().setSlot(result.slot());
                if (result.answer() != null) {
                  reply
                      .setFound(true)
                      .setValue(new String(result.answer(), StandardCharsets.UTF_8));
                }
                response.onNext(reply.build());
                response.onCompleted();
              }
            });
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusReply> response) {
    ReplicaNode.Status status = node.status();
    response.onNext(
        StatusReply.newBuilder()
            .setReplicaId(status.replicaId())
            .setRole(status.role().name())
            .setBallotRound(status.ballotRound())
            .setBallotReplica(status.ballotReplica())
            .setLeaderId(status.leaderId())
            .setLeaderAddress(clientAddresses.getOrDefault(status.leaderId(), ""))
            .setFirstUnchosenSlot(status.firstUnchosenSlot())
            .setAppliedSlot(status.appliedSlot())
            .setSnapshotSlot(status.snapshotSlot())
            .setHoldsLease(status.holdsLease())
            .build());
    response.onCompleted();
  }

  private RuntimeException toStatus(Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof ReplicaNode.NotLeaderException notLeader) {
      Metadata trailers = new Metadata();
      String address = clientAddresses.get(notLeader.leaderHint());
      if (address != null) {
        trailers.put(LEADER_TRAILER, notLeader.leaderHint() + "=" + address);
      }
      Status status =
          cause.getMessage().contains("overloaded")
              ? Status.RESOURCE_EXHAUSTED
              : Status.FAILED_PRECONDITION;
      return status.withDescription(cause.getMessage()).asRuntimeException(trailers);
    }
    if (cause instanceof ReplicaNode.ReplicaStoppedException) {
      return Status.UNAVAILABLE.withDescription(cause.getMessage()).asRuntimeException();
    }
    if (cause instanceof IllegalArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(cause.getMessage()).asRuntimeException();
    }
    return Status.INTERNAL.withDescription(String.valueOf(cause)).asRuntimeException();
  }
}
