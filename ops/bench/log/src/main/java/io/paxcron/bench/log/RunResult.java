package io.paxcron.bench.log;

/**
 * One data point: a system of {@code replicas} replicas under a number of closed-loop clients for
 * the measured window. The CPU figures are per command measured, over the same window: the system's
 * server processes together, and the benchmark's own JVM (the clients and the system's client
 * library); {@code NaN} where not measured. {@code hostStealPercent} is the share of the machine's
 * CPU time the hypervisor took during the window ({@link HostSteal}).
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
    double maxMillis,
    double serverCpuMicrosPerOp,
    double clientCpuMicrosPerOp,
    double serverSwitchesPerOp,
    double hostStealPercent) {

  static RunResult of(
      String system,
      int replicas,
      int clients,
      LatencyHistogram latencies,
      long measuredNanos,
      ProcessCpu servers,
      ProcessCpu client,
      double hostStealPercent) {
    long operations = latencies.count();
    return new RunResult(
        system,
        replicas,
        clients,
        operations,
        operations / (measuredNanos / 1e9),
        millis(latencies.percentileNanos(50)),
        millis(latencies.percentileNanos(99)),
        millis(latencies.percentileNanos(99.9)),
        latencies.meanNanos() / 1e6,
        millis(latencies.maxNanos()),
        perOperation(servers.cpuNanos() / 1e3, operations),
        perOperation(client.cpuNanos() / 1e3, operations),
        servers.contextSwitches() < 0
            ? Double.NaN
            : perOperation(servers.contextSwitches(), operations),
        hostStealPercent);
  }

  private static double perOperation(double total, long operations) {
    return operations == 0 ? Double.NaN : total / operations;
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }
}
