package io.paxcron.paxos.replica;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.paxcron.proto.v1.ProposeError;
import io.paxcron.proto.v1.ProposeReply;
import io.paxcron.proto.v1.ProposeRequest;
import io.paxcron.proto.v1.ProposeStreamReply;
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

  /** The command socket's port, advertised in {@code Status}; 0: none. */
  private volatile int commandPort;

  /** {@code clientAddresses} maps every replica id to the host:port of its client API. */
  public LogService(ReplicaNode node, Map<Integer, String> clientAddresses) {
    this.node = node;
    this.clientAddresses = Map.copyOf(clientAddresses);
  }

  @Override
  public void propose(ProposeRequest request, StreamObserver<ProposeReply> response) {
    String invalid = invalid(request);
    if (invalid != null) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(invalid).asRuntimeException());
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

  /** Why {@code request} cannot be proposed, naming the field, or null when it can. */
  private static String invalid(ProposeRequest request) {
    if (request.getSequence() < 1) {
      return "sequence: must be >= 1, got " + request.getSequence();
    }
    if (request.getPayload().size() > MAX_PAYLOAD_BYTES) {
      return "payload: " + request.getPayload().size() + " bytes exceeds " + MAX_PAYLOAD_BYTES;
    }
    return null;
  }

  /**
   * Commands on one long-lived stream (no HTTP/2 stream, headers or deadline timer per command):
   * each is proposed as it arrives and answered when applied; replies are sent one at a time, since
   * the replica's threads complete commands concurrently with the stream's own thread.
   */
  @Override
  public StreamObserver<ProposeRequest> proposeStream(StreamObserver<ProposeStreamReply> response) {
    return new StreamObserver<>() {
      private final Object sending = new Object();
      private int inFlight;
      private boolean halfClosed;
      private boolean done;

      @Override
      public void onNext(ProposeRequest request) {
        synchronized (sending) {
          inFlight++;
        }
        proposeOne(
            request,
            reply -> {
              synchronized (sending) {
                inFlight--;
              }
              send(reply);
            },
            // gRPC's executor threads hand commands to the consensus thread: a pooled thread
            // that stepped (and perhaps synced) here would hold up other calls.
            /* mayStepHere= */ false);
      }

      @Override
      public void onError(Throwable t) {
        synchronized (sending) {
          done = true;
        }
      }

      @Override
      public void onCompleted() {
        synchronized (sending) {
          halfClosed = true;
        }
        send(null);
      }

      /** Sends {@code reply} (if any), then ends the stream once the client is done and idle. */
      private void send(ProposeStreamReply reply) {
        synchronized (sending) {
          if (done) {
            return;
          }
          try {
            if (reply != null) {
              response.onNext(reply);
            }
            if (halfClosed && inFlight == 0) {
              done = true;
              response.onCompleted();
            }
          } catch (IllegalStateException | io.grpc.StatusRuntimeException closed) {
            // The call was closed under us (cancelled, or refused by an interceptor).
            done = true;
          }
        }
      }
    };
  }

  /**
   * Proposes one command of a stream (the gRPC {@code ProposeStream} or the command socket) and
   * hands its reply — the result, or an error naming the field or the leader — to {@code answer},
   * at once for an invalid request, else once the command is applied (on the replica's thread).
   * {@code mayStepHere}: the calling thread may take the proposal's consensus step itself when the
   * replica's consensus thread is idle (see {@link ReplicaNode#propose(long, long, byte[],
   * boolean)}).
   */
  void proposeOne(
      ProposeRequest request,
      java.util.function.Consumer<ProposeStreamReply> answer,
      boolean mayStepHere) {
    String invalid = invalid(request);
    if (invalid != null) {
      answer.accept(
          reply(request)
              .setError(
                  ProposeError.newBuilder()
                      .setCode(ProposeError.Code.INVALID_ARGUMENT)
                      .setMessage(invalid))
              .build());
      return;
    }
    node.propose(
            request.getClientId(),
            request.getSequence(),
            request.getPayload().toByteArray(),
            mayStepHere)
        .whenComplete(
            (applied, error) -> {
              ProposeStreamReply.Builder reply = reply(request);
              if (error != null) {
                reply.setError(toError(error));
              } else {
                reply.setResult(ByteString.copyFrom(applied.result())).setSlot(applied.slot());
              }
              answer.accept(reply.build());
            });
  }

  static ProposeStreamReply.Builder reply(ProposeRequest request) {
    return ProposeStreamReply.newBuilder()
        .setClientId(request.getClientId())
        .setSequence(request.getSequence());
  }

  private ProposeError toError(Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    ProposeError.Builder out =
        ProposeError.newBuilder().setMessage(String.valueOf(cause.getMessage()));
    if (cause instanceof ReplicaNode.NotLeaderException notLeader) {
      String address = clientAddresses.get(notLeader.leaderHint());
      if (address != null) {
        out.setLeader(notLeader.leaderHint() + "=" + address);
      }
      return out.setCode(
              cause.getMessage().contains("overloaded")
                  ? ProposeError.Code.OVERLOADED
                  : ProposeError.Code.NOT_LEADER)
          .build();
    }
    if (cause instanceof ReplicaNode.ReplicaStoppedException) {
      return out.setCode(ProposeError.Code.UNAVAILABLE).build();
    }
    if (cause instanceof IllegalArgumentException) {
      return out.setCode(ProposeError.Code.INVALID_ARGUMENT).build();
    }
    return out.setCode(ProposeError.Code.INTERNAL).setMessage(String.valueOf(cause)).build();
  }

  /**
   * Runs {@code action} once the replica's loop task running now has ended, if called on the loop
   * thread (where {@link #proposeOne}'s answers to applied commands are given); false otherwise.
   */
  boolean atEndOfLoopTask(Runnable action) {
    return node.atEndOfLoopTask(action);
  }

  /** Advertises the command socket's {@code port} (0: none) in {@code Status} replies. */
  void advertiseCommandPort(int port) {
    this.commandPort = port;
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
            .setCommandPort(commandPort)
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
