package io.paxcron.cli;

import io.paxcron.cli.crontab.CrontabFormat;
import io.paxcron.cli.crontab.CrontabImport;
import io.paxcron.cli.crontab.CrontabImporter;
import io.paxcron.cli.crontab.Diagnostic;
import io.paxcron.cli.crontab.ImportOptions;
import io.paxcron.schedule.Syntax;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The flags that say how to read a crontab file, shared by lint, plan and apply. */
final class CrontabOptions {
  @Option(
      names = "--format",
      paramLabel = "user|system",
      description =
          "user (default): schedule then command; system (/etc/crontab, /etc/cron.d): schedule,"
              + " user, command.")
  String format = "user";

  @Option(
      names = "--syntax",
      paramLabel = "vixie|quartz",
      description =
          "vixie (default, with Google's ?) or quartz (Quartz/Spring expressions unchanged).")
  String syntax = "vixie";

  @Option(
      names = "--source",
      paramLabel = "NAME",
      description =
          "The owner recorded on the jobs, crontab:NAME (default: the file's absolute path);"
              + " --prune deletes only jobs of this source.")
  String source;

  /** Why the flags are unusable, or null. */
  String problem() {
    if (!format.equals("user") && !format.equals("system")) {
      return "--format: expected user or system, got '" + format + "'";
    }
    if (!syntax.equals("vixie") && !syntax.equals("quartz")) {
      return "--syntax: expected vixie or quartz, got '" + syntax + "'";
    }
    return null;
  }

  String sourceFor(Path file) {
    return "crontab:" + (source != null ? source : file.toAbsolutePath().normalize().toString());
  }

  ImportOptions options(Path file) {
    return new ImportOptions(
        format.equals("system") ? CrontabFormat.SYSTEM : CrontabFormat.USER,
        syntax.equals("quartz") ? Syntax.QUARTZ : Syntax.VIXIE,
        sourceFor(file),
        ImportOptions.DEFAULT_MAX_QUIET_FIRES_PER_MINUTE);
  }

  /** The file read and imported; throws a one-line reason when it cannot be read. */
  CrontabImport read(Path file) throws UnreadableException {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new UnreadableException(file + ": no such file");
    } catch (CharacterCodingException e) {
      throw new UnreadableException(file + ": not UTF-8 text");
    } catch (IOException e) {
      throw new UnreadableException(file + ": cannot read: " + e.getMessage());
    }
    try {
      return CrontabImporter.read(file.toString(), text, options(file));
    } catch (IllegalArgumentException e) {
      throw new UnreadableException(e.getMessage());
    }
  }

  /** A crontab that could not be read at all. */
  static final class UnreadableException extends Exception {
    private static final long serialVersionUID = 1L;

    UnreadableException(String message) {
      super(message);
    }
  }

  /** Prints errors, then warnings, each with its line and caret. */
  static void printDiagnostics(java.io.PrintWriter out, CrontabImport result, Style style) {
    for (Diagnostic error : result.errors()) {
      out.println(colorHeadline(error, style));
    }
    if (!result.errors().isEmpty() && !result.warnings().isEmpty()) {
      out.println();
    }
    for (Diagnostic warning : result.warnings()) {
      out.println(colorHeadline(warning, style));
    }
  }

  private static String colorHeadline(Diagnostic diagnostic, Style style) {
    String rendered = diagnostic.render();
    String label = diagnostic.severity() == Diagnostic.Severity.ERROR ? "error:" : "warning:";
    String colored =
        diagnostic.severity() == Diagnostic.Severity.ERROR ? style.red(label) : style.yellow(label);
    return rendered.replaceFirst(
        ": " + label, ": " + java.util.regex.Matcher.quoteReplacement(colored));
  }

  static List<Object> json(List<Diagnostic> diagnostics) {
    List<Object> list = new ArrayList<>();
    for (Diagnostic diagnostic : diagnostics) {
      Map<String, Object> item = new LinkedHashMap<>();
      item.put("file", diagnostic.file());
      item.put("line", diagnostic.line());
      item.put("column", diagnostic.column());
      item.put("severity", diagnostic.severity().name().toLowerCase(java.util.Locale.ROOT));
      item.put("message", diagnostic.message());
      item.put("text", diagnostic.lineText());
      list.add(item);
    }
    return list;
  }
}
