package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The core is a pure state machine (STYLE.md §1, §3): no clock, randomness, thread, lock, file or
 * socket in its main sources. Maven runs tests in the module directory, so the sources are read
 * from {@code src/main/java}. Comments may name banned APIs; code may not.
 */
final class CoreHasNoIoTest {

  private static final Path MAIN_SOURCES = Path.of("src", "main", "java");

  private static final List<String> BANNED =
      List.of(
          "System.currentTimeMillis",
          "System.nanoTime",
          "Instant.now",
          "LocalDateTime.now",
          "new Random(",
          "ThreadLocalRandom",
          "Math.random",
          "Thread.sleep",
          "new Thread",
          "java.io.File",
          "java.nio.file",
          "java.net",
          "ExecutorService",
          "synchronized");

  @Test
  void coreMainSourcesUseNoClockRandomnessThreadsOrIo() throws IOException {
    List<Path> sources;
    try (Stream<Path> files = Files.walk(MAIN_SOURCES)) {
      sources = files.filter(file -> file.toString().endsWith(".java")).sorted().toList();
    }
    assertTrue(
        sources.size() >= 10,
        "expected the core's sources under "
            + MAIN_SOURCES.toAbsolutePath()
            + ", found "
            + sources);

    List<String> uses = new ArrayList<>();
    for (Path source : sources) {
      uses.addAll(bannedUses(source.toString(), Files.readString(source, StandardCharsets.UTF_8)));
    }

    assertEquals(
        List.of(),
        uses,
        "the core must take time and randomness as inputs and leave I/O to the driver");
  }

  @Test
  void bannedApiScanNamesFileAndLineAndIgnoresComments() {
    for (String banned : BANNED) {
      String source = "class Sample {\n  void f() { x(" + banned + "); }\n}\n";
      List<String> uses = bannedUses("Sample.java", source);
      assertEquals(1, uses.size(), banned + " -> " + uses);
      assertTrue(uses.getFirst().startsWith("Sample.java:2: uses " + banned), uses.getFirst());
    }
    String onlyComments =
        """
        // Thread.sleep would be wrong here
        /* new Thread( is banned,
           System.nanoTime too */
        /** Javadoc naming java.net. */
        String url = "http://example"; // System.currentTimeMillis
        """;
    assertEquals(List.of(), bannedUses("Comments.java", onlyComments));
    assertEquals(
        List.of(),
        bannedUses("Names.java", "SplittableRandom r = new SplittableRandom(1);"),
        "seeded generators are allowed");
  }

  /** Each use of a banned API in {@code source}, as {@code file:line: uses API: code}. */
  static List<String> bannedUses(String file, String source) {
    String[] code = withoutComments(source).split("\n", -1);
    String[] original = source.split("\n", -1);
    List<String> uses = new ArrayList<>();
    for (int line = 0; line < code.length; line++) {
      for (String banned : BANNED) {
        if (pattern(banned).matcher(code[line]).find()) {
          uses.add(file + ":" + (line + 1) + ": uses " + banned + ": " + original[line].strip());
        }
      }
    }
    return uses;
  }

  private static Pattern pattern(String banned) {
    String quoted = Pattern.quote(banned);
    return Character.isLetter(banned.charAt(0))
        ? Pattern.compile("(?<!\\w)" + quoted)
        : Pattern.compile(quoted);
  }

  /**
   * {@code source} with every comment blanked out; line breaks are kept so line numbers stay, and
   * string and character literals are kept (a URL's "//" is not a comment).
   */
  static String withoutComments(String source) {
    StringBuilder code = new StringBuilder(source.length());
    int i = 0;
    while (i < source.length()) {
      char c = source.charAt(i);
      char next = i + 1 < source.length() ? source.charAt(i + 1) : '\0';
      if (c == '/' && next == '/') {
        while (i < source.length() && source.charAt(i) != '\n') {
          code.append(' ');
          i++;
        }
      } else if (c == '/' && next == '*') {
        int end = source.indexOf("*/", i + 2);
        end = end < 0 ? source.length() : end + 2;
        for (; i < end; i++) {
          code.append(source.charAt(i) == '\n' ? '\n' : ' ');
        }
      } else if (source.startsWith("\"\"\"", i)) {
        int end = source.indexOf("\"\"\"", i + 3);
        end = end < 0 ? source.length() : end + 3;
        code.append(source, i, end);
        i = end;
      } else if (c == '"' || c == '\'') {
        int end = i + 1;
        while (end < source.length() && source.charAt(end) != c && source.charAt(end) != '\n') {
          end += source.charAt(end) == '\\' ? 2 : 1;
        }
        end = Math.min(source.length(), end + 1);
        code.append(source, i, end);
        i = end;
      } else {
        code.append(c);
        i++;
      }
    }
    return code.toString();
  }
}
