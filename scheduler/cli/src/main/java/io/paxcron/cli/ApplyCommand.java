package io.paxcron.cli;

import io.paxcron.api.JobClient;
import io.paxcron.api.JobProtos;
import io.paxcron.api.JobServiceImpl;
import io.paxcron.proto.v1.ApplyJobsResponse;
import io.paxcron.proto.v1.ApplyResult;
import io.paxcron.proto.v1.Job;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code paxcron apply -f FILE}: makes the cluster hold the file's jobs, exactly as planned, in one
 * Apply call whose expected versions are the ones the plan read. A change made by someone else in
 * between fails the whole call and changes nothing.
 */
@Command(
    name = "apply",
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    description = {
      "Make the cluster hold the jobs of a crontab file.",
      "Prints the plan and applies exactly it in one atomic call with the versions it read (a "
          + "concurrent change fails it and changes nothing).",
      "Exit: 0 success, 1 error, 3 unreachable, 4 the cluster changed meanwhile, 64 usage; with "
          + "--detailed-exitcode 0 no changes, 1 error, 2 changes applied."
    })
public final class ApplyCommand extends CliCommand {
  @Option(
      names = {"-f", "--file"},
      required = true,
      paramLabel = "FILE",
      description = "The crontab file.")
  Path file;

  @Option(
      names = "--prune",
      description = "Also delete jobs of this file's source that left the file.")
  boolean prune;

  @Option(
      names = "--dry-run",
      description = "Show the plan and check the versions; change nothing.")
  boolean dryRun;

  @Option(
      names = "--detailed-exitcode",
      description = "Exit 2 when changes were applied, 0 when there were none.")
  boolean detailedExitCode;

  @Mixin CrontabOptions crontab = new CrontabOptions();

  public ApplyCommand(CliContext context) {
    super(context);
  }

  @Override
  int run() throws Exception {
    String problem = crontab.problem();
    if (problem != null) {
      context.err().println("error: " + problem);
      return ExitCodes.USAGE;
    }
    try (JobClient client = client()) {
      PlanCommand.Planned[] planned = new PlanCommand.Planned[1];
      int exit = PlanCommand.plan(this, crontab, file, prune, client, planned);
      if (exit != ExitCodes.OK) {
        return exit;
      }
      Plan plan = planned[0].plan();
      PlanCommand.print(this, planned[0]);
      Map<String, Object> answer = PlanPrinter.json(plan, planned[0].source());
      if (plan.isEmpty()) {
        answer.put("applied", false);
        answer.put("slot", null);
        finish(answer, "Nothing to apply.");
        return ExitCodes.OK;
      }
      if (plan.changes().size() > JobServiceImpl.MAX_APPLY_JOBS) {
        context
            .err()
            .println(
                "error: the plan has "
                    + plan.changes().size()
                    + " changes; one apply holds at"
                    + " most "
                    + JobServiceImpl.MAX_APPLY_JOBS
                    + " (the largest a replica's max-apply-jobs allows): split the file");
        return ExitCodes.ERROR;
      }
      List<Job> puts = new ArrayList<>();
      List<String> deletes = new ArrayList<>();
      Map<String, Long> expected = new LinkedHashMap<>();
      for (Plan.Change change : plan.changes()) {
        switch (change) {
          case Plan.Change.Create create -> {
            puts.add(JobProtos.toProto(create.job().spec()));
            expected.put(create.name(), 0L);
          }
          case Plan.Change.Update update -> {
            puts.add(JobProtos.toProto(update.job().spec()));
            expected.put(update.name(), update.current().getVersion());
          }
          case Plan.Change.Delete delete -> {
            deletes.add(delete.name());
            expected.put(delete.name(), delete.current().getVersion());
          }
        }
      }
      if (dryRun) {
        client.validateApply(puts, deletes, expected);
        answer.put("applied", false);
        answer.put("slot", null);
        finish(answer, "Dry run: the versions still match; nothing was applied.");
        return detailedExitCode ? ExitCodes.CHANGES : ExitCodes.OK;
      }
      ApplyJobsResponse response = client.apply(puts, deletes, expected);
      long slot = response.getResultsCount() == 0 ? 0 : response.getResults(0).getVersion();
      answer.put("applied", true);
      answer.put("slot", slot);
      List<Object> resolved = new ArrayList<>();
      StringBuilder human =
          new StringBuilder(
              "Applied in slot "
                  + slot
                  + ": "
                  + plan.adds()
                  + " added, "
                  + plan.updates()
                  + " changed, "
                  + plan.deletes()
                  + " deleted.");
      for (ApplyResult result : response.getResultsList()) {
        if (deletes.contains(result.getName())) {
          continue;
        }
        Job job = client.get(result.getName());
        if (job.getSchedule().contains("?")) {
          Map<String, Object> item = new LinkedHashMap<>();
          item.put("name", job.getName());
          item.put("schedule", job.getSchedule());
          item.put("resolvedSchedule", job.getResolvedSchedule());
          resolved.add(item);
          human
              .append("\n  ")
              .append(job.getName())
              .append(": ")
              .append(job.getSchedule())
              .append("  ? resolved to  ")
              .append(job.getResolvedSchedule());
        }
      }
      answer.put("resolved", resolved);
      finish(answer, human.toString());
      return detailedExitCode ? ExitCodes.CHANGES : ExitCodes.OK;
    }
  }

  private void finish(Map<String, Object> answer, String human) {
    if (json()) {
      context.out().println(Json.write(answer));
    } else {
      context.out().println(human);
    }
  }
}
