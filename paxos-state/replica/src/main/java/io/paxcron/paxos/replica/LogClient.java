package io.paxcron.paxos.replica;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.paxcron.paxos.transport.FrameSocket;
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
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A blocking client of the replicated log that follows the leader and retries safely: every command
 * carries this client's session id and a sequence number, so a retry after a lost answer is applied
 * once and gets the first result.
 *
 * <p>Commands travel on one long-lived session per client and leader: the replica's command socket
 * when its {@code Status} advertises one ({@code command_port}: length-prefixed frames on plain
 * TCP, no HTTP/2; {@link CommandSocket}), else a {@code ProposeStream} (a unary call per command
 * costs an HTTP/2 stream, headers and a deadline timer on both sides). A session that breaks or a
 * command unanswered within {@code callTimeout} is retried on a new one; after a socket failed, the
 * client uses gRPC to that replica for {@link #SOCKET_REST} and then asks its {@code Status} again
 * (a restarted replica has a new port).
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

  /** How long a replica whose command socket failed is spoken to on gRPC before asking again. */
  static final Duration SOCKET_REST = Duration.ofSeconds(1);

  /** The command sockets of every client in this process: one selector thread, like gRPC's. */
  private static FrameSocket<ProposeStreamReply> sharedSockets;

  private static final LongAdder SOCKET_SENT = new LongAdder();
  private static final LongAdder SOCKET_DROPPED = new LongAdder();

  private final long clientId;
  private final Map<String, ManagedChannel> channels;
  private final boolean ownsChannels;
  private final List<String> addresses;
  private final Duration callTimeout;
  private final Duration overallTimeout;
  private long nextSequence = 1;
  private String leader;
  private int roundRobin;
  private Session stream;
  private long answeredOnSocket;

  /** Each replica's command socket port as its Status said (0: none); absent: ask. */
  private final Map<String, Integer> commandPorts = new java.util.HashMap<>();

  /** Until when (System.nanoTime) a replica whose command socket failed is spoken to on gRPC. */
  private final Map<String, Long> socketRestUntil = new java.util.HashMap<>();

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
      stream = open(address);
    }
    Session on = stream;
    CompletableFuture<ProposeStreamReply> answer = new CompletableFuture<>();
    try {
      on.send(request, answer);
    } catch (StatusRuntimeException e) {
      failed(on);
      throw e;
    }
    ProposeStreamReply reply;
    try {
      reply = answer.get(callTimeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      on.close();
      failed(on);
      throw Status.DEADLINE_EXCEEDED
          .withDescription("no answer from " + address + " within " + callTimeout)
          .asRuntimeException();
    } catch (ExecutionException e) {
      failed(on);
      throw e.getCause() instanceof StatusRuntimeException status
          ? status
          : Status.fromThrowable(e.getCause()).asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    }
    if (!reply.hasError()) {
      if (on instanceof SocketSession) {
        answeredOnSocket++;
      }
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
          case RATE_LIMITED -> Status.RESOURCE_EXHAUSTED;
          default -> Status.INTERNAL;
        };
    throw status.withDescription(error.getMessage()).asRuntimeException(trailers);
  }

  /**
   * {@code on} ended or went unanswered: the next command opens a new session; after a command
   * socket, on gRPC for {@link #SOCKET_REST}, then with the port asked again.
   */
  private void failed(Session on) {
    if (stream == on) {
      stream = null;
    }
    if (on instanceof SocketSession) {
      socketRestUntil.put(on.address, System.nanoTime() + SOCKET_REST.toNanos());
      commandPorts.remove(on.address);
    }
  }

  /**
   * One long-lived carrier of this client's commands to one replica: the command it awaits, and the
   * reply that completes it (matched by this client's id and the command's sequence) or the
   * carrier's end that fails it.
   */
  private abstract class Session {
    final String address;
    volatile long expected;
    volatile CompletableFuture<ProposeStreamReply> awaiting;
    volatile boolean broken;

    Session(String address) {
      this.address = address;
    }

    /** Sends {@code request}; {@code answer} completes with its reply or the session's failure. */
    final void send(ProposeRequest request, CompletableFuture<ProposeStreamReply> answer) {
      expected = request.getSequence();
      awaiting = answer;
      if (broken) {
        // Broke before the command was handed over: its failure may have missed this command.
        throw Status.UNAVAILABLE.withDescription(what() + " ended").asRuntimeException();
      }
      transmit(request);
    }

    abstract void transmit(ProposeRequest request);

    /** The carrier, for error messages. */
    abstract String what();

    abstract void close();

    final void answered(ProposeStreamReply reply) {
      CompletableFuture<ProposeStreamReply> waiting = awaiting;
      if (waiting != null && reply.getClientId() == clientId && reply.getSequence() == expected) {
        waiting.complete(reply);
      }
    }

    final void fail(StatusRuntimeException error) {
      broken = true;
      CompletableFuture<ProposeStreamReply> waiting = awaiting;
      if (waiting != null) {
        waiting.completeExceptionally(error);
      }
    }
  }

  /** The command socket if {@code address} advertises one and it has not failed lately. */
  private Session open(String address) {
    Long resting = socketRestUntil.get(address);
    if (resting != null && System.nanoTime() - resting < 0) {
      return new ProposeStream(address);
    }
    Integer port = commandPorts.get(address);
    if (port == null) {
      try {
        port = status(address).getCommandPort();
        commandPorts.put(address, port);
      } catch (StatusRuntimeException e) {
        // Not answering: the gRPC stream will say why.
        port = 0;
      }
    }
    return port > 0 ? new SocketSession(address, port) : new ProposeStream(address);
  }

  /**
   * This client's commands on the process's connection to one replica's command socket. Replies
   * arrive on the shared selector thread; the end of the connection sends this client to gRPC for
   * that replica for {@link #SOCKET_REST}.
   */
  private final class SocketSession extends Session {
    final SharedConnection shared;

    SocketSession(String address, int port) {
      super(address);
      this.shared = SharedConnection.join(host(address), port, this);
    }

    @Override
    void transmit(ProposeRequest request) {
      shared.connection.send(request);
    }

    @Override
    String what() {
      return "command socket to " + address;
    }

    long clientId() {
      return clientId;
    }

    @Override
    void close() {
      broken = true;
      shared.leave(this);
    }
  }

  /**
   * One connection to a replica's command socket for every client of this process, as gRPC shares a
   * channel: the commands of many clients go out on it and each reply is handed to the session of
   * the client it names, so at many clients many commands share a read, a write and a TCP segment
   * at both ends (a connection per client carried 7–48 % fewer commands at 128 and 512 clients:
   * docs/performance.md, sixteenth round). It closes when its last session leaves or it fails,
   * which fails every session on it.
   */
  private static final class SharedConnection implements FrameSocket.Handler<ProposeStreamReply> {
    /** Open connections by "host:port"; guards every change of a connection's sessions. */
    private static final Map<String, SharedConnection> OPEN = new java.util.HashMap<>();

    final String key;
    final Map<Long, SocketSession> sessions = new java.util.concurrent.ConcurrentHashMap<>();
    final FrameSocket<ProposeStreamReply>.Connection connection;

    private SharedConnection(String key, String host, int port) {
      this.key = key;
      this.connection = sockets().dial(host, port, this);
    }

    static SharedConnection join(String host, int port, SocketSession session) {
      synchronized (OPEN) {
        SharedConnection shared =
            OPEN.computeIfAbsent(host + ":" + port, k -> new SharedConnection(k, host, port));
        shared.sessions.put(session.clientId(), session);
        return shared;
      }
    }

    void leave(SocketSession session) {
      synchronized (OPEN) {
        sessions.remove(session.clientId(), session);
        if (!sessions.isEmpty() || OPEN.get(key) != this) {
          return;
        }
        OPEN.remove(key);
      }
      connection.close("no client uses it");
    }

    @Override
    public void onMessage(
        FrameSocket<ProposeStreamReply>.Connection from, ProposeStreamReply reply) {
      SocketSession session = sessions.get(reply.getClientId());
      if (session != null) {
        session.answered(reply);
      }
    }

    @Override
    public void onClosed(FrameSocket<ProposeStreamReply>.Connection from, String reason) {
      List<SocketSession> failed;
      synchronized (OPEN) {
        OPEN.remove(key, this);
        failed = List.copyOf(sessions.values());
        sessions.clear();
      }
      for (SocketSession session : failed) {
        session.fail(
            Status.UNAVAILABLE
                .withDescription(session.what() + ": " + reason)
                .asRuntimeException());
      }
    }
  }

  /** The host of a {@code host:port} address (brackets of an IPv6 literal removed). */
  static String host(String address) {
    int colon = address.lastIndexOf(':');
    String host = colon > 0 ? address.substring(0, colon) : address;
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  private static synchronized FrameSocket<ProposeStreamReply> sockets() {
    if (sharedSockets == null) {
      try {
        sharedSockets =
            new FrameSocket<>(
                null,
                CommandSocket.MAX_FRAME_BYTES,
                // Every client of the process may have a command waiting on one connection.
                1 << 16,
                FrameSocket.Overflow.CLOSE,
                ProposeStreamReply.parser(),
                SOCKET_SENT,
                SOCKET_DROPPED,
                null,
                "paxcron-log-client-commands");
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot open the client's selector", e);
      }
    }
    return sharedSockets;
  }

  /** One {@code ProposeStream} call to one replica. Replies arrive on gRPC's threads. */
  private final class ProposeStream extends Session implements StreamObserver<ProposeStreamReply> {
    final StreamObserver<ProposeRequest> requests;

    ProposeStream(String address) {
      super(address);
      this.requests = ReplicatedLogGrpc.newStub(channel(address)).proposeStream(this);
    }

    @Override
    void transmit(ProposeRequest request) {
      requests.onNext(request);
    }

    @Override
    String what() {
      return "propose stream to " + address;
    }

    @Override
    public void onNext(ProposeStreamReply reply) {
      answered(reply);
    }

    @Override
    public void onError(Throwable t) {
      fail(
          t instanceof StatusRuntimeException status
              ? status
              : Status.fromThrowable(t).asRuntimeException(Status.trailersFromThrowable(t)));
    }

    @Override
    public void onCompleted() {
      fail(Status.UNAVAILABLE.withDescription(what() + " ended").asRuntimeException());
    }

    @Override
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

  /** How many of this client's commands were applied and answered on a command socket. */
  public long answeredOnSocket() {
    return answeredOnSocket;
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
