package io.paxcron.agent.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The agent core is pure (STYLE.md §1, §3): its main sources name no clock, unseeded randomness,
 * thread, lock, file or socket. Line comments and Javadoc lines are not code and are ignored.
 */
final class AgentCoreHasNoClockOrIoTest {
  private static final List<String> BANNED =
      List.of(
          "System.currentTimeMillis",
          "System.nanoTime",
          "Instant.now",
          "LocalDateTime.now",
          "ZonedDateTime.now",
          "Clock.system",
          "new Random(",
          "ThreadLocalRandom",
          "Math.random",
          "SecureRandom",
          "Thread.sleep",
          "new Thread",
          "ExecutorService",
          "synchronized",
          "java.io.File",
          "java.nio.file",
          "java.net",
          "System.getProperty",
          "System.getenv");

  @Test
  void mainSourcesUseNoClockRandomnessThreadsOrIo() throws IOException {
    List<Path> sources;
    try (Stream<Path> files = Files.walk(Path.of("src", "main", "java"))) {
      sources = files.filter(file -> file.toString().endsWith(".java")).sorted().toList();
    }
    assertTrue(sources.size() >= 10, "found " + sources);
    List<String> uses = new ArrayList<>();
    for (Path source : sources) {
      List<String> lines = Files.readAllLines(source, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (line.startsWith("//") || line.startsWith("*") || line.startsWith("/*")) {
          continue;
        }
        for (String banned : BANNED) {
          if (line.contains(banned)) {
            uses.add(source.getFileName() + ":" + (i + 1) + ": " + banned);
          }
        }
      }
    }
    assertEquals(List.of(), uses, "time and randomness are inputs; I/O belongs to the driver");
  }
}
