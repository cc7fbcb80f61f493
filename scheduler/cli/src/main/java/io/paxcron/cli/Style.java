package io.paxcron.cli;

/**
 * ANSI colors, or none. Colors are used only when standard output is a terminal, {@code NO_COLOR}
 * is unset or empty (https://no-color.org) and {@code --no-color} was not given.
 */
public record Style(boolean colors) {
  public static final Style PLAIN = new Style(false);

  static Style of(CliContext context, boolean noColorFlag) {
    String noColor = context.env().get("NO_COLOR");
    return new Style(context.terminal() && !noColorFlag && (noColor == null || noColor.isEmpty()));
  }

  public String bold(String text) {
    return wrap("1", text);
  }

  public String green(String text) {
    return wrap("32", text);
  }

  public String red(String text) {
    return wrap("31", text);
  }

  public String yellow(String text) {
    return wrap("33", text);
  }

  public String dim(String text) {
    return wrap("2", text);
  }

  /**
   * The color of an outcome text such as {@code SUCCEEDED}, {@code FAILED(2)}, {@code
   * SKIPPED(PAUSED)}.
   */
  public String outcome(String text) {
    if (text.startsWith("SUCCEEDED")) {
      return green(text);
    }
    if (text.startsWith("SKIPPED")) {
      return yellow(text);
    }
    if (text.startsWith("FAILED") || text.startsWith("TIMED_OUT") || text.startsWith("LOST")) {
      return red(text);
    }
    return text;
  }

  private String wrap(String code, String text) {
    return colors && !text.isEmpty() ? "\u001b[" + code + "m" + text + "\u001b[0m" : text;
  }

  /** The printed width of {@code text}: its length without ANSI escape sequences. */
  static int width(String text) {
    return text.replaceAll("\u001b\\[[0-9;]*m", "")
        .codePointCount(0, text.replaceAll("\u001b\\[[0-9;]*m", "").length());
  }
}
