package io.paxcron.http;

import io.paxcron.paxos.replica.ReplicaObserver;
import io.paxcron.proto.v1.AgentStatus;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunRecord;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The replica's Prometheus metrics: etcd's names with a {@code paxcron_} prefix for the replicated
 * log, and the scheduler's own families. Counters and histograms are fed as things happen (the
 * replica's {@link ReplicaObserver} hooks, the store's sync timing, the ledger feed); gauges are
 * read at scrape time from the {@link Sample} the scraper took just before.
 *
 * <p>Thread-safe: hooks arrive on the replica's loop, the store's writer and the ledger feed;
 * scrapes run on HTTP threads.
 */
public final class PaxcronMetrics implements ReplicaObserver, LedgerFeed.Listener {

  /**
   * What gauges read at a scrape: the replica's view, the leader's agents, the job list, the
   * configuration as this replica knows it.
   */
  record Sample(
      ReplicaProbe.View view,
      List<AgentStatus> agents,
      Optional<JobCatalog.Read> jobs,
      Optional<ReplicaProbe.Members> members,
      Optional<ReplicaProbe.JobTotals> kept) {
    Sample(ReplicaProbe.View view, List<AgentStatus> agents, Optional<JobCatalog.Read> jobs) {
      this(view, agents, jobs, Optional.empty());
    }

    Sample(
        ReplicaProbe.View view,
        List<AgentStatus> agents,
        Optional<JobCatalog.Read> jobs,
        Optional<ReplicaProbe.Members> members) {
      this(view, agents, jobs, members, Optional.empty());
    }

    /** The totals the state machine kept, else those of the job list, else none. */
    Optional<ReplicaProbe.JobTotals> totals() {
      if (kept.isPresent()) {
        return kept;
      }
      return jobs.map(
          read ->
              new ReplicaProbe.JobTotals(
                  read.jobs().size(),
                  read.jobs().stream().filter(Job::getPaused).count(),
                  read.jobs().stream().filter(job -> job.getChosenCount() > 0).count(),
                  read.jobs().stream().mapToLong(Job::getOpenRuns).sum()));
    }
  }

  /** Most jobs whose last success time is remembered for the per-job gauges. */
  static final int MAX_JOBS_TRACKED = 100_000;

  private static final double[] FSYNC_BUCKETS = exponential(0.001, 14);
  private static final double[] RTT_BUCKETS = exponential(0.0001, 16);
  private static final double[] LATENESS_BUCKETS = exponential(0.001, 17);

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final ExpositionFormats formats = ExpositionFormats.init();
  private final boolean perJob;
  private volatile Sample sample =
      new Sample(
          new ReplicaProbe.View(0, "FOLLOWER", -1, 1, 0, 0, false), List.of(), Optional.empty());

  private final Counter leaderChanges;
  private final Counter committed;
  private final Counter applied;
  private final Counter failed;
  private final Gauge pending;
  private final Histogram fsync;
  private final Histogram roundTrip;
  private final Gauge snapshotSlot;
  private final Gauge snapshotSize;
  private final Gauge snapshotTime;
  private final Gauge backupTime;
  private final Counter runs;
  private final Histogram lateness;
  private final Counter membershipChanges;
  private final Counter quorumPeerChanges;
  private final Map<String, Long> lastSuccessSeconds = new ConcurrentHashMap<>();
  private int lastLeader = -1;

  public PaxcronMetrics(boolean perJob) {
    this.perJob = perJob;
    GaugeWithCallback.builder()
        .name("paxcron_server_has_leader")
        .help("1 if this replica knows a leader, else 0.")
        .callback(cb -> cb.call(sample.view().leaderId() >= 0 ? 1 : 0))
        .register(registry);
    GaugeWithCallback.builder()
        .name("paxcron_server_is_leader")
        .help("1 if this replica is the leader, else 0.")
        .callback(cb -> cb.call(sample.view().role().equals("LEADER") ? 1 : 0))
        .register(registry);
    leaderChanges =
        Counter.builder()
            .name("paxcron_server_leader_changes_seen_total")
            .help("Times this replica learned of a new leader.")
            .register(registry);
    committed =
        Counter.builder()
            .name("paxcron_server_proposals_committed_total")
            .help("Log slots this replica learned were chosen.")
            .register(registry);
    applied =
        Counter.builder()
            .name("paxcron_server_proposals_applied_total")
            .help("Log slots this replica applied to its state machine.")
            .register(registry);
    failed =
        Counter.builder()
            .name("paxcron_server_proposals_failed_total")
            .help("Proposals made through this replica that failed (not leader, leadership lost).")
            .register(registry);
    pending =
        Gauge.builder()
            .name("paxcron_server_proposals_pending")
            .help("Proposals made through this replica awaiting their outcome.")
            .register(registry);
    GaugeWithCallback.builder()
        .name("paxcron_server_slot_chosen")
        .help("The highest log slot this replica knows chosen.")
        .callback(cb -> cb.call(sample.view().firstUnchosenSlot() - 1))
        .register(registry);
    GaugeWithCallback.builder()
        .name("paxcron_server_slot_applied")
        .help("The highest log slot this replica applied.")
        .callback(cb -> cb.call(sample.view().appliedSlot()))
        .register(registry);
    fsync =
        Histogram.builder()
            .name("paxcron_disk_wal_fsync_duration_seconds")
            .help("Duration of each synced batch write of the log store (WAL fsync included).")
            .classicOnly()
            .classicUpperBounds(FSYNC_BUCKETS)
            .register(registry);
    roundTrip =
        Histogram.builder()
            .name("paxcron_network_peer_round_trip_time_seconds")
            .help("Accept to Accepted round trip per peer (millisecond resolution).")
            .labelNames("To")
            .classicOnly()
            .classicUpperBounds(RTT_BUCKETS)
            .register(registry);
    snapshotSlot =
        Gauge.builder()
            .name("paxcron_snapshot_slot")
            .help("The slot of the latest snapshot taken here.")
            .register(registry);
    snapshotSize =
        Gauge.builder()
            .name("paxcron_snapshot_size_bytes")
            .help("The size of the latest snapshot taken here.")
            .register(registry);
    snapshotTime =
        Gauge.builder()
            .name("paxcron_snapshot_last_taken_timestamp_seconds")
            .help("When the latest snapshot was taken here (Unix seconds); 0 if none since start.")
            .register(registry);
    backupTime =
        Gauge.builder()
            .name("paxcron_backup_last_success_timestamp_seconds")
            .help(
                "When a snapshot was last shipped to the backup target (Unix seconds); 0 if never.")
            .register(registry);
    runs =
        Counter.builder()
            .name("paxcron_runs_total")
            .help("Scheduled instants recorded in the run ledger, by outcome and skip reason.")
            .labelNames("outcome", "reason")
            .register(registry);
    lateness =
        Histogram.builder()
            .name("paxcron_launch_lateness_seconds")
            .help("Agent start minus scheduled instant, for recorded runs that started.")
            .classicOnly()
            .classicUpperBounds(LATENESS_BUCKETS)
            .register(registry);
    GaugeWithCallback.builder()
        .name("paxcron_runs_in_flight")
        .help("Runs due, launched, running or waiting to retry, over all jobs.")
        .callback(cb -> sample.totals().ifPresent(totals -> cb.call(totals.openRuns())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("paxcron_jobs")
        .help("Jobs by state.")
        .labelNames("state")
        .callback(
            cb ->
                sample
                    .totals()
                    .ifPresent(
                        totals -> {
                          cb.call(totals.jobs() - totals.paused(), "active");
                          cb.call(totals.paused(), "paused");
                        }))
        .register(registry);
    GaugeWithCallback.builder()
        .name("paxcron_jobs_question_mark_resolved")
        .help("Jobs whose schedule has a '?' the cluster resolved.")
        .callback(
            cb -> sample.totals().ifPresent(totals -> cb.call(totals.questionMarksResolved())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("paxcron_agents")
        .help("Agents connected to the leader, by state (as the leader reports them).")
        .labelNames("state")
        .callback(
            cb -> {
              Map<String, Long> byState =
                  new TreeMap<>(Map.of("HEALTHY", 0L, "SUSPECT", 0L, "DOWN", 0L));
              for (AgentStatus agent : sample.agents()) {
                byState.merge(agent.getState(), 1L, Long::sum);
              }
              byState.forEach((state, count) -> cb.call(count, state));
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("paxcron_members")
        .help(
            "Members of the configuration that governs this replica's next slot, by role"
                + " (voter, learner).")
        .labelNames("role")
        .callback(
            cb ->
                sample
                    .members()
                    .ifPresent(
                        known -> {
                          long learners =
                              known.members().stream()
                                  .filter(m -> m.role().equals("learner"))
                                  .count();
                          cb.call(known.members().size() - learners, "voter");
                          cb.call(learners, "learner");
                        }))
        .register(registry);
    GaugeWithCallback.builder()
        .name("paxcron_membership_change_in_progress")
        .help("1 while a chosen membership change does not govern yet, else 0.")
        .callback(
            cb ->
                sample
                    .members()
                    .ifPresent(known -> cb.call(known.changeInProgress().isEmpty() ? 0 : 1)))
        .register(registry);
    membershipChanges =
        Counter.builder()
            .name("paxcron_membership_changes_total")
            .help("Membership changes this replica learned were chosen (add, promote, remove).")
            .register(registry);
    quorumPeerChanges =
        Counter.builder()
            .name("paxcron_quorum_peer_changes_total")
            .help(
                "On the leader: followers that heard its proposals at once and were replaced,"
                    + " having gone silent or answered far slower than the leader writes itself.")
            .register(registry);
    GaugeWithCallback.builder()
        .name("paxcron_member_lag_slots")
        .help(
            "On the leader: how many chosen slots each member is behind it, as it last heard"
                + " (learners catch up before they may vote).")
        .labelNames("member", "role")
        .callback(
            cb ->
                sample
                    .members()
                    .ifPresent(
                        known ->
                            known
                                .members()
                                .forEach(
                                    member -> {
                                      if (member.lagSlots() >= 0) {
                                        cb.call(
                                            member.lagSlots(),
                                            String.valueOf(member.id()),
                                            member.role());
                                      }
                                    })))
        .register(registry);
    if (perJob) {
      GaugeWithCallback.builder()
          .name("paxcron_job_next_schedule_time_seconds")
          .help("Next scheduled instant per job (Unix seconds).")
          .labelNames("job")
          .callback(
              cb ->
                  sample
                      .jobs()
                      .ifPresent(
                          read ->
                              read.jobs()
                                  .forEach(
                                      job -> {
                                        if (job.hasNextDue()) {
                                          cb.call(job.getNextDue().getSeconds(), job.getName());
                                        }
                                      })))
          .register(registry);
      GaugeWithCallback.builder()
          .name("paxcron_job_spec_suspend")
          .help("1 if the job is paused.")
          .labelNames("job")
          .callback(
              cb ->
                  sample
                      .jobs()
                      .ifPresent(
                          read ->
                              read.jobs()
                                  .forEach(job -> cb.call(job.getPaused() ? 1 : 0, job.getName()))))
          .register(registry);
      GaugeWithCallback.builder()
          .name("paxcron_job_last_successful_time_seconds")
          .help("Scheduled instant of the job's latest SUCCEEDED run seen here (Unix seconds).")
          .labelNames("job")
          .callback(cb -> lastSuccessSeconds.forEach((job, seconds) -> cb.call(seconds, job)))
          .register(registry);
    }
  }

  private static double[] exponential(double start, int count) {
    double[] bounds = new double[count];
    for (int i = 0; i < count; i++) {
      bounds[i] = start * Math.pow(2, i);
    }
    return bounds;
  }

  void sample(Sample next) {
    this.sample = next;
  }

  /** Writes every family in the format {@code accept} asks for; returns its content type. */
  String scrape(String accept, OutputStream out) throws IOException {
    ExpositionFormatWriter writer = formats.findWriter(accept);
    writer.write(out, registry.scrape());
    return writer.getContentType();
  }

  /** The store's synced batch write took {@code nanos}. */
  public void onSync(long nanos) {
    fsync.observe(nanos / 1e9);
  }

  /** A snapshot was shipped to the backup target at {@code at}. */
  public void onBackupSucceeded(Instant at) {
    backupTime.set(at.getEpochSecond());
  }

  @Override
  public synchronized void onLeaderChanged(int leaderId) {
    if (leaderId >= 0 && leaderId != lastLeader) {
      leaderChanges.inc();
      lastLeader = leaderId;
    }
  }

  @Override
  public void onChosen(long count) {
    committed.inc(count);
  }

  @Override
  public void onApplied(long count) {
    applied.inc(count);
  }

  @Override
  public void onProposalFailed() {
    failed.inc();
  }

  @Override
  public void onProposalsPending(int count) {
    pending.set(count);
  }

  @Override
  public void onSnapshotTaken(long slot, long sizeBytes) {
    snapshotSlot.set(slot);
    snapshotSize.set(sizeBytes);
    snapshotTime.set(Instant.now().getEpochSecond());
  }

  @Override
  public void onMembershipChanges(int count) {
    membershipChanges.inc(count);
  }

  @Override
  public void onQuorumPeersChanged(java.util.List<Integer> peers, String reason) {
    quorumPeerChanges.inc();
  }

  @Override
  public void onPeerRoundTrip(int peer, long millis) {
    roundTrip.labelValues(String.valueOf(peer)).observe(millis / 1e3);
  }

  @Override
  public void onRecord(RunRecord record, long newInstants) {
    if (newInstants > 0) {
      runs.labelValues(
              Views.outcomeName(record.getOutcome()), Views.reasonName(record.getSkipReason()))
          .inc(newInstants);
      if (record.hasStartedAt() && !record.getManual()) {
        lateness.observe(
            Math.max(0, Views.millis(record.getStartedAt()) - Views.millis(record.getInstant()))
                / 1e3);
      }
    }
    if (perJob
        && record.getOutcome() == Outcome.OUTCOME_SUCCEEDED
        && (lastSuccessSeconds.size() < MAX_JOBS_TRACKED
            || lastSuccessSeconds.containsKey(record.getJob()))) {
      lastSuccessSeconds.merge(record.getJob(), record.getInstant().getSeconds(), Math::max);
    }
  }
}
