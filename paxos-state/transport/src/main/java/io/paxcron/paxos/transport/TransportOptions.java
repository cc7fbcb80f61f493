package io.paxcron.paxos.transport;

import java.time.Duration;

/**
 * Deadlines, backoff and limits of a {@link PeerTransport}. Every limit is named and validated
 * here; an invalid value is rejected with the setting's name and the reason.
 *
 * @param prepareDeadline how long a candidate waits for the answer to one Prepare
 * @param catchUpDeadline how long one catch-up transfer may take, snapshot included; also how long
 *     a peer with nothing to send keeps the call open
 * @param reconnectInitialBackoff the wait after the first failure of a link to a peer
 * @param reconnectMaxBackoff the cap of the doubling wait between attempts
 * @param reconnectJitter the largest fraction, in [0, 1], by which a wait is randomly shortened
 * @param maxQueuedAcceptsPerPeer Accepts waiting for a stream to a peer; the oldest is dropped
 * @param maxQueuedRepliesPerPeer Accepted/Rejected replies waiting on a peer's stream; the oldest
 *     is dropped
 * @param maxPendingPreparesPerPeer unanswered Prepare calls per peer, each way; the oldest is
 *     cancelled
 * @param maxPendingCatchUpsPerPeer unfinished catch-up calls per peer, each way; the oldest is
 *     cancelled
 * @param snapshotChunkBytes the most image bytes in one snapshot part
 * @param maxMessageBytes the largest message this transport accepts; must exceed the largest Accept
 *     or Promise the core can produce and {@code snapshotChunkBytes} plus framing
 * @param maxSnapshotBytes the largest snapshot image this transport reassembles
 * @param maxCatchUpEntries the most chosen entries one catch-up transfer may carry
 * @param keepAliveTime how long a connection may be idle before an HTTP/2 ping checks it (at least
 *     10 s, gRPC's floor); detects a dead peer under a stream that is only written to
 * @param keepAliveTimeout how long an unanswered ping takes to declare the connection dead
 * @param shutdownGrace how long {@link PeerTransport#close} waits for calls to end
 */
public record TransportOptions(
    Duration prepareDeadline,
    Duration catchUpDeadline,
    Duration reconnectInitialBackoff,
    Duration reconnectMaxBackoff,
    double reconnectJitter,
    int maxQueuedAcceptsPerPeer,
    int maxQueuedRepliesPerPeer,
    int maxPendingPreparesPerPeer,
    int maxPendingCatchUpsPerPeer,
    int snapshotChunkBytes,
    int maxMessageBytes,
    long maxSnapshotBytes,
    int maxCatchUpEntries,
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    Duration shutdownGrace) {

  /** Room for the fields of a snapshot part besides its data. */
  public static final int CHUNK_FRAMING_BYTES = 1024;

  public static final int MAX_QUEUE = 1 << 20;
  public static final int MAX_PENDING_CALLS = 1024;
  public static final int MIN_CHUNK_BYTES = 1024;
  public static final long MAX_SNAPSHOT_BYTES = Integer.MAX_VALUE - 8;
  public static final Duration MIN_KEEP_ALIVE_TIME = Duration.ofSeconds(10);

  public TransportOptions {
    requirePositive("prepareDeadline", prepareDeadline);
    requirePositive("catchUpDeadline", catchUpDeadline);
    requirePositive("reconnectInitialBackoff", reconnectInitialBackoff);
    requirePositive("reconnectMaxBackoff", reconnectMaxBackoff);
    if (reconnectMaxBackoff.compareTo(reconnectInitialBackoff) < 0) {
      throw new IllegalArgumentException(
          "reconnectMaxBackoff "
              + reconnectMaxBackoff
              + " must be >= reconnectInitialBackoff "
              + reconnectInitialBackoff);
    }
    if (!(reconnectJitter >= 0 && reconnectJitter <= 1)) {
      throw new IllegalArgumentException(
          "reconnectJitter must be in [0, 1], got " + reconnectJitter);
    }
    requireIn("maxQueuedAcceptsPerPeer", maxQueuedAcceptsPerPeer, 1, MAX_QUEUE);
    requireIn("maxQueuedRepliesPerPeer", maxQueuedRepliesPerPeer, 1, MAX_QUEUE);
    requireIn("maxPendingPreparesPerPeer", maxPendingPreparesPerPeer, 1, MAX_PENDING_CALLS);
    requireIn("maxPendingCatchUpsPerPeer", maxPendingCatchUpsPerPeer, 1, MAX_PENDING_CALLS);
    requireIn(
        "snapshotChunkBytes",
        snapshotChunkBytes,
        MIN_CHUNK_BYTES,
        Integer.MAX_VALUE - CHUNK_FRAMING_BYTES);
    if (maxMessageBytes < snapshotChunkBytes + CHUNK_FRAMING_BYTES) {
      throw new IllegalArgumentException(
          "maxMessageBytes "
              + maxMessageBytes
              + " must be >= snapshotChunkBytes + "
              + CHUNK_FRAMING_BYTES
              + " = "
              + ((long) snapshotChunkBytes + CHUNK_FRAMING_BYTES));
    }
    requireIn("maxSnapshotBytes", maxSnapshotBytes, 1, MAX_SNAPSHOT_BYTES);
    requireIn("maxCatchUpEntries", maxCatchUpEntries, 1, Integer.MAX_VALUE);
    requirePositive("keepAliveTime", keepAliveTime);
    if (keepAliveTime.compareTo(MIN_KEEP_ALIVE_TIME) < 0) {
      throw new IllegalArgumentException(
          "keepAliveTime must be >= " + MIN_KEEP_ALIVE_TIME + ", got " + keepAliveTime);
    }
    requirePositive("keepAliveTimeout", keepAliveTimeout);
    requirePositive("shutdownGrace", shutdownGrace);
  }

  /** Defaults for replicas in one data centre. */
  public static TransportOptions defaults() {
    return new TransportOptions(
        Duration.ofSeconds(1),
        Duration.ofSeconds(60),
        Duration.ofMillis(50),
        Duration.ofSeconds(5),
        0.5,
        1024,
        1024,
        8,
        2,
        1 << 20,
        16 << 20,
        1L << 30,
        100_000,
        Duration.ofSeconds(10),
        Duration.ofSeconds(5),
        Duration.ofSeconds(5));
  }

  public TransportOptions withDeadlines(Duration prepare, Duration catchUp) {
    return new TransportOptions(
        prepare,
        catchUp,
        reconnectInitialBackoff,
        reconnectMaxBackoff,
        reconnectJitter,
        maxQueuedAcceptsPerPeer,
        maxQueuedRepliesPerPeer,
        maxPendingPreparesPerPeer,
        maxPendingCatchUpsPerPeer,
        snapshotChunkBytes,
        maxMessageBytes,
        maxSnapshotBytes,
        maxCatchUpEntries,
        keepAliveTime,
        keepAliveTimeout,
        shutdownGrace);
  }

  public TransportOptions withBackoff(Duration initial, Duration max, double jitter) {
    return new TransportOptions(
        prepareDeadline,
        catchUpDeadline,
        initial,
        max,
        jitter,
        maxQueuedAcceptsPerPeer,
        maxQueuedRepliesPerPeer,
        maxPendingPreparesPerPeer,
        maxPendingCatchUpsPerPeer,
        snapshotChunkBytes,
        maxMessageBytes,
        maxSnapshotBytes,
        maxCatchUpEntries,
        keepAliveTime,
        keepAliveTimeout,
        shutdownGrace);
  }

  public TransportOptions withQueueLimits(int acceptsPerPeer, int repliesPerPeer) {
    return new TransportOptions(
        prepareDeadline,
        catchUpDeadline,
        reconnectInitialBackoff,
        reconnectMaxBackoff,
        reconnectJitter,
        acceptsPerPeer,
        repliesPerPeer,
        maxPendingPreparesPerPeer,
        maxPendingCatchUpsPerPeer,
        snapshotChunkBytes,
        maxMessageBytes,
        maxSnapshotBytes,
        maxCatchUpEntries,
        keepAliveTime,
        keepAliveTimeout,
        shutdownGrace);
  }

  public TransportOptions withSnapshotLimits(int chunkBytes, int messageBytes, long snapshotBytes) {
    return new TransportOptions(
        prepareDeadline,
        catchUpDeadline,
        reconnectInitialBackoff,
        reconnectMaxBackoff,
        reconnectJitter,
        maxQueuedAcceptsPerPeer,
        maxQueuedRepliesPerPeer,
        maxPendingPreparesPerPeer,
        maxPendingCatchUpsPerPeer,
        chunkBytes,
        messageBytes,
        snapshotBytes,
        maxCatchUpEntries,
        keepAliveTime,
        keepAliveTimeout,
        shutdownGrace);
  }

  private static void requirePositive(String name, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be a positive duration, got " + value);
    }
  }

  private static void requireIn(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be in [" + min + ", " + max + "], got " + value);
    }
  }
}
