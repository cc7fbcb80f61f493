package io.paxcron.api;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What {@code ClusterService} needs from the process's backup shipper: its state for {@code
 * Status}, and a backup on demand for {@code Backup}. The server module implements it; the API
 * module only maps it to messages.
 *
 * <p>Threading: both methods may be called from any gRPC thread and must not block.
 */
public interface BackupControl {

  /** A process without a backup target: status is empty and {@link #backupNow} fails. */
  BackupControl NONE =
      new BackupControl() {
        @Override
        public Status status() {
          return Status.NONE;
        }

        @Override
        public CompletableFuture<Result> backupNow() {
          return CompletableFuture.failedFuture(
              new NotConfiguredException("this replica has no backup target (set backup-target)"));
        }
      };

  /**
   * The shipper's state.
   *
   * @param target the target URL (never credentials), empty when none is configured
   * @param lastSuccess the last backup written by this process
   * @param lastFailure the last failure after that success, if any
   * @param written backups written since the process started
   * @param failed failed attempts since the process started
   * @param restoreGeneration the restore generation this replica runs as
   */
  record Status(
      String target,
      Optional<Success> lastSuccess,
      Optional<Failure> lastFailure,
      long written,
      long failed,
      long restoreGeneration) {
    public static final Status NONE = new Status("", Optional.empty(), Optional.empty(), 0, 0, 0);
  }

  /** A backup that was written: its name in the target, slot and time. */
  record Success(String name, long slot, Instant at) {}

  /** A failed attempt: when, and why (naming the target, never a credential). */
  record Failure(Instant at, String reason) {}

  /** What {@link #backupNow} wrote, and the backups retention deleted afterwards. */
  record Result(
      String name, long slot, Instant takenAt, String target, long sizeBytes, List<String> pruned) {
    public Result {
      pruned = List.copyOf(pruned);
    }
  }

  /** No backup target is configured. */
  final class NotConfiguredException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NotConfiguredException(String message) {
      super(message);
    }
  }

  /** The backup was attempted and failed; the message names the target and the reason. */
  final class BackupFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BackupFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  Status status();

  /**
   * Takes a backup now if this replica leads; fails with {@link CronCluster.NotLeaderException},
   * {@link NotConfiguredException} or {@link BackupFailedException}.
   */
  CompletableFuture<Result> backupNow();
}
