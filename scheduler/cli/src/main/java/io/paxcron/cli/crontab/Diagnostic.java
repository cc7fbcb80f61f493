package io.paxcron.cli.crontab;

import java.util.Objects;

/**
 * One problem found in a crontab file, located at {@code file:line:column}.
 *
 * @param severity whether the file can still be applied
 * @param file the file name as the user gave it
 * @param line 1-based line number
 * @param column 1-based column (characters, a tab counting as one)
 * @param message what is wrong and, where there is one, the fix
 * @param lineText the offending line as written, shown under the message with a caret
 */
public record Diagnostic(
    Severity severity, String file, int line, int column, String message, String lineText) {

  /**
   * Errors stop the whole file from being applied; warnings are shown and the file still applies.
   */
  public enum Severity {
    ERROR,
    WARNING;

    String label() {
      return this == ERROR ? "error" : "warning";
    }
  }

  public Diagnostic {
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(lineText, "lineText");
    if (line < 1 || column < 1) {
      throw new IllegalArgumentException("line and column are 1-based, got " + line + ":" + column);
    }
  }

  /** {@code file:line:col: error: message}, without the line and caret. */
  public String headline() {
    return file + ":" + line + ":" + column + ": " + severity.label() + ": " + message;
  }

  /**
   * The headline, the offending line and a caret under the column. Tabs before the column are
   * repeated under the line so that the caret lines up however the terminal expands them.
   */
  public String render() {
    StringBuilder caret = new StringBuilder("    ");
    for (int i = 0; i < column - 1 && i < lineText.length(); i++) {
      caret.append(lineText.charAt(i) == '\t' ? '\t' : ' ');
    }
    caret.append('^');
    return headline() + "\n    " + lineText + "\n" + caret;
  }
}
