package io.paxcron.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The CLI commands under a {@code paxcron} root of their own, for running them in-process with a
 * given {@link CliContext}. The real executable ({@code io.paxcron.server.Paxcron}) lists the same
 * classes among its subcommands and creates them with {@link #factory}.
 */
@Command(
    name = "paxcron",
    mixinStandardHelpOptions = true,
    version = "paxcron 0.1.0",
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    description =
        "A distributed cron replicated with Multi-Paxos: crontab import and job commands.",
    subcommands = {
      LintCommand.class,
      PlanCommand.class,
      ApplyCommand.class,
      JobsCommand.class,
      ShowJobCommand.class,
      RunsCommand.class,
      OutputCommand.class,
      WatchCommand.class,
      JobActionCommands.TriggerCommand.class,
      JobActionCommands.PauseCommand.class,
      JobActionCommands.ResumeCommand.class,
      JobActionCommands.DeleteCommand.class,
      AccessCommands.TokenCommand.class,
      AccessCommands.Audit.class,
      AccessCommands.WhoAmI.class,
      MembersCommand.Group.class
    })
public final class Cli implements Callable<Integer> {

  /** Runs {@code args} and returns the exit code; output goes to the context's writers. */
  public static int run(CliContext context, String... args) {
    CommandLine commandLine = new CommandLine(new Cli(), factory(context));
    commandLine.setOut(context.out());
    commandLine.setErr(context.err());
    int exit = commandLine.execute(args);
    context.out().flush();
    context.err().flush();
    return exit;
  }

  @Override
  public Integer call() {
    CommandLine.usage(this, System.err);
    return ExitCodes.USAGE;
  }

  /**
   * Creates the CLI's command objects with {@code context}, and anything else with picocli's
   * default factory. Explicit {@code new} per class: no reflection decides what a command gets.
   */
  public static CommandLine.IFactory factory(CliContext context) {
    return new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> type) throws Exception {
        Object command = null;
        if (type == LintCommand.class) {
          command = new LintCommand(context);
        } else if (type == PlanCommand.class) {
          command = new PlanCommand(context);
        } else if (type == ApplyCommand.class) {
          command = new ApplyCommand(context);
        } else if (type == JobsCommand.class) {
          command = new JobsCommand(context);
        } else if (type == ShowJobCommand.class) {
          command = new ShowJobCommand(context);
        } else if (type == RunsCommand.class) {
          command = new RunsCommand(context);
        } else if (type == OutputCommand.class) {
          command = new OutputCommand(context);
        } else if (type == WatchCommand.class) {
          command = new WatchCommand(context);
        } else if (type == JobActionCommands.TriggerCommand.class) {
          command = new JobActionCommands.TriggerCommand(context);
        } else if (type == JobActionCommands.PauseCommand.class) {
          command = new JobActionCommands.PauseCommand(context);
        } else if (type == JobActionCommands.ResumeCommand.class) {
          command = new JobActionCommands.ResumeCommand(context);
        } else if (type == JobActionCommands.DeleteCommand.class) {
          command = new JobActionCommands.DeleteCommand(context);
        } else if (type == AccessCommands.Bootstrap.class) {
          command = new AccessCommands.Bootstrap(context);
        } else if (type == AccessCommands.Create.class) {
          command = new AccessCommands.Create(context);
        } else if (type == AccessCommands.Revoke.class) {
          command = new AccessCommands.Revoke(context);
        } else if (type == AccessCommands.ListTokens.class) {
          command = new AccessCommands.ListTokens(context);
        } else if (type == AccessCommands.Audit.class) {
          command = new AccessCommands.Audit(context);
        } else if (type == AccessCommands.WhoAmI.class) {
          command = new AccessCommands.WhoAmI(context);
        } else if (type == MembersCommand.ListMembers.class) {
          command = new MembersCommand.ListMembers(context);
        } else if (type == MembersCommand.Add.class) {
          command = new MembersCommand.Add(context);
        } else if (type == MembersCommand.Remove.class) {
          command = new MembersCommand.Remove(context);
        } else if (type == MembersCommand.Replace.class) {
          command = new MembersCommand.Replace(context);
        }
        return command != null ? type.cast(command) : CommandLine.defaultFactory().create(type);
      }
    };
  }
}
