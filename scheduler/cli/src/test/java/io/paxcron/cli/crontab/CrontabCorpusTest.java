package io.paxcron.cli.crontab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The importer on real system crontabs that Debian packages ship
 * (src/test/resources/crontab-corpus, SOURCES.md names each file's package and version): every line
 * imports as a job, or is refused with a located reason; none is silently dropped.
 */
class CrontabCorpusTest {
  private static final Pattern ASSIGNMENT = Pattern.compile("\\s*[A-Za-z_][A-Za-z0-9_]*\\s*=.*");

  private static Path corpus() throws URISyntaxException {
    return Path.of(CrontabCorpusTest.class.getResource("/crontab-corpus").toURI());
  }

  private static List<Path> files() throws IOException, URISyntaxException {
    try (Stream<Path> files = Files.list(corpus())) {
      return files.filter(f -> !f.getFileName().toString().equals("SOURCES.md")).sorted().toList();
    }
  }

  @Test
  void corpusHoldsAtLeastThirtyRealCrontabsEachNamedInSources() throws Exception {
    List<Path> files = files();
    String sources = Files.readString(corpus().resolve("SOURCES.md"));
    assertTrue(files.size() >= 30, "corpus has " + files.size() + " files");
    for (Path file : files) {
      assertTrue(
          sources.contains("`" + file.getFileName() + "`"),
          file.getFileName() + " is in SOURCES.md");
    }
  }

  @Test
  void everyLineOfEveryCorpusFileImportsOrIsRefusedWithAReason() throws Exception {
    int jobs = 0;
    List<String> refused = new ArrayList<>();
    for (Path file : files()) {
      String text = Files.readString(file);
      CrontabImport result =
          CrontabImporter.read(
              file.getFileName().toString(),
              text,
              ImportOptions.user("crontab:corpus/" + file.getFileName())
                  .withFormat(CrontabFormat.SYSTEM));
      Set<Integer> jobLines =
          result.jobs().stream().map(ImportedJob::line).collect(Collectors.toSet());
      Set<Integer> errorLines = new TreeSet<>();
      for (Diagnostic error : result.errors()) {
        assertFalse(error.message().isBlank(), error.headline());
        errorLines.add(error.line());
        refused.add(error.headline());
      }
      String[] lines = text.split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i].strip();
        int number = i + 1;
        boolean quiet =
            line.isEmpty() || line.startsWith("#") || ASSIGNMENT.matcher(line).matches();
        if (!quiet) {
          assertTrue(
              jobLines.contains(number) || errorLines.contains(number),
              file.getFileName() + ":" + number + " was neither imported nor refused: " + line);
        }
        assertFalse(
            jobLines.contains(number) && errorLines.contains(number),
            file.getFileName() + ":" + number + " both imported and refused");
      }
      jobs += result.jobs().size();
      for (ImportedJob job : result.jobs()) {
        assertFalse(job.spec().runAs().isEmpty(), "system crontab jobs keep their user: " + job);
      }
    }
    System.out.println(
        "crontab corpus: " + jobs + " jobs imported, " + refused.size() + " lines refused");
    refused.forEach(line -> System.out.println("  refused " + line));
    assertTrue(jobs >= 40, "imported " + jobs + " jobs");
  }

  @Test
  void corpusReadAsUserCrontabsIsFlaggedAsSystemFormat() throws Exception {
    int flagged = 0;
    int files = 0;
    for (Path file : files()) {
      CrontabImport result =
          CrontabImporter.read(
              file.getFileName().toString(),
              Files.readString(file),
              ImportOptions.user("crontab:corpus"));
      if (result.jobs().size() + result.errors().size() < 2) {
        continue;
      }
      files++;
      if (result.warnings().stream().anyMatch(w -> w.message().contains("--format=system"))) {
        flagged++;
      } else {
        System.out.println("not flagged as a system crontab: " + file.getFileName());
      }
    }
    assertEquals(
        files, flagged, "every multi-job system crontab read as a user crontab gets a format hint");
  }
}
