package io.paxcron.cli;

import java.util.List;
import java.util.Map;

/**
 * Writes JSON for {@code -o json}: maps (in their iteration order), lists, strings, numbers,
 * booleans and null. The field names are part of the CLI's contract (docs/cli.md "JSON output").
 */
final class Json {
  private Json() {}

  /** Indented JSON, for a command's whole answer. */
  static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(out, value, "");
    return out.toString();
  }

  /** One-line JSON, for streams of records (one object per line). */
  static String writeLine(Object value) {
    StringBuilder out = new StringBuilder();
    write(out, value, null);
    return out.toString();
  }

  private static void write(StringBuilder out, Object value, String indent) {
    switch (value) {
      case null -> out.append("null");
      case String text -> string(out, text);
      case Boolean bool -> out.append(bool);
      case Integer number -> out.append(number);
      case Long number -> out.append(number);
      case Map<?, ?> map -> {
        if (map.isEmpty()) {
          out.append("{}");
          return;
        }
        out.append(indent == null ? "{" : "{\n");
        int i = 0;
        for (Map.Entry<?, ?> entry : map.entrySet()) {
          out.append(indent == null ? "" : indent + "  ");
          string(out, String.valueOf(entry.getKey()));
          out.append(indent == null ? ":" : ": ");
          write(out, entry.getValue(), indent == null ? null : indent + "  ");
          out.append(++i < map.size() ? "," : "").append(indent == null ? "" : "\n");
        }
        out.append(indent == null ? "" : indent).append('}');
      }
      case List<?> list -> {
        if (list.isEmpty()) {
          out.append("[]");
          return;
        }
        out.append(indent == null ? "[" : "[\n");
        for (int i = 0; i < list.size(); i++) {
          out.append(indent == null ? "" : indent + "  ");
          write(out, list.get(i), indent == null ? null : indent + "  ");
          out.append(i + 1 < list.size() ? "," : "").append(indent == null ? "" : "\n");
        }
        out.append(indent == null ? "" : indent).append(']');
      }
      default ->
          throw new IllegalArgumentException("no JSON form for " + value.getClass().getName());
    }
  }

  private static void string(StringBuilder out, String text) {
    out.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
