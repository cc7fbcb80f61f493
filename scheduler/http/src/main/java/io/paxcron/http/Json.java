package io.paxcron.http;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes JSON from plain Java values: {@code Map} (object, in the map's order), {@code List},
 * {@code String}, {@code Number}, {@code Boolean} and {@code null}. The dashboard's API only writes
 * JSON (requests carry their arguments in the URL), so a writer of forty lines replaces a library.
 * Stateless and thread-safe.
 */
final class Json {
  private Json() {}

  static String write(Object value) {
    StringBuilder out = new StringBuilder(256);
    write(out, value);
    return out.toString();
  }

  private static void write(StringBuilder out, Object value) {
    switch (value) {
      case null -> out.append("null");
      case String text -> string(out, text);
      case Boolean bool -> out.append(bool.booleanValue());
      case Double number when number.isNaN() || number.isInfinite() -> out.append("null");
      case Number number -> out.append(number);
      case Map<?, ?> map -> {
        out.append('{');
        Iterator<? extends Map.Entry<?, ?>> entries = map.entrySet().iterator();
        while (entries.hasNext()) {
          Map.Entry<?, ?> entry = entries.next();
          string(out, String.valueOf(entry.getKey()));
          out.append(':');
          write(out, entry.getValue());
          if (entries.hasNext()) {
            out.append(',');
          }
        }
        out.append('}');
      }
      case List<?> list -> {
        out.append('[');
        for (int i = 0; i < list.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          write(out, list.get(i));
        }
        out.append(']');
      }
      default ->
          throw new IllegalArgumentException(
              "cannot write a " + value.getClass().getName() + " as JSON");
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
          // '<' is escaped too, so a value can never close a <script> element it is embedded in.
          if (c < 0x20 || c == '<' || c == 0x2028 || c == 0x2029) {
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
