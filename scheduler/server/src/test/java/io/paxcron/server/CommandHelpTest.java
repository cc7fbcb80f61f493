package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.cli.Cli;
import io.paxcron.cli.CliContext;
import io.paxcron.server.InProcessCli.Result;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Every command answers {@code --help} with its usage, the server's and the agent's included. */
class CommandHelpTest {

  @TempDir Path work;

  private Result paxcron(String... args) {
    return InProcessCli.run(Map.of(), work, args);
  }

  @Test
  void everyCommandAndSubcommandPrintsItsUsageForHelp() {
    List<List<String>> paths = new ArrayList<>();
    CliContext context =
        InProcessCli.context(Map.of(), work, new StringWriter(), new StringWriter());
    collect(new CommandLine(new Paxcron(), Cli.factory(context)), new ArrayList<>(), paths);
    assertTrue(paths.size() > 20, "commands found: " + paths);
    for (List<String> path : paths) {
      List<String> args = new ArrayList<>(path);
      args.add("--help");
      Result result = paxcron(args.toArray(String[]::new));
      String name = String.join(" ", path);
      assertEquals(0, result.exit(), "paxcron " + name + " --help: " + result.err());
      assertTrue(
          result.out().startsWith("Usage: paxcron " + name),
          "paxcron " + name + " --help printed: " + result.out() + result.err());
    }
  }

  private static void collect(CommandLine command, List<String> path, List<List<String>> into) {
    for (Map.Entry<String, CommandLine> sub : command.getSubcommands().entrySet()) {
      List<String> next = new ArrayList<>(path);
      next.add(sub.getKey());
      into.add(next);
      collect(sub.getValue(), next, into);
    }
  }
}
