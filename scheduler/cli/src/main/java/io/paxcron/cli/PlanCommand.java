package io.paxcron.cli;

import io.paxcron.api.JobClient;
import io.paxcron.cli.crontab.CrontabImport;
import io.paxcron.proto.v1.Job;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code paxcron plan -f FILE}: what {@code apply} would change, without changing anything. */
@Command(
    name = "plan",
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    description = {
      "Show what 'apply -f FILE' would change; changes nothing.",
      "+ create, ~ change (old -> new), - delete (with --prune), and a summary line.",
      "Exit: 0 success, 1 error, 3 unreachable, 64 usage; with --detailed-exitcode 0 no "
          + "changes, 1 error, 2 changes."
    })
public final class PlanCommand extends CliCommand {
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
      names = "--detailed-exitcode",
      description = "Exit 2 when there are changes, 0 when there are none.")
  boolean detailedExitCode;

  @Mixin CrontabOptions crontab = new CrontabOptions();

  public PlanCommand(CliContext context) {
    super(context);
  }

  /**
   * The file imported and planned against one read of the cluster, or an exit code after reporting
   * why not.
   */
  record Planned(CrontabImport file, Plan plan, String source) {}

  /**
   * Reads the file and the cluster and prints the plan; {@code planned[0]} receives the plan when
   * there is one.
   */
  static int plan(
      CliCommand command,
      CrontabOptions crontab,
      Path file,
      boolean prune,
      JobClient client,
      Planned[] planned) {
    CrontabImport result;
    try {
      result = crontab.read(file);
    } catch (CrontabOptions.UnreadableException e) {
      command.context.err().println("error: " + e.getMessage());
      return ExitCodes.ERROR;
    }
    if (result.hasErrors()) {
      CrontabOptions.printDiagnostics(command.context.err(), result, command.style());
      command.context.err().println();
      command
          .context
          .err()
          .println(
              file
                  + ": "
                  + result.errors().size()
                  + " error(s): nothing was planned"
                  + " or changed");
      return ExitCodes.ERROR;
    }
    String source = crontab.sourceFor(file);
    List<Job> current = client.listAll();
    planned[0] = new Planned(result, Plan.of(result, current, source, prune), source);
    return ExitCodes.OK;
  }

  static void print(CliCommand command, Planned planned) {
    if (command.json()) {
      return;
    }
    command
        .context
        .out()
        .print(PlanPrinter.human(planned.plan(), planned.source(), command.style()));
    if (!planned.plan().warnings().isEmpty()) {
      command.context.out().println();
      CrontabOptions.printDiagnostics(
          command.context.out(),
          new CrontabImport(planned.file().file(), List.of(), List.of(), planned.plan().warnings()),
          command.style());
    }
    command.context.out().println();
    command.context.out().println(command.style().bold(planned.plan().summary()));
  }

  @Override
  int run() throws Exception {
    String problem = crontab.problem();
    if (problem != null) {
      context.err().println("error: " + problem);
      return ExitCodes.USAGE;
    }
    try (JobClient client = client()) {
      Planned[] planned = new Planned[1];
      int exit = plan(this, crontab, file, prune, client, planned);
      if (exit != ExitCodes.OK) {
        return exit;
      }
      if (json()) {
        Map<String, Object> answer = PlanPrinter.json(planned[0].plan(), planned[0].source());
        context.out().println(Json.write(answer));
      } else {
        print(this, planned[0]);
      }
      return detailedExitCode && !planned[0].plan().isEmpty() ? ExitCodes.CHANGES : ExitCodes.OK;
    }
  }
}
