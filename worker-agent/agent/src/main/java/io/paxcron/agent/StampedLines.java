package io.paxcron.agent;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * A process's log, each line starting with the UTC time it was written ({@code
 * 2026-12-05T00:03:12.345Z agent a1: ...}), so a log file says when a lease lapsed or a leader
 * changed. Under systemd's journal (which stamps every line itself, and sets {@code JOURNAL_STREAM}
 * for the process) lines are left as they are. Used by {@code paxcron server} and {@code paxcron
 * agent}.
 */
public final class StampedLines extends OutputStream {

  /** Fixed width: milliseconds always shown, so the messages line up. */
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private final OutputStream out;
  private final Clock clock;
  private boolean atLineStart = true;

  StampedLines(OutputStream out, Clock clock) {
    this.out = out;
    this.clock = clock;
  }

  /**
   * The log stream for a process whose environment is {@code env}: stamped lines on {@code out}, or
   * {@code out} itself under the journal. Flushes at every line.
   */
  public static PrintStream forProcess(PrintStream out, Map<String, String> env, Clock clock) {
    if (env.containsKey("JOURNAL_STREAM")) {
      return out;
    }
    return new PrintStream(new StampedLines(out, clock), true, StandardCharsets.UTF_8);
  }

  @Override
  public synchronized void write(int b) throws IOException {
    stampIfStarting();
    out.write(b);
    atLineStart = b == '\n';
  }

  @Override
  public synchronized void write(byte[] bytes, int offset, int length) throws IOException {
    int end = offset + length;
    int from = offset;
    while (from < end) {
      stampIfStarting();
      int newline = from;
      while (newline < end && bytes[newline] != '\n') {
        newline++;
      }
      int upTo = newline < end ? newline + 1 : end;
      out.write(bytes, from, upTo - from);
      atLineStart = newline < end;
      from = upTo;
    }
  }

  private void stampIfStarting() throws IOException {
    if (atLineStart) {
      atLineStart = false;
      String stamp = STAMP.format(clock.instant()) + " ";
      out.write(stamp.getBytes(StandardCharsets.US_ASCII));
    }
  }

  @Override
  public synchronized void flush() throws IOException {
    out.flush();
  }

  @Override
  public void close() throws IOException {
    flush();
  }
}
