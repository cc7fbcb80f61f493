package io.paxcron.bench.log;

/**
 * One data point: a system of {@code replicas} replicas under a number of closed-loop clients for
 * the measured window.
 */
record RunResult(
    String system,
    int replicas,
    int clients,
    long operations,
    double throughputOps,
    double p50Millis,
    double p99Millis,
    double p999Millis,
    double meanMillis,
    double maxMillis) {

  static RunResult of(
      String system, int replicas, int clients, LatencyHistogram latencies, long measuredNanos) {
    return new RunResult(
        system,
        replicas,
        clients,
        latencies.count(),
        latencies.count() / (measuredNanos / 1e9),
        millis(latencies.percentileNanos(50)),
        millis(latencies.percentileNanos(99)),
        millis(latencies.percentileNanos(99.9)),
        latencies.meanNanos() / 1e6,
        millis(latencies.maxNanos()));
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }
}
