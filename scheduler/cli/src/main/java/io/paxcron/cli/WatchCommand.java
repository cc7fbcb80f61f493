package io.paxcron.cli;

import io.paxcron.api.JobClient;
import io.paxcron.api.RunWatch;
import io.paxcron.proto.v1.RunRecord;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code paxcron watch [JOB]}: ledger records as the cluster records them, one line each. */
@Command(
    name = "watch",
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    description = {
      "Stream ledger records as the cluster records them.",
      "Every job or one, oldest first; with -o json one JSON object per line. Runs until "
          + "interrupted or --count records.",
      "Exit: 0 success, 1 error, 3 unreachable, 64 usage."
    })
public final class WatchCommand extends CliCommand {
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "JOB",
      description = "Only this job's records.")
  String job = "";

  @Option(
      names = "--after",
      paramLabel = "SEQUENCE",
      description = "Start after this ledger sequence (default 0: every record still kept).")
  long after;

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "Stop after N records (default: never).")
  long count;

  public WatchCommand(CliContext context) {
    super(context);
  }

  static Map<String, Object> json(RunRecord record) {
    Map<String, Object> item = new LinkedHashMap<>();
    item.put("sequence", record.getSequence());
    item.put("job", record.getJob());
    item.put("runId", record.getRunId());
    item.put("instant", Formats.orNull(record.getInstant()));
    item.put("lastInstant", Formats.orNull(record.getLastInstant()));
    item.put("instantCount", record.getInstantCount());
    item.put("manual", record.getManual());
    item.put("outcome", record.getOutcomeText());
    item.put("exitCode", record.getExitCode());
    item.put("attempts", record.getAttempts());
    item.put("agent", record.getAgentId());
    item.put("startedAt", record.hasStartedAt() ? Formats.orNull(record.getStartedAt()) : null);
    item.put("endedAt", record.hasEndedAt() ? Formats.orNull(record.getEndedAt()) : null);
    item.put("slot", record.getSlot());
    item.put("reason", record.getReason());
    return item;
  }

  @Override
  int run() throws Exception {
    if (count < 0 || after < 0) {
      context.err().println("error: --count and --after must not be negative");
      return ExitCodes.USAGE;
    }
    Style style = style();
    try (JobClient client = client();
        RunWatch watch = client.watchRuns(job, after)) {
      for (long seen = 0; count == 0 || seen < count; seen++) {
        RunRecord record = watch.next();
        if (json()) {
          context.out().println(Json.writeLine(json(record)));
        } else {
          context
              .out()
              .println(
                  record.getSequence()
                      + "  "
                      + record.getRunId()
                      + "  "
                      + style.outcome(record.getOutcomeText())
                      + "  attempts "
                      + record.getAttempts()
                      + (record.getAgentId().isEmpty() ? "" : "  on " + record.getAgentId())
                      + (record.getInstantCount() > 1
                          ? "  ("
                              + record.getInstantCount()
                              + " instants through "
                              + Formats.text(record.getLastInstant())
                              + ")"
                          : ""));
        }
        context.out().flush();
      }
      return ExitCodes.OK;
    }
  }
}
