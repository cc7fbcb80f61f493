package io.paxcron.agent;

import picocli.CommandLine;

/**
 * Runs {@code paxcron agent} alone: {@code java -cp ... io.paxcron.agent.AgentMain --cluster ...}.
 */
public final class AgentMain {
  private AgentMain() {}

  public static void main(String[] args) {
    CommandLine command = new CommandLine(new AgentCommand());
    command.setParameterExceptionHandler(
        (e, ignored) -> {
          System.err.println(e.getMessage());
          return 2;
        });
    System.exit(command.execute(args));
  }
}
