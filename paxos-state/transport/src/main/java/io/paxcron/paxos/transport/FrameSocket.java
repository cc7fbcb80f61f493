package io.paxcron.paxos.transport;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;

/**
 * Length-prefixed protobuf messages (a 4-byte big-endian length, then the message) on plain TCP
 * connections, read and flushed by one selector thread. Two carriers use it: the Accept socket
 * between replicas (an Accept goes out from the leader on a connection it dialled; the Accepted or
 * Rejected comes back on the same connection; everything else stays on gRPC), and the command
 * socket between the log's clients and a replica (commands one way, their replies back).
 *
 * <p>Why not gRPC for the hot path: a gRPC message costs HTTP/2 framing, a hand-off to a Netty
 * event loop and its flush on both ends; on a loopback round trip it measured 0.035 ms against
 * 0.005 ms for a socket, and the gRPC threads were the largest CPU consumer per command of every
 * replica (docs/performance.md, issue 12). Here a sender writes its frame straight into the socket
 * from its own thread when nothing is queued ahead of it — no hand-off — and only a frame the
 * socket cannot take at once is queued and written by the selector thread when the socket is
 * writable. The queue is bounded ({@code maxQueued} frames); when it is full, {@link
 * Overflow#DROP_OLDEST} drops the oldest unstarted frame and counts it (Paxos re-sends what is
 * lost, and a paused or dead peer never blocks the sender), {@link Overflow#CLOSE} ends the
 * connection (a client that stopped reading its replies is cut off, and retries on a new one).
 *
 * <p>Who is speaking is checked on every message by the owner's {@link Handler}; a frame over
 * {@code maxMessageBytes} or one that does not parse closes the connection.
 *
 * <p>Threading: {@link Connection#send} and {@link Connection#close} from any thread; {@link
 * Handler#onMessage} on the selector thread, {@link Handler#onClosed} on the thread that ended the
 * connection (the selector thread unless the owner closed it). Handlers must not block.
 *
 * @param <M> the messages that arrive (what is sent may be of another type)
 */
public final class FrameSocket<M extends MessageLite> implements AutoCloseable {

  /** What a connection's owner does with its messages and its end. */
  public interface Handler<M extends MessageLite> {
    /**
     * A whole message arrived on {@code connection}; the selector thread. {@link
     * Connection#moreBuffered} says meanwhile whether more of the stream was read behind it.
     */
    void onMessage(FrameSocket<M>.Connection connection, M message);

    /** The connection ended ({@code reason} says why); called once, also after {@link #close}. */
    void onClosed(FrameSocket<M>.Connection connection, String reason);
  }

  /** What a full send queue does with one more frame. */
  public enum Overflow {
    /** Drop the oldest frame not yet started, and count it. */
    DROP_OLDEST,
    /** End the connection. */
    CLOSE
  }

  private static final int READ_BUFFER_BYTES = 64 * 1024;

  private final int maxMessageBytes;
  private final int maxQueued;
  private final Overflow overflow;
  private final Parser<M> parser;
  private final LongAdder sentCount;
  private final LongAdder droppedCount;
  private final Handler<M> inbound;
  private final Selector selector;
  private final ServerSocketChannel server;
  private final Thread loop;
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final java.util.Set<Connection> connections =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * Listens on {@code listen} (port 0: any free port; null: no listener, this carrier only dials)
   * and starts the selector thread.
   *
   * @param parser reads every frame that arrives
   * @param sent counts every frame sent; {@code dropped} every frame dropped
   * @param inbound the handler of every connection made to this one (null without a listener)
   * @throws IOException if the address cannot be bound
   */
  public FrameSocket(
      InetSocketAddress listen,
      int maxMessageBytes,
      int maxQueued,
      Overflow overflow,
      Parser<M> parser,
      LongAdder sent,
      LongAdder dropped,
      Handler<M> inbound,
      String threadName)
      throws IOException {
    this.maxMessageBytes = maxMessageBytes;
    this.maxQueued = maxQueued;
    this.overflow = overflow;
    this.parser = parser;
    this.sentCount = sent;
    this.droppedCount = dropped;
    this.inbound = inbound;
    this.selector = Selector.open();
    ServerSocketChannel listening = null;
    if (listen != null) {
      listening = ServerSocketChannel.open();
      try {
        listening.bind(listen);
        listening.configureBlocking(false);
        listening.register(selector, SelectionKey.OP_ACCEPT);
      } catch (IOException e) {
        listening.close();
        selector.close();
        throw new IOException("cannot listen on " + listen + ": " + e.getMessage(), e);
      }
    }
    this.server = listening;
    this.loop = new Thread(this::run, threadName);
    this.loop.setDaemon(true);
    this.loop.start();
  }

  /** The port this carrier listens on; 0 without a listener. */
  public int port() {
    return server == null ? 0 : server.socket().getLocalPort();
  }

  /**
   * A connection to {@code host:port}, connecting in the background; frames sent before it is up
   * wait in its queue. A failure to resolve or connect ends it through {@code handler}.
   */
  public Connection dial(String host, int port, Handler<M> handler) {
    Connection connection = new Connection(handler);
    connections.add(connection);
    runOnLoop(
        () -> {
          try {
            SocketChannel channel = SocketChannel.open();
            connection.channel = channel;
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (channel.connect(new InetSocketAddress(host, port))) {
              connection.key = channel.register(selector, 0, connection);
              connection.connected();
            } else {
              connection.key = channel.register(selector, SelectionKey.OP_CONNECT, connection);
            }
          } catch (IOException | RuntimeException e) {
            connection.close("cannot connect to " + host + ":" + port + ": " + e.getMessage());
          }
        });
    return connection;
  }

  /** Ends {@code connection} on the selector thread (its handler hears of it there). */
  public void closeLater(Connection connection, String reason) {
    runOnLoop(() -> connection.close(reason));
  }

  private void runOnLoop(Runnable task) {
    tasks.add(task);
    selector.wakeup();
  }

  private void run() {
    try {
      while (!closed) {
        selector.select();
        Runnable task;
        while ((task = tasks.poll()) != null) {
          task.run();
        }
        Iterator<SelectionKey> ready = selector.selectedKeys().iterator();
        while (ready.hasNext()) {
          SelectionKey key = ready.next();
          ready.remove();
          if (!key.isValid()) {
            continue;
          }
          if (server != null && key.channel() == server) {
            acceptConnection();
            continue;
          }
          // Every key but the listener's carries its Connection (registered below and in dial).
          @SuppressWarnings("unchecked")
          Connection connection = (Connection) key.attachment();
          try {
            if (key.isConnectable() && ((SocketChannel) key.channel()).finishConnect()) {
              connection.connected();
            }
            if (key.isValid() && key.isReadable()) {
              connection.read();
            }
            if (key.isValid() && key.isWritable()) {
              connection.flush();
            }
          } catch (IOException | RuntimeException e) {
            connection.close(
                e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
          }
        }
      }
    } catch (IOException | ClosedSelectorException e) {
      // Closing: every connection is closed below.
    } finally {
      for (Connection connection : connections) {
        connection.close("the transport is closing");
      }
    }
  }

  private void acceptConnection() {
    SocketChannel channel;
    try {
      channel = server.accept();
    } catch (IOException e) {
      return;
    }
    if (channel == null) {
      return;
    }
    Connection connection = new Connection(inbound);
    connections.add(connection);
    try {
      connection.channel = channel;
      channel.configureBlocking(false);
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      connection.key = channel.register(selector, 0, connection);
      connection.connected();
    } catch (IOException e) {
      connection.close(e.getMessage());
    }
  }

  /** Stops listening, closes every connection and the selector thread. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (server != null) {
        server.close();
      }
    } catch (IOException e) {
      // Nothing more to release.
    }
    selector.wakeup();
    try {
      loop.join(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Connection connection : connections) {
      connection.close("the transport is closing");
    }
    try {
      selector.close();
    } catch (IOException e) {
      // Nothing more to release.
    }
  }

  static ByteBuffer frame(MessageLite message) {
    int size = message.getSerializedSize();
    byte[] bytes = new byte[4 + size];
    ByteBuffer.wrap(bytes).putInt(size);
    CodedOutputStream out = CodedOutputStream.newInstance(bytes, 4, size);
    try {
      message.writeTo(out);
    } catch (IOException e) {
      throw new IllegalStateException("a message could not be written to its own buffer", e);
    }
    out.checkNoSpaceLeft();
    return ByteBuffer.wrap(bytes);
  }

  /** One TCP connection: frames out (queued only when the socket is full), frames in. */
  public final class Connection {
    private final Handler<M> handler;
    private final ArrayDeque<ByteBuffer> queued = new ArrayDeque<>();
    private final java.util.ArrayList<ByteBuffer> held = new java.util.ArrayList<>();
    private ByteBuffer in = ByteBuffer.allocate(READ_BUFFER_BYTES);
    private volatile SocketChannel channel;
    private volatile SelectionKey key;
    private boolean up;
    private boolean ended;
    private boolean moreBuffered;

    /** Who an accepted connection speaks for, once its first message named it; -1 before. */
    volatile int peer = -1;

    private Connection(Handler<M> handler) {
      this.handler = handler;
    }

    /**
     * During {@link Handler#onMessage}: whether more of the stream was already read behind the
     * message handed over (another frame, whole or in part), so more follows at once. Selector
     * thread.
     */
    public boolean moreBuffered() {
      return moreBuffered;
    }

    /** The other end's address; null before the connection is up or after it ended. */
    public InetSocketAddress remoteAddress() {
      SocketChannel open = channel;
      try {
        return open == null ? null : (InetSocketAddress) open.getRemoteAddress();
      } catch (IOException e) {
        return null;
      }
    }

    /**
     * Writes {@code message} now if the socket takes it whole and nothing waits ahead of it,
     * otherwise queues it for the selector thread; drops the oldest unstarted frame when the queue
     * is full, and the message itself when the connection has ended. Never blocks on the network.
     */
    public void send(MessageLite message) {
      sendFrames(new ByteBuffer[] {frame(message)});
    }

    /**
     * Holds {@code message} for the next {@link #sendHeld}, which sends every message held until
     * then in one gathering write: a replica answering a batch of commands at once pays one
     * syscall, and its client one read, per batch instead of per command.
     *
     * @return whether it is the first message held since the last {@link #sendHeld} — its caller
     *     must then see that {@link #sendHeld} is called (the others' callers need not)
     */
    public boolean hold(MessageLite message) {
      ByteBuffer frame = frame(message);
      synchronized (this) {
        held.add(frame);
        return held.size() == 1;
      }
    }

    /** Sends every held message, as {@link #send} would, in one write when the socket takes it. */
    public void sendHeld() {
      ByteBuffer[] frames;
      synchronized (this) {
        if (held.isEmpty()) {
          return;
        }
        frames = held.toArray(new ByteBuffer[0]);
        held.clear();
      }
      sendFrames(frames);
    }

    private void sendFrames(ByteBuffer[] frames) {
      boolean wantWrite = false;
      String failure = null;
      int unsent = frames.length;
      synchronized (this) {
        if (ended) {
          droppedCount.add(frames.length);
          return;
        }
        sentCount.add(frames.length);
        int next = 0;
        if (up && queued.isEmpty()) {
          try {
            if (frames.length == 1) {
              channel.write(frames[0]);
            } else {
              channel.write(frames);
            }
          } catch (IOException e) {
            failure = e.getMessage();
          }
          while (next < frames.length && !frames[next].hasRemaining()) {
            next++;
          }
          unsent = frames.length - next;
          if (failure == null && unsent == 0) {
            return;
          }
        }
        for (; failure == null && next < frames.length; next++) {
          if (queued.size() >= maxQueued && overflow == Overflow.CLOSE) {
            failure = maxQueued + " frames wait unsent: the other end does not read";
            break;
          }
          if (queued.size() >= maxQueued) {
            ByteBuffer head = queued.pollFirst();
            if (head.position() > 0) {
              // Partly written: dropping it would cut the stream mid-frame, so the next one goes
              // (or, with nothing after it, the queue holds one frame over its limit).
              ByteBuffer after = queued.pollFirst();
              queued.addFirst(head);
              if (after != null) {
                droppedCount.increment();
              }
            } else {
              droppedCount.increment();
            }
          }
          queued.addLast(frames[next]);
          unsent--;
          wantWrite = up;
        }
      }
      if (failure != null) {
        droppedCount.add(unsent);
        String reason = "write failed: " + failure;
        runOnLoop(() -> close(reason));
        return;
      }
      if (wantWrite) {
        runOnLoop(this::watchWritable);
      }
    }

    private void watchWritable() {
      SelectionKey current = key;
      if (current != null && current.isValid()) {
        synchronized (this) {
          if (!queued.isEmpty()) {
            current.interestOps(current.interestOps() | SelectionKey.OP_WRITE);
          }
        }
      }
    }

    /** The socket is connected: start reading and write what waited. Selector thread. */
    private void connected() throws IOException {
      synchronized (this) {
        up = true;
      }
      key.interestOps(SelectionKey.OP_READ);
      flush();
    }

    /** Writes queued frames while the socket takes them. Selector thread. */
    private void flush() throws IOException {
      synchronized (this) {
        while (!queued.isEmpty()) {
          ByteBuffer head = queued.peekFirst();
          channel.write(head);
          if (head.hasRemaining()) {
            key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
            return;
          }
          queued.pollFirst();
        }
        if (key.isValid()) {
          key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
        }
      }
    }

    /** Reads what arrived and hands every whole frame to the handler. Selector thread. */
    private void read() throws IOException {
      int n = channel.read(in);
      if (n < 0) {
        close("the peer closed the connection");
        return;
      }
      in.flip();
      while (in.remaining() >= 4) {
        int size = in.getInt(in.position());
        if (size < 0 || size > maxMessageBytes) {
          close("a frame of " + size + " bytes exceeds maxMessageBytes " + maxMessageBytes);
          return;
        }
        if (in.remaining() < 4 + size) {
          if (in.capacity() < 4 + size) {
            ByteBuffer larger = ByteBuffer.allocate(4 + size);
            larger.put(in);
            in = larger;
            return;
          }
          break;
        }
        M message;
        try {
          message =
              parser.parseFrom(CodedInputStream.newInstance(in.array(), in.position() + 4, size));
        } catch (InvalidProtocolBufferException e) {
          close("a frame that does not parse: " + e.getMessage());
          return;
        }
        in.position(in.position() + 4 + size);
        moreBuffered = in.hasRemaining();
        handler.onMessage(this, message);
        if (ended) {
          return;
        }
      }
      in.compact();
    }

    /**
     * Ends this connection (idempotent): closes the socket, drops what is queued, tells the
     * handler.
     */
    public void close(String reason) {
      synchronized (this) {
        if (ended) {
          return;
        }
        ended = true;
        droppedCount.add(queued.size() + held.size());
        queued.clear();
        held.clear();
      }
      connections.remove(this);
      SelectionKey current = key;
      if (current != null) {
        current.cancel();
      }
      SocketChannel open = channel;
      if (open != null) {
        try {
          open.close();
        } catch (IOException e) {
          // Closed either way.
        }
      }
      handler.onClosed(this, reason);
    }
  }
}
