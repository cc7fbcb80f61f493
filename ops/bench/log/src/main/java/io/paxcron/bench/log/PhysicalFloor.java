package io.paxcron.bench.log;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The least a durable replicated write can cost on this machine: one fsync of a small append on the
 * disk that holds the replicas' data, plus one loopback TCP round trip (client to leader; the
 * leader's round trip to a follower overlaps its own fsync at best). Issue 3 asks Paxcron's
 * 1-client latency to stay within 1.2× of their sum.
 */
record PhysicalFloor(
    long fsyncMedianNanos,
    long fsyncP99Nanos,
    int fsyncSamples,
    long roundTripMedianNanos,
    long roundTripP99Nanos,
    int roundTripSamples) {

  static final int FSYNC_SAMPLES = 1_000;
  static final int ROUND_TRIP_SAMPLES = 10_000;
  static final int WARMUP_SAMPLES = 100;
  static final int PAYLOAD_BYTES = LogBenchmark.VALUE_BYTES;

  long sumOfMediansNanos() {
    return fsyncMedianNanos + roundTripMedianNanos;
  }

  /** Measures both, with the fsync file under {@code directory} (deleted afterwards). */
  static PhysicalFloor measure(Path directory) throws IOException, InterruptedException {
    LatencyHistogram fsync = fsync(directory);
    LatencyHistogram roundTrip = loopbackRoundTrip();
    return new PhysicalFloor(
        fsync.percentileNanos(50),
        fsync.percentileNanos(99),
        FSYNC_SAMPLES,
        roundTrip.percentileNanos(50),
        roundTrip.percentileNanos(99),
        ROUND_TRIP_SAMPLES);
  }

  /**
   * Appends 256 bytes and forces them with {@code FileChannel.force(false)}, the call ZooKeeper's
   * transaction log makes and the equivalent of etcd's fdatasync of its WAL.
   */
  private static LatencyHistogram fsync(Path directory) throws IOException {
    Path file = Files.createTempFile(directory, "fsync-floor", ".bin");
    LatencyHistogram histogram = new LatencyHistogram();
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer record = ByteBuffer.allocate(PAYLOAD_BYTES);
      for (int i = 0; i < WARMUP_SAMPLES + FSYNC_SAMPLES; i++) {
        record.clear();
        record.putLong(0, i);
        long started = System.nanoTime();
        while (record.hasRemaining()) {
          channel.write(record);
        }
        channel.force(false);
        long elapsed = System.nanoTime() - started;
        if (i >= WARMUP_SAMPLES) {
          histogram.record(elapsed);
        }
      }
    } finally {
      Files.deleteIfExists(file);
    }
    return histogram;
  }

  /** Ping-pongs of 256 bytes over a TCP connection on 127.0.0.1 with Nagle off. */
  private static LatencyHistogram loopbackRoundTrip() throws IOException, InterruptedException {
    LatencyHistogram histogram = new LatencyHistogram();
    int exchanges = WARMUP_SAMPLES * 10 + ROUND_TRIP_SAMPLES;
    try (ServerSocket server = new ServerSocket(0, 1, LoopbackPorts.loopback())) {
      Thread echo =
          Thread.ofPlatform()
              .name("floor-echo")
              .daemon()
              .start(
                  () -> {
                    try (Socket peer = server.accept()) {
                      peer.setTcpNoDelay(true);
                      DataInputStream in = new DataInputStream(peer.getInputStream());
                      OutputStream out = peer.getOutputStream();
                      byte[] message = new byte[PAYLOAD_BYTES];
                      for (int i = 0; i < exchanges; i++) {
                        in.readFully(message);
                        out.write(message);
                      }
                    } catch (IOException e) {
                      System.err.println("warning: loopback echo: " + e);
                    }
                  });
      try (Socket client = new Socket()) {
        client.setTcpNoDelay(true);
        client.connect(
            new InetSocketAddress(LoopbackPorts.loopback(), server.getLocalPort()), 5000);
        client.setSoTimeout(5000);
        InputStream in = client.getInputStream();
        OutputStream out = client.getOutputStream();
        byte[] message = new byte[PAYLOAD_BYTES];
        for (int i = 0; i < exchanges; i++) {
          long started = System.nanoTime();
          out.write(message);
          int read = 0;
          while (read < PAYLOAD_BYTES) {
            int n = in.read(message, read, PAYLOAD_BYTES - read);
            if (n < 0) {
              throw new IOException(
                  "loopback echo closed the connection after " + i + " exchanges");
            }
            read += n;
          }
          long elapsed = System.nanoTime() - started;
          if (i >= WARMUP_SAMPLES * 10) {
            histogram.record(elapsed);
          }
        }
      }
      echo.join(5000);
    }
    return histogram;
  }
}
