package io.paxcron.paxos.replica;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.paxcron.proto.v1.ProposeReply;
import io.paxcron.proto.v1.ProposeRequest;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A blocking client of the replicated log that follows the leader and retries safely: every command
 * carries this client's session id and a sequence number, so a retry after a lost answer is applied
 * once and gets the first result.
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
    return withRetries("propose", address -> stub(address).propose(request));
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

  private ReplicatedLogGrpc.ReplicatedLogBlockingStub stub(String address) {
    ManagedChannel channel =
        channels.computeIfAbsent(
            address, a -> NettyChannelBuilder.forTarget(a).usePlaintext().build());
    return ReplicatedLogGrpc.newBlockingStub(channel)
        .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    if (!ownsChannels) {
      return;
    }
    List<ManagedChannel> all = new ArrayList<>(channels.values());
    for (ManagedChannel channel : all) {
      channel.shutdownNow();
    }
  }
}
