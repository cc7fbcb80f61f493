package io.paxcron.bench.log;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportTest {

  private static final CarrierCost CARRIER =
      new CarrierCost(20_000, 30_000, 2.0, 90_000, 300_000, 110_000, 4.5, 10_000);

  private static Report twoSystems() throws Exception {
    return new Report(
        "2026-01-02",
        "ops/bench/log/run",
        Map.of("cpus", "2"),
        BenchmarkOptions.parse(),
        Map.of("etcd", "3.4.23"),
        new PhysicalFloor(
            100_000, 200_000, 1_000, 20_000, 40_000, 10_000, 180_000, 500, 280_000, 500),
        CARRIER,
        List.of(
            new RunResult("etcd", 3, 16, 2_000, 1_000, 10, 20, 30, 11, 40, 100, 30, 6.5, 0.5),
            new RunResult("zookeeper", 3, 16, 1_000, 500, 20, 40, 60, 21, 80, 150, 40, 9.5, 7.25)),
        List.of());
  }

  @Test
  void jsonResultsCarryTheIssuesFieldsAndRatiosAgainstEtcd() throws Exception {
    String json = twoSystems().json();
    assertTrue(
        json.contains(
            "{\"system\": \"zookeeper\", \"replicas\": 3, \"clients\": 16, \"throughput_ops\": 500.0000, \"p50_ms\": 20.0000,"
                + " \"p99_ms\": 40.0000, \"p999_ms\": 60.0000, \"server_cpu_us_per_op\": 150.0000,"
                + " \"client_cpu_us_per_op\": 40.0000, \"server_switches_per_op\": 9.5000,"
                + " \"host_steal_pct\": 7.2500}"),
        json);
    assertTrue(json.contains("\"throughput_ratio\": 0.5000"), json);
    assertTrue(json.contains("\"fsync_plus_rtt_ms\": 0.1200"), json);
    assertTrue(json.contains("\"server_cpu_ratio\": 1.5000"), json);
    assertTrue(json.contains("\"fsync_pair_plus_rtt_ms\": 0.2000"), json);
    assertTrue(
        json.contains(
            "\"carrier\": {\"grpc_rtt_median_ms\": 0.0900, \"grpc_rtt_p99_ms\": 0.3000,"
                + " \"grpc_cpu_us_per_rtt\": 110.0000, \"grpc_switches_per_rtt\": 4.5000,"
                + " \"socket_rtt_median_ms\": 0.0200, \"socket_cpu_us_per_rtt\": 30.0000,"
                + " \"socket_switches_per_rtt\": 2.0000, \"samples\": 10000}"),
        json);
  }

  @Test
  void markdownNamesTheCarriersCostBesideThePlainSockets() throws Exception {
    String markdown = twoSystems().markdown();
    assertTrue(
        markdown.contains(
            "gRPC stream on loopback (median of 10000) 0.090 ms (p99 0.300 ms), 110.0 µs of CPU"
                + " and 4.5 context switches per round trip; over a plain TCP socket 0.020 ms,"
                + " 30.0 µs of CPU and 2.0 switches"),
        markdown);
  }

  @Test
  void markdownTableHasOneRowPerDataPoint() throws Exception {
    String markdown = twoSystems().markdown();
    assertTrue(
        markdown.contains(
            "| zookeeper | 3 | 16 | 500 | 20.000 | 40.000 | 60.000 | 80.000 | 0.50 | 2.00 | 0.50 | 2.00"
                + " | 2.00 | 150 | 40 | 9.5 | 1.50 |"),
        markdown);
  }

  /** A report of one Paxcron point on the floor of {@link #twoSystems}, with a triple beside it. */
  private static Report paxcronAlone(RunResult result) throws Exception {
    return new Report(
        "2026-01-02",
        "ops/bench/log/run",
        Map.of("cpus", "2"),
        BenchmarkOptions.parse(),
        Map.of(),
        new PhysicalFloor(
            100_000, 200_000, 1_000, 20_000, 40_000, 10_000, 180_000, 500, 280_000, 500),
        CARRIER,
        List.of(result),
        List.of());
  }

  @Test
  void cpuNotMeasuredIsShownAsUnknown() throws Exception {
    Report report =
        paxcronAlone(
            new RunResult(
                "paxcron",
                3,
                1,
                10,
                10,
                1,
                2,
                3,
                1,
                4,
                Double.NaN,
                Double.NaN,
                Double.NaN,
                Double.NaN));
    assertTrue(report.markdown().contains("| n/a | n/a | n/a | n/a |"), report.markdown());
    assertTrue(report.json().contains("\"server_cpu_us_per_op\": null"), report.json());
    assertTrue(
        report
            .markdown()
            .contains(
                "p50 = 8.33 × the floor, 5.00 × the paired floor, 5.00 × the quorum's floor (2"
                    + " appends forced at once)."),
        report.markdown());
  }

  @Test
  void aFiveReplicaSingleClientIsAlsoSetAgainstThreeSyncsAtOnce() throws Exception {
    Report report =
        paxcronAlone(
            new RunResult("paxcron", 5, 1, 10, 10, 0.9, 2, 3, 1, 4, 500, 20, 20.5, Double.NaN));
    String markdown = report.markdown();
    assertTrue(
        markdown.contains(
            "paxcron (5 replicas) at 1 client: p50 = 7.50 × the floor, 4.50 × the paired floor,"
                + " 3.00 × the quorum's floor (3 appends forced at once)."),
        markdown);
    assertTrue(
        markdown.contains(
            "Three at once, until all three are durable (median of 500): 0.280 ms; with the round"
                + " trip 0.300 ms."),
        markdown);
    String json = report.json();
    assertTrue(
        json.contains(
            "\"fsync_triple_median_ms\": 0.2800, \"fsync_triple_samples\": 500,"
                + " \"fsync_triple_plus_rtt_ms\": 0.3000}"),
        json);
    assertTrue(
        json.contains(
            "{\"system\": \"paxcron\", \"replicas\": 5, \"p50_x_floor\": 7.5000,"
                + " \"p50_x_paired_floor\": 4.5000, \"p50_x_quorum_floor\": 3.0000}"),
        json);
  }

  @Test
  void jsonStringsAreEscaped() {
    assertTrue(Report.string("a\"b\\c\n").equals("\"a\\\"b\\\\c\\n\""));
  }
}
