package io.paxcron.paxos.replica;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * A blocking client of the replicated log that follows the leader and retries safely: every command
 * carries this client's session id and a sequence number, so a retry after a lost answer is applied
 * once and gets the first result.
 *
 * <p>Commands travel on one long-lived {@code ProposeStream} per client and leader (a unary call
 * per command costs an HTTP/2 stream, headers and a deadline timer on both sides); a stream that
 * breaks or a command unanswered within {@code callTimeout} is retried on a new stream.
 *
 * <p>Threading: one command at a time per client (sessions are sequential); use one client per
 * thread. Errors: {@link LogClientException} once {@code overallTimeout} has passed without an
 * answer, or at once for an invalid request.
 */
public final class LogClient implements AutoCloseable {

  /** The request could not be completed. */
  public static final class LogClientException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LogClientException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final long clientId;
  private final Map<String, ManagedChannel> channels;
  private final boolean ownsChannels;
  private final List<String> addresses;
  private final Duration callTimeout;
  private final Duration overallTimeout;
  private long nextSequence = 1;
  private String leader;
  private int roundRobin;
  private ProposeStream stream;

  public LogClient(
      long clientId, List<String> addresses, Duration callTimeout, Duration overallTimeout) {
    this(clientId, addresses, callTimeout, overallTimeout, new LinkedHashMap<>(), true);
  }

  /**
   * A client whose channels come from {@code sharedChannels}, a thread-safe map shared by many
   * clients (one connection per replica for all of them); the clients never close those channels.
   */
  public LogClient(
      long clientId,
      List<String> addresses,
      Duration callTimeout,
      Duration overallTimeout,
      Map<String, ManagedChannel> sharedChannels) {
    this(clientId, addresses, callTimeout, overallTimeout, sharedChannels, false);
  }

  private LogClient(
      long clientId,
      List<String> addresses,
      Duration callTimeout,
      Duration overallTimeout,
      Map<String, ManagedChannel> channels,
      boolean ownsChannels) {
    this.channels = channels;
    this.ownsChannels = ownsChannels;
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("addresses: at least one replica address is needed");
    }
    this.clientId = clientId;
    this.addresses = List.copyOf(addresses);
    this.callTimeout = callTimeout;
    this.overallTimeout = overallTimeout;
    this.leader = addresses.get(0);
  }

  /** Proposes {@code payload}; returns the reply once it is applied, retrying across leaders. */
  public ProposeReply propose(byte[] payload) {
    ProposeRequest request =
        ProposeRequest.newBuilder()
            .setClientId(clientId)
            .setSequence(nextSequence++)
            .setPayload(ByteString.copyFrom(payload))
            .build();
    return withRetries("propose", address -> proposeOnStream(address, request));
  }

  /** Sends {@code request} on this client's stream to {@code address} and waits for its reply. */
  private ProposeReply proposeOnStream(String address, ProposeRequest request) {
    if (stream == null || stream.broken || !stream.address.equals(address)) {
      if (stream != null) {
        stream.close();
      }
      stream = new ProposeStream(address);
    }
    ProposeStream on = stream;
    CompletableFuture<ProposeStreamReply> answer = new CompletableFuture<>();
    on.expected = request.getSequence();
    on.awaiting = answer;
    if (on.broken) {
      // Broke between the check above and now: its error may have missed this command.
      stream = null;
      throw Status.UNAVAILABLE
          .withDescription("propose stream to " + address + " ended")
          .asRuntimeException();
    }
    on.requests.onNext(request);
    ProposeStreamReply reply;
    try {
      reply = answer.get(callTimeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      on.close();
      stream = null;
      throw Status.DEADLINE_EXCEEDED
          .withDescription("no answer from " + address + " within " + callTimeout)
          .asRuntimeException();
    } catch (ExecutionException e) {
      stream = null;
      throw e.getCause() instanceof StatusRuntimeException status
          ? status
          : Status.fromThrowable(e.getCause()).asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    }
    if (!reply.hasError()) {
      return ProposeReply.newBuilder()
          .setResult(reply.getResult())
          .setSlot(reply.getSlot())
          .build();
    }
    ProposeError error = reply.getError();
    Metadata trailers = new Metadata();
    if (!error.getLeader().isEmpty()) {
      trailers.put(LogService.LEADER_TRAILER, error.getLeader());
    }
    Status status =
        switch (error.getCode()) {
          case NOT_LEADER -> Status.FAILED_PRECONDITION;
          case OVERLOADED -> Status.RESOURCE_EXHAUSTED;
          case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
          case UNAVAILABLE -> Status.UNAVAILABLE;
          default -> Status.INTERNAL;
        };
    throw status.withDescription(error.getMessage()).asRuntimeException(trailers);
  }

  /**
   * One {@code ProposeStream} call to one replica. Replies arrive on gRPC's threads and complete
   * the command awaited by the client's thread; an error or end of the stream fails it.
   */
  private final class ProposeStream implements StreamObserver<ProposeStreamReply> {
    final String address;
    final StreamObserver<ProposeRequest> requests;
    volatile long expected;
    volatile CompletableFuture<ProposeStreamReply> awaiting;
    volatile boolean broken;

    ProposeStream(String address) {
      this.address = address;
      this.requests = ReplicatedLogGrpc.newStub(channel(address)).proposeStream(this);
    }

    @Override
    public void onNext(ProposeStreamReply reply) {
      CompletableFuture<ProposeStreamReply> waiting = awaiting;
      if (waiting != null && reply.getClientId() == clientId && reply.getSequence() == expected) {
        waiting.complete(reply);
      }
    }

    @Override
    public void onError(Throwable t) {
      broken = true;
      fail(
          t instanceof StatusRuntimeException status
              ? status
              : Status.fromThrowable(t).asRuntimeException(Status.trailersFromThrowable(t)));
    }

    @Override
    public void onCompleted() {
      broken = true;
      fail(
          Status.UNAVAILABLE
              .withDescription("propose stream to " + address + " ended")
              .asRuntimeException());
    }

    private void fail(StatusRuntimeException error) {
      CompletableFuture<ProposeStreamReply> waiting = awaiting;
      if (waiting != null) {
        waiting.completeExceptionally(error);
      }
    }

    void close() {
      broken = true;
      try {
        requests.onError(
            Status.CANCELLED.withDescription("client closed the stream").asRuntimeException());
      } catch (RuntimeException alreadyClosed) {
        // Nothing to cancel.
      }
    }
  }

  public ReadReply read(String key) {
    ReadRequest request = ReadRequest.newBuilder().setKey(key).build();
    return withRetries("read", address -> stub(address).read(request));
  }

  /** Status of one replica, without retries. */
  public StatusReply status(String address) {
    return stub(address).status(StatusRequest.getDefaultInstance());
  }

  public String leaderAddress() {
    return leader;
  }

  private interface Call<T> {
    T call(String address);
  }

  private <T> T withRetries(String what, Call<T> call) {
    long deadline = System.nanoTime() + overallTimeout.toNanos();
    StatusRuntimeException last = null;
    long backoffMillis = 5;
    while (System.nanoTime() < deadline) {
      String address = leader;
      try {
        return call.call(address);
      } catch (StatusRuntimeException e) {
        last = e;
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.INVALID_ARGUMENT) {
          throw new LogClientException(what + " rejected: " + e.getStatus().getDescription(), e);
        }
        String hint = leaderHint(e.getTrailers());
        if (hint != null && !hint.equals(address)) {
          leader = hint;
          continue;
        }
        leader = addresses.get(roundRobin++ % addresses.size());
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(backoffMillis));
        backoffMillis = Math.min(backoffMillis * 2, 200);
      }
    }
    throw new LogClientException(
        what
            + " got no answer within "
            + overallTimeout
            + (last == null ? "" : "; last error: " + last.getStatus()),
        last);
  }

  private static String leaderHint(Metadata trailers) {
    if (trailers == null) {
      return null;
    }
    String value = trailers.get(LogService.LEADER_TRAILER);
    if (value == null) {
      return null;
    }
    int equals = value.indexOf('=');
    return equals < 0 ? null : value.substring(equals + 1);
  }

  /**
   * The channel to {@code address}. Its callbacks run on the transport's own thread (direct
   * executor): the stream's only callback completes a future, so a hop through an executor would
   * only add a thread wake-up to every command's answer.
   */
  private ManagedChannel channel(String address) {
    return channels.computeIfAbsent(
        address, a -> NettyChannelBuilder.forTarget(a).usePlaintext().directExecutor().build());
  }

  private ReplicatedLogGrpc.ReplicatedLogBlockingStub stub(String address) {
    return ReplicatedLogGrpc.newBlockingStub(channel(address))
        .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    if (stream != null) {
      stream.close();
      stream = null;
    }
    if (!ownsChannels) {
      return;
    }
    List<ManagedChannel> all = new ArrayList<>(channels.values());
    for (ManagedChannel channel : all) {
      channel.shutdownNow();
    }
  }
}
