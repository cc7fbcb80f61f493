package io.paxcron.fault.checker;

import io.paxcron.fault.checker.FaultChecker.Anomaly;
import io.paxcron.fault.checker.FaultChecker.Counts;
import io.paxcron.fault.checker.FaultChecker.Gap;
import io.paxcron.fault.checker.FaultChecker.Lateness;
import io.paxcron.fault.checker.FaultChecker.Result;
import io.paxcron.fault.checker.RunData.Fault;
import io.paxcron.fault.checker.RunData.Op;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a checked run's report into its directory: {@code report.md} (summary table, every anomaly
 * with its evidence, the fault schedule) and three SVG plots — client latency and launch lateness
 * over time with the fault windows shaded, and launches per second.
 */
public final class FaultReport {
  /** Anomalies listed with their evidence; the rest are counted (they are all in the counts). */
  static final int MAX_ANOMALIES_SHOWN = 200;

  private FaultReport() {}

  public static void write(Path dir, RunData data, Result result) throws IOException {
    long start = data.startMillis();
    double end = (Math.max(data.readMillis(), data.healMillis()) - start) / 1000.0;
    List<SvgPlot.Window> windows = new ArrayList<>();
    for (Fault fault : data.faults()) {
      windows.add(
          new SvgPlot.Window(
              (fault.startMillis() - start) / 1000.0,
              (fault.endMillis() - start) / 1000.0,
              fault.family() + " " + fault.kind() + " " + fault.target()));
    }

    SvgPlot latency =
        new SvgPlot("Client operation latency (churn jobs)", "latency, ms (log)", true);
    Map<String, List<Op>> byResult = RunData.group(data.history(), Op::result);
    for (String result1 : List.of("ok", "fail", "info")) {
      List<double[]> points = new ArrayList<>();
      for (Op op : byResult.getOrDefault(result1, List.of())) {
        long returned = op.pending() ? op.callMicros() : op.returnMicros();
        points.add(
            new double[] {
              (op.callMicros() / 1000.0 - start) / 1000.0,
              op.pending() ? 0.1 : (returned - op.callMicros()) / 1000.0
            });
      }
      latency.add(
          new SvgPlot.Series(
              switch (result1) {
                case "ok" -> "ok";
                case "fail" -> "definite failure";
                default -> "outcome unknown (drawn at the bottom)";
              },
              points,
              false));
    }
    windows.forEach(latency::shade);

    SvgPlot lateness =
        new SvgPlot("Launch lateness: command start minus scheduled instant", "ms (log)", true);
    List<double[]> healthy = new ArrayList<>();
    List<double[]> faulty = new ArrayList<>();
    for (Lateness sample : result.lateness()) {
      double[] point = {(sample.instantMillis() - start) / 1000.0, sample.lateMillis()};
      (sample.faulty() ? faulty : healthy).add(point);
    }
    lateness.add(new SvgPlot.Series("instant in a healthy period", healthy, false));
    lateness.add(
        new SvgPlot.Series("instant inside a fault window or the 10 s after", faulty, false));
    windows.forEach(lateness::shade);

    SvgPlot perSecond = new SvgPlot("Launches per second (command starts)", "launches", false);
    List<double[]> rate = new ArrayList<>();
    Long first = null;
    for (Map.Entry<Long, Integer> second : result.launchesPerSecond().entrySet()) {
      first = first == null ? second.getKey() : first;
      rate.add(new double[] {second.getKey() - start / 1000.0, second.getValue()});
    }
    perSecond.add(new SvgPlot.Series("launches per second", rate, true));
    windows.forEach(perSecond::shade);

    Files.writeString(dir.resolve("latency.svg"), latency.render(end), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("lateness.svg"), lateness.render(end), StandardCharsets.UTF_8);
    Files.writeString(
        dir.resolve("launches-per-second.svg"), perSecond.render(end), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("report.md"), markdown(data, result), StandardCharsets.UTF_8);
  }

  static String markdown(RunData data, Result result) {
    Counts c = result.counts();
    StringBuilder md = new StringBuilder();
    md.append("# Fault run, seed ")
        .append(data.run().getProperty("seed"))
        .append("\n\n")
        .append("`")
        .append(data.run().getProperty("command", "ops/fault/run"))
        .append("`\n\n")
        .append("Started ")
        .append(Instant.ofEpochMilli(data.startMillis()))
        .append(", nemeses `")
        .append(data.run().getProperty("nemeses"))
        .append("`, ")
        .append(data.run().getProperty("minutes"))
        .append(" min of faults, healed at ")
        .append(Instant.ofEpochMilli(data.healMillis()))
        .append(", ledger read at ")
        .append(Instant.ofEpochMilli(data.readMillis()))
        .append(". ")
        .append(data.run().getProperty("setup", ""))
        .append("\n\n```\n")
        .append(FaultChecker.summaryLine(data, result))
        .append("\n```\n\n## Summary\n\n| what | count |\n|---|---:|\n");
    row(md, "job changes attempted", c.attempted());
    row(md, "acknowledged", c.acknowledged());
    row(md, "ok (acknowledged and not lost)", c.ok());
    row(md, "**lost** (acknowledged, certainly last, not in the final state)", c.lost());
    row(md, "outcome unknown to the client", c.unknownOutcome());
    row(md, "recovered (outcome unknown, later read)", c.recovered());
    row(md, "unexpected (read, never written)", c.unexpected());
    row(md, "lease reads (gets)", c.reads());
    md.append("| linearizability of the job history | ").append(c.linearizability()).append(" |\n");
    row(md, "launches (command starts)", c.launches());
    row(md, "**duplicated** runs", c.duplicated());
    row(md, "launches without a ledger record", c.launchesWithoutRecord());
    row(md, "SUCCEEDED records without a launch", c.successesWithoutLaunch());
    row(md, "instants expected", c.instantsExpected());
    row(md, "instants accounted (one record or open run)", c.instantsAccounted());
    row(md, "…of which still open at the read", c.instantsOpen());
    row(md, "instants doubled", c.instantsDoubled());
    row(md, "**instants missing** (unaccounted)", c.instantsMissing());
    row(md, "anomalies (every finding)", result.anomalies().size());

    md.append("\n## Launch lateness (command start − scheduled instant, first attempts)\n\n")
        .append("| period | launches | p50 ms | p99 ms | max ms | started early |\n")
        .append("|---|---:|---:|---:|---:|---:|\n");
    latenessRow(
        md,
        "healthy (outside fault windows and the 10 s after them)",
        result.lateness().stream().filter(l -> !l.faulty()).toList());
    latenessRow(
        md, "inside fault windows", result.lateness().stream().filter(Lateness::faulty).toList());

    md.append("\n## Scheduling gap after each leader loss\n\n")
        .append(
            "Last command start before the fault to the first after it (every-second jobs"
                + " keep starts coming, so a healthy gap is about a second).\n\n");
    if (result.gaps().isEmpty()) {
      md.append("No fault took the leader away.\n");
    } else {
      md.append("| at (s) | fault | gap ms |\n|---:|---|---:|\n");
      for (Gap gap : result.gaps()) {
        md.append(
            String.format(
                Locale.ROOT,
                "| %.1f | %s %s %s | %d |%n",
                (gap.fault().startMillis() - data.startMillis()) / 1000.0,
                gap.fault().family(),
                gap.fault().kind(),
                gap.fault().target(),
                gap.gapMillis()));
      }
    }

    md.append("\n## Pictures\n\n")
        .append("![client latency](latency.svg)\n\n")
        .append("![launch lateness](lateness.svg)\n\n")
        .append("![launches per second](launches-per-second.svg)\n\n");

    md.append("## Anomalies\n\n");
    if (result.anomalies().isEmpty()) {
      md.append("None.\n");
    }
    int shown = 0;
    for (Anomaly anomaly : result.anomalies()) {
      if (shown++ == MAX_ANOMALIES_SHOWN) {
        md.append("\n… and ")
            .append(result.anomalies().size() - MAX_ANOMALIES_SHOWN)
            .append(" more (all counted above).\n");
        break;
      }
      md.append("- **")
          .append(anomaly.kind())
          .append("**: ")
          .append(anomaly.summary())
          .append('\n');
      for (String line : anomaly.evidence()) {
        md.append("  - `").append(line.replace("`", "'")).append("`\n");
      }
    }

    md.append("\n## Fault schedule\n\n| from (s) | to (s) | family | fault | target |\n")
        .append("|---:|---:|---|---|---|\n");
    for (Fault fault : data.faults()) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %.1f | %.1f | %s | %s | %s |%n",
              (fault.startMillis() - data.startMillis()) / 1000.0,
              (fault.endMillis() - data.startMillis()) / 1000.0,
              fault.family(),
              fault.kind(),
              fault.target()));
    }
    if (!data.disks().isEmpty()) {
      md.append(
          "\n## Disk faults: did the replica stop?\n\n| replica | fault | stopped after ms |"
              + " exit code |\n|---:|---|---:|---:|\n");
      for (RunData.DiskFault disk : data.disks()) {
        md.append(
            String.format(
                Locale.ROOT,
                "| %d | %s | %s | %d |%n",
                disk.replica(),
                disk.kind(),
                disk.exitedMillis() < 0
                    ? (disk.kind().equals("full")
                        ? "kept running (its writes still fit)"
                        : "kept running")
                    : String.valueOf(disk.exitedMillis() - disk.injectedMillis()),
                disk.exitCode()));
      }
    }
    return md.toString();
  }

  private static void row(StringBuilder md, String what, long count) {
    md.append("| ").append(what).append(" | ").append(count).append(" |\n");
  }

  private static void latenessRow(StringBuilder md, String period, List<Lateness> samples) {
    List<Double> sorted = new ArrayList<>();
    long early = 0;
    for (Lateness sample : samples) {
      sorted.add(sample.lateMillis());
      early += sample.lateMillis() < 0 ? 1 : 0;
    }
    sorted.sort(Double::compare);
    md.append(
        String.format(
            Locale.ROOT,
            "| %s | %d | %s | %s | %s | %d |%n",
            period,
            sorted.size(),
            percentile(sorted, 0.50),
            percentile(sorted, 0.99),
            sorted.isEmpty() ? "-" : String.format(Locale.ROOT, "%.0f", sorted.getLast()),
            early));
  }

  static String percentile(List<Double> sorted, double q) {
    if (sorted.isEmpty()) {
      return "-";
    }
    int index = (int) Math.ceil(q * sorted.size()) - 1;
    return String.format(
        Locale.ROOT, "%.0f", sorted.get(Math.max(0, Math.min(sorted.size() - 1, index))));
  }
}
