package io.paxcron.scheduler;

import java.util.List;
import java.util.Objects;

/**
 * What an agent executes for a run: an argument vector run directly, or a shell string run by
 * {@code /bin/sh -c}. Immutable. Content limits are checked by {@link JobSpecValidator}, not here,
 * so that every problem of a spec can be reported at once.
 */
public sealed interface JobCommand {

  /** The argument vector the agent passes to the operating system. */
  List<String> argv();

  /**
   * A program and its arguments, executed without a shell.
   *
   * @param arguments the program (first element) and its arguments
   */
  record Argv(List<String> arguments) implements JobCommand {
    public Argv {
      arguments = List.copyOf(arguments);
    }

    @Override
    public List<String> argv() {
      return arguments;
    }
  }

  /**
   * A shell command line, executed as {@code /bin/sh -c <script>}.
   *
   * @param script the command line
   */
  record Shell(String script) implements JobCommand {
    /** The shell every agent uses; POSIX guarantees it exists. */
    public static final String SHELL = "/bin/sh";

    public Shell {
      Objects.requireNonNull(script, "script");
    }

    @Override
    public List<String> argv() {
      return List.of(SHELL, "-c", script);
    }
  }
}
