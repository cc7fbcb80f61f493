package io.paxcron.http;

import java.time.Duration;
import java.util.Objects;

/**
 * The limits and switches of one replica's HTTP server. Every bound is validated here, with a
 * message naming the setting.
 *
 * @param bindHost the address to listen on
 * @param port the TCP port (0 picks a free one; "off" is decided by the caller, which then builds
 *     no server)
 * @param handlerThreads threads serving requests, 1..{@value #MAX_HANDLER_THREADS}
 * @param maxQueuedRequests requests waiting for a thread before the accepting thread serves them
 *     itself (which stops it accepting: back-pressure into the TCP backlog), 1..{@value
 *     #MAX_QUEUED_REQUESTS_LIMIT}
 * @param ledgerWindow ledger records kept in memory for the Runs page and the outcome counts,
 *     1..{@value #MAX_LEDGER_WINDOW}
 * @param catalogMaxAge how old the cached job list may be before a page or scrape reads it again
 * @param healthDeadline how long {@code /healthz} waits for the replica's event loop
 * @param perJobMetrics whether {@code /metrics} carries one series per job (cardinality grows with
 *     the job count; off by default, as kube-state-metrics users learned)
 */
public record HttpSettings(
    String bindHost,
    int port,
    int handlerThreads,
    int maxQueuedRequests,
    int ledgerWindow,
    Duration catalogMaxAge,
    Duration healthDeadline,
    boolean perJobMetrics) {

  public static final int MAX_HANDLER_THREADS = 64;
  public static final int MAX_QUEUED_REQUESTS_LIMIT = 10_000;
  public static final int MAX_LEDGER_WINDOW = 100_000;

  public HttpSettings {
    Objects.requireNonNull(bindHost, "bindHost");
    Objects.requireNonNull(catalogMaxAge, "catalogMaxAge");
    Objects.requireNonNull(healthDeadline, "healthDeadline");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("http port " + port + " is outside 0..65535");
    }
    if (handlerThreads < 1 || handlerThreads > MAX_HANDLER_THREADS) {
      throw new IllegalArgumentException(
          "handlerThreads "
              + handlerThreads
              + " is outside 1.."
              + MAX_HANDLER_THREADS
              + " (MAX_HANDLER_THREADS)");
    }
    if (maxQueuedRequests < 1 || maxQueuedRequests > MAX_QUEUED_REQUESTS_LIMIT) {
      throw new IllegalArgumentException(
          "maxQueuedRequests "
              + maxQueuedRequests
              + " is outside 1.."
              + MAX_QUEUED_REQUESTS_LIMIT
              + " (MAX_QUEUED_REQUESTS_LIMIT)");
    }
    if (ledgerWindow < 1 || ledgerWindow > MAX_LEDGER_WINDOW) {
      throw new IllegalArgumentException(
          "ledgerWindow "
              + ledgerWindow
              + " is outside 1.."
              + MAX_LEDGER_WINDOW
              + " (MAX_LEDGER_WINDOW)");
    }
    if (catalogMaxAge.isNegative()) {
      throw new IllegalArgumentException(
          "catalogMaxAge must not be negative, got " + catalogMaxAge);
    }
    if (healthDeadline.isNegative() || healthDeadline.isZero()) {
      throw new IllegalArgumentException("healthDeadline must be positive, got " + healthDeadline);
    }
  }

  /** Defaults for a replica serving on {@code bindHost:port}. */
  public static HttpSettings defaults(String bindHost, int port) {
    return new HttpSettings(
        bindHost, port, 8, 256, 10_000, Duration.ofSeconds(1), Duration.ofSeconds(1), false);
  }

  public HttpSettings withPerJobMetrics(boolean enabled) {
    return new HttpSettings(
        bindHost,
        port,
        handlerThreads,
        maxQueuedRequests,
        ledgerWindow,
        catalogMaxAge,
        healthDeadline,
        enabled);
  }
}
