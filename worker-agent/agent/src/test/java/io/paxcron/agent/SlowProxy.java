package io.paxcron.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy on loopback whose connections are accepted at once but carry nothing until {@code
 * delay} after they were accepted, or never ({@code delay} null): a connection that is slow to set
 * up, or a process that accepts and never speaks.
 */
final class SlowProxy implements AutoCloseable {
  private final ServerSocket server;
  private final InetSocketAddress target;
  private final Duration delay;
  private final ExecutorService pumps = Executors.newCachedThreadPool(SlowProxy::daemon);
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(SlowProxy::daemon);
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  SlowProxy(String target, Duration delay) throws IOException {
    int colon = target.lastIndexOf(':');
    this.target =
        new InetSocketAddress(
            target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
    this.delay = delay;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    pumps.execute(this::accept);
  }

  String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  private static Thread daemon(Runnable work) {
    Thread thread = new Thread(work, "slow-proxy");
    thread.setDaemon(true);
    return thread;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        sockets.add(in);
        if (delay != null) {
          timer.schedule(
              () -> pumps.execute(() -> connect(in)), delay.toMillis(), TimeUnit.MILLISECONDS);
        }
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void connect(Socket in) {
    try {
      Socket out = new Socket(target.getAddress(), target.getPort());
      sockets.add(out);
      pumps.execute(() -> pump(in, out));
      pump(out, in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void pump(Socket from, Socket to) {
    try {
      from.getInputStream().transferTo(to.getOutputStream());
    } catch (IOException e) {
      // One side closed; close both below.
    }
    try {
      from.close();
      to.close();
    } catch (IOException e) {
      // Nothing left to do with them.
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket socket : sockets) {
      socket.close();
    }
    timer.shutdownNow();
    pumps.shutdownNow();
  }
}
