package io.paxcron.agent;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The agent's one long-lived spawning helper: a {@code perl} process running {@code spawn.pl},
 * which forks every run's wrapper. Forking from a small process costs a fraction of what a JVM
 * spawn through {@code jspawnhelper}, {@code setsid} and a wrapper shell cost (docs/agent.md,
 * "Processes"; docs/performance.md). Requests are NUL-terminated fields written to its stdin; it
 * answers nothing: what a run did is in its directory.
 *
 * <p>A helper that died is started again on the next request (its waiting wrappers died with it;
 * {@link #generation} tells requests meant for them apart). Not thread-safe: the agent's event loop
 * is its only caller.
 */
final class SpawnHelper implements AutoCloseable {
  private static final String SCRIPT = script();

  private Process process;
  private OutputStream requests;
  private long generation;

  /**
   * Starts the helper.
   *
   * @throws IOException if {@code perl} cannot be started, saying what to install
   */
  SpawnHelper() throws IOException {
    launch();
  }

  private void launch() throws IOException {
    try {
      process =
          new ProcessBuilder("perl", "-e", SCRIPT, "paxcron-spawn")
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
    } catch (IOException e) {
      throw new IOException(
          "cannot start perl, which forks the agent's runs ("
              + e.getMessage()
              + "); install it (Debian and Ubuntu: perl-base, present on every system;"
              + " Fedora and RHEL: perl-interpreter; Alpine: perl)",
          e);
    }
    requests = new BufferedOutputStream(process.getOutputStream(), 1 << 16);
    generation++;
  }

  long pid() {
    return process.pid();
  }

  /** Which helper is running: it changes each time a dead one is replaced. */
  long generation() {
    return generation;
  }

  /**
   * Sends requests in one write; a helper found dead is replaced once and they go to the new one.
   *
   * @return the generation of the helper they went to
   */
  long send(byte[]... batch) throws IOException {
    try {
      write(batch);
    } catch (IOException e) {
      restart();
      write(batch);
    }
    return generation;
  }

  /**
   * Sends a request meant for the helper of {@code expected} only (a go or a discard for a wrapper
   * it forked).
   *
   * @return false if that helper is gone: the wrapper it was for is gone with it
   */
  boolean sendIn(long expected, byte[] request) throws IOException {
    if (expected != generation) {
      return false;
    }
    try {
      write(request);
      return true;
    } catch (IOException e) {
      restart();
      return false;
    }
  }

  private void write(byte[]... batch) throws IOException {
    for (byte[] request : batch) {
      requests.write(request);
    }
    requests.flush();
  }

  private void restart() throws IOException {
    process.destroyForcibly();
    launch();
  }

  /**
   * Closes the helper's stdin: it exits, and wrappers still waiting for a go exit unrun. Runs told
   * to start go on.
   */
  @Override
  public void close() {
    try {
      requests.close();
    } catch (IOException e) {
      // It is gone already.
    }
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static byte[] go(long id) {
    return encode(List.of("G", Long.toString(id)));
  }

  static byte[] discard(long id) {
    return encode(List.of("D", Long.toString(id)));
  }

  /** Sends {@code signal} (a name such as {@code TERM}) to the process group {@code pgid}. */
  static byte[] signal(String signal, long pgid) {
    return encode(List.of("K", signal, Long.toString(pgid)));
  }

  /** Each field in UTF-8 followed by a NUL byte; no field may hold a NUL. */
  static byte[] encode(List<String> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String field : fields) {
      byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
      out.write(bytes, 0, bytes.length);
      out.write(0);
    }
    return out.toByteArray();
  }

  private static String script() {
    try (InputStream in = SpawnHelper.class.getResourceAsStream("spawn.pl")) {
      if (in == null) {
        throw new IllegalStateException("spawn.pl is missing from the agent's classes");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
