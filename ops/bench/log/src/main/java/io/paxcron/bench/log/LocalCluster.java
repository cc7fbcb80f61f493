package io.paxcron.bench.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The processes a target started and the directory it owns, torn down together.
 *
 * <p>{@link #close()} stops every process (SIGTERM, then SIGKILL after {@link #STOP_GRACE}) and
 * then deletes the directory. A shutdown hook registered at construction does the same if the JVM
 * exits first (Ctrl-C, an uncaught error in another thread); {@code close()} unregisters it.
 * Thread-safe: all methods are synchronized, and {@code close()} is idempotent.
 */
final class LocalCluster implements AutoCloseable {

  /** How long a replica may take to exit after SIGTERM before it is killed. */
  static final Duration STOP_GRACE = Duration.ofSeconds(10);

  /** Processes per cluster; a 3-replica cluster plus helpers stays far below it. */
  static final int MAX_PROCESSES = 16;

  private final String name;
  private final Path directory;
  private final List<Process> processes = new ArrayList<>();
  private final Thread shutdownHook;
  private boolean closed;

  LocalCluster(String name, Path directory) {
    this.name = name;
    this.directory = directory;
    this.shutdownHook = new Thread(this::stopAndDelete, "stop-" + name);
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  Path directory() {
    return directory;
  }

  /**
   * Starts {@code command} in {@code workingDir} with standard output and error appended to {@code
   * logFile}, and takes ownership of the process.
   */
  synchronized Process launch(List<String> command, Path workingDir, Path logFile)
      throws IOException {
    if (closed) {
      throw new IllegalStateException(name + ": launch after close");
    }
    if (processes.size() >= MAX_PROCESSES) {
      throw new IllegalStateException(
          name + ": more than MAX_PROCESSES=" + MAX_PROCESSES + " processes");
    }
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(workingDir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
    Process process = builder.start();
    processes.add(process);
    return process;
  }

  /** The processes launched so far (running or not). */
  synchronized List<ProcessHandle> handles() {
    return processes.stream().map(Process::toHandle).toList();
  }

  /** Fails with the process's log tail if any owned process has exited. */
  synchronized void checkAlive(List<Path> logs) throws IOException {
    for (int i = 0; i < processes.size(); i++) {
      Process process = processes.get(i);
      if (!process.isAlive()) {
        Path log = i < logs.size() ? logs.get(i) : null;
        throw new IOException(
            name
                + ": process "
                + process.pid()
                + " exited with status "
                + process.exitValue()
                + (log == null ? "" : "; last lines of " + log + ":\n" + tail(log, 20)));
      }
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shutdownInProgress) {
      // The hook is running or about to; stopAndDelete below is idempotent.
    }
    stopAndDelete();
  }

  private synchronized void stopAndDelete() {
    if (closed) {
      return;
    }
    closed = true;
    for (Process process : processes) {
      process.descendants().forEach(ProcessHandle::destroy);
      process.destroy();
    }
    for (Process process : processes) {
      try {
        if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
          process.descendants().forEach(ProcessHandle::destroyForcibly);
          process.destroyForcibly().waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    for (Process process : processes) {
      if (process.isAlive()) {
        System.err.printf("warning: %s: process %d did not exit%n", name, process.pid());
      }
    }
    processes.clear();
    try {
      deleteRecursively(directory);
    } catch (IOException | UncheckedIOException e) {
      System.err.printf("warning: %s: could not delete %s: %s%n", name, directory, e);
    }
  }

  static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            Files.deleteIfExists(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  private static java.io.File nullDevice() {
    return new java.io.File("/dev/null");
  }
}
