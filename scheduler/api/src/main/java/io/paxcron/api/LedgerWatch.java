package io.paxcron.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.paxcron.proto.v1.WatchRunsResponse;
import io.paxcron.scheduler.CronView;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.LedgerRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code WatchRuns} stream: after every applied slot it reads the ledger records recorded since
 * the last delivery and sends them, oldest first, at most {@code maxBatch} per message.
 *
 * <p>Flow control: at most one read is in flight; while the client is not ready for more, the watch
 * waits for gRPC's on-ready callback instead of buffering. Notifications that arrive during a read
 * are coalesced into one more read. A stretch of skips is the newest record of its job and grows in
 * place (same sequence, larger count), so the watch remembers the newest record it sent per job and
 * sends it again when it grew. Only records that may grow ({@link LedgerRecord#mayGrow}) are
 * remembered, and only while they are the newest sent of their job, so the memory is one entry per
 * job in a stretch of skips, not one per job ever sent.
 *
 * <p>Cost: a watch of one job reads that job's newest records. A watch of every job never reads
 * every job: it reads the ledger changes applied since its last delivery ({@link
 * CronView#ledgerChangesAfter}). Its first delivery, or one after it fell more than {@link
 * io.paxcron.scheduler.CronStateMachine#MAX_LEDGER_CHANGES_KEPT} changes behind, begins a
 * <em>catch-up</em>: it checks the remembered stretches for growth, at most {@value
 * #GROWTH_CHECKS_PER_READ} per read, then pages through the records after its sequence in the
 * cross-job ledger order ({@link CronView#ledgerAfter}, a binary search), then goes on from the
 * ledger changes after the revision the catch-up began at (so growth during the catch-up is not
 * lost, and nothing is sent twice). Every read is bounded by its batch and that budget, whatever
 * the number of jobs. Every replica's dashboard holds such a watch on the leader, and a new leader
 * answers all of them at once, so this matters: reading every job's ledger there took long enough
 * at 100,000 jobs to cost the new leader its lease, and re-checking every job sent records of on
 * every page held a leader's loop at a million jobs.
 *
 * <p>Threading: {@link #poll} may be called from any thread; the query runs on the cluster's state
 * thread, and only one query or completion touches the watch's fields at a time (the {@code
 * running} flag, set and cleared under the monitor, orders them).
 */
final class LedgerWatch {
  private record Sent(long sequence, long instantCount) {}

  /** Growth checks of remembered stretches in one read of a catch-up. */
  static final int GROWTH_CHECKS_PER_READ = 4096;

  /**
   * A catch-up under way (see the class comment).
   *
   * @param fromRevision the ledger revision when it began: the watch goes on from there
   * @param toCheck the jobs whose remembered stretch is to be checked for growth
   * @param checked how many of them were checked
   */
  private record CatchUp(long fromRevision, List<JobName> toCheck, int checked) {
    boolean growthChecked() {
      return checked == toCheck.size();
    }
  }

  /**
   * @param revision the ledger revision the watch has seen up to, or -1 while it catches up
   * @param catchUp the catch-up still under way after this delivery, or null
   */
  private record Delivery(
      List<LedgerRecord> records, boolean more, long revision, CatchUp catchUp) {}

  private final CronCluster cluster;
  private final ServerCallStreamObserver<WatchRunsResponse> observer;
  private final String job;

  /** {@link #job} as a job name, or {@code null} for a watch of every job. */
  private final JobName jobName;

  private final int maxBatch;
  private final Runnable onClose;
  private final Map<JobName, Sent> newestSent = new HashMap<>();
  private long afterSequence;

  /** The ledger revision delivered up to (unfiltered watches), or -1: catch up first. */
  private long revision = -1;

  /** The catch-up under way (unfiltered watches), or null. */
  private CatchUp catchUp;

  private CronCluster.Subscription subscription;
  private boolean running;
  private boolean dirty;
  private boolean closed;

  LedgerWatch(
      CronCluster cluster,
      ServerCallStreamObserver<WatchRunsResponse> observer,
      String job,
      long afterSequence,
      int maxBatch,
      Runnable onClose) {
    this.cluster = cluster;
    this.observer = observer;
    this.job = job;
    this.jobName = job.isEmpty() ? null : JobName.of(job);
    this.afterSequence = afterSequence;
    this.maxBatch = maxBatch;
    this.onClose = onClose;
  }

  void start() {
    observer.setOnCancelHandler(this::close);
    observer.setOnReadyHandler(this::poll);
    CronCluster.Subscription registered = cluster.onApplied(this::poll);
    synchronized (this) {
      subscription = registered;
      if (closed) {
        registered.close();
        return;
      }
    }
    poll();
  }

  private void poll() {
    synchronized (this) {
      if (closed) {
        return;
      }
      if (running || !observer.isReady()) {
        dirty = true;
        return;
      }
      running = true;
      dirty = false;
    }
    cluster
        .read(this::collect)
        .whenComplete(
            (delivery, failure) -> {
              boolean again;
              synchronized (this) {
                if (closed) {
                  return;
                }
                if (failure != null) {
                  closeLocked();
                  observer.onError(ApiErrors.forFailure(failure));
                  return;
                }
                if (!delivery.records().isEmpty()) {
                  List<io.paxcron.proto.v1.RunRecord> protos =
                      new ArrayList<>(delivery.records().size());
                  for (LedgerRecord record : delivery.records()) {
                    afterSequence = Math.max(afterSequence, record.sequence());
                    noteSent(record);
                    protos.add(JobProtos.toProto(record));
                  }
                  observer.onNext(WatchRunsResponse.newBuilder().addAllRecords(protos).build());
                }
                revision = delivery.revision();
                catchUp = delivery.catchUp();
                running = false;
                again = dirty || delivery.more();
              }
              if (again) {
                poll();
              }
            });
  }

  /**
   * Runs on the cluster's state thread; reads the watch's fields, which no one writes while a read
   * runs.
   */
  private Delivery collect(CronView view) {
    if (job.isEmpty()) {
      if (catchUp == null && revision >= 0) {
        Optional<List<CronView.LedgerChange>> changes =
            view.ledgerChangesAfter(revision, 4 * maxBatch);
        if (changes.isPresent()) {
          return collectChanges(changes.get());
        }
      }
      return catchUp(view);
    }
    List<LedgerRecord> fresh = new ArrayList<>();
    List<LedgerRecord> grown = new ArrayList<>();
    for (LedgerRecord record : view.ledger(jobName)) { // newest first
      if (record.sequence() > afterSequence) {
        fresh.add(record);
        continue;
      }
      // The newest record already sent may have grown since (even if newer ones followed it).
      Sent sent = newestSent.get(jobName);
      if (sent != null
          && record.sequence() == sent.sequence()
          && record.instantCount() > sent.instantCount()) {
        grown.add(record);
      }
      break;
    }
    fresh.sort(Comparator.comparingLong(LedgerRecord::sequence));
    return deliver(grown, fresh);
  }

  /**
   * One read of a catch-up of a watch of every job (see the class comment): growth checks first,
   * then the records after its sequence; the last read of it hands over to the ledger changes.
   */
  private Delivery catchUp(CronView view) {
    CatchUp current =
        catchUp != null
            ? catchUp
            : new CatchUp(view.ledgerRevision(), List.copyOf(newestSent.keySet()), 0);
    List<LedgerRecord> grown = new ArrayList<>();
    int checked = current.checked();
    int budget = Math.min(current.toCheck().size(), checked + GROWTH_CHECKS_PER_READ);
    while (checked < budget && grown.size() < maxBatch) {
      JobName name = current.toCheck().get(checked++);
      Sent sent = newestSent.get(name);
      if (sent != null) {
        view.newestRecord(name)
            .filter(record -> record.sequence() == sent.sequence())
            .filter(record -> record.instantCount() > sent.instantCount())
            .ifPresent(grown::add);
      }
    }
    current = new CatchUp(current.fromRevision(), current.toCheck(), checked);
    if (!current.growthChecked()) {
      return new Delivery(List.copyOf(grown), true, -1, current);
    }
    int room = maxBatch - grown.size();
    List<LedgerRecord> fresh = room == 0 ? List.of() : view.ledgerAfter(afterSequence, room + 1);
    List<LedgerRecord> records = new ArrayList<>(grown);
    records.addAll(fresh.subList(0, Math.min(fresh.size(), room)));
    if (room == 0 || fresh.size() > room) {
      return new Delivery(List.copyOf(records), true, -1, current);
    }
    return new Delivery(List.copyOf(records), false, current.fromRevision(), null);
  }

  /** Grown records first, then fresh ones (oldest first), at most {@code maxBatch}. */
  private Delivery deliver(List<LedgerRecord> grown, List<LedgerRecord> fresh) {
    List<LedgerRecord> records =
        new ArrayList<>(grown.subList(0, Math.min(grown.size(), maxBatch)));
    int room = maxBatch - records.size();
    boolean more = grown.size() > records.size() || fresh.size() > room;
    records.addAll(fresh.subList(0, Math.min(fresh.size(), room)));
    return new Delivery(List.copyOf(records), more, -1, null);
  }

  /**
   * Remembers {@code record} as its job's newest sent if it may still grow; a newer record that
   * cannot grow ends the memory of its job's older one.
   */
  private void noteSent(LedgerRecord record) {
    JobName name = record.runId().job();
    Sent old = newestSent.get(name);
    if (old != null && old.sequence() > record.sequence()) {
      return;
    }
    if (record.mayGrow()) {
      newestSent.put(name, new Sent(record.sequence(), record.instantCount()));
    } else {
      newestSent.remove(name);
    }
  }

  /** One delivery from the ledger changes after {@link #revision}, oldest first. */
  private Delivery collectChanges(List<CronView.LedgerChange> changes) {
    List<LedgerRecord> records = new ArrayList<>();
    Map<JobName, Sent> sentHere = new HashMap<>();
    long reached = revision;
    int used = 0;
    for (CronView.LedgerChange change : changes) {
      if (records.size() == maxBatch) {
        break;
      }
      used++;
      reached = change.revision();
      LedgerRecord record = change.record();
      JobName name = record.runId().job();
      Sent sent = sentHere.containsKey(name) ? sentHere.get(name) : newestSent.get(name);
      boolean fresh =
          record.sequence() > afterSequence
              && (sent == null || record.sequence() > sent.sequence());
      boolean grown =
          sent != null
              && record.sequence() == sent.sequence()
              && record.instantCount() > sent.instantCount();
      if (fresh || grown) {
        records.add(record);
        sentHere.put(name, new Sent(record.sequence(), record.instantCount()));
      }
    }
    boolean more = used < changes.size() || changes.size() == 4 * maxBatch;
    return new Delivery(List.copyOf(records), more, reached, null);
  }

  private synchronized void close() {
    closeLocked();
  }

  private void closeLocked() {
    if (closed) {
      return;
    }
    closed = true;
    if (subscription != null) {
      subscription.close();
    }
    onClose.run();
  }
}
