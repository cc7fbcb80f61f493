package io.paxcron.cli.crontab;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The importer is a pure core: it may import the JDK (without clocks, randomness, threads or
 * files), the schedule language and the scheduler core, nothing else (no gRPC, no picocli).
 */
class ImporterDependsOnCoreOnlyTest {
  private static final List<String> ALLOWED =
      List.of(
          "java.util.",
          "java.time.Duration",
          "java.time.Instant",
          "java.time.ZoneId",
          "java.nio.charset.",
          "java.security.MessageDigest",
          "java.security.NoSuchAlgorithmException",
          "io.paxcron.schedule.",
          "io.paxcron.scheduler.");

  @Test
  void importerSourcesImportOnlyTheJdkTheScheduleLanguageAndTheCore() throws Exception {
    Path sources = Path.of("src/main/java/io/paxcron/cli/crontab");
    List<String> offending = new ArrayList<>();
    try (Stream<Path> files = Files.list(sources)) {
      for (Path file : files.toList()) {
        for (String line : Files.readAllLines(file)) {
          if (line.startsWith("import ")) {
            String name = line.substring(7).replace("static ", "").replace(";", "").strip();
            if (ALLOWED.stream().noneMatch(name::startsWith)) {
              offending.add(file.getFileName() + ": " + name);
            }
          }
          for (String banned :
              List.of(
                  "Instant.now",
                  "System.currentTimeMillis",
                  "new Random",
                  "Thread.sleep",
                  "Files.",
                  "InstantSource")) {
            if (line.contains(banned)) {
              offending.add(file.getFileName() + ": uses " + banned);
            }
          }
        }
      }
    }
    assertEquals(List.of(), offending);
  }
}
