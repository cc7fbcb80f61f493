package io.paxcron.server;

import io.paxcron.cli.CliContext;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;

/** Runs the {@code paxcron} command in this process, with its output captured. */
final class InProcessCli {

  /** What one in-process run of the CLI printed and returned. */
  record Result(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private InProcessCli() {}

  /** A context with {@code env} as the environment and {@code work} as the working directory. */
  static CliContext context(
      Map<String, String> env, Path work, StringWriter out, StringWriter err) {
    return new CliContext(
        env,
        work,
        false,
        new PrintWriter(out, true),
        new PrintWriter(err, true),
        InstantSource.system(),
        CliContext::connect);
  }

  static Result run(Map<String, String> env, Path work, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Paxcron.run(context(env, work, out, err), args);
    return new Result(exit, out.toString(), err.toString());
  }
}
