package io.paxcron.simkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The one list of banned APIs (STYLE.md §1, §3, §11), checked over every pure core, the simulation
 * kit, both simulators, and the tests of all of them: time and randomness are inputs, and I/O
 * belongs to the shells. No clock, no sleep, no unseeded or secure randomness, no environment or
 * system property, no thread, executor or lock, no file and no socket. Comments may name banned
 * APIs; code may not.
 *
 * <p>Not covered: the shells and their integration suites ({@code paxos-state/storage}, {@code
 * transport}, {@code replica}, {@code backup}, {@code scheduler/server}, {@code api}, {@code http},
 * {@code cli}, {@code worker-agent/agent}), whose job is I/O on real processes.
 *
 * <p>Maven runs this test in {@code paxos-state/simkit}, so the tree's root is two levels up.
 */
final class BannedApisTest {

  private static final Path ROOT = Path.of("..", "..").toAbsolutePath().normalize();

  /** Every module whose main and test sources must be free of banned APIs. */
  static final List<String> MODULES =
      List.of(
          "paxos-state/core",
          "paxos-state/simkit",
          "paxos-state/simulator",
          "scheduler/schedule",
          "scheduler/core",
          "scheduler/simulator",
          "worker-agent/core");

  static final List<String> BANNED =
      List.of(
          "System.currentTimeMillis",
          "System.nanoTime",
          "Instant.now",
          "LocalDate.now",
          "LocalDateTime.now",
          "ZonedDateTime.now",
          "OffsetDateTime.now",
          "Clock.system",
          "InstantSource.system",
          "new Random(",
          "ThreadLocalRandom",
          "Math.random",
          "SecureRandom",
          "UUID.randomUUID",
          "Thread.sleep",
          "TimeUnit.",
          "new Thread",
          "Thread.ofVirtual",
          "Thread.ofPlatform",
          "ExecutorService",
          "Executors.",
          "CompletableFuture",
          "synchronized",
          "java.util.concurrent.locks",
          "System.getenv",
          "System.getProperty",
          "Long.getLong",
          "Boolean.getBoolean",
          "Integer.getInteger",
          "java.io.File",
          "java.nio.file",
          "java.nio.channels",
          "java.net");

  /**
   * The few uses that are the point of their file, each with its reason. A file not named here may
   * use nothing on the list.
   */
  static final Map<String, Set<String>> ALLOWED =
      Map.ofEntries(
          // Wall time measures the soak's throughput for its summary line; it never reaches a run.
          Map.entry(
              "paxos-state/simulator/src/main/java/io/paxcron/sim/Soak.java",
              Set.of("System.nanoTime")),
          Map.entry(
              "scheduler/simulator/src/main/java/io/paxcron/scheduler/sim/SystemSoak.java",
              Set.of("System.nanoTime")),
          Map.entry(
              "scheduler/simulator/src/test/java/io/paxcron/scheduler/sim/PlantedSystemBugsAreCaughtTest.java",
              Set.of("System.nanoTime")),
          // The seeds a CI run covers, and the seed a failing random test printed, are chosen
          // through system properties, so that a failure replays with -D.
          Map.entry(
              "paxos-state/simulator/src/test/java/io/paxcron/sim/SimulatorSeedsTest.java",
              Set.of("System.nanoTime", "Long.getLong")),
          Map.entry(
              "paxos-state/simulator/src/test/java/io/paxcron/sim/MembershipChangesTest.java",
              Set.of("Long.getLong")),
          Map.entry(
              "scheduler/simulator/src/test/java/io/paxcron/scheduler/sim/SystemSimulationSeedsTest.java",
              Set.of("System.nanoTime", "Long.getLong")),
          Map.entry(
              "paxos-state/simulator/src/test/java/io/paxcron/sim/linearizability/RandomHistoryTest.java",
              Set.of("Long.getLong")),
          Map.entry(
              "scheduler/core/src/test/java/io/paxcron/scheduler/Seeds.java",
              Set.of("System.getProperty")),
          Map.entry(
              "scheduler/schedule/src/test/java/io/paxcron/schedule/Seeds.java",
              Set.of("Long.getLong")),
          Map.entry(
              "worker-agent/core/src/test/java/io/paxcron/agent/core/AgentFenceModelTest.java",
              Set.of("Long.getLong")),
          // Golden traces are files, rewritten only on request (-Dgolden.update=true).
          Map.entry(
              "paxos-state/core/src/test/java/io/paxcron/paxos/Golden.java",
              Set.of("java.nio.file", "Boolean.getBoolean")),
          Map.entry(
              "scheduler/core/src/test/java/io/paxcron/scheduler/LaunchProtocolTraceTest.java",
              Set.of("java.nio.file", "Boolean.getBoolean")));

  /** This file holds the list (as strings) and reads the sources; it is not scanned. */
  private static final String SELF =
      "paxos-state/simkit/src/test/java/io/paxcron/simkit/BannedApisTest.java";

  @Test
  void
      noCoreSimulatorOrTheirTestsUsesAClockSleepUnseededRandomnessEnvironmentThreadsFilesOrSockets()
          throws IOException {
    List<String> uses = new ArrayList<>();
    int files = 0;
    for (String module : MODULES) {
      for (String tree : List.of("src/main/java", "src/test/java")) {
        Path root = ROOT.resolve(module).resolve(tree);
        if (!Files.isDirectory(root)) {
          assertTrue(tree.equals("src/test/java"), "missing " + root);
          continue;
        }
        List<Path> sources;
        try (Stream<Path> walk = Files.walk(root)) {
          sources = walk.filter(file -> file.toString().endsWith(".java")).sorted().toList();
        }
        for (Path source : sources) {
          files++;
          String relative = ROOT.relativize(source).toString().replace('\\', '/');
          if (relative.equals(SELF)) {
            continue;
          }
          Set<String> allowed = ALLOWED.getOrDefault(relative, Set.of());
          for (String use :
              bannedUses(relative, Files.readString(source, StandardCharsets.UTF_8))) {
            if (allowed.stream().noneMatch(api -> use.contains(": uses " + api + ":"))) {
              uses.add(use);
            }
          }
        }
      }
    }
    assertTrue(files >= 150, "expected the sources under " + ROOT + ", read " + files + " files");
    assertEquals(
        List.of(),
        uses,
        "time and randomness are inputs and I/O belongs to the shells (STYLE.md §1, §3)");
  }

  @Test
  void everyAllowanceNamesAFileThatExistsAndABannedApi() {
    ALLOWED.forEach(
        (file, apis) -> {
          assertTrue(Files.isRegularFile(ROOT.resolve(file)), "allowance for a missing " + file);
          assertTrue(BANNED.containsAll(apis), file + " allows an API not on the list: " + apis);
        });
  }

  @Test
  void theScanNamesFileAndLineAndIgnoresCommentsButNotStrings() {
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
    assertEquals(
        List.of(),
        bannedUses("Names.java", "long currentTimeMillisOfTheLeader = 0;"),
        "a name that merely contains a banned word is not a use");
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
