package io.paxcron.server;

import io.paxcron.api.BackupControl;
import io.paxcron.api.CronCluster;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.backup.BackupRepository;
import io.paxcron.paxos.backup.BackupStore;
import io.paxcron.paxos.backup.BackupStoreException;
import io.paxcron.paxos.replica.ReplicaNode;
import io.paxcron.paxos.storage.BackupManifest;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Ships backups from the leader to the backup target, on its own cadence: while this replica leads
 * (lease held, caught up), at least every {@code backup-interval} and after {@code
 * backup-every-entries} applied slots, it captures the state machine's image on the replica's loop
 * (a walk of the state, no encoding), encodes it and writes it to the target (image, then manifest)
 * on its own thread, and applies retention. Followers ship nothing, so a cluster writes one copy,
 * not one per replica.
 *
 * <p>A target that is down fails the attempt loudly — a log line starting {@code BACKUP FAILED},
 * the failure in {@link #status()} ({@code ClusterService.Status}) — and nothing else: the log, the
 * state machine and the dispatcher never wait on the target. A failed attempt is retried after
 * {@link #RETRY_AFTER_FAILURE} (or the interval, if shorter).
 *
 * <p>A replica that becomes leader reads the target's newest backup first, so a failover does not
 * by itself cause an upload when the previous leader's backup is recent.
 */
final class BackupShipper implements BackupControl, AutoCloseable {

  static final Duration CHECK_EVERY = Duration.ofSeconds(1);
  static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(30);

  private final BackupSettings settings;
  private final String clusterId;
  private final int replicaId;
  private final long restoreGeneration;
  private final ReplicaNode node;
  private final Map<Integer, String> clientAddresses;
  private final InstantSource clock;
  private final PrintStream log;
  private final ScheduledExecutorService thread =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "backup");
            t.setDaemon(true);
            return t;
          });

  // Written on the backup thread only; read by status() from any thread.
  private volatile Status status;
  private volatile Instant nextAttemptNotBefore = Instant.EPOCH;
  private boolean knownFromTarget;
  private long lastShippedSlot = -1;
  private Instant lastShippedAt = Instant.EPOCH;
  private BackupRepository repository;
  private volatile java.util.function.Consumer<Instant> onSuccess = at -> {};

  /**
   * The state as the loop saw it, encoded later on the shipper's thread (encoding a large state on
   * the loop would stall the replica); {@code membership} is null before the replica started.
   */
  private record Capture(
      io.paxcron.paxos.SessionStateMachine.Image image,
      io.paxcron.paxos.Membership membership,
      long leaderRound) {

    /** The image as a snapshot carrying the membership as of its slot (docs/backup.md). */
    Snapshot encode() {
      Snapshot snapshot = image.encode();
      return membership == null
          ? snapshot
          : snapshot.withMembership(membership.decidedThrough(image.slot()));
    }
  }

  BackupShipper(
      BackupSettings settings,
      String clusterId,
      int replicaId,
      long restoreGeneration,
      ReplicaNode node,
      Map<Integer, String> clientAddresses,
      InstantSource clock,
      PrintStream log) {
    if (settings.target().isEmpty()) {
      throw new IllegalArgumentException("a BackupShipper needs a backup target");
    }
    this.settings = settings;
    this.clusterId = clusterId;
    this.replicaId = replicaId;
    this.restoreGeneration = restoreGeneration;
    this.node = node;
    this.clientAddresses = Map.copyOf(clientAddresses);
    this.clock = clock;
    this.log = log;
    this.status =
        new Status(
            settings.target().get().text(),
            Optional.empty(),
            Optional.empty(),
            0,
            0,
            restoreGeneration);
  }

  void start() {
    long millis = CHECK_EVERY.toMillis();
    thread.scheduleWithFixedDelay(this::maybeShip, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** Tells {@code listener} the time of every successful backup, on the backup thread. */
  void onSuccess(java.util.function.Consumer<Instant> listener) {
    onSuccess = java.util.Objects.requireNonNull(listener, "listener");
  }

  @Override
  public Status status() {
    return status;
  }

  @Override
  public CompletableFuture<Result> backupNow() {
    CompletableFuture<Result> result = new CompletableFuture<>();
    try {
      thread.execute(
          () -> {
            try {
              Optional<Capture> capture = capture().join();
              if (capture.isEmpty()) {
                ReplicaNode.Status now = node.status();
                String hint =
                    now.leaderId() >= 0
                            && now.leaderId() != replicaId
                            && clientAddresses.containsKey(now.leaderId())
                        ? now.leaderId() + "=" + clientAddresses.get(now.leaderId())
                        : "";
                result.completeExceptionally(
                    new CronCluster.NotLeaderException(
                        hint,
                        "replica "
                            + replicaId
                            + " does not lead with a valid lease; backups are taken by"
                            + " the leader"));
                return;
              }
              result.complete(ship(capture.get()));
            } catch (BackupStoreException | RuntimeException e) {
              result.completeExceptionally(
                  new BackupFailedException(
                      "backup to " + settings.target().get().text() + " failed: " + e.getMessage(),
                      e));
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      result.completeExceptionally(new CronCluster.UnavailableException("the replica is stopping"));
    }
    return result;
  }

  /** The scheduled check: ship if leading and due. Never throws (it would stop the schedule). */
  private void maybeShip() {
    try {
      Instant now = clock.instant();
      if (now.isBefore(nextAttemptNotBefore)) {
        return;
      }
      ReplicaNode.Status replica = node.status();
      if (replica.leaderId() != replicaId || !replica.holdsLease()) {
        knownFromTarget = false;
        return;
      }
      if (!knownFromTarget) {
        learnNewestFromTarget();
        knownFromTarget = true;
      }
      boolean intervalDue = !now.isBefore(lastShippedAt.plus(settings.interval()));
      boolean entriesDue =
          settings.everyEntries() > 0
              && replica.appliedSlot() - Math.max(lastShippedSlot, 0) >= settings.everyEntries();
      // An idle cluster's state does not change between slots: nothing new to ship.
      if ((!intervalDue && !entriesDue) || replica.appliedSlot() <= lastShippedSlot) {
        return;
      }
      Optional<Capture> capture = capture().join();
      if (capture.isPresent()) {
        ship(capture.get());
      }
    } catch (BackupStoreException | RuntimeException e) {
      // Already recorded and logged by ship() or learnNewestFromTarget().
      nextAttemptNotBefore =
          clock
              .instant()
              .plus(
                  settings.interval().compareTo(RETRY_AFTER_FAILURE) < 0
                      ? settings.interval()
                      : RETRY_AFTER_FAILURE);
    }
  }

  private void learnNewestFromTarget() throws BackupStoreException {
    try {
      // Only this history's backups count: after a restore from an older backup, the dead
      // cluster's later backups carry higher slots of a history that no longer exists.
      Optional<BackupRepository.Entry> newest =
          repository().list().backups().stream()
              .filter(BackupRepository.Entry::looksValid)
              .filter(e -> e.manifest().orElseThrow().restoreGeneration() == restoreGeneration)
              .findFirst();
      if (newest.isPresent()) {
        lastShippedSlot = Math.max(lastShippedSlot, newest.get().slot());
        lastShippedAt =
            newest.get().takenAt().isAfter(lastShippedAt) ? newest.get().takenAt() : lastShippedAt;
      }
    } catch (BackupStoreException | RuntimeException e) {
      fail("cannot list the target: " + e.getMessage());
      throw e;
    }
  }

  /** Captures the image on the replica's loop, if this replica leads with a valid lease. */
  private CompletableFuture<Optional<Capture>> capture() {
    CompletableFuture<Optional<Capture>> captured = new CompletableFuture<>();
    boolean queued =
        node.runOnLoop(
            () -> {
              ReplicaNode.Leadership leadership = node.leadershipOnLoop();
              if (!leadership.leader() || !leadership.leaseValid() || !leadership.caughtUp()) {
                captured.complete(Optional.empty());
                return;
              }
              // The backup carries the membership as of the image's slot, as the core's own
              // snapshots do (docs/backup.md).
              captured.complete(
                  Optional.of(
                      new Capture(
                          node.imageOnLoop(), node.membership(), leadership.ballot().round())));
            });
    if (!queued) {
      captured.complete(Optional.empty());
    }
    return captured;
  }

  private Result ship(Capture capture) throws BackupStoreException {
    Instant takenAt = clock.instant();
    long started = System.nanoTime();
    String target = settings.target().get().text();
    try {
      BackupRepository repo = repository();
      BackupManifest manifest =
          repo.write(
              capture.encode(),
              new BackupRepository.Writer(
                  clusterId, replicaId, capture.leaderRound(), restoreGeneration),
              takenAt);
      String name = manifest.imageFile().substring(0, manifest.imageFile().length() - 6);
      lastShippedSlot = manifest.slot();
      lastShippedAt = takenAt;
      List<String> pruned = List.of();
      try {
        pruned = repo.prune(settings.keep(), settings.maxAge(), takenAt);
      } catch (BackupStoreException e) {
        log.println(
            "replica "
                + replicaId
                + ": backup "
                + name
                + " written, but retention failed"
                + " (old backups stay until the next attempt): "
                + e.getMessage());
      }
      Status before = status;
      status =
          new Status(
              target,
              Optional.of(new Success(name, manifest.slot(), takenAt)),
              Optional.empty(),
              before.written() + 1,
              before.failed(),
              restoreGeneration);
      nextAttemptNotBefore = Instant.EPOCH;
      onSuccess.accept(takenAt);
      log.println(
          "replica "
              + replicaId
              + ": backup "
              + name
              + " (slot "
              + manifest.slot()
              + ", "
              + manifest.sizeBytes()
              + " bytes, leader round "
              + capture.leaderRound()
              + ", restore generation "
              + restoreGeneration
              + ") written to "
              + target
              + " in "
              + Duration.ofNanos(System.nanoTime() - started).toMillis()
              + " ms"
              + (pruned.isEmpty() ? "" : "; retention deleted " + pruned));
      return new Result(name, manifest.slot(), takenAt, target, manifest.sizeBytes(), pruned);
    } catch (BackupStoreException | RuntimeException e) {
      fail("slot " + capture.image().slot() + ": " + e.getMessage());
      throw e;
    }
  }

  private void fail(String reason) {
    Status before = status;
    status =
        new Status(
            before.target(),
            before.lastSuccess(),
            Optional.of(new Failure(clock.instant(), reason)),
            before.written(),
            before.failed() + 1,
            restoreGeneration);
    log.println(
        "replica "
            + replicaId
            + ": BACKUP FAILED to "
            + before.target()
            + ": "
            + reason
            + "; the cluster keeps scheduling, and a due backup is retried every "
            + RETRY_AFTER_FAILURE.toSeconds()
            + " s");
  }

  private BackupRepository repository() throws BackupStoreException {
    if (repository == null) {
      repository =
          new BackupRepository(BackupStore.open(settings.target().get(), settings.timeout()));
    }
    return repository;
  }

  @Override
  public void close() {
    thread.shutdownNow();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (repository != null) {
      repository.close();
    }
  }
}
