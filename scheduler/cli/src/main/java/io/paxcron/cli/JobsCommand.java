package io.paxcron.cli;

import io.paxcron.api.JobClient;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.schedule.Syntax;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

/**
 * {@code paxcron jobs}: every job with its schedule, resolved schedule, description, next run and
 * last outcome.
 */
@Command(
    name = "jobs",
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    description = {
      "List every job with its next run and last outcome.",
      "Columns: name, schedule, resolved schedule (? filled in), description, zone, next run, "
          + "last outcome, paused.",
      "Exit: 0 success, 1 error, 3 unreachable, 64 usage."
    })
public final class JobsCommand extends CliCommand {

  public JobsCommand(CliContext context) {
    super(context);
  }

  @Override
  int run() throws Exception {
    try (JobClient client = client()) {
      List<Job> jobs = client.listAll();
      List<Object> json = new ArrayList<>();
      Style style = style();
      Table table =
          new Table(
              "NAME", "SCHEDULE", "RESOLVED", "DESCRIPTION", "ZONE", "NEXT RUN", "LAST", "PAUSED");
      for (Job job : jobs) {
        String last = lastOutcome(client, job.getName());
        Syntax syntax = job.getSyntax() == Job.Syntax.SYNTAX_QUARTZ ? Syntax.QUARTZ : Syntax.VIXIE;
        String description = Describe.describe(job.getResolvedSchedule(), syntax);
        if (json()) {
          Map<String, Object> item = new LinkedHashMap<>();
          item.put("name", job.getName());
          item.put("schedule", job.getSchedule());
          item.put("resolvedSchedule", job.getResolvedSchedule());
          item.put("description", description);
          item.put("zone", job.getZone());
          item.put("nextRun", job.hasNextDue() ? Formats.orNull(job.getNextDue()) : null);
          item.put("lastOutcome", last.isEmpty() ? null : last);
          item.put("paused", job.getPaused());
          item.put("version", job.getVersion());
          item.put("source", job.getSource());
          json.add(item);
        } else {
          table.row(
              job.getName(),
              job.getSchedule(),
              job.getResolvedSchedule(),
              description,
              job.getZone(),
              job.hasNextDue() ? Formats.text(job.getNextDue()) : "-",
              last.isEmpty() ? "-" : style.outcome(last),
              job.getPaused() ? style.yellow("yes") : "no");
        }
      }
      if (json()) {
        context.out().println(Json.write(json));
      } else if (jobs.isEmpty()) {
        context.out().println("No jobs. Create some with: paxcron apply -f CRONTAB");
      } else {
        context.out().print(table.render(style));
      }
      return ExitCodes.OK;
    }
  }

  private static String lastOutcome(JobClient client, String job) {
    ListRunsResponse runs = client.listRuns(job, 1, "");
    return runs.getRecordsCount() == 0 ? "" : runs.getRecords(0).getOutcomeText();
  }
}
