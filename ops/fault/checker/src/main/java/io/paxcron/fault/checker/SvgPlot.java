package io.paxcron.fault.checker;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small SVG scatter/line chart: x in seconds since the run started, fault windows shaded, a
 * linear or log10 y axis. Written by hand so that a report needs neither a plotting library nor a
 * browser: any image viewer opens SVG.
 */
final class SvgPlot {
  private static final int WIDTH = 1000;
  private static final int HEIGHT = 360;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 40;
  private static final int BOTTOM = 50;
  private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

  /** A named set of points. */
  record Series(String name, List<double[]> points, boolean line) {}

  /** A shaded window with a label. */
  record Window(double from, double to, String label) {}

  private final String title;
  private final String yLabel;
  private final boolean logY;
  private final List<Series> series = new ArrayList<>();
  private final List<Window> windows = new ArrayList<>();

  SvgPlot(String title, String yLabel, boolean logY) {
    this.title = title;
    this.yLabel = yLabel;
    this.logY = logY;
  }

  SvgPlot add(Series s) {
    series.add(s);
    return this;
  }

  SvgPlot shade(Window w) {
    windows.add(w);
    return this;
  }

  String render(double xMax) {
    double yMin = Double.MAX_VALUE;
    double yMax = -Double.MAX_VALUE;
    for (Series s : series) {
      for (double[] p : s.points()) {
        double y = y(p[1]);
        yMin = Math.min(yMin, y);
        yMax = Math.max(yMax, y);
      }
    }
    if (yMin == Double.MAX_VALUE) {
      yMin = 0;
      yMax = 1;
    }
    if (!logY) {
      yMin = Math.min(0, yMin);
    } else {
      yMin = Math.floor(yMin);
      yMax = Math.ceil(yMax);
    }
    if (yMax <= yMin) {
      yMax = yMin + 1;
    }
    double xSpan = Math.max(1, xMax);
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">\n"
                + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
                + "<text x=\"%d\" y=\"22\" font-size=\"15\">%s</text>\n",
            WIDTH,
            HEIGHT,
            LEFT,
            escape(title)));
    int plotW = WIDTH - LEFT - RIGHT;
    int plotH = HEIGHT - TOP - BOTTOM;
    for (Window w : windows) {
      double x0 = LEFT + plotW * Math.max(0, w.from()) / xSpan;
      double x1 = LEFT + plotW * Math.min(xSpan, w.to()) / xSpan;
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#f4a582\""
                  + " fill-opacity=\"0.35\"><title>%s</title></rect>\n",
              x0,
              TOP,
              Math.max(1, x1 - x0),
              plotH,
              escape(w.label())));
    }
    svg.append(
        String.format(
            Locale.ROOT,
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n",
            LEFT,
            TOP,
            plotW,
            plotH));
    for (int i = 0; i <= 5; i++) {
      double value = yMin + (yMax - yMin) * i / 5;
      double py = TOP + plotH - plotH * i / 5.0;
      String label =
          logY
              ? String.format(Locale.ROOT, "%.3g", Math.pow(10, value))
              : String.format(Locale.ROOT, "%.4g", value);
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                  + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
              LEFT,
              py,
              LEFT + plotW,
              py,
              LEFT - 5,
              py + 4,
              label));
    }
    for (int i = 0; i <= 10; i++) {
      double value = xSpan * i / 10;
      double px = LEFT + plotW * i / 10.0;
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f</text>\n",
              px,
              TOP + plotH + 16,
              value));
    }
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">seconds since the run started"
                + " (shaded: fault windows)</text>\n"
                + "<text x=\"15\" y=\"%d\" transform=\"rotate(-90 15 %d)\""
                + " text-anchor=\"middle\">%s</text>\n",
            LEFT + plotW / 2,
            HEIGHT - 10,
            TOP + plotH / 2,
            TOP + plotH / 2,
            escape(yLabel)));
    for (int index = 0; index < series.size(); index++) {
      Series s = series.get(index);
      String colour = COLOURS[index % COLOURS.length];
      StringBuilder path = new StringBuilder();
      for (double[] p : s.points()) {
        double px = LEFT + plotW * Math.max(0, Math.min(xSpan, p[0])) / xSpan;
        double py = TOP + plotH - plotH * (y(p[1]) - yMin) / (yMax - yMin);
        if (s.line()) {
          path.append(path.isEmpty() ? "M" : "L")
              .append(String.format(Locale.ROOT, "%.1f %.1f ", px, py));
        } else {
          svg.append(
              String.format(
                  Locale.ROOT,
                  "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\" fill=\"%s\"/>\n",
                  px,
                  py,
                  colour));
        }
      }
      if (s.line() && !path.isEmpty()) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1\"/>\n",
                path.toString().strip(),
                colour));
      }
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                  + "<text x=\"%d\" y=\"%d\">%s (%d)</text>\n",
              LEFT + plotW - 260,
              TOP + 8 + 16 * index,
              colour,
              LEFT + plotW - 245,
              TOP + 17 + 16 * index,
              escape(s.name()),
              s.points().size()));
    }
    svg.append("</svg>\n");
    return svg.toString();
  }

  private double y(double value) {
    return logY ? Math.log10(Math.max(0.1, value)) : value;
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
