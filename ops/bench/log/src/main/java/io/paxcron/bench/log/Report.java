package io.paxcron.bench.log;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The results as a Markdown table (for docs/performance.md) and as JSON (for
 * docs/benchmarks/log-YYYY-MM-DD.json). Ratios are against etcd at the same client count.
 */
record Report(
    String date,
    String command,
    Map<String, String> machine,
    BenchmarkOptions options,
    Map<String, String> versions,
    PhysicalFloor floor,
    CarrierCost carrier,
    List<RunResult> results,
    List<String> failures) {

  Optional<RunResult> etcdAt(int replicas, int clients) {
    return results.stream()
        .filter(
            r -> r.system().equals("etcd") && r.replicas() == replicas && r.clients() == clients)
        .findFirst();
  }

  /**
   * The other systems' results at the same cluster size and client count: the best peer's
   * throughput and, separately, the lowest p50, p99 and server CPU per command among them (the
   * issue's targets, and the cost they come at).
   */
  Optional<RunResult> bestPeerOf(RunResult r) {
    List<RunResult> peers =
        results.stream()
            .filter(
                p ->
                    !p.system().equals(r.system())
                        && p.replicas() == r.replicas()
                        && p.clients() == r.clients())
            .toList();
    if (peers.isEmpty()) {
      return Optional.empty();
    }
    RunResult best = peers.getFirst();
    double p50 = best.p50Millis();
    double p99 = best.p99Millis();
    double serverCpu = Double.NaN;
    for (RunResult p : peers) {
      if (p.throughputOps() > best.throughputOps()) {
        best = p;
      }
      p50 = Math.min(p50, p.p50Millis());
      p99 = Math.min(p99, p.p99Millis());
      if (!Double.isNaN(p.serverCpuMicrosPerOp()) && !(p.serverCpuMicrosPerOp() >= serverCpu)) {
        serverCpu = p.serverCpuMicrosPerOp();
      }
    }
    return Optional.of(
        new RunResult(
            "best peer",
            best.replicas(),
            best.clients(),
            best.operations(),
            best.throughputOps(),
            p50,
            p99,
            best.p999Millis(),
            best.meanMillis(),
            best.maxMillis(),
            serverCpu,
            Double.NaN,
            Double.NaN,
            Double.NaN));
  }

  String markdown() {
    StringBuilder out = new StringBuilder();
    out.append("### Replicated log: closed-loop ")
        .append(LogBenchmark.VALUE_BYTES)
        .append("-byte writes, ")
        .append(options.replicaCounts().stream().map(String::valueOf).toList())
        .append(" replicas on loopback, fsync on\n\n");
    out.append("Run ").append(date).append(": `").append(command).append("`  \n");
    out.append("Machine: ");
    machine.forEach((key, value) -> out.append(key).append(' ').append(value).append("; "));
    out.append("  \nVersions: ");
    versions.forEach((key, value) -> out.append(key).append(" = ").append(value).append("; "));
    out.append("\n\n");
    out.append(
        "| system | replicas | clients | throughput (ops/s) | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | throughput × etcd | p99 × etcd | throughput × best peer | p50 × best peer | p99 × best peer | server CPU (µs/op) | client CPU (µs/op) | server switches/op | server CPU × best peer | host steal (%) |\n");
    out.append(
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (RunResult r : results) {
      Optional<RunResult> etcd = etcdAt(r.replicas(), r.clients());
      Optional<RunResult> best = bestPeerOf(r);
      out.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %d | %.0f | %.3f | %.3f | %.3f | %.3f | %s | %s | %s | %s | %s | %s | %s | %s"
                  + " | %s | %s |%n",
              r.system(),
              r.replicas(),
              r.clients(),
              r.throughputOps(),
              r.p50Millis(),
              r.p99Millis(),
              r.p999Millis(),
              r.maxMillis(),
              etcd.map(e -> ratio(r.throughputOps(), e.throughputOps())).orElse("n/a"),
              etcd.map(e -> ratio(r.p99Millis(), e.p99Millis())).orElse("n/a"),
              best.map(b -> ratio(r.throughputOps(), b.throughputOps())).orElse("n/a"),
              best.map(b -> ratio(r.p50Millis(), b.p50Millis())).orElse("n/a"),
              best.map(b -> ratio(r.p99Millis(), b.p99Millis())).orElse("n/a"),
              fixed(r.serverCpuMicrosPerOp(), "%.0f"),
              fixed(r.clientCpuMicrosPerOp(), "%.0f"),
              fixed(r.serverSwitchesPerOp(), "%.1f"),
              best.map(b -> ratio(r.serverCpuMicrosPerOp(), b.serverCpuMicrosPerOp()))
                  .orElse("n/a"),
              fixed(r.hostStealPercent(), "%.1f")));
    }
    out.append(
        String.format(
            Locale.ROOT,
            "%nPhysical floor: fsync of a %d-byte append (median of %d) %.3f ms (p99 %.3f ms); "
                + "loopback TCP round trip (median of %d) %.3f ms (p99 %.3f ms); sum %.3f ms."
                + " Two such appends forced at once from two threads on the same disk, until"
                + " both are durable (median of %d): %.3f ms; with the round trip %.3f ms. Three"
                + " at once, until all three are durable (median of %d): %.3f ms; with the round"
                + " trip %.3f ms.%n",
            PhysicalFloor.PAYLOAD_BYTES,
            floor.fsyncSamples(),
            floor.fsyncMedianNanos() / 1e6,
            floor.fsyncP99Nanos() / 1e6,
            floor.roundTripSamples(),
            floor.roundTripMedianNanos() / 1e6,
            floor.roundTripP99Nanos() / 1e6,
            floor.sumOfMediansNanos() / 1e6,
            floor.fsyncPairSamples(),
            floor.fsyncPairMedianNanos() / 1e6,
            floor.pairSumOfMediansNanos() / 1e6,
            floor.fsyncTripleSamples(),
            floor.fsyncTripleMedianNanos() / 1e6,
            floor.tripleSumOfMediansNanos() / 1e6));
    out.append(
        String.format(
            Locale.ROOT,
            "Carrier: a %d-byte message echoed over one gRPC stream on loopback (median of %d)"
                + " %.3f ms (p99 %.3f ms), %.1f µs of CPU and %.1f context switches per round trip;"
                + " over a plain TCP socket %.3f ms, %.1f µs of CPU and %.1f switches (both ends"
                + " in the benchmark's JVM).%n",
            PhysicalFloor.PAYLOAD_BYTES,
            carrier.samples(),
            carrier.grpcMedianNanos() / 1e6,
            carrier.grpcP99Nanos() / 1e6,
            carrier.grpcCpuNanos() / 1e3,
            carrier.grpcSwitches(),
            carrier.socketMedianNanos() / 1e6,
            carrier.socketCpuNanos() / 1e3,
            carrier.socketSwitches()));
    for (RunResult r : results) {
      if (r.clients() == 1) {
        out.append(
            String.format(
                Locale.ROOT,
                "%s (%d replicas) at 1 client: p50 = %.2f × the floor, %.2f × the paired"
                    + " floor, %.2f × the quorum's floor (%d appends forced at once).%n",
                r.system(),
                r.replicas(),
                r.p50Millis() / (floor.sumOfMediansNanos() / 1e6),
                r.p50Millis() / (floor.pairSumOfMediansNanos() / 1e6),
                r.p50Millis() / (floor.quorumSumOfMediansNanos(r.replicas()) / 1e6),
                r.replicas() / 2 + 1));
      }
    }
    for (String failure : failures) {
      out.append("\nFAILED: ").append(failure).append('\n');
    }
    return out.toString();
  }

  String json() {
    StringBuilder out = new StringBuilder();
    out.append("{\n");
    out.append("  \"date\": ").append(string(date)).append(",\n");
    out.append("  \"command\": ").append(string(command)).append(",\n");
    out.append("  \"machine\": ").append(object(machine)).append(",\n");
    out.append("  \"settings\": {")
        .append("\"warmup_s\": ")
        .append(options.warmupSeconds())
        .append(", \"prime_s\": ")
        .append(options.primeSeconds())
        .append(", \"seconds\": ")
        .append(options.measureSeconds())
        .append(", \"value_bytes\": ")
        .append(LogBenchmark.VALUE_BYTES)
        .append(", \"replicas\": ")
        .append(options.replicaCounts())
        .append(", \"connections\": ")
        .append(options.connections())
        .append(", \"fsync\": true")
        .append("},\n");
    out.append("  \"versions\": ").append(object(versions)).append(",\n");
    out.append("  \"floor\": {")
        .append("\"fsync_median_ms\": ")
        .append(number(floor.fsyncMedianNanos() / 1e6))
        .append(", \"fsync_p99_ms\": ")
        .append(number(floor.fsyncP99Nanos() / 1e6))
        .append(", \"fsync_samples\": ")
        .append(floor.fsyncSamples())
        .append(", \"loopback_rtt_median_ms\": ")
        .append(number(floor.roundTripMedianNanos() / 1e6))
        .append(", \"loopback_rtt_p99_ms\": ")
        .append(number(floor.roundTripP99Nanos() / 1e6))
        .append(", \"loopback_rtt_samples\": ")
        .append(floor.roundTripSamples())
        .append(", \"fsync_plus_rtt_ms\": ")
        .append(number(floor.sumOfMediansNanos() / 1e6))
        .append(", \"fsync_pair_median_ms\": ")
        .append(number(floor.fsyncPairMedianNanos() / 1e6))
        .append(", \"fsync_pair_samples\": ")
        .append(floor.fsyncPairSamples())
        .append(", \"fsync_pair_plus_rtt_ms\": ")
        .append(number(floor.pairSumOfMediansNanos() / 1e6))
        .append(", \"fsync_triple_median_ms\": ")
        .append(number(floor.fsyncTripleMedianNanos() / 1e6))
        .append(", \"fsync_triple_samples\": ")
        .append(floor.fsyncTripleSamples())
        .append(", \"fsync_triple_plus_rtt_ms\": ")
        .append(number(floor.tripleSumOfMediansNanos() / 1e6))
        .append("},\n");
    out.append("  \"carrier\": {")
        .append("\"grpc_rtt_median_ms\": ")
        .append(number(carrier.grpcMedianNanos() / 1e6))
        .append(", \"grpc_rtt_p99_ms\": ")
        .append(number(carrier.grpcP99Nanos() / 1e6))
        .append(", \"grpc_cpu_us_per_rtt\": ")
        .append(number(carrier.grpcCpuNanos() / 1e3))
        .append(", \"grpc_switches_per_rtt\": ")
        .append(number(carrier.grpcSwitches()))
        .append(", \"socket_rtt_median_ms\": ")
        .append(number(carrier.socketMedianNanos() / 1e6))
        .append(", \"socket_cpu_us_per_rtt\": ")
        .append(number(carrier.socketCpuNanos() / 1e3))
        .append(", \"socket_switches_per_rtt\": ")
        .append(number(carrier.socketSwitches()))
        .append(", \"samples\": ")
        .append(carrier.samples())
        .append("},\n");
    out.append("  \"results\": [");
    for (int i = 0; i < results.size(); i++) {
      RunResult r = results.get(i);
      out.append(i == 0 ? "\n" : ",\n")
          .append("    {\"system\": ")
          .append(string(r.system()))
          .append(", \"replicas\": ")
          .append(r.replicas())
          .append(", \"clients\": ")
          .append(r.clients())
          .append(", \"throughput_ops\": ")
          .append(number(r.throughputOps()))
          .append(", \"p50_ms\": ")
          .append(number(r.p50Millis()))
          .append(", \"p99_ms\": ")
          .append(number(r.p99Millis()))
          .append(", \"p999_ms\": ")
          .append(number(r.p999Millis()))
          .append(", \"server_cpu_us_per_op\": ")
          .append(number(r.serverCpuMicrosPerOp()))
          .append(", \"client_cpu_us_per_op\": ")
          .append(number(r.clientCpuMicrosPerOp()))
          .append(", \"server_switches_per_op\": ")
          .append(number(r.serverSwitchesPerOp()))
          .append(", \"host_steal_pct\": ")
          .append(number(r.hostStealPercent()))
          .append('}');
    }
    out.append(results.isEmpty() ? "],\n" : "\n  ],\n");
    out.append("  \"ratios_vs_etcd\": [");
    boolean first = true;
    for (RunResult r : results) {
      Optional<RunResult> etcd = etcdAt(r.replicas(), r.clients());
      if (etcd.isEmpty()) {
        continue;
      }
      RunResult e = etcd.get();
      out.append(first ? "\n" : ",\n")
          .append("    {\"system\": ")
          .append(string(r.system()))
          .append(", \"replicas\": ")
          .append(r.replicas())
          .append(", \"clients\": ")
          .append(r.clients())
          .append(", \"throughput_ratio\": ")
          .append(number(r.throughputOps() / e.throughputOps()))
          .append(", \"p50_ratio\": ")
          .append(number(r.p50Millis() / e.p50Millis()))
          .append(", \"p99_ratio\": ")
          .append(number(r.p99Millis() / e.p99Millis()))
          .append(", \"p999_ratio\": ")
          .append(number(r.p999Millis() / e.p999Millis()))
          .append('}');
      first = false;
    }
    out.append(first ? "],\n" : "\n  ],\n");
    out.append("  \"ratios_vs_best_peer\": [");
    first = true;
    for (RunResult r : results) {
      Optional<RunResult> best = bestPeerOf(r);
      if (best.isEmpty()) {
        continue;
      }
      RunResult b = best.get();
      out.append(first ? "\n" : ",\n")
          .append("    {\"system\": ")
          .append(string(r.system()))
          .append(", \"replicas\": ")
          .append(r.replicas())
          .append(", \"clients\": ")
          .append(r.clients())
          .append(", \"throughput_ratio\": ")
          .append(number(r.throughputOps() / b.throughputOps()))
          .append(", \"p50_ratio\": ")
          .append(number(r.p50Millis() / b.p50Millis()))
          .append(", \"p99_ratio\": ")
          .append(number(r.p99Millis() / b.p99Millis()))
          .append(", \"server_cpu_ratio\": ")
          .append(number(r.serverCpuMicrosPerOp() / b.serverCpuMicrosPerOp()))
          .append('}');
      first = false;
    }
    out.append(first ? "],\n" : "\n  ],\n");
    out.append("  \"floor_ratios\": [");
    first = true;
    for (RunResult r : results) {
      if (r.clients() != 1) {
        continue;
      }
      out.append(first ? "\n" : ",\n")
          .append("    {\"system\": ")
          .append(string(r.system()))
          .append(", \"replicas\": ")
          .append(r.replicas())
          .append(", \"p50_x_floor\": ")
          .append(number(r.p50Millis() / (floor.sumOfMediansNanos() / 1e6)))
          .append(", \"p50_x_paired_floor\": ")
          .append(number(r.p50Millis() / (floor.pairSumOfMediansNanos() / 1e6)))
          .append(", \"p50_x_quorum_floor\": ")
          .append(number(r.p50Millis() / (floor.quorumSumOfMediansNanos(r.replicas()) / 1e6)))
          .append('}');
      first = false;
    }
    out.append(first ? "],\n" : "\n  ],\n");
    out.append("  \"failures\": [");
    for (int i = 0; i < failures.size(); i++) {
      out.append(i == 0 ? "" : ", ").append(string(failures.get(i)));
    }
    out.append("]\n}\n");
    return out.toString();
  }

  private static String ratio(double value, double etcd) {
    return etcd == 0 || Double.isNaN(value / etcd)
        ? "n/a"
        : String.format(Locale.ROOT, "%.2f", value / etcd);
  }

  private static String fixed(double value, String format) {
    return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, format, value);
  }

  private static String number(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return "null";
    }
    return String.format(Locale.ROOT, "%.4f", value);
  }

  private static String object(Map<String, String> entries) {
    StringBuilder out = new StringBuilder("{");
    entries.forEach(
        (key, value) ->
            out.append(out.length() == 1 ? "" : ", ")
                .append(string(key))
                .append(": ")
                .append(string(value)));
    return out.append('}').toString();
  }

  static String string(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
