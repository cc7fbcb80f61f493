package io.paxcron.cli;

import io.paxcron.api.JobClient;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.OpenRun;
import io.paxcron.proto.v1.RunRecord;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code paxcron runs NAME}: the job's run ledger, newest first, and its open runs. */
@Command(
    name = "runs",
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    description = {
      "Show a job's runs from the replicated ledger.",
      "Newest first, open runs on top.",
      "Exit: 0 success, 1 error or no such job, 3 unreachable, 64 usage."
    })
public final class RunsCommand extends CliCommand {
  /** Most ledger pages read for one answer. */
  static final int MAX_PAGES = 20;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
  String name;

  @Option(
      names = "--since",
      paramLabel = "WHEN",
      description =
          "Only runs scheduled at or after WHEN: a duration back from now (90s, 15m, 2h, 7d) or an"
              + " ISO instant (2026-12-01T00:00:00Z).")
  String since;

  @Option(
      names = "--outcome",
      paramLabel = "OUTCOME",
      description = "Only runs with this outcome: succeeded, failed, timed-out, skipped, lost.")
  String outcome;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "At most N records (default 20, at most 1000).")
  int limit = 20;

  public RunsCommand(CliContext context) {
    super(context);
  }

  @Override
  int run() throws Exception {
    Instant from = null;
    if (since != null) {
      from = parseSince(since, context.clock().instant());
      if (from == null) {
        context
            .err()
            .println(
                "error: --since: expected a duration like 15m or 2h, or an ISO instant, got '"
                    + since
                    + "'");
        return ExitCodes.USAGE;
      }
    }
    String wanted = outcome == null ? null : outcome.toUpperCase(Locale.ROOT).replace('-', '_');
    if (wanted != null
        && !List.of("SUCCEEDED", "FAILED", "TIMED_OUT", "SKIPPED", "LOST").contains(wanted)) {
      context
          .err()
          .println(
              "error: --outcome: expected succeeded, failed, timed-out, skipped or lost, got '"
                  + outcome
                  + "'");
      return ExitCodes.USAGE;
    }
    if (limit < 1 || limit > 1000) {
      context.err().println("error: --limit: must be 1..1000, got " + limit);
      return ExitCodes.USAGE;
    }
    try (JobClient client = client()) {
      List<RunRecord> records = new ArrayList<>();
      List<OpenRun> open = new ArrayList<>();
      String token = "";
      boolean older = false;
      for (int page = 0; page < MAX_PAGES && !older && records.size() < limit; page++) {
        ListRunsResponse response = client.listRuns(name, 100, token);
        if (page == 0) {
          open.addAll(response.getOpenRunsList());
        }
        for (RunRecord record : response.getRecordsList()) {
          Instant last =
              Formats.instant(
                  record.getLastInstant().getSeconds() != 0
                      ? record.getLastInstant()
                      : record.getInstant());
          if (from != null && last.isBefore(from)) {
            older = true;
            break;
          }
          if ((wanted == null || record.getOutcomeText().startsWith(wanted))
              && records.size() < limit) {
            records.add(record);
          }
        }
        token = response.getNextPageToken();
        if (token.isEmpty()) {
          break;
        }
      }
      print(open, records);
      return ExitCodes.OK;
    }
  }

  private void print(List<OpenRun> open, List<RunRecord> records) {
    if (json()) {
      List<Object> openJson = new ArrayList<>();
      for (OpenRun run : open) {
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("runId", run.getRunId());
        item.put("instant", Formats.orNull(run.getInstant()));
        item.put("status", run.getStatus());
        item.put("attempt", run.getAttempt());
        item.put("agent", run.getAgentId());
        openJson.add(item);
      }
      List<Object> recordJson = new ArrayList<>();
      for (RunRecord record : records) {
        recordJson.add(WatchCommand.json(record));
      }
      Map<String, Object> answer = new LinkedHashMap<>();
      answer.put("job", name);
      answer.put("open", openJson);
      answer.put("runs", recordJson);
      context.out().println(Json.write(answer));
      return;
    }
    Style style = style();
    Table table = new Table("RUN", "INSTANT", "OUTCOME", "ATTEMPTS", "AGENT", "DURATION");
    for (OpenRun run : open) {
      table.row(
          run.getRunId(),
          Formats.text(run.getInstant()),
          style.bold(run.getStatus()),
          Integer.toString(run.getAttempt()),
          run.getAgentId().isEmpty() ? "-" : run.getAgentId(),
          "-");
    }
    for (RunRecord record : records) {
      table.row(
          record.getRunId(),
          Formats.instants(record),
          style.outcome(record.getOutcomeText()),
          Integer.toString(record.getAttempts()),
          record.getAgentId().isEmpty() ? "-" : record.getAgentId(),
          Formats.runDuration(record));
    }
    if (open.isEmpty() && records.isEmpty()) {
      context.out().println("No runs of " + name + " match.");
    } else {
      context.out().print(table.render(style));
    }
  }

  /** A duration back from {@code now} or an ISO instant; null when neither. */
  static Instant parseSince(String text, Instant now) {
    Duration back = io.paxcron.cli.crontab.Durations.parse(text);
    if (back != null) {
      return now.minus(back);
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
