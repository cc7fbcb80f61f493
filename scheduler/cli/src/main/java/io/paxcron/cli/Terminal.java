package io.paxcron.cli;

import java.io.Console;
import picocli.CommandLine;

/** Whether the process writes to a terminal, the one input of the CLI's color decision. */
final class Terminal {
  private Terminal() {}

  /**
   * True when standard output is a terminal. Picocli's ANSI detection answers that question on
   * every JDK (on JDK 22+ {@link System#console()} is non-null even when output is redirected); its
   * answer is used only after {@code NO_COLOR} and {@code --no-color} were checked.
   */
  static boolean stdoutIsTerminal() {
    Console console = System.console();
    return console != null && CommandLine.Help.Ansi.AUTO.enabled();
  }
}
