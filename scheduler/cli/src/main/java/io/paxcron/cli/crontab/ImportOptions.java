package io.paxcron.cli.crontab;

import io.paxcron.schedule.Syntax;
import io.paxcron.scheduler.JobSpecValidator;
import java.util.Objects;

/**
 * How to read a crontab file.
 *
 * @param format user or system layout
 * @param syntax how schedules are read: Vixie (with Google's {@code ?}) or Quartz
 * @param source the owner recorded on every job ({@code crontab:<name>}); {@code apply --prune}
 *     deletes only jobs of this source
 * @param maxQuietFiresPerMinute a job that fires more often than this in some minute gets a warning
 */
public record ImportOptions(
    CrontabFormat format, Syntax syntax, String source, int maxQuietFiresPerMinute) {
  /** The default of {@link #maxQuietFiresPerMinute}: every 5 seconds is still quiet. */
  public static final int DEFAULT_MAX_QUIET_FIRES_PER_MINUTE = 12;

  public ImportOptions {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(syntax, "syntax");
    Objects.requireNonNull(source, "source");
    if (source.length() > JobSpecValidator.MAX_SOURCE_LENGTH
        || source.chars().anyMatch(c -> c < 0x20)) {
      throw new IllegalArgumentException(
          "--source: must be at most "
              + JobSpecValidator.MAX_SOURCE_LENGTH
              + " characters (MAX_SOURCE_LENGTH) without control characters");
    }
    if (maxQuietFiresPerMinute < 1) {
      throw new IllegalArgumentException(
          "maxQuietFiresPerMinute: must be at least 1, got " + maxQuietFiresPerMinute);
    }
  }

  /** User format, Vixie syntax, the given source and the default warning threshold. */
  public static ImportOptions user(String source) {
    return new ImportOptions(
        CrontabFormat.USER, Syntax.VIXIE, source, DEFAULT_MAX_QUIET_FIRES_PER_MINUTE);
  }

  public ImportOptions withFormat(CrontabFormat value) {
    return new ImportOptions(value, syntax, source, maxQuietFiresPerMinute);
  }

  public ImportOptions withSyntax(Syntax value) {
    return new ImportOptions(format, value, source, maxQuietFiresPerMinute);
  }
}
