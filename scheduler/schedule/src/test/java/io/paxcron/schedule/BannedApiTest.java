package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * STYLE.md §3 and §11: time and randomness are inputs, never read inside the library or its tests.
 */
class BannedApiTest {
  static final List<String> BANNED =
      List.of(
          "System.currentTimeMillis",
          "System.nanoTime",
          "Instant.now",
          "LocalDateTime.now",
          "ZonedDateTime.now",
          "Clock.system",
          "new Random(",
          "Math.random",
          "Thread.sleep",
          "ThreadLocalRandom",
          "new Thread(");

  @Test
  void libraryAndTestsReadNoClockAndMakeNoUnseededRandomness() throws IOException {
    List<String> violations = new ArrayList<>();
    for (String root : List.of("src/main/java", "src/test/java")) {
      try (Stream<Path> files = Files.walk(Path.of(root))) {
        for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
          if (file.getFileName().toString().equals("BannedApiTest.java")) {
            continue;
          }
          List<String> lines = Files.readAllLines(file);
          for (int i = 0; i < lines.size(); i++) {
            for (String banned : BANNED) {
              if (lines.get(i).contains(banned)) {
                violations.add(file + ":" + (i + 1) + ": " + banned);
              }
            }
          }
        }
      }
    }
    assertEquals(List.of(), violations);
  }
}
