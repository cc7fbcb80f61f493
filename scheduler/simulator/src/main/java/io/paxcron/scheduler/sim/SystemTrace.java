package io.paxcron.scheduler.sim;

import io.paxcron.scheduler.CronCommand;

/** How a trace line names an applied command or a state change. */
final class SystemTrace {
  private SystemTrace() {}

  static String describe(CronCommand command) {
    return switch (command) {
      case null -> "malformed";
      case CronCommand.PutJob put ->
          "PutJob "
              + put.spec().name()
              + " '"
              + put.spec().schedule()
              + "' "
              + put.spec().concurrency()
              + " "
              + put.spec().misfire().mode()
              + " expected "
              + put.expected()
              + " change "
              + put.spec().env().get("SIM_CHANGE")
              + " @"
              + put.stampedAt();
      case CronCommand.RunIntent intent ->
          "RunIntent "
              + intent.runId()
              + " #"
              + intent.attempt()
              + " on "
              + intent.agentId()
              + " ballot "
              + intent.ballot()
              + " @"
              + intent.stampedAt();
      default -> command.toString();
    };
  }
}
