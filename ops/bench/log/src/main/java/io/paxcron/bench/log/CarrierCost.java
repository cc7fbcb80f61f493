package io.paxcron.bench.log;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the carrier of Paxcron's messages costs per round trip beside a raw socket: 256-byte
 * messages echoed over one gRPC bidirectional stream on loopback — plaintext, the direct executor
 * on both ends as the peer links use it ({@code PeerTransport}), the sending thread handing each
 * message to the channel's event loop and waiting for the echo as a replica's consensus thread does
 * — and the same number of echoes over a plain TCP socket with a blocking thread at each end
 * ({@link PhysicalFloor}'s loop). Both ends run in this JVM; the CPU and context switches are this
 * process's, per round trip, both ends together. The messages are bytes, so protobuf's encoding is
 * not in the gRPC figure: it is HTTP/2 framing, gRPC's framing and the hand-offs to and from the
 * event loops.
 *
 * <p>A replicated command crosses the client's gRPC call once and the peer link once each way (the
 * Accept out, the Accepted back); the peer link has used a plain socket since the Accept socket
 * (paxos-state/transport/README.md), so the difference between the two rows is what the client's
 * hop still pays for gRPC (docs/performance.md).
 */
record CarrierCost(
    long socketMedianNanos,
    long socketCpuNanos,
    double socketSwitches,
    long grpcMedianNanos,
    long grpcP99Nanos,
    long grpcCpuNanos,
    double grpcSwitches,
    int samples) {

  /**
   * Echoes before the measured ones, so that the JIT has compiled gRPC's and Netty's paths: after
   * 2,000 the figure was 5× the warm one (the compiler threads' CPU), after 30,000 still 1.2×;
   * 100,000 take ~7 s.
   */
  static final int WARMUP_EXCHANGES = 100_000;

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private static final MethodDescriptor<byte[], byte[]> ECHO =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
          .setFullMethodName("paxcron.bench.Carrier/Echo")
          .setRequestMarshaller(BYTES)
          .setResponseMarshaller(BYTES)
          .build();

  static CarrierCost measure() throws IOException, InterruptedException {
    ProcessCpu before = ProcessCpu.self();
    LatencyHistogram socket = PhysicalFloor.loopbackRoundTrip();
    ProcessCpu socketCost = ProcessCpu.self().minus(before);
    int socketExchanges = PhysicalFloor.ROUND_TRIP_SAMPLES + PhysicalFloor.WARMUP_SAMPLES * 10;

    LatencyHistogram grpc = new LatencyHistogram();
    ServerServiceDefinition service =
        ServerServiceDefinition.builder("paxcron.bench.Carrier")
            .addMethod(
                ECHO,
                ServerCalls.asyncBidiStreamingCall(
                    (StreamObserver<byte[]> replies) ->
                        new StreamObserver<byte[]>() {
                          @Override
                          public void onNext(byte[] message) {
                            replies.onNext(message);
                          }

                          @Override
                          public void onError(Throwable error) {}

                          @Override
                          public void onCompleted() {
                            replies.onCompleted();
                          }
                        }))
            .build();
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress(LoopbackPorts.loopback(), 0))
            .directExecutor()
            .addService(service)
            .build()
            .start();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(LoopbackPorts.loopback().getHostAddress(), server.getPort())
            .usePlaintext()
            .directExecutor()
            .build();
    ProcessCpu grpcCost;
    try {
      BlockingQueue<byte[]> echoes = new ArrayBlockingQueue<>(1);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      StreamObserver<byte[]> requests =
          ClientCalls.asyncBidiStreamingCall(
              channel.newCall(ECHO, CallOptions.DEFAULT),
              new StreamObserver<byte[]>() {
                @Override
                public void onNext(byte[] message) {
                  echoes.add(message);
                }

                @Override
                public void onError(Throwable error) {
                  failure.set(error);
                }

                @Override
                public void onCompleted() {}
              });
      byte[] message = new byte[PhysicalFloor.PAYLOAD_BYTES];
      ProcessCpu start = null;
      for (int i = 0; i < WARMUP_EXCHANGES + PhysicalFloor.ROUND_TRIP_SAMPLES; i++) {
        if (i == WARMUP_EXCHANGES) {
          start = ProcessCpu.self();
        }
        long started = System.nanoTime();
        requests.onNext(message);
        if (echoes.poll(5, TimeUnit.SECONDS) == null) {
          throw new IOException(
              "the gRPC echo did not answer within 5 s after "
                  + i
                  + " exchanges"
                  + (failure.get() == null ? "" : ": " + failure.get()));
        }
        if (i >= WARMUP_EXCHANGES) {
          grpc.record(System.nanoTime() - started);
        }
      }
      grpcCost = ProcessCpu.self().minus(start);
      requests.onCompleted();
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    int samples = PhysicalFloor.ROUND_TRIP_SAMPLES;
    return new CarrierCost(
        socket.percentileNanos(50),
        socketCost.cpuNanos() / socketExchanges,
        perExchange(socketCost.contextSwitches(), socketExchanges),
        grpc.percentileNanos(50),
        grpc.percentileNanos(99),
        grpcCost.cpuNanos() / samples,
        perExchange(grpcCost.contextSwitches(), samples),
        samples);
  }

  private static double perExchange(long switches, int exchanges) {
    return switches < 0 ? -1 : (double) switches / exchanges;
  }
}
