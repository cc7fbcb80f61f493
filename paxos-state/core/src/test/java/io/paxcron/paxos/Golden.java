package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Golden files (etcd datadriven style, simple version): a test renders what happened as text and
 * compares it with a checked-in file under {@code src/test/resources/golden/}. With {@code
 * -Dgolden.update=true} the test rewrites the file instead; review the diff before checking it in.
 */
final class Golden {

  static final Path DIRECTORY = Path.of("src", "test", "resources", "golden");
  static final String UPDATE_PROPERTY = "golden.update";
  static final String UPDATE_COMMAND =
      "mvn -q -pl paxos-state/core test -Dtest=GoldenTraceTest -Dgolden.update=true";
  private static final int CONTEXT_LINES = 3;

  private Golden() {}

  static void assertMatches(String name, String actual) {
    Path file = DIRECTORY.resolve(name + ".txt");
    try {
      if (Boolean.getBoolean(UPDATE_PROPERTY)) {
        Files.createDirectories(DIRECTORY);
        Files.writeString(file, actual, StandardCharsets.UTF_8);
        return;
      }
      if (!Files.exists(file)) {
        fail(
            "golden file "
                + file
                + " is missing; create it (from the repository root) with\n  "
                + UPDATE_COMMAND
                + "\nand read it before checking it in");
      }
      String expected = Files.readString(file, StandardCharsets.UTF_8);
      if (!expected.equals(actual)) {
        fail(
            "trace differs from golden file "
                + file
                + ":\n"
                + unifiedDiff(lines(expected), lines(actual), "golden/" + name + ".txt", "actual")
                + "\nIf the new trace is the correct protocol exchange, regenerate (from the repository"
                + " root) with\n  "
                + UPDATE_COMMAND
                + "\nand review the file's diff before checking"
                + " it in.");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot access golden file " + file, e);
    }
  }

  private static List<String> lines(String text) {
    return List.of(text.split("\n", -1));
  }

  private record Edit(char kind, String line, int expectedIndex, int actualIndex) {}

  /** A unified diff (longest common subsequence, three context lines) from expected to actual. */
  static String unifiedDiff(
      List<String> expected, List<String> actual, String expectedName, String actualName) {
    int n = expected.size();
    int m = actual.size();
    int[][] common = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        common[i][j] =
            expected.get(i).equals(actual.get(j))
                ? common[i + 1][j + 1] + 1
                : Math.max(common[i + 1][j], common[i][j + 1]);
      }
    }
    List<Edit> edits = new ArrayList<>();
    int i = 0;
    int j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && expected.get(i).equals(actual.get(j))) {
        edits.add(new Edit(' ', expected.get(i), i++, j++));
      } else if (i < n && (j == m || common[i + 1][j] >= common[i][j + 1])) {
        edits.add(new Edit('-', expected.get(i), i++, j));
      } else {
        edits.add(new Edit('+', actual.get(j), i, j++));
      }
    }
    StringBuilder diff = new StringBuilder();
    diff.append("--- ").append(expectedName).append('\n');
    diff.append("+++ ").append(actualName).append('\n');
    int next = 0;
    while (next < edits.size()) {
      if (edits.get(next).kind() == ' ') {
        next++;
        continue;
      }
      int start = Math.max(0, next - CONTEXT_LINES);
      int lastChange = next;
      int scan = next;
      while (scan < edits.size()) {
        if (edits.get(scan).kind() != ' ') {
          lastChange = scan;
        } else if (scan - lastChange > 2 * CONTEXT_LINES) {
          break;
        }
        scan++;
      }
      int end = Math.min(edits.size(), lastChange + 1 + CONTEXT_LINES);
      List<Edit> hunk = edits.subList(start, end);
      long expectedLength = hunk.stream().filter(e -> e.kind() != '+').count();
      long actualLength = hunk.stream().filter(e -> e.kind() != '-').count();
      diff.append("@@ -")
          .append(hunk.getFirst().expectedIndex() + 1)
          .append(',')
          .append(expectedLength)
          .append(" +")
          .append(hunk.getFirst().actualIndex() + 1)
          .append(',')
          .append(actualLength)
          .append(" @@\n");
      for (Edit edit : hunk) {
        diff.append(edit.kind()).append(edit.line()).append('\n');
      }
      next = end;
    }
    return diff.toString();
  }
}
