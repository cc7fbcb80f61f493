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
 * sends it again when it grew.
 *
 * <p>Cost: a watch of one job reads that job's newest records. A watch of every job never reads
 * every job: its first delivery (or one after it fell more than {@link
 * io.paxcron.scheduler.CronStateMachine#MAX_LEDGER_CHANGES_KEPT} changes behind) takes the records
 * after its sequence from the cross-job ledger order ({@link CronView#ledgerAfter}); after that it
 * reads only the ledger changes applied since its last delivery ({@link
 * CronView#ledgerChangesAfter}). Every replica's dashboard holds such a watch on the leader, and a
 * new leader answers all of them at once, so this matters: reading every job's ledger there took
 * long enough at 100,000 jobs to cost the new leader its lease.
 *
 * <p>Threading: {@link #poll} may be called from any thread; the query runs on the cluster's state
 * thread, and only one query or completion touches the watch's fields at a time (the {@code
 * running} flag, set and cleared under the monitor, orders them).
 */
final class LedgerWatch {
  private record Sent(long sequence, long instantCount) {}

  /**
   * @param revision the ledger revision the watch has seen up to, or -1 if it must read every job's
   *     ledger again
   */
  private record Delivery(List<LedgerRecord> records, boolean more, long revision) {}

  private final CronCluster cluster;
  private final ServerCallStreamObserver<WatchRunsResponse> observer;
  private final String job;

  /** {@link #job} as a job name, or {@code null} for a watch of every job. */
  private final JobName jobName;

  private final int maxBatch;
  private final Runnable onClose;
  private final Map<JobName, Sent> newestSent = new HashMap<>();
  private long afterSequence;

  /** The ledger revision delivered up to (unfiltered watches), or -1: read every job's ledger. */
  private long revision = -1;

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
                    newestSent.merge(
                        record.runId().job(),
                        new Sent(record.sequence(), record.instantCount()),
                        (old, sent) -> sent.sequence() >= old.sequence() ? sent : old);
                    protos.add(JobProtos.toProto(record));
                  }
                  observer.onNext(WatchRunsResponse.newBuilder().addAllRecords(protos).build());
                }
                revision = delivery.revision();
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
    if (job.isEmpty() && revision >= 0) {
      Optional<List<CronView.LedgerChange>> changes =
          view.ledgerChangesAfter(revision, 4 * maxBatch);
      if (changes.isPresent()) {
        return collectChanges(changes.get());
      }
    }
    long scannedAt = view.ledgerRevision();
    if (job.isEmpty()) {
      return collectEveryJob(view, scannedAt);
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
    return deliver(grown, fresh, -1);
  }

  /**
   * A watch of every job without a usable revision (its first delivery, or after falling behind the
   * kept changes): the records after its sequence from the cross-job order, and the growth of the
   * records it sent. Costs the records after its position and the jobs it sent records of, never
   * every job.
   */
  private Delivery collectEveryJob(CronView view, long scannedAt) {
    List<LedgerRecord> grown = new ArrayList<>();
    for (Map.Entry<JobName, Sent> sent : newestSent.entrySet()) {
      view.newestRecord(sent.getKey())
          .filter(record -> record.sequence() == sent.getValue().sequence())
          .filter(record -> record.instantCount() > sent.getValue().instantCount())
          .ifPresent(grown::add);
    }
    List<LedgerRecord> fresh = view.ledgerAfter(afterSequence, maxBatch + 1);
    return deliver(grown, fresh, scannedAt);
  }

  /**
   * Grown records first, then fresh ones (oldest first), at most {@code maxBatch}; only a complete
   * delivery may continue from the ledger changes after {@code scannedAt}.
   */
  private Delivery deliver(List<LedgerRecord> grown, List<LedgerRecord> fresh, long scannedAt) {
    List<LedgerRecord> records =
        new ArrayList<>(grown.subList(0, Math.min(grown.size(), maxBatch)));
    int room = maxBatch - records.size();
    boolean more = grown.size() > records.size() || fresh.size() > room;
    records.addAll(fresh.subList(0, Math.min(fresh.size(), room)));
    return new Delivery(List.copyOf(records), more, more ? -1 : scannedAt);
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
    return new Delivery(List.copyOf(records), more, reached);
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
