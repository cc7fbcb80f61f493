package io.paxcron.bench.scale;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One process's CPU by kind of thread, read from Linux's {@code /proc/PID/task/*}/stat} (user +
 * system, in clock ticks of 10 ms): where a replica's time goes while it applies a load, without a
 * profiler. The collector's threads (and the VM thread, which runs its safepoints) count as {@code
 * gc}; threads that exited meanwhile count under {@code exited} (the process's total less its live
 * threads').
 */
record ThreadCpu(Map<String, Long> ticks) {

  /** The kinds, in the order they are printed. */
  private static final List<String> KINDS =
      List.of(
          "loop",
          "consensus",
          "answers",
          "grpc",
          "store",
          "snapshot",
          "gc",
          "jit",
          "other",
          "exited");

  /** A replica's own threads, "replica-ID-ROLE" cut to Linux's 15 characters. */
  private static final Pattern REPLICA_THREAD = Pattern.compile("replica-[0-9]+-(.+)");

  static ThreadCpu read(long pid) throws IOException {
    Map<String, Long> ticks = new LinkedHashMap<>();
    for (String kind : KINDS) {
      ticks.put(kind, 0L);
    }
    long live = 0;
    try (DirectoryStream<Path> tasks =
        Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : tasks) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException exited) {
          continue;
        }
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        long spent = userAndSystem(stat);
        ticks.merge(kindOf(name), spent, Long::sum);
        live += spent;
      }
    }
    long total = userAndSystem(Files.readString(Path.of("/proc/" + pid + "/stat")));
    ticks.put("exited", Math.max(0, total - live));
    return new ThreadCpu(ticks);
  }

  /** Fields 14 and 15 of a stat line: user and system time. */
  private static long userAndSystem(String stat) {
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  /** A thread's kind from its name as Linux keeps it (the first 15 characters). */
  static String kindOf(String name) {
    Matcher replica = REPLICA_THREAD.matcher(name);
    if (replica.matches()) {
      String role = replica.group(1);
      for (String kind : List.of("loop", "consensus", "snapshot")) {
        if (kind.startsWith(role)) {
          return kind;
        }
      }
      return "other";
    } else if (name.startsWith("answers")) {
      return "answers";
    } else if (name.startsWith("grpc")) {
      return "grpc";
    } else if (name.startsWith("paxcron-store") || name.startsWith("rocksdb")) {
      return "store";
    } else if (name.startsWith("GC Thread")
        || name.startsWith("G1 ")
        || name.startsWith("Shenandoah")
        || name.equals("VM Thread")) {
      return "gc";
    } else if (name.contains("CompilerThre")) {
      return "jit";
    }
    return "other";
  }

  long total() {
    return ticks.values().stream().mapToLong(Long::longValue).sum();
  }

  ThreadCpu since(ThreadCpu before) {
    Map<String, Long> spent = new LinkedHashMap<>();
    ticks.forEach((kind, now) -> spent.put(kind, now - before.ticks.getOrDefault(kind, 0L)));
    return new ThreadCpu(spent);
  }

  /** "12.3 s: loop 6.1, grpc 2.0, ..." with the kinds that spent anything. */
  String describe() {
    List<String> parts = new ArrayList<>();
    ticks.forEach(
        (kind, spent) -> {
          if (spent > 0) {
            parts.add(String.format(Locale.ROOT, "%s %.1f", kind, spent / 100.0));
          }
        });
    return String.format(Locale.ROOT, "%.1f s (%s)", total() / 100.0, String.join(", ", parts));
  }
}
