package io.paxcron.simkit;

import java.io.PrintStream;

/**
 * The command-line plumbing every soak entry point of {@code ops/soak} shares: flag values, whole
 * numbers with a minimum, usage errors (exit status 2, with the usage line), and the throughput of
 * the summary line.
 */
public final class SoakArguments {
  private SoakArguments() {}

  /** A bad command line; the message names the flag and the reason. */
  public static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
      super(message);
    }
  }

  /** A soak's body: runs the seeds its arguments name and returns the exit status. */
  public interface Soak {
    int run(String[] args, PrintStream out) throws UsageException;
  }

  /** Runs {@code soak} as a program: exit 0 clean, 1 on a violation, 2 on a usage error. */
  public static void main(String[] args, String usage, Soak soak) {
    int status;
    try {
      status = soak.run(args, System.out);
    } catch (UsageException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println("usage: " + usage);
      status = 2;
    }
    System.exit(status);
  }

  /** The value after {@code flag}. */
  public static String value(String[] args, int index, String flag) throws UsageException {
    if (index >= args.length) {
      throw new UsageException(flag + " needs a value");
    }
    return args[index];
  }

  /** A whole number of at least {@code minimum}. */
  public static long parseLong(String flag, String text, long minimum) throws UsageException {
    try {
      long value = Long.parseLong(text);
      if (value < minimum) {
        throw new UsageException(flag + ": must be >= " + minimum + ", got " + value);
      }
      return value;
    } catch (NumberFormatException e) {
      throw new UsageException(flag + ": '" + text + "' is not a whole number");
    }
  }

  /** Events per second of wall time since {@code startNanos}, for the summary line. */
  public static long eventsPerSecond(long events, long startNanos, long endNanos) {
    double seconds = Math.max(1e-9, (endNanos - startNanos) / 1e9);
    return Math.round(events / seconds);
  }
}
