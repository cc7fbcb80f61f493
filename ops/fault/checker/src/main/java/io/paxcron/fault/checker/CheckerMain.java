package io.paxcron.fault.checker;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code FaultCheckerMain <report-dir>}: checks a fault run's record again, rewrites its report and
 * prints the {@code FAULT ...} line. Exit 0 when nothing was found, 1 when something was, 2 on a
 * bad argument or unreadable record.
 */
public final class CheckerMain {
  /** Enough for thousands of operations per job; a job that needs more is reported undecided. */
  public static final long LINEARIZABILITY_STEPS = 5_000_000;

  private CheckerMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1 || !Files.isDirectory(Path.of(args[0]))) {
      System.err.println("usage: check <report-dir>  (a directory written by ops/fault/run)");
      System.exit(2);
    }
    int code;
    try {
      code = checkAndReport(Path.of(args[0]));
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      code = 2;
    }
    System.exit(code);
  }

  /** Checks, writes the report, prints the summary line; returns the exit code (0 or 1). */
  public static int checkAndReport(Path dir) throws java.io.IOException {
    RunData data = RunData.read(dir);
    FaultChecker.Result result = new FaultChecker(LINEARIZABILITY_STEPS).check(data);
    FaultReport.write(dir, data, result);
    String line = FaultChecker.summaryLine(data, result);
    Files.writeString(dir.resolve("summary.txt"), line + "\n");
    System.out.println("report: " + dir.resolve("report.md"));
    System.out.println(line);
    return FaultChecker.failed(result) ? 1 : 0;
  }
}
