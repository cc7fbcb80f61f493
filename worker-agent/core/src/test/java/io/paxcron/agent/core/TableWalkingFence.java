package io.paxcron.agent.core;

import io.paxcron.agent.core.AgentEffect.ReportKind;
import io.paxcron.agent.core.LeaderReply.LaunchStatus;
import io.paxcron.scheduler.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The launch table as {@link AgentFence} kept it before it was indexed: one map, walked whole by
 * every query. Kept as the model that the randomized test compares the indexed fence with, answer
 * by answer; it is slow on a large table, and right by construction.
 */
final class TableWalkingFence {
  /** The most output a finish report carries (agent.proto {@code RunState.output_tail}). */
  static final int MAX_OUTPUT_TAIL_BYTES = 1024;

  /** Journal records between snapshots never fall below this before compaction is suggested. */
  static final int COMPACT_MIN_RECORDS = 1024;

  /**
   * How long before a held launch's instant its {@code Starting} record is written and synced, so
   * that at the instant nothing is left but telling the process to run: a sync costs tens of
   * milliseconds when other processes sync the same disk at the same moment. The record is written
   * only if the lease will still hold at the instant; a restart between the record and the instant
   * reports the launch as possibly run (like a restart between the record and the start), never as
   * never started.
   */
  static final Duration START_RECORDED_AHEAD = Duration.ofMillis(100);

  private static final long UNCONFIRMED = -1;

  private final AgentLimits limits;
  private FenceBallot highest = FenceBallot.ZERO;
  private final LinkedHashMap<LaunchKey, Entry> launches = new LinkedHashMap<>();
  private Instant leaseExpiry;
  private long leaseEpoch;
  private long recordsSinceSnapshot;

  private static final class Entry {
    final LaunchKey key;
    final FenceBallot ballot;
    final Instant startAt;
    final byte[] payload;
    RunPhase phase = RunPhase.ACCEPTED;
    Outcome outcome;
    String reason = "";
    Instant startedAt;
    Instant endedAt;
    byte[] outputTail = new byte[0];
    boolean startAcknowledged;
    boolean finishAcknowledged;
    boolean starting;

    /**
     * Starting is recorded ahead of the instant and the start effect is not given yet (not kept in
     * the journal: after a restart such a launch is one that may have started).
     */
    boolean awaitingInstant;

    long confirmedEpoch = UNCONFIRMED;
    Instant unconfirmedSince;

    Entry(LaunchKey key, FenceBallot ballot, Instant startAt, byte[] payload) {
      this.key = key;
      this.ballot = ballot;
      this.startAt = startAt;
      this.payload = payload;
    }

    RunView view() {
      return new RunView(key, phase, outcome, reason, startedAt, endedAt, outputTail, null);
    }
  }

  TableWalkingFence(AgentLimits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /**
   * Rebuilds the fence and table from a journal's records (after a restart). Launches accepted but
   * not started need a leader's confirmation; launches found running are the driver's to check
   * (still running, or exited: {@link #onFinished}).
   *
   * @throws IllegalArgumentException naming the record, if the records contradict each other
   */
  static TableWalkingFence recover(AgentLimits limits, List<JournalRecord> records) {
    TableWalkingFence fence = new TableWalkingFence(limits);
    int index = 0;
    for (JournalRecord record : records) {
      try {
        fence.replay(record);
      } catch (IllegalStateException e) {
        throw new IllegalArgumentException(
            "journal record "
                + index
                + " ("
                + record.getClass().getSimpleName()
                + "): "
                + e.getMessage(),
            e);
      }
      index++;
    }
    fence.recordsSinceSnapshot = records.size();
    return fence;
  }

  // ------------------------------------------------------------------------------------------
  // inputs

  /**
   * {@code Launch(key, ballot)}.
   *
   * @param startAt start no earlier than this (null: at once)
   * @param payload the launch spec as the driver encodes it; handed back in {@link
   *     AgentEffect.Start}
   */
  public Ready onLaunch(
      Instant now, LaunchKey key, FenceBallot ballot, Instant startAt, byte[] payload) {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(ballot, "ballot");
    Objects.requireNonNull(payload, "payload");
    if (payload.length > JournalCodec.MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "payload of "
              + payload.length
              + " bytes exceeds MAX_PAYLOAD_BYTES "
              + JournalCodec.MAX_PAYLOAD_BYTES);
    }
    if (ballot.isBelow(highest)) {
      return reply(
          new LeaderReply.LaunchAnswer(
              key,
              ballot,
              LaunchStatus.FENCED,
              RunView.fenced(key, highest),
              highest,
              "ballot " + ballot + " is below the agent's fence " + highest));
    }
    Entry known = launches.get(key);
    if (known != null) {
      List<JournalRecord> persist = new ArrayList<>(raise(ballot));
      confirm(known);
      List<AgentEffect> effects = new ArrayList<>();
      effects.add(
          new AgentEffect.Reply(
              new LeaderReply.LaunchAnswer(
                  key, ballot, LaunchStatus.REPEAT, known.view(), highest, "")));
      startDue(now, persist, effects);
      return ready(persist, effects);
    }
    String full = fullReason();
    if (full != null) {
      List<JournalRecord> persist = raise(ballot);
      return ready(
          persist,
          List.of(
              new AgentEffect.Reply(
                  new LeaderReply.LaunchAnswer(
                      key, ballot, LaunchStatus.CAPACITY, RunView.unknown(key), highest, full))));
    }
    JournalRecord.Accepted accepted =
        new JournalRecord.Accepted(key, ballot, startAt, payload.clone());
    Entry entry = accept(accepted);
    entry.confirmedEpoch = leaseEpoch;
    List<AgentEffect> effects = new ArrayList<>();
    effects.add(
        new AgentEffect.Reply(
            new LeaderReply.LaunchAnswer(
                key, ballot, LaunchStatus.ACCEPTED, entry.view(), highest, "")));
    List<JournalRecord> persist = new ArrayList<>(List.of(accepted));
    startDue(now, persist, effects);
    return ready(persist, effects);
  }

  /** {@code GetRun(key, ballot)}: answers, raises the fence and confirms an accepted launch. */
  public Ready onGetRun(Instant now, LaunchKey key, FenceBallot ballot) {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(ballot, "ballot");
    if (ballot.isBelow(highest)) {
      return reply(new LeaderReply.RunAnswer(key, ballot, RunView.fenced(key, highest)));
    }
    List<JournalRecord> persist = new ArrayList<>(raise(ballot));
    Entry known = launches.get(key);
    List<AgentEffect> effects = new ArrayList<>();
    if (known == null) {
      effects.add(
          new AgentEffect.Reply(new LeaderReply.RunAnswer(key, ballot, RunView.unknown(key))));
    } else {
      confirm(known);
      effects.add(new AgentEffect.Reply(new LeaderReply.RunAnswer(key, ballot, known.view())));
      startDue(now, persist, effects);
    }
    return ready(persist, effects);
  }

  /**
   * {@code Cancel(key, ballot)}: a running (or starting) process is stopped and its finish reported
   * as usual; an accepted launch not started ends {@code NEVER_STARTED}.
   */
  public Ready onCancel(Instant now, LaunchKey key, FenceBallot ballot) {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(ballot, "ballot");
    if (ballot.isBelow(highest)) {
      return reply(new LeaderReply.CancelAnswer(key, ballot, false, highest));
    }
    List<JournalRecord> persist = new ArrayList<>(raise(ballot));
    List<AgentEffect> effects = new ArrayList<>();
    Entry known = launches.get(key);
    if (known != null && known.awaitingInstant) {
      // Starting is on disk but nothing was told to run: it never starts.
      known.awaitingInstant = false;
      effects.add(new AgentEffect.Reply(new LeaderReply.CancelAnswer(key, ballot, false, null)));
      giveUp(known, now, "cancelled by the leader before it started", persist, effects);
    } else if (known != null && (known.phase == RunPhase.RUNNING || known.starting)) {
      effects.add(new AgentEffect.Reply(new LeaderReply.CancelAnswer(key, ballot, true, null)));
      effects.add(new AgentEffect.Stop(key));
    } else if (known != null && known.phase == RunPhase.ACCEPTED) {
      effects.add(new AgentEffect.Reply(new LeaderReply.CancelAnswer(key, ballot, false, null)));
      giveUp(known, now, "cancelled by the leader before it started", persist, effects);
    } else {
      effects.add(new AgentEffect.Reply(new LeaderReply.CancelAnswer(key, ballot, false, null)));
    }
    return ready(persist, effects);
  }

  /**
   * The leader (at {@code ballot}) acknowledged a heartbeat the agent sent at {@code sentAt}: the
   * agent may start processes until {@code sentAt + lease}.
   */
  public Ready onHeartbeatAcknowledged(
      Instant now, Instant sentAt, Duration lease, FenceBallot ballot) {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(sentAt, "sentAt");
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(ballot, "ballot");
    if (ballot.isBelow(highest) || lease.isNegative()) {
      return Ready.NONE;
    }
    List<JournalRecord> persist = new ArrayList<>(raise(ballot));
    if (leaseExpiry != null && !sentAt.isBefore(leaseExpiry)) {
      // The lease lapsed before this heartbeat left: whoever leads now may have given this agent
      // up, so launches accepted before are started only when a leader confirms them again.
      leaseEpoch++;
    }
    Instant expiry = sentAt.plus(lease);
    if (leaseExpiry == null || expiry.isAfter(leaseExpiry)) {
      leaseExpiry = expiry;
    }
    List<AgentEffect> effects = new ArrayList<>();
    startDue(now, persist, effects);
    return ready(persist, effects);
  }

  /** Time passed: starts launches that fell due, gives up launches unconfirmed for too long. */
  public Ready onTick(Instant now) {
    Objects.requireNonNull(now, "now");
    List<JournalRecord> persist = new ArrayList<>();
    List<AgentEffect> effects = new ArrayList<>();
    for (Entry entry : launches.values()) {
      if (entry.phase != RunPhase.ACCEPTED
          || entry.starting
          || entry.confirmedEpoch == leaseEpoch) {
        continue;
      }
      if (entry.unconfirmedSince == null) {
        entry.unconfirmedSince = now;
      } else if (!now.isBefore(entry.unconfirmedSince.plus(limits.unconfirmedGiveUp()))) {
        giveUp(
            entry,
            now,
            "the agent's lease lapsed before it started and no leader confirmed it within "
                + limits.unconfirmedGiveUp(),
            persist,
            effects);
      }
    }
    startDue(now, persist, effects);
    return ready(persist, effects);
  }

  /**
   * The driver started the process of a launch it was told to start, or found after a restart that
   * it had started one before the agent died (before its start was recorded).
   */
  public Ready onStarted(LaunchKey key, Instant startedAt) {
    Objects.requireNonNull(startedAt, "startedAt");
    Entry entry = require(key);
    if (entry.phase != RunPhase.ACCEPTED) {
      throw new IllegalStateException(key + " started while " + entry.phase);
    }
    JournalRecord.Started started = new JournalRecord.Started(key, startedAt);
    apply(started);
    return ready(
        List.of(started), List.of(new AgentEffect.Report(ReportKind.STARTED, entry.view())));
  }

  /**
   * The launch ended: its process exited, was stopped, or could not start (bad spec: {@code FAILED}
   * with the reason). The output tail is cut to its last {@link #MAX_OUTPUT_TAIL_BYTES} bytes.
   */
  public Ready onFinished(
      LaunchKey key, Outcome outcome, String reason, Instant endedAt, byte[] outputTail) {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(endedAt, "endedAt");
    Objects.requireNonNull(outputTail, "outputTail");
    Entry entry = require(key);
    if (entry.phase != RunPhase.RUNNING && !(entry.phase == RunPhase.ACCEPTED && entry.starting)) {
      throw new IllegalStateException(
          key + " finished while " + entry.phase + ": a launch ends once");
    }
    byte[] tail =
        outputTail.length <= MAX_OUTPUT_TAIL_BYTES
            ? outputTail.clone()
            : Arrays.copyOfRange(
                outputTail, outputTail.length - MAX_OUTPUT_TAIL_BYTES, outputTail.length);
    JournalRecord.Finished finished =
        new JournalRecord.Finished(key, outcome, reason, endedAt, tail);
    apply(finished);
    return ready(
        List.of(finished), List.of(new AgentEffect.Report(ReportKind.FINISHED, entry.view())));
  }

  /** The leader acknowledged a report. A finish acknowledged lets the launch be forgotten later. */
  public Ready onReportAcknowledged(LaunchKey key, ReportKind kind) {
    Objects.requireNonNull(kind, "kind");
    Entry entry = launches.get(Objects.requireNonNull(key, "key"));
    if (entry == null) {
      return Ready.NONE;
    }
    switch (kind) {
      case STARTED -> {
        entry.startAcknowledged = true;
        return Ready.NONE;
      }
      case FINISHED -> {
        if (!entry.phase.ended() || entry.finishAcknowledged) {
          return Ready.NONE;
        }
        JournalRecord.FinishAcknowledged acknowledged = new JournalRecord.FinishAcknowledged(key);
        apply(acknowledged);
        return ready(List.of(acknowledged), List.of());
      }
    }
    throw new IllegalStateException("unreachable report kind " + kind);
  }

  // ------------------------------------------------------------------------------------------
  // queries

  /** Whether the agent's lease holds at {@code now}: only then may a process start. */
  public boolean mayStart(Instant now) {
    return leaseExpiry != null && now.isBefore(leaseExpiry);
  }

  /** The end of the lease, if the agent ever had one since it started. */
  public Optional<Instant> leaseExpiry() {
    return Optional.ofNullable(leaseExpiry);
  }

  /**
   * The earliest future start time among confirmed launches waiting for it, for the driver's timer.
   */
  public Optional<Instant> nextStartAt() {
    Instant next = null;
    for (Entry entry : launches.values()) {
      if (entry.phase == RunPhase.ACCEPTED
          && !entry.starting
          && entry.startAt != null
          && (next == null || entry.startAt.isBefore(next))) {
        next = entry.startAt;
      }
    }
    return Optional.ofNullable(next);
  }

  /**
   * The earliest time after {@code now} at which a held launch needs the core: its instant, or
   * {@link #START_RECORDED_AHEAD} before it to record {@code Starting} (the driver wakes up then
   * and calls {@link #onTick}; launches already due start on the next input).
   */
  public Optional<Instant> nextStartAfter(Instant now) {
    Objects.requireNonNull(now, "now");
    Instant next = null;
    for (Entry entry : launches.values()) {
      if (entry.phase != RunPhase.ACCEPTED || entry.startAt == null) {
        continue;
      }
      Instant wake;
      if (entry.awaitingInstant) {
        wake = entry.startAt;
      } else if (!entry.starting) {
        Instant record = entry.startAt.minus(START_RECORDED_AHEAD);
        wake = record.isAfter(now) ? record : entry.startAt;
      } else {
        continue;
      }
      if (wake.isAfter(now) && (next == null || wake.isBefore(next))) {
        next = wake;
      }
    }
    return Optional.ofNullable(next);
  }

  /** Every report not acknowledged yet: the driver re-sends them (on every stream) until it is. */
  public List<AgentEffect.Report> pendingReports() {
    List<AgentEffect.Report> reports = new ArrayList<>();
    for (Entry entry : launches.values()) {
      if (entry.phase.ended() && !entry.finishAcknowledged) {
        reports.add(new AgentEffect.Report(ReportKind.FINISHED, entry.view()));
      } else if (entry.phase == RunPhase.RUNNING && !entry.startAcknowledged) {
        reports.add(new AgentEffect.Report(ReportKind.STARTED, entry.view()));
      }
    }
    return reports;
  }

  /** Every launch whose end the leader has not acknowledged: what {@code Register} carries. */
  public List<RunView> unacknowledged() {
    List<RunView> views = new ArrayList<>();
    for (Entry entry : launches.values()) {
      if (!entry.finishAcknowledged) {
        views.add(entry.view());
      }
    }
    return views;
  }

  /** What the agent knows of {@code key} (UNKNOWN if nothing), without raising the fence. */
  public RunView view(LaunchKey key) {
    Entry entry = launches.get(key);
    return entry == null ? RunView.unknown(key) : entry.view();
  }

  /** The launch's payload, for a driver that restarted and finds its process. */
  public Optional<byte[]> payload(LaunchKey key) {
    Entry entry = launches.get(key);
    return entry == null ? Optional.empty() : Optional.of(entry.payload.clone());
  }

  /**
   * Launches whose process was started or was about to start, and that have not ended. After a
   * restart the driver checks each: still running, exited (its outcome), or never started by the
   * agent that died ({@link #onFinished} with what it knows — the process may have run).
   */
  public List<LaunchKey> running() {
    List<LaunchKey> keys = new ArrayList<>();
    for (Entry entry : launches.values()) {
      if (entry.phase == RunPhase.RUNNING || entry.starting) {
        keys.add(entry.key);
      }
    }
    return keys;
  }

  /** Launches accepted or running: what counts against {@link AgentLimits#capacity()}. */
  public int openCount() {
    int open = 0;
    for (Entry entry : launches.values()) {
      if (entry.phase.open()) {
        open++;
      }
    }
    return open;
  }

  public AgentLimits limits() {
    return limits;
  }

  public FenceBallot highestSeen() {
    return highest;
  }

  /** How many launches are remembered. */
  public int size() {
    return launches.size();
  }

  /**
   * Whether the journal has grown enough past its last snapshot that the driver should compact it.
   */
  public boolean needsCompaction() {
    return recordsSinceSnapshot > Math.max(COMPACT_MIN_RECORDS, 4L * launches.size());
  }

  /** The whole state as one record; a journal holding only it recovers this state. */
  public JournalRecord.Snapshot snapshot() {
    List<JournalRecord.LaunchImage> images = new ArrayList<>();
    for (Entry entry : launches.values()) {
      images.add(
          new JournalRecord.LaunchImage(
              entry.key,
              entry.ballot,
              entry.startAt,
              entry.payload,
              entry.phase,
              entry.outcome,
              entry.reason,
              entry.startedAt,
              entry.endedAt,
              entry.outputTail,
              entry.starting,
              entry.finishAcknowledged));
    }
    return new JournalRecord.Snapshot(highest, images);
  }

  /** The driver replaced the journal with {@link #snapshot()}. */
  public void onCompacted() {
    recordsSinceSnapshot = 1;
  }

  // ------------------------------------------------------------------------------------------
  // internals

  private void replay(JournalRecord record) {
    switch (record) {
      case JournalRecord.Snapshot snapshot -> {
        launches.clear();
        highest = snapshot.fence();
        for (JournalRecord.LaunchImage image : snapshot.launches()) {
          Entry entry = new Entry(image.key(), image.ballot(), image.startAt(), image.payload());
          entry.phase = image.phase();
          entry.outcome = image.outcome();
          entry.reason = image.reason();
          entry.startedAt = image.startedAt();
          entry.endedAt = image.endedAt();
          entry.outputTail = image.outputTail();
          entry.starting = image.starting();
          entry.finishAcknowledged = image.finishAcknowledged();
          launches.put(image.key(), entry);
        }
      }
      case JournalRecord.Accepted accepted -> {
        if (launches.containsKey(accepted.key())) {
          throw new IllegalStateException(accepted.key() + " accepted twice");
        }
        if (launches.size() >= limits.maxLaunches() && !hasAcknowledged()) {
          throw new IllegalStateException(
              "the launch table holds more than maxLaunches "
                  + limits.maxLaunches()
                  + " launches not acknowledged; restart with a larger bound");
        }
        accept(accepted);
      }
      default -> apply(record);
    }
  }

  /** Applies a record live or in replay (not Accepted or Snapshot). */
  private void apply(JournalRecord record) {
    recordsSinceSnapshot++;
    switch (record) {
      case JournalRecord.FenceRaised raised -> highest = FenceBallot.max(highest, raised.ballot());
      case JournalRecord.Starting starting -> {
        Entry entry = require(starting.key());
        if (entry.phase != RunPhase.ACCEPTED || entry.starting) {
          throw new IllegalStateException(
              starting.key()
                  + " starting while "
                  + entry.phase
                  + (entry.starting ? " and already starting" : ""));
        }
        entry.starting = true;
      }
      case JournalRecord.Started started -> {
        Entry entry = require(started.key());
        entry.phase = RunPhase.RUNNING;
        entry.starting = false;
        entry.startedAt = started.startedAt();
      }
      case JournalRecord.Finished finished -> {
        Entry entry = require(finished.key());
        if (entry.phase.ended()) {
          throw new IllegalStateException(finished.key() + " ended twice");
        }
        entry.phase = RunPhase.FINISHED;
        entry.starting = false;
        entry.outcome = finished.outcome();
        entry.reason = finished.reason();
        entry.endedAt = finished.endedAt();
        entry.outputTail = finished.outputTail();
      }
      case JournalRecord.NeverStarted never -> {
        Entry entry = require(never.key());
        if (entry.phase != RunPhase.ACCEPTED) {
          throw new IllegalStateException(never.key() + " given up while " + entry.phase);
        }
        entry.phase = RunPhase.NEVER_STARTED;
        entry.starting = false;
        entry.awaitingInstant = false;
        entry.reason = never.reason();
        entry.endedAt = never.at();
      }
      case JournalRecord.FinishAcknowledged acknowledged -> {
        Entry entry = require(acknowledged.key());
        if (!entry.phase.ended()) {
          throw new IllegalStateException(
              acknowledged.key() + " acknowledged while " + entry.phase);
        }
        entry.finishAcknowledged = true;
      }
      case JournalRecord.Accepted accepted ->
          throw new IllegalStateException("accept through accept()");
      case JournalRecord.Snapshot snapshot ->
          throw new IllegalStateException("snapshot through replay()");
    }
  }

  private Entry accept(JournalRecord.Accepted accepted) {
    recordsSinceSnapshot++;
    if (launches.size() >= limits.maxLaunches()) {
      forgetOneAcknowledged();
    }
    highest = FenceBallot.max(highest, accepted.ballot());
    Entry entry =
        new Entry(accepted.key(), accepted.ballot(), accepted.startAt(), accepted.payload());
    launches.put(accepted.key(), entry);
    return entry;
  }

  /** Why a new launch cannot be taken, or null if it can. */
  private String fullReason() {
    if (openCount() >= limits.capacity()) {
      return "the agent runs at its capacity of " + limits.capacity() + " launches";
    }
    if (launches.size() >= limits.maxLaunches() && !hasAcknowledged()) {
      return "the launch table holds maxLaunches "
          + limits.maxLaunches()
          + " launches whose end the leader has not acknowledged";
    }
    return null;
  }

  private boolean hasAcknowledged() {
    for (Entry entry : launches.values()) {
      if (entry.finishAcknowledged) {
        return true;
      }
    }
    return false;
  }

  private void forgetOneAcknowledged() {
    for (Iterator<Map.Entry<LaunchKey, Entry>> it = launches.entrySet().iterator();
        it.hasNext(); ) {
      if (it.next().getValue().finishAcknowledged) {
        it.remove();
        return;
      }
    }
    throw new IllegalStateException("no acknowledged launch to forget in a full table");
  }

  private List<JournalRecord> raise(FenceBallot ballot) {
    if (ballot.compareTo(highest) > 0) {
      JournalRecord.FenceRaised raised = new JournalRecord.FenceRaised(ballot);
      apply(raised);
      return List.of(raised);
    }
    return List.of();
  }

  private void confirm(Entry entry) {
    if (entry.phase == RunPhase.ACCEPTED) {
      entry.confirmedEpoch = leaseEpoch;
      entry.unconfirmedSince = null;
    }
  }

  /**
   * Starts every confirmed launch that is due, if the lease holds: a Starting record, then the
   * effect. A held launch gets its Starting record {@link #START_RECORDED_AHEAD} before its
   * instant, if the lease will still hold at the instant, and at the instant only the effect.
   */
  private void startDue(Instant now, List<JournalRecord> persist, List<AgentEffect> effects) {
    for (Entry entry : launches.values()) {
      if (entry.awaitingInstant && !now.isBefore(entry.startAt)) {
        entry.awaitingInstant = false;
        if (mayStart(now)) {
          effects.add(new AgentEffect.Start(entry.key, entry.payload.clone()));
        } else {
          // The instant came later than the lease (the agent was paused): nothing was told to
          // run, so it never starts.
          giveUp(
              entry,
              now,
              "the agent's lease lapsed before the instant (the agent was paused or cut off)",
              persist,
              effects);
        }
      }
    }
    if (!mayStart(now)) {
      return;
    }
    for (Entry entry : launches.values()) {
      if (entry.phase != RunPhase.ACCEPTED
          || entry.starting
          || entry.confirmedEpoch != leaseEpoch) {
        continue;
      }
      if (entry.startAt == null || !now.isBefore(entry.startAt)) {
        JournalRecord.Starting starting = new JournalRecord.Starting(entry.key, now);
        apply(starting);
        persist.add(starting);
        effects.add(new AgentEffect.Start(entry.key, entry.payload.clone()));
      } else if (!now.isBefore(entry.startAt.minus(START_RECORDED_AHEAD))
          && mayStart(entry.startAt)) {
        JournalRecord.Starting starting = new JournalRecord.Starting(entry.key, entry.startAt);
        apply(starting);
        persist.add(starting);
        entry.awaitingInstant = true;
      }
    }
  }

  private void giveUp(
      Entry entry,
      Instant now,
      String reason,
      List<JournalRecord> persist,
      List<AgentEffect> effects) {
    JournalRecord.NeverStarted never = new JournalRecord.NeverStarted(entry.key, reason, now);
    apply(never);
    persist.add(never);
    effects.add(new AgentEffect.Report(ReportKind.FINISHED, entry.view()));
  }

  private Entry require(LaunchKey key) {
    Entry entry = launches.get(Objects.requireNonNull(key, "key"));
    if (entry == null) {
      throw new IllegalStateException("no accepted launch " + key);
    }
    return entry;
  }

  private static Ready reply(LeaderReply reply) {
    return new Ready(List.of(), List.of(new AgentEffect.Reply(reply)));
  }

  private static Ready ready(List<JournalRecord> persist, List<AgentEffect> effects) {
    return persist.isEmpty() && effects.isEmpty() ? Ready.NONE : new Ready(persist, effects);
  }
}
