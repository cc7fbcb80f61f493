package io.paxcron.cli;

import io.paxcron.api.JobClient;
import io.paxcron.proto.v1.DeleteJobResponse;
import io.paxcron.proto.v1.PauseJobResponse;
import io.paxcron.proto.v1.ResumeJobResponse;
import io.paxcron.proto.v1.TriggerJobResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The one-job actions: trigger, pause, resume and delete. */
public final class JobActionCommands {
  private JobActionCommands() {}

  /** Prints a one-line human answer or a JSON object. */
  private static void answer(CliCommand command, String human, Map<String, Object> json) {
    command.context.out().println(command.json() ? Json.write(json) : human);
  }

  private static Map<String, Object> fields(Object... pairs) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put((String) pairs[i], pairs[i + 1]);
    }
    return map;
  }

  @Command(
      name = "trigger",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Start a manual run of a job now.",
        "It obeys the job's concurrency policy, not its pause.",
        "Exit: 0 success, 1 error or no such job, 3 unreachable, 64 usage."
      })
  public static final class TriggerCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
    String name;

    public TriggerCommand(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        TriggerJobResponse response = client.trigger(name);
        answer(
            this,
            "triggered " + response.getRunId() + " (see: paxcron runs " + name + ")",
            fields(
                "job",
                name,
                "runId",
                response.getRunId(),
                "instant",
                Formats.orNull(response.getInstant())));
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "pause",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Pause a job.",
        "Its due instants are recorded SKIPPED(PAUSED) until it is resumed.",
        "Exit: 0 success, 1 error or no such job, 3 unreachable, 64 usage."
      })
  public static final class PauseCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
    String name;

    public PauseCommand(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        PauseJobResponse response = client.pause(name);
        answer(
            this,
            response.getChanged()
                ? "paused " + name + " (version " + response.getVersion() + ")"
                : name + " was already paused",
            fields(
                "job", name, "changed", response.getChanged(), "version", response.getVersion()));
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "resume",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Resume a paused job.",
        "Exit: 0 success, 1 error or no such job, 3 unreachable, 64 usage."
      })
  public static final class ResumeCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
    String name;

    public ResumeCommand(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        ResumeJobResponse response = client.resume(name);
        answer(
            this,
            response.getChanged()
                ? "resumed " + name + " (version " + response.getVersion() + ")"
                : name + " was not paused",
            fields(
                "job", name, "changed", response.getChanged(), "version", response.getVersion()));
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "delete",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Delete a job and its ledger.",
        "Launched runs get a cancel request.",
        "Exit: 0 success, 1 error or no such job, 3 unreachable, 4 version changed, 64 usage."
      })
  public static final class DeleteCommand extends CliCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
    String name;

    @Option(
        names = "--expected-version",
        paramLabel = "N",
        description = "Delete only if the job is still at version N (from 'paxcron job NAME').")
    Long expectedVersion;

    public DeleteCommand(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      if (expectedVersion != null && expectedVersion < 1) {
        context
            .err()
            .println("error: --expected-version must be at least 1, got " + expectedVersion);
        return ExitCodes.USAGE;
      }
      try (JobClient client = client()) {
        DeleteJobResponse response =
            expectedVersion == null ? client.delete(name) : client.delete(name, expectedVersion);
        answer(
            this,
            "deleted " + name + " (slot " + response.getSlot() + ")",
            fields("job", name, "slot", response.getSlot()));
        return ExitCodes.OK;
      }
    }
  }
}
