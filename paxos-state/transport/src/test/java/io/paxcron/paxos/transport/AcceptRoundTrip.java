package io.paxcron.paxos.transport;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Measures one Accept→Accepted round trip over the Replicate stream between two transports on
 * loopback, one at a time (no pipelining): the transport's share of the commit-latency floor. Each
 * replica's "event loop" is a single thread that takes what arrived and answers, as the real driver
 * will; the core and the disk are left out.
 *
 * <p>A program, not a test. Usage: {@code AcceptRoundTrip [roundTrips] [payloadBytes]}.
 */
public final class AcceptRoundTrip {

  private AcceptRoundTrip() {}

  public static void main(String[] args) throws Exception {
    int roundTrips = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int payloadBytes = args.length > 1 ? Integer.parseInt(args[1]) : 256;
    int warmUp = Math.max(2_000, roundTrips / 2);
    int port1 = Loopback.freePort();
    int port2 = Loopback.freePort();
    LinkedBlockingQueue<Message> leaderInbox = new LinkedBlockingQueue<>();
    ExecutorService followerLoop = Executors.newSingleThreadExecutor();
    TransportOptions options = TransportOptions.defaults();
    byte[] payload = new byte[payloadBytes];
    new SplittableRandom(1).nextBytes(payload);
    Ballot ballot = new Ballot(1, 1);

    try (PeerTransport leader =
            new PeerTransport(
                1,
                "bench",
                Map.of(2, Loopback.local(port2)),
                port1,
                Optional.empty(),
                options,
                new SplittableRandom(1),
                TransportListener.NONE);
        PeerTransport follower =
            new PeerTransport(
                2,
                "bench",
                Map.of(1, Loopback.local(port1)),
                port2,
                Optional.empty(),
                options,
                new SplittableRandom(2),
                TransportListener.NONE)) {
      leader.start((from, message, mayRunHere) -> leaderInbox.add(message));
      follower.start(
          (from, message, mayRunHere) ->
              followerLoop.execute(
                  () -> {
                    Message.Accept accept = (Message.Accept) message;
                    follower.send(
                        new Envelope(
                            ReplicaId.of(2),
                            ReplicaId.of(1),
                            new Message.Accepted(
                                accept.ballot(),
                                List.of(accept.entries().getFirst().slot()),
                                1,
                                accept.sentAtMillis(),
                                accept.probe())));
                  }));

      long[] nanos = new long[roundTrips];
      for (int i = 0; i < warmUp + roundTrips; i++) {
        Message.Accept accept =
            new Message.Accept(
                ballot,
                List.of(
                    new LogEntry(
                        i + 1,
                        ballot,
                        new Value.Batch(List.of(new Command(7, i + 1, payload))),
                        false)),
                1,
                i,
                i);
        long start = System.nanoTime();
        leader.send(new Envelope(ReplicaId.of(1), ReplicaId.of(2), accept));
        Message reply = leaderInbox.poll(10, TimeUnit.SECONDS);
        long elapsed = System.nanoTime() - start;
        if (!(reply instanceof Message.Accepted accepted) || accepted.probe() != i) {
          throw new IllegalStateException("round trip " + i + " got " + reply);
        }
        if (i >= warmUp) {
          nanos[i - warmUp] = elapsed;
        }
      }
      Arrays.sort(nanos);
      System.out.printf(
          "Accept->Accepted over the Replicate stream, loopback, plaintext, %d-byte command,"
              + " %d round trips after %d warm-up:%n  median %.1f us, p90 %.1f us, p99 %.1f us,"
              + " p99.9 %.1f us, min %.1f us%n",
          payloadBytes,
          roundTrips,
          warmUp,
          micros(nanos, 0.50),
          micros(nanos, 0.90),
          micros(nanos, 0.99),
          micros(nanos, 0.999),
          nanos[0] / 1_000.0);
    } finally {
      followerLoop.shutdownNow();
    }
  }

  private static double micros(long[] sorted, double quantile) {
    return sorted[(int) Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))]
        / 1_000.0;
  }
}
