package io.paxcron.server;

import io.paxcron.paxos.backup.BackupRepository;
import io.paxcron.paxos.backup.TargetUrl;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where and how often the leader ships backups. Config keys (or {@code --key} flags):
 *
 * <pre>
 * backup-target = s3://bucket/prefix?endpoint=http://127.0.0.1:9000   # or a directory
 * backup-interval = 1h          # a backup at least this often while leading (default 1h)
 * backup-every-entries = 50000  # and after this many applied slots (default 0: off)
 * backup-keep = 48              # retention by count (default 48)
 * backup-max-age = 14d          # and by age; the newest backup is always kept (default: none)
 * backup-timeout = 60s          # per store request (default 60s)
 * </pre>
 *
 * {@code backup-dir = PATH} is the older spelling of a directory target. The cadence is independent
 * of snapshots: a backup captures the state machine's image at the moment it runs.
 *
 * @param target the target URL; empty when backups are off
 */
public record BackupSettings(
    Optional<TargetUrl> target,
    Duration interval,
    long everyEntries,
    int keep,
    Optional<Duration> maxAge,
    Duration timeout) {

  public static final Duration DEFAULT_INTERVAL = Duration.ofHours(1);
  public static final int DEFAULT_KEEP = 48;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  /** Shorter intervals would spend the leader on uploads; a test can still ask for a backup now. */
  public static final Duration MIN_INTERVAL = Duration.ofSeconds(1);

  public static final BackupSettings NONE =
      new BackupSettings(
          Optional.empty(), DEFAULT_INTERVAL, 0, DEFAULT_KEEP, Optional.empty(), DEFAULT_TIMEOUT);

  public static final Set<String> KEYS =
      Set.of(
          "backup-dir",
          "backup-target",
          "backup-interval",
          "backup-every-entries",
          "backup-keep",
          "backup-max-age",
          "backup-timeout");

  /**
   * Returns these settings with {@code key} set from {@code value}, or adds a problem naming {@code
   * where} and the reason and returns them unchanged.
   */
  BackupSettings with(String key, String value, String where, List<String> problems) {
    try {
      return switch (key) {
        case "backup-dir", "backup-target" -> {
          if (target.isPresent()) {
            problems.add(
                where
                    + ": "
                    + key
                    + ": a backup target is already set ("
                    + target.get().text()
                    + "); give one of backup-dir and backup-target");
            yield this;
          }
          yield new BackupSettings(
              Optional.of(TargetUrl.parse(value)), interval, everyEntries, keep, maxAge, timeout);
        }
        case "backup-interval" -> {
          Duration parsed = duration(value);
          if (parsed.compareTo(MIN_INTERVAL) < 0) {
            throw new IllegalArgumentException(
                "must be at least " + MIN_INTERVAL.toSeconds() + "s");
          }
          yield new BackupSettings(target, parsed, everyEntries, keep, maxAge, timeout);
        }
        case "backup-every-entries" ->
            new BackupSettings(
                target, interval, bounded(value, 0, Long.MAX_VALUE), keep, maxAge, timeout);
        case "backup-keep" ->
            new BackupSettings(
                target,
                interval,
                everyEntries,
                (int) bounded(value, 1, BackupRepository.LIMIT_KEEP),
                maxAge,
                timeout);
        case "backup-max-age" ->
            new BackupSettings(
                target,
                interval,
                everyEntries,
                keep,
                Optional.of(positive(duration(value))),
                timeout);
        case "backup-timeout" ->
            new BackupSettings(
                target, interval, everyEntries, keep, maxAge, positive(duration(value)));
        default -> throw new IllegalStateException("not a backup key: " + key);
      };
    } catch (IllegalArgumentException e) {
      // A target's message already shows the URL without its query, which might hold a secret.
      problems.add(
          where
              + ": "
              + key
              + (key.equals("backup-target") || key.equals("backup-dir") ? "" : " '" + value + "'")
              + ": "
              + e.getMessage());
      return this;
    }
  }

  /** {@code 90s}, {@code 15m}, {@code 1h}, {@code 7d}, or ISO-8601 such as {@code PT1H30M}. */
  static Duration duration(String text) {
    String value = text.trim();
    try {
      if (value.matches("\\d{1,9}[smhd]")) {
        long amount = Long.parseLong(value.substring(0, value.length() - 1));
        return switch (value.charAt(value.length() - 1)) {
          case 's' -> Duration.ofSeconds(amount);
          case 'm' -> Duration.ofMinutes(amount);
          case 'h' -> Duration.ofHours(amount);
          default -> Duration.ofDays(amount);
        };
      }
      return Duration.parse(value);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("is not a duration (90s, 15m, 1h, 7d or ISO-8601 PT1H)");
    }
  }

  private static Duration positive(Duration duration) {
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("must be positive");
    }
    return duration;
  }

  private static long bounded(String text, long min, long max) {
    long value;
    try {
      value = Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("is not a whole number");
    }
    if (value < min || value > max) {
      throw new IllegalArgumentException("is outside " + min + ".." + max);
    }
    return value;
  }
}
