package io.paxcron.cli;

/** The CLI's exit codes (docs/cli.md "Exit codes"). */
public final class ExitCodes {
  /** Success; for {@code --detailed-exitcode}, also "no changes". */
  public static final int OK = 0;

  /** An error: a bad crontab, a refused request, a missing job. */
  public static final int ERROR = 1;

  /**
   * With {@code --detailed-exitcode}: the plan has changes (plan), or changes were applied (apply).
   */
  public static final int CHANGES = 2;

  /** No replica of the cluster answered. */
  public static final int UNREACHABLE = 3;

  /**
   * The cluster changed between the read and the write (an expected version did not match); nothing
   * changed.
   */
  public static final int CONFLICT = 4;

  /** Bad flags, arguments or CLI configuration (sysexits.h EX_USAGE). */
  public static final int USAGE = 64;

  private ExitCodes() {}
}
