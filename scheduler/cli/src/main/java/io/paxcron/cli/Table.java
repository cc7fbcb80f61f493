package io.paxcron.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * A human table: a bold header and left-aligned columns two spaces apart. Cells may hold colors.
 */
final class Table {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String... header) {
    this.header = List.of(header);
  }

  Table row(String... cells) {
    if (cells.length != header.size()) {
      throw new IllegalArgumentException(
          "a row needs " + header.size() + " cells, got " + cells.length);
    }
    rows.add(List.of(cells));
    return this;
  }

  String render(Style style) {
    int[] widths = new int[header.size()];
    for (int c = 0; c < widths.length; c++) {
      widths[c] = Style.width(header.get(c));
      for (List<String> row : rows) {
        widths[c] = Math.max(widths[c], Style.width(row.get(c)));
      }
    }
    StringBuilder out = new StringBuilder();
    line(out, header.stream().map(style::bold).toList(), widths);
    for (List<String> row : rows) {
      line(out, row, widths);
    }
    return out.toString();
  }

  private static void line(StringBuilder out, List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int c = 0; c < cells.size(); c++) {
      String cell = cells.get(c);
      line.append(cell);
      if (c < cells.size() - 1) {
        line.append(" ".repeat(widths[c] - Style.width(cell) + 2));
      }
    }
    out.append(line.toString().stripTrailing()).append('\n');
  }
}
