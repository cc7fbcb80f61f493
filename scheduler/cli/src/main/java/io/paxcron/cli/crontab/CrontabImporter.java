package io.paxcron.cli.crontab;

import io.paxcron.schedule.CronExpression;
import io.paxcron.schedule.InvalidScheduleException;
import io.paxcron.schedule.LintWarning;
import io.paxcron.schedule.NextFire;
import io.paxcron.schedule.Schedule;
import io.paxcron.schedule.ScheduleLint;
import io.paxcron.schedule.ScheduleZone;
import io.paxcron.schedule.Syntax;
import io.paxcron.scheduler.ConcurrencyPolicy;
import io.paxcron.scheduler.FieldError;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.JobSpecValidator;
import io.paxcron.scheduler.MisfirePolicy;
import io.paxcron.scheduler.RetryPolicy;
import io.paxcron.scheduler.Semantics;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a crontab(5) file into job specs: the pure core of {@code paxcron lint}, {@code plan} and
 * {@code apply}. Text in, jobs and located diagnostics out; no clock, no I/O (the file's text is
 * passed in), deterministic: the same text and options always give the same jobs and names.
 *
 * <p>The rules (docs/cli.md "Crontab import" is the user's version):
 *
 * <ul>
 *   <li>{@code NAME=value} lines set the environment of the jobs below them; the value may be
 *       quoted with matching single or double quotes to keep blanks (crontab(5)).
 *   <li>{@code CRON_TZ=} and {@code TZ=} set the time zone of the jobs below ({@code TZ} is also
 *       passed to them, as cron does). {@code SHELL=} names the shell that runs the commands.
 *   <li>{@code MAILTO=}/{@code MAILFROM=} are kept as the annotations {@code mailto}/{@code
 *       mailfrom}, with a warning: Paxcron sends no mail.
 *   <li>The text after the first unescaped {@code %} of a command is its stdin, further {@code %}
 *       become newlines and {@code \%} is a literal {@code %} (with a warning showing the split).
 *   <li>{@code @reboot} is refused: a replicated cron has no single boot to run at.
 *   <li>{@code # paxcron: key=value ...} on the line above a job sets its name, timeout, retries,
 *       concurrency, semantics, selector and misfire policy.
 *   <li>A job without a name gets {@code <program>-<8 hex digits>}, a hash of the source and the
 *       line's text, so the same line of the same source always gets the same name.
 *   <li>An expression that can never fire ({@code 0 0 30 2 *}, a common way to disable a job) is
 *       imported paused, with a warning.
 * </ul>
 *
 * <p>Thread-safe: stateless.
 */
public final class CrontabImporter {
  /** Largest crontab accepted, in UTF-8 bytes. */
  public static final int MAX_CRONTAB_BYTES = 1 << 20;

  /** Most lines in one crontab. */
  public static final int MAX_CRONTAB_LINES = 20_000;

  /** Longest program word kept in a derived name, so that the name stays a DNS label. */
  static final int MAX_DERIVED_PREFIX = 40;

  /**
   * Users that system crontabs commonly name; a user crontab line starting its command with one is
   * suspect.
   */
  static final Set<String> COMMON_USERS =
      Set.of(
          "root",
          "nobody",
          "daemon",
          "www-data",
          "postgres",
          "mysql",
          "backup",
          "uucp",
          "_apt",
          "nagios",
          "zabbix",
          "munin",
          "smmsp",
          "operator",
          "apache",
          "nginx",
          "redis",
          "clamav",
          "amavis",
          "mailman",
          "mailman3",
          "ntpsec",
          "sympa",
          "cacti",
          "news",
          "inn",
          "logcheck",
          "debian-tor",
          "bind",
          "squid",
          "proxy",
          "tomcat",
          "jenkins",
          "gitlab-www");

  /**
   * Words that start a shell command line; a user-like word followed by one of them is probably a
   * user field.
   */
  static final Set<String> COMMAND_STARTS =
      Set.of(
          "if",
          "[",
          "[[",
          "test",
          "command",
          "cd",
          "exec",
          "nice",
          "ionice",
          "flock",
          "run-parts",
          "sh",
          "bash",
          "for",
          "while");

  /**
   * A fixed Monday that places schedules for counting fires per minute. The count is a property of
   * the expression, not of today's date, so any fixed instant gives the same warnings forever.
   */
  private static final Instant REFERENCE = Instant.parse("2024-01-01T00:00:00Z");

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern ANNOTATION = Pattern.compile("#\\s*paxcron:(.*)");
  private static final Pattern DAY_OF_WEEK_WORD =
      Pattern.compile("[0-7*?,/\\-]+|[A-Za-z]{3}([-,][A-Za-z]{3})*");
  private static final Pattern USER_NAME = Pattern.compile("[A-Za-z_][-A-Za-z0-9_.]*[$]?");
  private static final String PAXCRON_KEYS =
      "name, timeout, retries, concurrency, semantics, selector, misfire";

  private CrontabImporter() {}

  /**
   * Reads {@code text}, the contents of {@code file}.
   *
   * @param file the name shown in diagnostics ({@code file:line:col})
   */
  public static CrontabImport read(String file, String text, ImportOptions options) {
    return new Reader(file, options).read(text);
  }

  /**
   * One read of one file: the state that crontab lines carry downwards (environment, zone,
   * annotation).
   */
  private static final class Reader {
    private final String file;
    private final ImportOptions options;
    private final List<ImportedJob> jobs = new ArrayList<>();
    private final List<Diagnostic> errors = new ArrayList<>();
    private final List<Diagnostic> warnings = new ArrayList<>();
    private final Map<String, String> env = new TreeMap<>();
    private final Map<String, String> annotations = new TreeMap<>();
    private final Map<String, Integer> explicitNames = new HashMap<>();
    private final Map<String, Integer> derivedCounts = new HashMap<>();
    private String zone = JobSpec.DEFAULT_ZONE;
    private boolean zoneValid = true;
    private String shell = "/bin/sh";
    private Annotation pending;
    private int userLikeSixthWords;
    private int pathLikeUserWords;
    private int jobLines;

    Reader(String file, ImportOptions options) {
      this.file = file;
      this.options = options;
    }

    CrontabImport read(String text) {
      if (text.getBytes(StandardCharsets.UTF_8).length > MAX_CRONTAB_BYTES) {
        error(
            1,
            1,
            "the file is larger than " + MAX_CRONTAB_BYTES + " bytes (MAX_CRONTAB_BYTES)",
            "");
        return result();
      }
      String[] lines = text.split("\n", -1);
      int count = text.endsWith("\n") ? lines.length - 1 : lines.length;
      if (count > MAX_CRONTAB_LINES) {
        error(
            MAX_CRONTAB_LINES + 1,
            1,
            "the file has more than " + MAX_CRONTAB_LINES + " lines (MAX_CRONTAB_LINES)",
            lines[MAX_CRONTAB_LINES]);
        return result();
      }
      for (int i = 0; i < count; i++) {
        String line =
            lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
        readLine(i + 1, line);
      }
      if (pending != null) {
        warning(
            pending.line,
            1,
            "this '# paxcron:' annotation is not followed by a job line; it applies"
                + " to nothing",
            pending.text);
      }
      fileLevelHints();
      return result();
    }

    private CrontabImport result() {
      errors.sort(Reader::byPosition);
      warnings.sort(Reader::byPosition);
      return new CrontabImport(file, jobs, errors, warnings);
    }

    private static int byPosition(Diagnostic a, Diagnostic b) {
      int byLine = Integer.compare(a.line(), b.line());
      return byLine != 0 ? byLine : Integer.compare(a.column(), b.column());
    }

    private void fileLevelHints() {
      if (options.format() == CrontabFormat.USER
          && jobLines >= 2
          && userLikeSixthWords * 2 > jobLines) {
        warning(
            1,
            1,
            "most job lines have a user name after the schedule: this looks like a system"
                + " crontab (/etc/crontab, /etc/cron.d); read it with --format=system",
            "");
      }
      if (options.format() == CrontabFormat.SYSTEM
          && jobLines >= 1
          && pathLikeUserWords * 2 >= jobLines) {
        warning(
            1,
            1,
            "the word after the schedule is a command, not a user, on most job lines: this looks"
                + " like a user crontab; read it with --format=user",
            "");
      }
    }

    // ------------------------------------------------------------------------------ lines

    private void readLine(int number, String line) {
      int start = skipBlanks(line, 0);
      if (start == line.length()) {
        dropPendingAnnotation(number);
        return;
      }
      if (line.charAt(start) == '#') {
        Matcher matcher = ANNOTATION.matcher(line.substring(start));
        if (matcher.matches()) {
          dropPendingAnnotation(number);
          pending = parseAnnotation(number, line, matcher.group(1));
        }
        return;
      }
      if (readEnvironment(number, line, start)) {
        dropPendingAnnotation(number);
        return;
      }
      jobLines++;
      Annotation annotation = pending;
      pending = null;
      readJob(number, line, start, annotation);
    }

    /**
     * Warns that a pending annotation is followed by line {@code number}, which is not a job, and
     * drops it.
     */
    private void dropPendingAnnotation(int number) {
      if (pending != null) {
        warning(
            pending.line,
            1,
            "this '# paxcron:' annotation is followed by line "
                + number
                + ", not by a job; it applies to nothing",
            pending.text);
        pending = null;
      }
    }

    // ------------------------------------------------------------------------ environment

    /** Reads {@code NAME=value} (crontab(5) quoting); false if the line is not an assignment. */
    private boolean readEnvironment(int number, String line, int start) {
      int index = start;
      String name;
      char first = line.charAt(index);
      if (first == '"' || first == '\'') {
        int close = line.indexOf(first, index + 1);
        if (close < 0) {
          return false;
        }
        name = line.substring(index + 1, close);
        index = close + 1;
      } else {
        int end = index;
        while (end < line.length() && !isBlank(line.charAt(end)) && line.charAt(end) != '=') {
          end++;
        }
        name = line.substring(index, end);
        index = end;
      }
      index = skipBlanks(line, index);
      if (index >= line.length() || line.charAt(index) != '=' || name.isEmpty()) {
        return false;
      }
      int valueColumn = skipBlanks(line, index + 1);
      String value = line.substring(valueColumn);
      String trimmed = value.stripTrailing();
      if (!trimmed.isEmpty() && (trimmed.charAt(0) == '"' || trimmed.charAt(0) == '\'')) {
        char quote = trimmed.charAt(0);
        if (trimmed.length() < 2 || trimmed.charAt(trimmed.length() - 1) != quote) {
          error(
              number,
              valueColumn + 1,
              "unmatched "
                  + (quote == '"' ? "double" : "single")
                  + " quote: a quoted value must end with the same quote",
              line);
          return true;
        }
        value = trimmed.substring(1, trimmed.length() - 1);
      } else {
        value = trimmed;
      }
      assign(number, line, start + 1, name, value);
      return true;
    }

    private void assign(int number, String line, int column, String name, String value) {
      switch (name) {
        case "CRON_TZ", "TZ" -> {
          try {
            ScheduleZone.parse(value);
            zone = value;
            zoneValid = true;
          } catch (InvalidScheduleException e) {
            error(number, column, name + ": " + e.error().reason(), line);
            zoneValid = false;
          }
          if (name.equals("TZ")) {
            setEnv(number, line, column, name, value);
          }
        }
        case "MAILTO", "MAILFROM" -> {
          String key = name.toLowerCase(Locale.ROOT);
          if (value.isEmpty()) {
            annotations.remove(key);
          } else {
            annotations.put(key, value);
            warning(
                number,
                column,
                "Paxcron sends no mail: "
                    + name
                    + " is kept as the annotation '"
                    + key
                    + "' of the jobs below, for your own notification tooling",
                line);
          }
        }
        case "SHELL" -> {
          if (!value.startsWith("/")) {
            error(number, column, "SHELL must be an absolute path, got '" + value + "'", line);
          } else {
            shell = value;
          }
        }
        default -> setEnv(number, line, column, name, value);
      }
    }

    private void setEnv(int number, String line, int column, String name, String value) {
      if (!ENV_NAME.matcher(name).matches()) {
        error(
            number,
            column,
            "environment variable name '" + name + "' must match [A-Za-z_][A-Za-z0-9_]*",
            line);
      } else if (name.startsWith(JobSpecValidator.RESERVED_ENV_PREFIX)) {
        error(
            number,
            column,
            "names starting with "
                + JobSpecValidator.RESERVED_ENV_PREFIX
                + " are reserved for the variables the agent sets",
            line);
      } else {
        env.put(name, value);
      }
    }

    // -------------------------------------------------------------------------- annotation

    /** A parsed {@code # paxcron:} line: each key's value and column. */
    private record Annotation(
        int line, String text, Map<String, String> values, Map<String, Integer> columns) {}

    private Annotation parseAnnotation(int number, String line, String body) {
      Map<String, String> values = new LinkedHashMap<>();
      Map<String, Integer> columns = new HashMap<>();
      int offset = line.length() - body.length();
      int index = 0;
      while (index < body.length()) {
        if (isBlank(body.charAt(index))) {
          index++;
          continue;
        }
        int start = index;
        while (index < body.length() && !isBlank(body.charAt(index))) {
          index++;
        }
        String word = body.substring(start, index);
        int column = offset + start + 1;
        int equals = word.indexOf('=');
        if (equals <= 0) {
          error(
              number,
              column,
              "expected key=value in a '# paxcron:' annotation, got '" + word + "'",
              line);
          continue;
        }
        String key = word.substring(0, equals);
        if (!Set.of("name", "timeout", "retries", "concurrency", "semantics", "selector", "misfire")
            .contains(key)) {
          error(
              number,
              column,
              "unknown annotation key '" + key + "'; expected one of " + PAXCRON_KEYS,
              line);
          continue;
        }
        if (values.put(key, word.substring(equals + 1)) != null) {
          error(number, column, "annotation key '" + key + "' is given twice", line);
        }
        columns.put(key, column);
      }
      return new Annotation(number, line, values, columns);
    }

    // --------------------------------------------------------------------------------- jobs

    private record Word(String text, int start) {
      int end() {
        return start + text.length();
      }
    }

    private static List<Word> words(String line, int from) {
      List<Word> words = new ArrayList<>();
      int index = from;
      while (index < line.length()) {
        if (isBlank(line.charAt(index))) {
          index++;
          continue;
        }
        int start = index;
        while (index < line.length() && !isBlank(line.charAt(index))) {
          index++;
        }
        words.add(new Word(line.substring(start, index), start));
      }
      return words;
    }

    private void readJob(int number, String line, int start, Annotation annotation) {
      List<Word> words = words(line, start);
      int scheduleWords = scheduleWordCount(number, line, words);
      if (scheduleWords < 0) {
        return;
      }
      int userIndex = options.format() == CrontabFormat.SYSTEM ? scheduleWords : -1;
      int commandIndex = scheduleWords + (userIndex >= 0 ? 1 : 0);
      if (words.size() <= commandIndex) {
        int column = words.get(words.size() - 1).end() + 1;
        error(
            number,
            column,
            userIndex >= 0 && words.size() == scheduleWords
                ? "missing the user and the command after the schedule (system crontab: schedule, user,"
                    + " command)"
                : "missing the command after the schedule",
            line);
        return;
      }
      String scheduleText =
          line.substring(words.get(0).start(), words.get(scheduleWords - 1).end());
      int scheduleColumn = words.get(0).start() + 1;
      String runAs = "";
      if (userIndex >= 0) {
        Word user = words.get(userIndex);
        runAs = user.text();
        if (!USER_NAME.matcher(runAs).matches()) {
          pathLikeUserWords++;
          error(
              number,
              user.start() + 1,
              "expected a user name after the schedule (system crontab"
                  + " format), got '"
                  + runAs
                  + "'; is this a user crontab? use --format=user",
              line);
          return;
        }
      }
      Word commandWord = words.get(commandIndex);
      if (userIndex < 0
          && words.size() > commandIndex + 1
          && USER_NAME.matcher(commandWord.text()).matches()
          && (COMMON_USERS.contains(commandWord.text())
              || COMMAND_STARTS.contains(words.get(commandIndex + 1).text()))) {
        userLikeSixthWords++;
        warning(
            number,
            commandWord.start() + 1,
            "the command starts with '"
                + commandWord.text()
                + "', which looks like a user name: is this a system crontab? read it with --format=system",
            line);
      }
      Command command = splitCommand(number, line, commandWord.start());
      Schedule schedule;
      boolean neverFires = false;
      try {
        schedule = Schedule.parse(scheduleText, options.syntax());
      } catch (InvalidScheduleException e) {
        if (e.error().reason().startsWith("never fires")) {
          neverFires = true;
          schedule = null;
          warning(
              number,
              scheduleColumn + e.error().column() - 1,
              e.error().field()
                  + ": "
                  + e.error().reason()
                  + "; imported as a paused job (a common way to disable a line)"
                  + " that stays paused until the line changes",
              line);
        } else {
          error(
              number,
              scheduleColumn + e.error().column() - 1,
              e.error().field() + ": " + e.error().reason(),
              line);
          return;
        }
      }
      if (options.syntax() == Syntax.VIXIE && !scheduleText.startsWith("@")) {
        for (LintWarning lint : ScheduleLint.lint(scheduleText)) {
          warning(
              number,
              scheduleColumn + lint.column() - 1,
              lint.field() + ": " + lint.message(),
              line);
        }
      }
      if (schedule != null) {
        warnWhenBusy(number, line, scheduleColumn, schedule);
      }
      JobSpec.Builder builder =
          JobSpec.builder(
                  "",
                  scheduleText,
                  shell.equals("/bin/sh")
                      ? new JobCommand.Shell(command.script)
                      : new JobCommand.Argv(List.of(shell, "-c", command.script)))
              .syntax(options.syntax())
              .zone(zone)
              .env(env)
              .runAs(runAs)
              .stdin(command.stdin)
              .source(options.source())
              .annotations(annotations)
              .paused(neverFires);
      boolean derived = annotation == null || !annotation.values().containsKey("name");
      String name = derived ? derivedName(line, command.script) : annotation.values().get("name");
      if (!derived) {
        Integer earlier = explicitNames.putIfAbsent(name, number);
        if (earlier != null) {
          error(
              annotation.line(),
              annotation.columns().get("name"),
              "name '" + name + "' is already used by the job on line " + earlier,
              annotation.text());
          return;
        }
      }
      builder.name(name);
      int errorsBefore = errors.size();
      if (annotation != null) {
        applyAnnotation(annotation, builder);
      }
      if (errors.size() > errorsBefore) {
        return;
      }
      JobSpec spec = builder.build();
      for (FieldError problem : JobSpecValidator.validate(spec)) {
        report(
            problem,
            number,
            line,
            annotation,
            scheduleColumn,
            commandWord.start() + 1,
            command,
            userIndex >= 0 ? words.get(userIndex).start() + 1 : 1,
            neverFires);
      }
      if (errors.size() == errorsBefore) {
        jobs.add(new ImportedJob(spec, number, derived, command.notes));
      }
    }

    /**
     * How many words the schedule takes, or -1 after reporting an error. A 6th word that reads as a
     * day-of-week makes a 6-field (seconds) schedule in user format, with a hint when that word
     * could also be a user (the same line in a system crontab means something else).
     */
    private int scheduleWordCount(int number, String line, List<Word> words) {
      Word first = words.get(0);
      if (first.text().startsWith("@")) {
        String macro = first.text().toLowerCase(Locale.ROOT);
        if (macro.equals("@reboot")) {
          error(
              number,
              first.start() + 1,
              "@reboot is refused: a replicated cron has no single boot to"
                  + " run at; run the command from the host's init system instead",
              line);
          return -1;
        }
        return macro.equals("@every") ? Math.min(2, words.size()) : 1;
      }
      if (options.syntax() == Syntax.QUARTZ) {
        if (words.size() > 7 && parses(line, words, 7)) {
          return 7;
        }
        return Math.min(6, words.size());
      }
      if (options.format() == CrontabFormat.USER
          && words.size() > 6
          && DAY_OF_WEEK_WORD.matcher(words.get(5).text()).matches()
          && parses(line, words, 6)) {
        Word sixth = words.get(5);
        if (Character.isLetter(sixth.text().charAt(0))) {
          userLikeSixthWords++;
          warning(
              number,
              sixth.start() + 1,
              "'"
                  + sixth.text()
                  + "' is read as the day-of-week of a"
                  + " 6-field schedule (with seconds); is the 6th word a user? then this is a system"
                  + " crontab: read it with --format=system",
              line);
        }
        return 6;
      }
      if (words.size() < 5) {
        error(
            number,
            words.get(words.size() - 1).end() + 1,
            "expected 5 schedule fields (minute hour"
                + " day-of-month month day-of-week) and a command, got "
                + words.size()
                + " word(s)",
            line);
        return -1;
      }
      return 5;
    }

    private boolean parses(String line, List<Word> words, int count) {
      try {
        Schedule.parse(
            line.substring(words.get(0).start(), words.get(count - 1).end()), options.syntax());
        return true;
      } catch (InvalidScheduleException e) {
        return false;
      }
    }

    /** Warns when some minute of the schedule has more fires than the quiet threshold. */
    private void warnWhenBusy(int number, String line, int column, Schedule schedule) {
      if (schedule instanceof CronExpression cron && !cron.isResolved() || !zoneValid) {
        return;
      }
      ZoneId zoneId = ScheduleZone.parse(zone);
      NextFire first = schedule.next(REFERENCE, zoneId);
      if (first instanceof NextFire.Exhausted) {
        return;
      }
      long seconds = first.instant().getEpochSecond();
      Instant minute = Instant.ofEpochSecond(seconds - Math.floorMod(seconds, 60));
      Instant end = minute.plusSeconds(60);
      int fires = 0;
      NextFire next = schedule.next(minute.minusNanos(1), zoneId);
      while (!(next instanceof NextFire.Exhausted) && next.instant().isBefore(end) && fires <= 60) {
        fires++;
        next = schedule.next(next.instant(), zoneId);
      }
      if (fires > options.maxQuietFiresPerMinute()) {
        warning(
            number,
            column,
            "fires "
                + fires
                + " times a minute (more than "
                + options.maxQuietFiresPerMinute()
                + "): each run is a Paxos round and a launch",
            line);
      }
    }

    /** The command text and stdin of a crontab command, split at the first unescaped {@code %}. */
    private record Command(String script, String stdin, int percentColumn, List<String> notes) {}

    private Command splitCommand(int number, String line, int from) {
      StringBuilder script = new StringBuilder();
      StringBuilder stdin = null;
      int percentColumn = 0;
      int escapes = 0;
      for (int i = from; i < line.length(); i++) {
        char c = line.charAt(i);
        StringBuilder out = stdin == null ? script : stdin;
        if (c == '\\' && i + 1 < line.length() && line.charAt(i + 1) == '%') {
          out.append('%');
          escapes++;
          i++;
        } else if (c == '%') {
          if (stdin == null) {
            stdin = new StringBuilder();
            percentColumn = i + 1;
          } else {
            stdin.append('\n');
          }
        } else {
          out.append(c);
        }
      }
      List<String> notes = new ArrayList<>();
      String input = "";
      if (stdin != null) {
        // cron ends the input with a newline when the text does not (Vixie do_command.c).
        input =
            stdin.length() == 0 || stdin.charAt(stdin.length() - 1) != '\n'
                ? stdin + "\n"
                : stdin.toString();
        notes.add("'%' split: command " + quote(script.toString()) + ", stdin " + quote(input));
        warning(
            number,
            percentColumn,
            "'%' starts the command's stdin: the command is "
                + quote(script.toString())
                + " and its stdin "
                + quote(input)
                + "; write '\\%' for a literal % (as in date +\\%F)",
            line);
      } else if (escapes > 0) {
        notes.add("'\\%' read as a literal %: command " + quote(script.toString()));
      }
      return new Command(script.toString(), input, percentColumn, notes);
    }

    private void applyAnnotation(Annotation annotation, JobSpec.Builder builder) {
      Semantics semantics = JobSpec.DEFAULT_SEMANTICS;
      for (Map.Entry<String, String> entry : annotation.values().entrySet()) {
        String key = entry.getKey();
        String value = entry.getValue();
        int column = annotation.columns().get(key) + key.length() + 1;
        switch (key) {
          case "name" -> {}
          case "timeout" -> {
            Duration timeout = Durations.parse(value);
            if (timeout == null) {
              annotationError(
                  annotation,
                  column,
                  "timeout: expected a duration like 90s, 5m, 1h30m"
                      + " or 2d, got '"
                      + value
                      + "'");
            } else {
              builder.timeout(timeout);
            }
          }
          case "retries" -> {
            Integer retries = integer(value);
            if (retries == null || retries < 0) {
              annotationError(
                  annotation,
                  column,
                  "retries: expected a count of retries (0 or more)," + " got '" + value + "'");
            } else {
              builder.retries(
                  retries == 0
                      ? RetryPolicy.NONE
                      : new RetryPolicy(
                          retries + 1,
                          RetryPolicy.NONE.backoffBase(),
                          RetryPolicy.NONE.backoffMax(),
                          RetryPolicy.NONE.jitterPercent()));
            }
          }
          case "concurrency" -> {
            switch (value) {
              case "allow" -> builder.concurrency(ConcurrencyPolicy.ALLOW);
              case "forbid" -> builder.concurrency(ConcurrencyPolicy.FORBID);
              case "replace" -> builder.concurrency(ConcurrencyPolicy.REPLACE);
              default ->
                  annotationError(
                      annotation,
                      column,
                      "concurrency: expected allow, forbid or" + " replace, got '" + value + "'");
            }
          }
          case "semantics" -> {
            switch (value) {
              case "at-most-once" -> semantics = Semantics.AT_MOST_ONCE;
              case "at-least-once" -> semantics = Semantics.AT_LEAST_ONCE;
              default ->
                  annotationError(
                      annotation,
                      column,
                      "semantics: expected at-most-once or"
                          + " at-least-once, got '"
                          + value
                          + "'");
            }
            builder.semantics(semantics);
          }
          case "selector" -> {
            Map<String, String> labels = new TreeMap<>();
            for (String pair : value.split(",", -1)) {
              int equals = pair.indexOf('=');
              if (equals <= 0) {
                annotationError(
                    annotation,
                    column,
                    "selector: expected key=value pairs separated"
                        + " by commas, got '"
                        + pair
                        + "'");
                labels = null;
                break;
              }
              labels.put(pair.substring(0, equals), pair.substring(equals + 1));
            }
            if (labels != null) {
              builder.agentSelector(labels);
            }
          }
          case "misfire" -> {
            MisfirePolicy.Mode mode =
                switch (value) {
                  case "skip" -> MisfirePolicy.Mode.SKIP;
                  case "run-once" -> MisfirePolicy.Mode.RUN_ONCE;
                  case "run-all" -> MisfirePolicy.Mode.RUN_ALL;
                  default -> null;
                };
            if (mode == null) {
              annotationError(
                  annotation,
                  column,
                  "misfire: expected skip, run-once or run-all, got '" + value + "'");
            } else {
              builder.misfire(
                  new MisfirePolicy(
                      mode, MisfirePolicy.DEFAULT.window(), MisfirePolicy.DEFAULT.maxCount()));
            }
          }
          default -> throw new IllegalStateException("unchecked annotation key " + key);
        }
      }
    }

    private void annotationError(Annotation annotation, int column, String message) {
      error(annotation.line(), column, message, annotation.text());
    }

    /** Reports a validator problem at the place in the file that caused it. */
    private void report(
        FieldError problem,
        int number,
        String line,
        Annotation annotation,
        int scheduleColumn,
        int commandColumn,
        Command command,
        int userColumn,
        boolean neverFires) {
      String path = problem.path();
      String root = path.split("[.\\[]", 2)[0];
      switch (root) {
        case "schedule" -> {
          if (!neverFires) {
            error(number, scheduleColumn, problem.toString(), line);
          }
        }
        case "zone", "env", "source" -> {
          // Reported once at the line that set them.
        }
        case "command" -> error(number, commandColumn, problem.toString(), line);
        case "stdin" ->
            error(
                number,
                command.percentColumn() > 0 ? command.percentColumn() : commandColumn,
                problem.toString(),
                line);
        case "runAs" -> error(number, userColumn, problem.toString(), line);
        case "annotations" ->
            error(number, 1, problem + " (from a MAILTO or MAILFROM line above)", line);
        default -> {
          String key =
              switch (root) {
                case "agentSelector" -> "selector";
                case "retries" -> "retries";
                default -> root;
              };
          if (annotation != null && annotation.columns().containsKey(key)) {
            error(
                annotation.line(),
                annotation.columns().get(key),
                problem.toString(),
                annotation.text());
          } else if (annotation != null && root.equals("name")) {
            error(
                annotation.line(),
                annotation.columns().get("name"),
                problem.toString(),
                annotation.text());
          } else {
            error(number, 1, problem.toString(), line);
          }
        }
      }
    }

    /**
     * {@code <program>-<hash>}: the program's base name as a DNS label, and the first 8 hex digits
     * of SHA-256 over the source and the line. Identical lines get {@code -2}, {@code -3}, ... in
     * file order.
     */
    private String derivedName(String line, String script) {
      String program = script.strip().split("[\\s;|&<>()]+", 2)[0];
      program = program.substring(program.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
      String label = program.replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
      if (label.length() > MAX_DERIVED_PREFIX) {
        label = label.substring(0, MAX_DERIVED_PREFIX).replaceAll("-+$", "");
      }
      if (label.isEmpty()) {
        label = "job";
      }
      String base = label + "-" + sha256(options.source() + "\n" + line.strip()).substring(0, 8);
      int seen = derivedCounts.merge(base, 1, Integer::sum);
      return seen == 1 ? base : base + "-" + seen;
    }

    private void error(int number, int column, String message, String line) {
      errors.add(
          new Diagnostic(
              Diagnostic.Severity.ERROR, file, number, Math.max(1, column), message, line));
    }

    private void warning(int number, int column, String message, String line) {
      warnings.add(
          new Diagnostic(
              Diagnostic.Severity.WARNING, file, number, Math.max(1, column), message, line));
    }
  }

  private static Integer integer(String text) {
    try {
      return Integer.valueOf(text);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }

  private static int skipBlanks(String line, int from) {
    int index = from;
    while (index < line.length() && isBlank(line.charAt(index))) {
      index++;
    }
    return index;
  }

  /** A string in double quotes with newlines and tabs shown as escapes, for messages. */
  static String quote(String text) {
    return "\""
        + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\t", "\\t")
        + "\"";
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
