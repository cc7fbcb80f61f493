package io.paxcron.paxos.replica;

import io.paxcron.paxos.transport.FrameSocket;
import io.paxcron.proto.v1.ProposeError;
import io.paxcron.proto.v1.ProposeRequest;
import io.paxcron.proto.v1.ProposeStreamReply;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.LongAdder;

/**
 * The log's commands without HTTP/2: {@code ProposeStream}'s requests and replies as
 * length-prefixed frames on plain TCP ({@link FrameSocket}), on a port of its own that {@code
 * Status} advertises ({@code command_port}). {@link LogClient} uses it when a replica advertises
 * one, and the gRPC stream otherwise.
 *
 * <p>The same rules as the gRPC stream: each request is proposed as it arrives and answered by one
 * reply naming its {@code (client_id, sequence)} — the result, or an error naming the field or the
 * leader ({@code NOT_LEADER} with {@code leader} set, as on gRPC). The write rate limit counts
 * every command ({@link Admission}); a refused one is answered {@code RATE_LIMITED} with the wait
 * in its message and the connection stays open. The replies to the commands one loop task applied
 * are written together, from the replica's thread that applied them, when the task ends and the
 * socket takes them (one gathering write, no event-loop hand-off); a client that stops reading its
 * replies until {@code maxQueuedReplies} wait is cut off, and retries on a new connection (its
 * sequence numbers make the retry safe). A frame over {@code maxMessageBytes} or one that does not
 * parse closes the connection.
 *
 * <p>Plaintext and without tokens: the server opens it only when its client API has neither TLS nor
 * authentication (docs/operations.md, "The command socket").
 */
public final class CommandSocket implements AutoCloseable {

  /** Whether a write from {@code source} is admitted: null if so, else why not (with the wait). */
  public interface Admission {
    String refuse(InetSocketAddress source);
  }

  /** Frames over this size close the connection: a largest payload and its envelope. */
  public static final int MAX_FRAME_BYTES = LogService.MAX_PAYLOAD_BYTES + 4096;

  private final LogService service;
  private final Admission admission;
  private final LongAdder received = new LongAdder();
  private final LongAdder sent = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final FrameSocket<ProposeRequest> sockets;

  /**
   * Listens on {@code listen} (port 0: any free port) and serves {@code service}'s commands there;
   * {@link LogService#advertiseCommandPort} is told the port.
   *
   * @throws IOException if the address cannot be bound
   */
  public CommandSocket(
      InetSocketAddress listen,
      LogService service,
      Admission admission,
      int maxQueuedReplies,
      String threadName)
      throws IOException {
    this.service = service;
    this.admission = admission;
    this.sockets =
        new FrameSocket<>(
            listen,
            MAX_FRAME_BYTES,
            maxQueuedReplies,
            FrameSocket.Overflow.CLOSE,
            ProposeRequest.parser(),
            sent,
            dropped,
            new Commands(),
            threadName);
    service.advertiseCommandPort(sockets.port());
  }

  /** The port it listens on. */
  public int port() {
    return sockets.port();
  }

  /** Commands that arrived on it. */
  public long receivedCount() {
    return received.sum();
  }

  private final class Commands implements FrameSocket.Handler<ProposeRequest> {
    @Override
    public void onMessage(
        FrameSocket<ProposeRequest>.Connection connection, ProposeRequest request) {
      received.increment();
      InetSocketAddress source = connection.remoteAddress();
      String refused = source == null ? null : admission.refuse(source);
      if (refused != null) {
        connection.send(
            LogService.reply(request)
                .setError(
                    ProposeError.newBuilder()
                        .setCode(ProposeError.Code.RATE_LIMITED)
                        .setMessage(refused))
                .build());
        return;
      }
      // With nothing read behind it on this connection, the selector thread takes the proposal's
      // step itself when the consensus thread is idle, as a peer's Accept read here is (a lone
      // client's command spares the consensus thread's wake-up); with more behind it, it queues
      // the command and goes on reading, so the core sees the rest soon enough to batch it.
      service.proposeOne(
          request,
          reply -> answer(connection, reply),
          /* mayStepHere= */ !connection.moreBuffered());
    }

    /**
     * Answers applied on the replica's loop are held and sent together when the loop task that
     * applied them ends — one write for the batch's replies to this connection, as gRPC's event
     * loop gathers its flushes; answers given elsewhere (errors, refusals) go at once.
     */
    private void answer(
        FrameSocket<ProposeRequest>.Connection connection, ProposeStreamReply reply) {
      if (connection.hold(reply) && !service.atEndOfLoopTask(connection::sendHeld)) {
        connection.sendHeld();
      }
    }

    @Override
    public void onClosed(FrameSocket<ProposeRequest>.Connection connection, String reason) {
      // What it awaited is answered into a closed connection (dropped); the client retries.
    }
  }

  @Override
  public void close() {
    service.advertiseCommandPort(0);
    sockets.close();
  }
}
