package io.paxcron.scheduler;

import io.paxcron.schedule.InvalidScheduleException;
import io.paxcron.schedule.Schedule;
import io.paxcron.schedule.ScheduleError;
import io.paxcron.schedule.ScheduleZone;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks a {@link JobSpec} and reports every problem at once as {@link FieldError}s (DESIGN §1
 * promise 6: bad input gets a clear error and changes nothing). Every limit is a named constant and
 * every message names it. Pure and deterministic: the same spec gives the same errors on every
 * replica (zone ids are checked against the JDK's time-zone database, which replicas share).
 */
public final class JobSpecValidator {
  /** Longest job name: a DNS label. */
  public static final int MAX_NAME_LENGTH = JobName.MAX_LENGTH;

  /** Most elements of an argument vector. */
  public static final int MAX_ARGV_ELEMENTS = 256;

  /** Largest command (argv elements or shell string) in UTF-8 bytes. */
  public static final int MAX_COMMAND_BYTES = 65_536;

  /** Most environment variables. */
  public static final int MAX_ENV_ENTRIES = 256;

  /** Longest environment variable name. */
  public static final int MAX_ENV_NAME_LENGTH = 256;

  /** Largest environment variable value in UTF-8 bytes. */
  public static final int MAX_ENV_VALUE_BYTES = 32_768;

  /** Prefix of the variables the agent sets itself ({@code PAXCRON_RUN_ID}, …). */
  public static final String RESERVED_ENV_PREFIX = "PAXCRON_";

  /** Longest working directory. */
  public static final int MAX_WORKING_DIRECTORY_LENGTH = 4096;

  /** Most labels in an agent selector. */
  public static final int MAX_SELECTOR_LABELS = 32;

  /** Longest label key or value. */
  public static final int MAX_LABEL_LENGTH = 63;

  public static final Duration MIN_TIMEOUT = Duration.ofSeconds(1);
  public static final Duration MAX_TIMEOUT = Duration.ofDays(7);

  /** Most attempts per run (retries + 1). */
  public static final int MAX_ATTEMPTS = 100;

  public static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
  public static final Duration MAX_BACKOFF_BASE = Duration.ofHours(1);
  public static final Duration MAX_BACKOFF = Duration.ofDays(1);
  public static final int MAX_JITTER_PERCENT = 100;
  public static final Duration MIN_MISFIRE_WINDOW = Duration.ofSeconds(1);
  public static final Duration MAX_MISFIRE_WINDOW = Duration.ofDays(7);

  /** Most missed instants one catch-up runs with {@code run-all}. */
  public static final int MAX_MISFIRE_COUNT = 1000;

  /** Most terminal ledger records kept per job. */
  public static final int MAX_HISTORY_RETENTION = 10_000;

  /** Largest standard input text in UTF-8 bytes. */
  public static final int MAX_STDIN_BYTES = 65_536;

  /** Longest user name to run as (the POSIX login name limit most systems use). */
  public static final int MAX_RUN_AS_LENGTH = 32;

  /** Longest source (owner) string. */
  public static final int MAX_SOURCE_LENGTH = 512;

  /** Most annotations. */
  public static final int MAX_ANNOTATIONS = 64;

  /** Longest annotation key. */
  public static final int MAX_ANNOTATION_KEY_LENGTH = 63;

  /** Largest annotation value in UTF-8 bytes. */
  public static final int MAX_ANNOTATION_VALUE_BYTES = 4096;

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern LABEL_KEY =
      Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?");

  /**
   * A portable user name (POSIX.1 portable filename characters, not starting with '-'), or a
   * numeric uid.
   */
  private static final Pattern RUN_AS = Pattern.compile("[A-Za-z0-9_][-A-Za-z0-9_.]*[$]?");

  private static final Pattern LABEL_VALUE =
      Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?");

  private JobSpecValidator() {}

  /** Every problem with {@code spec}, in field order; empty if the spec is acceptable. */
  public static List<FieldError> validate(JobSpec spec) {
    List<FieldError> errors = new ArrayList<>();
    checkName(spec.name(), errors);
    checkSchedule(spec, errors);
    try {
      ScheduleZone.parse(spec.zone());
    } catch (InvalidScheduleException e) {
      errors.add(new FieldError("zone", e.error().reason()));
    }
    checkCommand(spec.command(), errors);
    checkEnv(spec.env(), errors);
    checkWorkingDirectory(spec.workingDirectory(), errors);
    checkSelector(spec.agentSelector(), errors);
    checkRange("timeout", spec.timeout(), MIN_TIMEOUT, MAX_TIMEOUT, "MAX_TIMEOUT", errors);
    checkRetries(spec, errors);
    checkMisfire(spec.misfire(), errors);
    if (spec.historyRetention() < 1 || spec.historyRetention() > MAX_HISTORY_RETENTION) {
      errors.add(
          new FieldError(
              "historyRetention",
              "must be 1.."
                  + MAX_HISTORY_RETENTION
                  + " (MAX_HISTORY_RETENTION), got "
                  + spec.historyRetention()));
    }
    checkStdin(spec.stdin(), errors);
    checkRunAs(spec.runAs(), errors);
    checkSource(spec.source(), errors);
    checkAnnotations(spec.annotations(), errors);
    return List.copyOf(errors);
  }

  /** Checks a job name alone (for Delete, Pause, Resume, Trigger and Get requests). */
  public static List<FieldError> validateName(String name) {
    List<FieldError> errors = new ArrayList<>();
    checkName(name, errors);
    return List.copyOf(errors);
  }

  private static void checkName(String name, List<FieldError> errors) {
    String problem = JobName.problem(name);
    if (problem != null) {
      errors.add(new FieldError("name", problem));
    }
  }

  private static void checkSchedule(JobSpec spec, List<FieldError> errors) {
    if (spec.schedule().isBlank()) {
      errors.add(new FieldError("schedule", "must not be empty"));
      return;
    }
    try {
      // A paused job may keep a schedule that never fires (0 0 30 2 *, a crontab's way to
      // disable a line); it stays paused in effect, whatever its flag says later.
      if (spec.paused()) {
        Schedule.parseMayNeverFire(spec.schedule(), spec.syntax());
      } else {
        Schedule.parse(spec.schedule(), spec.syntax());
      }
    } catch (InvalidScheduleException e) {
      ScheduleError error = e.error();
      errors.add(
          new FieldError(
              "schedule",
              "column " + error.column() + ": " + error.reason() + " (" + error.field() + ")"));
    }
  }

  private static void checkCommand(JobCommand command, List<FieldError> errors) {
    switch (command) {
      case JobCommand.Argv argv -> {
        List<String> arguments = argv.arguments();
        if (arguments.isEmpty()) {
          errors.add(new FieldError("command.argv", "must name a program"));
          return;
        }
        if (arguments.size() > MAX_ARGV_ELEMENTS) {
          errors.add(
              new FieldError(
                  "command.argv",
                  "more than "
                      + MAX_ARGV_ELEMENTS
                      + " elements (MAX_ARGV_ELEMENTS), got "
                      + arguments.size()));
        }
        if (arguments.get(0).isEmpty()) {
          errors.add(new FieldError("command.argv[0]", "the program must not be empty"));
        }
        long bytes = 0;
        for (int i = 0; i < arguments.size(); i++) {
          if (arguments.get(i).indexOf('\0') >= 0) {
            errors.add(new FieldError("command.argv[" + i + "]", "contains a NUL character"));
          }
          bytes += utf8Length(arguments.get(i));
        }
        if (bytes > MAX_COMMAND_BYTES) {
          errors.add(
              new FieldError(
                  "command.argv",
                  "larger than " + MAX_COMMAND_BYTES + " bytes (MAX_COMMAND_BYTES), got " + bytes));
        }
      }
      case JobCommand.Shell shell -> {
        if (shell.script().isBlank()) {
          errors.add(new FieldError("command.shell", "must not be empty"));
        } else if (utf8Length(shell.script()) > MAX_COMMAND_BYTES) {
          errors.add(
              new FieldError(
                  "command.shell",
                  "larger than "
                      + MAX_COMMAND_BYTES
                      + " bytes (MAX_COMMAND_BYTES), got "
                      + utf8Length(shell.script())));
        }
        if (shell.script().indexOf('\0') >= 0) {
          errors.add(new FieldError("command.shell", "contains a NUL character"));
        }
      }
    }
  }

  private static void checkEnv(Map<String, String> env, List<FieldError> errors) {
    if (env.isEmpty()) {
      return; // most jobs: no iterator over an empty map
    }
    if (env.size() > MAX_ENV_ENTRIES) {
      errors.add(
          new FieldError(
              "env",
              "more than " + MAX_ENV_ENTRIES + " variables (MAX_ENV_ENTRIES), got " + env.size()));
      return;
    }
    for (Map.Entry<String, String> entry : env.entrySet()) {
      String name = entry.getKey();
      String path = "env[" + printable(name) + "]";
      if (name.length() > MAX_ENV_NAME_LENGTH) {
        errors.add(
            new FieldError(
                path,
                "name longer than " + MAX_ENV_NAME_LENGTH + " characters (MAX_ENV_NAME_LENGTH)"));
      } else if (!ENV_NAME.matcher(name).matches()) {
        errors.add(new FieldError(path, "name must match [A-Za-z_][A-Za-z0-9_]*"));
      } else if (name.startsWith(RESERVED_ENV_PREFIX)) {
        errors.add(
            new FieldError(
                path,
                "names starting with "
                    + RESERVED_ENV_PREFIX
                    + " are reserved for the variables the agent sets"));
      }
      if (utf8Length(entry.getValue()) > MAX_ENV_VALUE_BYTES) {
        errors.add(
            new FieldError(
                path, "value larger than " + MAX_ENV_VALUE_BYTES + " bytes (MAX_ENV_VALUE_BYTES)"));
      }
      if (entry.getValue().indexOf('\0') >= 0) {
        errors.add(new FieldError(path, "value contains a NUL character"));
      }
    }
  }

  private static void checkWorkingDirectory(String directory, List<FieldError> errors) {
    if (directory.isEmpty()) {
      return;
    }
    if (directory.length() > MAX_WORKING_DIRECTORY_LENGTH) {
      errors.add(
          new FieldError(
              "workingDirectory",
              "longer than "
                  + MAX_WORKING_DIRECTORY_LENGTH
                  + " characters (MAX_WORKING_DIRECTORY_LENGTH)"));
    } else if (!directory.startsWith("/")) {
      errors.add(
          new FieldError(
              "workingDirectory", "must be an absolute path, got '" + printable(directory) + "'"));
    }
    if (directory.indexOf('\0') >= 0) {
      errors.add(new FieldError("workingDirectory", "contains a NUL character"));
    }
  }

  private static void checkSelector(Map<String, String> selector, List<FieldError> errors) {
    if (selector.isEmpty()) {
      return; // most jobs: no iterator over an empty map
    }
    if (selector.size() > MAX_SELECTOR_LABELS) {
      errors.add(
          new FieldError(
              "agentSelector",
              "more than "
                  + MAX_SELECTOR_LABELS
                  + " labels (MAX_SELECTOR_LABELS), got "
                  + selector.size()));
      return;
    }
    for (Map.Entry<String, String> label : selector.entrySet()) {
      String path = "agentSelector[" + printable(label.getKey()) + "]";
      if (label.getKey().isEmpty()
          || label.getKey().length() > MAX_LABEL_LENGTH
          || !LABEL_KEY.matcher(label.getKey()).matches()) {
        errors.add(
            new FieldError(
                path,
                "label key must be 1.."
                    + MAX_LABEL_LENGTH
                    + " characters (MAX_LABEL_LENGTH) of letters, digits and -_./, starting and ending alphanumeric"));
      }
      if (label.getValue().length() > MAX_LABEL_LENGTH
          || !LABEL_VALUE.matcher(label.getValue()).matches()) {
        errors.add(
            new FieldError(
                path,
                "label value must be 0.."
                    + MAX_LABEL_LENGTH
                    + " characters (MAX_LABEL_LENGTH) of letters, digits and -_., starting and ending alphanumeric"));
      }
    }
  }

  private static void checkRetries(JobSpec spec, List<FieldError> errors) {
    RetryPolicy retries = spec.retries();
    if (retries.maxAttempts() < 1 || retries.maxAttempts() > MAX_ATTEMPTS) {
      errors.add(
          new FieldError(
              "retries.maxAttempts",
              "must be 1.." + MAX_ATTEMPTS + " (MAX_ATTEMPTS), got " + retries.maxAttempts()));
    } else if (retries.maxAttempts() > 1 && spec.semantics() == Semantics.AT_MOST_ONCE) {
      errors.add(
          new FieldError(
              "retries.maxAttempts",
              "must be 1 for at-most-once semantics (a retry is a"
                  + " second launch of the same run); set semantics to at-least-once to retry"));
    }
    checkRange(
        "retries.backoffBase",
        retries.backoffBase(),
        MIN_BACKOFF,
        MAX_BACKOFF_BASE,
        "MAX_BACKOFF_BASE",
        errors);
    checkRange(
        "retries.backoffMax",
        retries.backoffMax(),
        MIN_BACKOFF,
        MAX_BACKOFF,
        "MAX_BACKOFF",
        errors);
    if (retries.backoffMax().compareTo(retries.backoffBase()) < 0) {
      errors.add(
          new FieldError(
              "retries.backoffMax",
              "must not be below retries.backoffBase ("
                  + retries.backoffBase()
                  + "), got "
                  + retries.backoffMax()));
    }
    if (retries.jitterPercent() < 0 || retries.jitterPercent() > MAX_JITTER_PERCENT) {
      errors.add(
          new FieldError(
              "retries.jitterPercent",
              "must be 0.." + MAX_JITTER_PERCENT + ", got " + retries.jitterPercent()));
    }
  }

  private static void checkMisfire(MisfirePolicy misfire, List<FieldError> errors) {
    checkRange(
        "misfire.window",
        misfire.window(),
        MIN_MISFIRE_WINDOW,
        MAX_MISFIRE_WINDOW,
        "MAX_MISFIRE_WINDOW",
        errors);
    if (misfire.maxCount() < 1 || misfire.maxCount() > MAX_MISFIRE_COUNT) {
      errors.add(
          new FieldError(
              "misfire.maxCount",
              "must be 1.."
                  + MAX_MISFIRE_COUNT
                  + " (MAX_MISFIRE_COUNT), got "
                  + misfire.maxCount()));
    }
  }

  private static void checkStdin(String stdin, List<FieldError> errors) {
    if (utf8Length(stdin) > MAX_STDIN_BYTES) {
      errors.add(
          new FieldError(
              "stdin",
              "larger than "
                  + MAX_STDIN_BYTES
                  + " bytes (MAX_STDIN_BYTES), got "
                  + utf8Length(stdin)));
    }
    if (stdin.indexOf('\0') >= 0) {
      errors.add(new FieldError("stdin", "contains a NUL character"));
    }
  }

  private static void checkRunAs(String runAs, List<FieldError> errors) {
    if (runAs.isEmpty()) {
      return;
    }
    if (runAs.length() > MAX_RUN_AS_LENGTH) {
      errors.add(
          new FieldError(
              "runAs",
              "longer than "
                  + MAX_RUN_AS_LENGTH
                  + " characters (MAX_RUN_AS_LENGTH),"
                  + " got "
                  + runAs.length()));
    } else if (!RUN_AS.matcher(runAs).matches()) {
      errors.add(
          new FieldError(
              "runAs",
              "must be a user name of letters, digits, '_', '.' and '-', not starting"
                  + " with '-', got '"
                  + printable(runAs)
                  + "'"));
    }
  }

  private static void checkSource(String source, List<FieldError> errors) {
    if (source.length() > MAX_SOURCE_LENGTH) {
      errors.add(
          new FieldError(
              "source",
              "longer than "
                  + MAX_SOURCE_LENGTH
                  + " characters (MAX_SOURCE_LENGTH),"
                  + " got "
                  + source.length()));
    }
    if (hasControl(source)) {
      errors.add(new FieldError("source", "contains a control character"));
    }
  }

  private static void checkAnnotations(Map<String, String> annotations, List<FieldError> errors) {
    if (annotations.isEmpty()) {
      return; // most jobs: no iterator over an empty map
    }
    if (annotations.size() > MAX_ANNOTATIONS) {
      errors.add(
          new FieldError(
              "annotations",
              "more than "
                  + MAX_ANNOTATIONS
                  + " entries (MAX_ANNOTATIONS), got "
                  + annotations.size()));
      return;
    }
    for (Map.Entry<String, String> entry : annotations.entrySet()) {
      String path = "annotations[" + printable(entry.getKey()) + "]";
      if (entry.getKey().isEmpty()
          || entry.getKey().length() > MAX_ANNOTATION_KEY_LENGTH
          || !LABEL_KEY.matcher(entry.getKey()).matches()) {
        errors.add(
            new FieldError(
                path,
                "key must be 1.."
                    + MAX_ANNOTATION_KEY_LENGTH
                    + " characters (MAX_ANNOTATION_KEY_LENGTH) of letters, digits and -_./, starting and ending"
                    + " alphanumeric"));
      }
      if (utf8Length(entry.getValue()) > MAX_ANNOTATION_VALUE_BYTES) {
        errors.add(
            new FieldError(
                path,
                "value larger than "
                    + MAX_ANNOTATION_VALUE_BYTES
                    + " bytes (MAX_ANNOTATION_VALUE_BYTES)"));
      }
      if (entry.getValue().indexOf('\0') >= 0) {
        errors.add(new FieldError(path, "value contains a NUL character"));
      }
    }
  }

  private static boolean hasControl(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        return true;
      }
    }
    return false;
  }

  private static void checkRange(
      String path,
      Duration value,
      Duration min,
      Duration max,
      String limitName,
      List<FieldError> errors) {
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      errors.add(
          new FieldError(
              path,
              "must be "
                  + human(min)
                  + ".."
                  + human(max)
                  + " ("
                  + limitName
                  + "), got "
                  + human(value)));
    }
  }

  static String human(Duration duration) {
    if (duration.isNegative() || duration.getNano() != 0) {
      return duration.toString();
    }
    long seconds = duration.getSeconds();
    if (seconds != 0 && seconds % 86_400 == 0) {
      return seconds / 86_400 + "d";
    }
    if (seconds != 0 && seconds % 3600 == 0) {
      return seconds / 3600 + "h";
    }
    if (seconds != 0 && seconds % 60 == 0) {
      return seconds / 60 + "m";
    }
    return seconds + "s";
  }

  /**
   * The length of {@code text} in UTF-8, as {@code getBytes(UTF_8)} would produce it (a lone
   * surrogate becomes one '?'), counted without encoding it.
   */
  static long utf8Length(String text) {
    long bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else if (Character.isSurrogate(c)) {
        bytes += 1;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** A name as it may be echoed in an error: control characters escaped, at most 80 characters. */
  private static String printable(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length() && out.length() < 80; i++) {
      char c = text.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    }
    return text.length() > 80 ? out + "…" : out.toString();
  }
}
