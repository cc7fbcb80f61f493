package io.paxcron.bench.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Short-lived helper commands (apt-get, dpkg-query, {@code etcd --version}): run to completion with
 * a time limit, output captured. Long-running replicas go through {@link LocalCluster}.
 */
final class Commands {

  /** Output kept per command; apt-get's progress lines beyond this are dropped. */
  static final int MAX_OUTPUT_BYTES = 1 << 20;

  record Result(int exitStatus, String output) {
    boolean succeeded() {
      return exitStatus == 0;
    }
  }

  private Commands() {}

  static Result run(List<String> command, Map<String, String> environment, Duration timeout)
      throws IOException, InterruptedException {
    // Output goes to a file, not a pipe, so that a command that hangs cannot block the reader
    // past the time limit.
    Path output = Files.createTempFile("paxcron-bench-command", ".out");
    try {
      ProcessBuilder builder =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      builder.environment().putAll(environment);
      Process process = builder.start();
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new IOException(String.join(" ", command) + ": no exit within " + timeout);
        }
      } finally {
        if (process.isAlive()) {
          process.destroyForcibly();
        }
      }
      return new Result(process.exitValue(), readTail(output));
    } finally {
      Files.deleteIfExists(output);
    }
  }

  static Result run(List<String> command, Duration timeout)
      throws IOException, InterruptedException {
    return run(command, Map.of(), timeout);
  }

  /** True when {@code name} is an executable on the PATH ({@code command -v name}). */
  static boolean onPath(String name) throws IOException, InterruptedException {
    return run(
            List.of("sh", "-c", "command -v \"$0\" >/dev/null 2>&1", name), Duration.ofSeconds(10))
        .succeeded();
  }

  /**
   * Installs Debian packages with apt-get, refreshing the package lists first only when the install
   * fails without them (a fresh machine has none). Uses {@code sudo -n} when not root.
   */
  static void aptInstall(String... packages) throws IOException, InterruptedException {
    List<String> prefix = new ArrayList<>();
    if (!"root".equals(System.getProperty("user.name"))) {
      prefix.add("sudo");
      prefix.add("-n");
    }
    Map<String, String> environment = Map.of("DEBIAN_FRONTEND", "noninteractive");
    Duration limit = Duration.ofMinutes(15);
    List<String> install = new ArrayList<>(prefix);
    install.addAll(List.of("apt-get", "install", "-y", "-q", "--no-install-recommends"));
    install.addAll(List.of(packages));
    System.err.println("installing " + String.join(" ", packages) + " with apt-get ...");
    Result first = run(install, environment, limit);
    if (first.succeeded()) {
      return;
    }
    List<String> update = new ArrayList<>(prefix);
    update.addAll(List.of("apt-get", "update", "-q"));
    Result updated = run(update, environment, limit);
    if (!updated.succeeded()) {
      throw new IOException("apt-get update failed:\n" + lastLines(updated.output(), 20));
    }
    Result second = run(install, environment, limit);
    if (!second.succeeded()) {
      throw new IOException(
          "apt-get install "
              + String.join(" ", packages)
              + " failed (install them by hand and re-run):\n"
              + lastLines(second.output(), 20));
    }
  }

  /** The Debian version of an installed package, or "not installed". */
  static String debianVersion(String debianPackage) throws IOException, InterruptedException {
    Result result =
        run(List.of("dpkg-query", "-W", "-f=${Version}", debianPackage), Duration.ofSeconds(10));
    return result.succeeded() ? result.output().trim() : "not installed";
  }

  static String lastLines(String text, int lines) {
    String[] all = text.split("\n", -1);
    int from = Math.max(0, all.length - lines);
    return String.join("\n", java.util.Arrays.copyOfRange(all, from, all.length));
  }

  /** The last {@link #MAX_OUTPUT_BYTES} of the output: an error is at its end. */
  private static String readTail(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long from = Math.max(0, channel.size() - MAX_OUTPUT_BYTES);
      ByteBuffer buffer = ByteBuffer.allocate((int) (channel.size() - from));
      while (buffer.hasRemaining()) {
        if (channel.read(buffer, from + buffer.position()) < 0) {
          break;
        }
      }
      return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    }
  }
}
