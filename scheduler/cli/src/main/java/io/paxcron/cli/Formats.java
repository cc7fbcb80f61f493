package io.paxcron.cli;

import com.google.protobuf.Timestamp;
import io.paxcron.proto.v1.RunRecord;
import java.time.Duration;
import java.time.Instant;

/** How instants, durations and ledger records are printed, the same in every command. */
final class Formats {
  private Formats() {}

  static Instant instant(Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }

  /** ISO-8601 UTC, or "-" when unset. */
  static String text(Timestamp timestamp) {
    return timestamp.getSeconds() == 0 && timestamp.getNanos() == 0
        ? "-"
        : instant(timestamp).toString();
  }

  static String orNull(Timestamp timestamp) {
    return timestamp.getSeconds() == 0 && timestamp.getNanos() == 0
        ? null
        : instant(timestamp).toString();
  }

  static String duration(Duration duration) {
    long millis = duration.toMillis();
    if (millis < 1000) {
      return millis + "ms";
    }
    if (millis < 60_000) {
      return String.format("%.1fs", millis / 1000.0);
    }
    return duration.toMinutes() + "m" + duration.toSecondsPart() + "s";
  }

  /** Wall time of a finished run, or "-" when it never started. */
  static String runDuration(RunRecord record) {
    if (!record.hasStartedAt() || !record.hasEndedAt()) {
      return "-";
    }
    return duration(Duration.between(instant(record.getStartedAt()), instant(record.getEndedAt())));
  }

  static String instants(RunRecord record) {
    return record.getInstantCount() > 1
        ? text(record.getInstant())
            + " .. "
            + text(record.getLastInstant())
            + " ("
            + record.getInstantCount()
            + ")"
        : text(record.getInstant());
  }
}
