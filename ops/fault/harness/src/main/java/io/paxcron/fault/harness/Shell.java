package io.paxcron.fault.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the system commands of the harness (ip, iptables, mount, fiu-ctrl) and checks them. */
final class Shell {
  private Shell() {}

  /** Runs {@code command}; returns its exit code and output. */
  static Result run(String... command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return new Result(-1, output + " (timed out)");
      }
      return new Result(process.exitValue(), output);
    } catch (IOException e) {
      return new Result(-1, "cannot run " + command[0] + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + String.join(" ", command));
    }
  }

  /** Runs {@code command} and fails, with its output, unless it exits 0. */
  static String must(String... command) {
    Result result = run(command);
    if (result.code() != 0) {
      throw new IllegalStateException(
          "`" + String.join(" ", command) + "` exited " + result.code() + ": " + result.output());
    }
    return result.output();
  }

  /** Runs the commands at once (each in its own thread) and fails unless every one exits 0. */
  static void mustAll(List<String[]> commands) {
    List<java.util.concurrent.Future<String>> running = new java.util.ArrayList<>();
    try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (String[] command : commands) {
        running.add(executor.submit(() -> must(command)));
      }
      for (var future : running) {
        future.get();
      }
    } catch (java.util.concurrent.ExecutionException e) {
      throw (RuntimeException) e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  static boolean available(String program) {
    for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
      if (new java.io.File(dir, program).canExecute()) {
        return true;
      }
    }
    return false;
  }

  record Result(int code, String output) {}
}
