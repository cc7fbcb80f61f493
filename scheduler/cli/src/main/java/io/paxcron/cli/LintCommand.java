package io.paxcron.cli;

import io.paxcron.cli.crontab.CrontabImport;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code paxcron lint FILE}: every problem of a crontab, located, without contacting the cluster.
 */
@Command(
    name = "lint",
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    description = {
      "Check a crontab file without contacting the cluster.",
      "Every problem as file:line:col with the line and a caret; errors (the file would change "
          + "nothing) separate from warnings.",
      "Exit: 0 no errors, 1 errors, 64 usage."
    })
public final class LintCommand extends CliCommand {
  @Parameters(index = "0", paramLabel = "FILE", description = "The crontab file.")
  Path file;

  @Mixin CrontabOptions crontab = new CrontabOptions();

  public LintCommand(CliContext context) {
    super(context);
  }

  @Override
  int run() {
    String problem = crontab.problem();
    if (problem != null) {
      context.err().println("error: " + problem);
      return ExitCodes.USAGE;
    }
    CrontabImport result;
    try {
      result = crontab.read(file);
    } catch (CrontabOptions.UnreadableException e) {
      context.err().println("error: " + e.getMessage());
      return ExitCodes.ERROR;
    }
    if (json()) {
      Map<String, Object> answer = new LinkedHashMap<>();
      answer.put("file", file.toString());
      answer.put("jobs", result.jobs().size());
      answer.put("errors", CrontabOptions.json(result.errors()));
      answer.put("warnings", CrontabOptions.json(result.warnings()));
      context.out().println(Json.write(answer));
    } else {
      CrontabOptions.printDiagnostics(context.out(), result, style());
      if (!result.errors().isEmpty() || !result.warnings().isEmpty()) {
        context.out().println();
      }
      context
          .out()
          .println(
              file
                  + ": "
                  + result.jobs().size()
                  + " job(s), "
                  + result.errors().size()
                  + " error(s), "
                  + result.warnings().size()
                  + " warning(s)"
                  + (result.hasErrors() ? "; nothing would be applied" : ""));
    }
    return result.hasErrors() ? ExitCodes.ERROR : ExitCodes.OK;
  }
}
