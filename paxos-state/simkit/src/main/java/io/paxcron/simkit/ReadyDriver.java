package io.paxcron.simkit;

import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Ready;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;

/**
 * The one simulated driver of a replica's {@link Ready}s, keeping the production contract ({@code
 * ReplicaNode}): a Ready's records are written at once; its messages are sent and its entries
 * applied only once a sync covering those records has completed, in order (group commit: one sync
 * covers every record written before it started, and a Ready with nothing to write still waits
 * behind earlier ones); the leader's early Accepts ({@link Ready#messagesBeforePersist()}) leave at
 * once and {@link Host#onPersisted} tells the core when its own write is durable. A {@linkplain
 * Persist#learnedOnly() learned-only} write is written but neither waited for nor synced by itself:
 * the next sync covers it, and a crash before that loses it. Disk faults strike here: power loss
 * while a sync is in flight and fsync errors, at the seed's rates, while faults are on.
 *
 * <p>Every simulation of the kit drives its replicas through this class; the {@link Host} (the
 * simulated process) sends, applies and crashes. Single-threaded, on the {@link EventLoop}.
 */
public final class ReadyDriver {

  /** The simulated replica process around the driver. */
  public interface Host {
    /** Whether the process runs (a crashed one does nothing). */
    boolean alive();

    /**
     * Sends {@code messages} of {@code ready} (all of them, or those that wait for its writes),
     * telling the checkers about the Ready's proposals and votes.
     */
    void send(Ready ready, List<Envelope> messages);

    /**
     * Sends the leader's Accepts that leave while its own write syncs (Raft thesis §10.2.1, {@link
     * Ready#messagesBeforePersist()}); its own acceptance does not count until {@link
     * #onPersisted}.
     */
    default void sendBeforePersist(Ready ready) {
      send(ready, ready.messagesBeforePersist());
    }

    /** The Ready's writes are durable: the core may count the leader's own acceptance now. */
    default void onPersisted(Persist persist) {}

    /** Applies a Ready's restore, entries, reads and rejections (after its messages). */
    void apply(Ready ready);

    /** The power failed while a sync was in flight: crash, losing unsynced writes. */
    void onPowerLossDuringSync();

    /** A sync failed: the page cache is in an unknown state, so the process must stop. */
    void onFsyncError();
  }

  /** The seed's disk faults, each a probability per sync. */
  public record DiskFaults(double crashDuringSync, double fsyncErrorPerSync) {
    public DiskFaults {
      if (crashDuringSync < 0 || crashDuringSync > 1) {
        throw new IllegalArgumentException(
            "crashDuringSync must be in [0, 1], got " + crashDuringSync);
      }
      if (fsyncErrorPerSync < 0 || fsyncErrorPerSync > 1) {
        throw new IllegalArgumentException(
            "fsyncErrorPerSync must be in [0, 1], got " + fsyncErrorPerSync);
      }
    }
  }

  /**
   * The driver as production runs it, or a planted bug the checkers must catch. Test-scope variants
   * live here, never in a production class.
   */
  public enum Variant {
    PRODUCTION,
    /** Sends a Ready's messages before its writes are durable. */
    SEND_BEFORE_PERSIST,
    /**
     * Treats a write with no promise and no snapshot as learned-only even when it accepts entries:
     * a follower's acceptance counted before it is durable, and never synced by itself.
     */
    ACCEPTS_AS_LEARNED
  }

  private record Held(Ready ready, int recordCount, boolean messagesSent) {}

  /** The longest a sync takes, in virtual milliseconds (at least 1). */
  static final long MAX_SYNC_MILLIS = 5;

  private final EventLoop loop;
  private final SimDisk disk;
  private final RandomGenerator random;
  private final DiskFaults faults;
  private final BooleanSupplier faultsOn;
  private final Variant variant;
  private final Host host;
  private final ArrayDeque<Held> held = new ArrayDeque<>();
  private boolean syncing;
  private int epoch;

  /** Records written through the last one that must be synced (not learned-only). */
  private int mustSyncThrough;

  public ReadyDriver(
      EventLoop loop,
      SimDisk disk,
      RandomGenerator random,
      DiskFaults faults,
      BooleanSupplier faultsOn,
      Variant variant,
      Host host) {
    this.loop = loop;
    this.disk = disk;
    this.random = random;
    this.faults = faults;
    this.faultsOn = faultsOn;
    this.variant = variant;
    this.host = host;
  }

  /** The process (re)starts: whatever was held died with it, and syncs in flight are void. */
  public void reset() {
    held.clear();
    syncing = false;
    epoch++;
    mustSyncThrough = 0;
  }

  /** Whether no Ready waits for its writes (the replica has carried out everything it produced). */
  public boolean idle() {
    return held.isEmpty();
  }

  /** For reports of a stuck run: how many Readys wait for their writes, and whether a sync runs. */
  @Override
  public String toString() {
    return "held " + held.size() + (syncing ? " syncing" : "");
  }

  /** Carries out a Ready: writes now, everything else once the writes are durable, in order. */
  public void process(Ready ready) {
    if (!ready.persist().isEmpty()) {
      disk.write(ready.persist());
      if (!learnedOnly(ready.persist())) {
        mustSyncThrough = disk.writtenCount();
      }
    }
    // Released once every record it must wait for is durable: its own, unless learned-only, and
    // every earlier one that must be synced.
    int recordCount = mustSyncThrough;
    boolean early = variant == Variant.SEND_BEFORE_PERSIST;
    if (early) {
      host.send(ready, ready.messages());
    } else if (ready.earlyMessages() > 0) {
      host.sendBeforePersist(ready);
    }
    held.add(new Held(ready, recordCount, early));
    releaseDurable();
    startSync();
  }

  private boolean learnedOnly(Persist persist) {
    if (variant == Variant.ACCEPTS_AS_LEARNED) {
      return persist.promised() == null && persist.snapshot() == null;
    }
    return persist.learnedOnly();
  }

  private void startSync() {
    if (!host.alive() || syncing || disk.durableCount() >= mustSyncThrough) {
      return;
    }
    syncing = true;
    long syncMillis = random.nextLong(1, MAX_SYNC_MILLIS + 1);
    int at = epoch;
    int through = disk.writtenCount();
    loop.schedule(
        syncMillis,
        () -> {
          if (host.alive() && epoch == at) {
            onSyncDone(through);
          }
        });
    if (faultsOn.getAsBoolean() && random.nextDouble() < faults.crashDuringSync()) {
      // Power loss while the sync is in flight: the window in which a driver that replies before
      // persisting has already promised what its disk will forget.
      loop.schedule(
          random.nextLong(syncMillis),
          () -> {
            if (host.alive() && epoch == at && faultsOn.getAsBoolean()) {
              host.onPowerLossDuringSync();
            }
          });
    }
  }

  private void onSyncDone(int through) {
    syncing = false;
    if (faultsOn.getAsBoolean() && random.nextDouble() < faults.fsyncErrorPerSync()) {
      host.onFsyncError();
      return;
    }
    disk.syncThrough(through);
    releaseDurable();
    startSync();
  }

  private void releaseDurable() {
    List<Persist> persisted = new ArrayList<>();
    while (host.alive() && !held.isEmpty() && held.peek().recordCount() <= disk.durableCount()) {
      Held next = held.poll();
      if (!next.messagesSent()) {
        host.send(next.ready(), next.ready().messagesAfterPersist());
      }
      host.apply(next.ready());
      if (!next.ready().persist().isEmpty() && !learnedOnly(next.ready().persist())) {
        persisted.add(next.ready().persist());
      }
    }
    for (Persist persist : persisted) {
      if (host.alive()) {
        host.onPersisted(persist);
      }
    }
  }
}
