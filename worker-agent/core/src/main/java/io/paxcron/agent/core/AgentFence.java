package io.paxcron.agent.core;

import io.paxcron.agent.core.AgentEffect.ReportKind;
import io.paxcron.agent.core.LeaderReply.LaunchStatus;
import io.paxcron.paxos.Check;
import io.paxcron.scheduler.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The worker agent's side of the launch protocol (DESIGN §4 step 2, §5; agent.proto), as a pure
 * object: the fence (the highest {@link FenceBallot} seen), the agent's lease with the cluster, and
 * the table of every launch accepted. Every input returns a {@link Ready}: records to make durable,
 * then effects (reply, start, stop, report). Time is an input; the object reads no clock, starts no
 * process and touches no disk.
 *
 * <p>Rules:
 *
 * <ul>
 *   <li>A launch is accepted only if its ballot is at least the fence and its {@link LaunchKey} is
 *       new; a repeat returns the launch's current state and changes nothing else; a lower ballot
 *       gets {@code FENCED}. {@code GetRun}, {@code Cancel}, repeats and heartbeat acknowledgements
 *       raise the fence; an acknowledgement below the fence grants no lease.
 *   <li>Lease: the agent may start processes until {@code sentAt + lease} of the latest
 *       acknowledged heartbeat ({@link #mayStart}). If a heartbeat is acknowledged that was sent
 *       after the lease had lapsed, or the agent restarted, accepted launches not yet started need
 *       a leader to confirm them again (a repeat {@code Launch} or a {@code GetRun}) before they
 *       start: a leader that gave the agent up meanwhile may have recorded them {@code LOST}.
 *       Unconfirmed for {@link AgentLimits#unconfirmedGiveUp()}, or cancelled, they end {@code
 *       NEVER_STARTED}.
 *   <li>Capacity: accepted plus running launches never exceed {@link AgentLimits#capacity()}; the
 *       table never exceeds {@link AgentLimits#maxLaunches()} and forgets only launches whose end
 *       the leader acknowledged, so a launch is never forgotten while a leader may still ask about
 *       it.
 *   <li>A launch ends once, with one outcome; a second end is a programmer error.
 * </ul>
 *
 * <p>Cost: the table may hold {@link AgentLimits#maxLaunches()} launches, nearly all of them ended
 * and acknowledged, and the driver asks on every tick; so besides the table (by key, in the order
 * the launches were accepted) the fence keeps indexes of what each operation asks for, and no input
 * or query but {@link #snapshot()} walks the table. Lists come in the order the launches were
 * accepted, as a walk of the table would give them.
 *
 * <p>Single-threaded: the driver serialises every call, makes {@link Ready#persist()} durable and
 * only then carries out {@link Ready#effects()}.
 */
public final class AgentFence {
  /** The most output a finish report carries (agent.proto {@code RunState.output_tail}). */
  public static final int MAX_OUTPUT_TAIL_BYTES = 1024;

  /** Journal records between snapshots never fall below this before compaction is suggested. */
  public static final int COMPACT_MIN_RECORDS = 1024;

  /**
   * How long before a held launch's instant its {@code Starting} record is written and synced, so
   * that at the instant nothing is left but telling the process to run: a sync costs tens of
   * milliseconds when other processes sync the same disk at the same moment. The record is written
   * only if the lease will still hold at the instant; a restart between the record and the instant
   * reports the launch as possibly run (like a restart between the record and the start), never as
   * never started.
   */
  public static final Duration START_RECORDED_AHEAD = Duration.ofMillis(100);

  private static final long UNCONFIRMED = -1;

  private final AgentLimits limits;
  private FenceBallot highest = FenceBallot.ZERO;
  private final LinkedHashMap<LaunchKey, Entry> launches = new LinkedHashMap<>();

  // The indexes: each holds exactly the entries of the table that its predicate (in index()) is
  // true of, keyed by acceptance order or by start time. checkIndexes() recomputes them.

  /** Accepted or running: what counts against the capacity. */
  private final TreeMap<Long, Entry> open = new TreeMap<>();

  /** Accepted, not starting, with no start time: they start as soon as they may. */
  private final TreeMap<Long, Entry> waitingAtOnce = new TreeMap<>();

  /** Accepted, not starting, held for a start time. */
  private final TreeMap<StartOrder, Entry> waitingHeld = new TreeMap<>();

  /** Starting recorded ahead of the instant, the start effect not given yet. */
  private final TreeMap<StartOrder, Entry> awaitingInstant = new TreeMap<>();

  /** Accepted, not starting, and not confirmed in the current lease epoch. */
  private final TreeMap<Long, Entry> unconfirmed = new TreeMap<>();

  /** Ended, the finish not acknowledged: reported until it is. */
  private final TreeMap<Long, Entry> finishUnacknowledged = new TreeMap<>();

  /** Finish acknowledged: may be forgotten, oldest first. */
  private final TreeMap<Long, Entry> forgettable = new TreeMap<>();

  private long nextSequence;
  private Instant leaseExpiry;
  private long leaseEpoch;
  private long recordsSinceSnapshot;

  /**
   * Table entries that inputs and queries have looked at: tests assert with it that an operation's
   * cost follows what it answers, not the size of the table.
   */
  private long entriesVisited;

  /** A held launch's place in a start-time index: by start time, then by acceptance. */
  private record StartOrder(Instant startAt, long sequence) implements Comparable<StartOrder> {
    private static final Comparator<StartOrder> ORDER =
        Comparator.comparing(StartOrder::startAt).thenComparingLong(StartOrder::sequence);

    /** Sorts after every launch held for {@code startAt} or earlier. */
    static StartOrder after(Instant startAt) {
      return new StartOrder(startAt, Long.MAX_VALUE);
    }

    @Override
    public int compareTo(StartOrder other) {
      return ORDER.compare(this, other);
    }
  }

  private static final class Entry {
    /** Acceptance order: the order of the table and of every list the fence returns. */
    final long sequence;

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

    Entry(long sequence, LaunchKey key, FenceBallot ballot, Instant startAt, byte[] payload) {
      this.sequence = sequence;
      this.key = key;
      this.ballot = ballot;
      this.startAt = startAt;
      this.payload = payload;
    }

    RunView view() {
      return new RunView(key, phase, outcome, reason, startedAt, endedAt, outputTail, null);
    }

    StartOrder startOrder() {
      return new StartOrder(startAt, sequence);
    }

    boolean waiting() {
      return phase == RunPhase.ACCEPTED && !starting;
    }
  }

  public AgentFence(AgentLimits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /**
   * Rebuilds the fence and table from a journal's records (after a restart). Launches accepted but
   * not started need a leader's confirmation; launches found running are the driver's to check
   * (still running, or exited: {@link #onFinished}).
   *
   * @throws IllegalArgumentException naming the record, if the records contradict each other
   */
  public static AgentFence recover(AgentLimits limits, List<JournalRecord> records) {
    AgentFence fence = new AgentFence(limits);
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
    Entry entry = accept(accepted, leaseEpoch);
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
      unindex(known);
      known.awaitingInstant = false;
      index(known);
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
      for (Entry entry : waitingAtOnce.values()) {
        entriesVisited++;
        unconfirmed.put(entry.sequence, entry);
      }
      for (Entry entry : waitingHeld.values()) {
        entriesVisited++;
        unconfirmed.put(entry.sequence, entry);
      }
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
    for (Entry entry : new ArrayList<>(unconfirmed.values())) {
      entriesVisited++;
      Check.that(
          entry.waiting() && entry.confirmedEpoch != leaseEpoch,
          "%s is indexed unconfirmed while %s",
          entry.key,
          entry.phase);
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
   * The driver was told to start a launch but its lease lapsed before it could (the process's
   * wrapper was still being spawned): nothing was told to run, so the launch never starts and is
   * reported {@code NEVER_STARTED} with the reason.
   */
  public Ready onStartGivenUp(LaunchKey key, Instant now, String reason) {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(reason, "reason");
    Entry entry = require(key);
    if (entry.phase != RunPhase.ACCEPTED) {
      throw new IllegalStateException(key + " given up while " + entry.phase);
    }
    List<JournalRecord> persist = new ArrayList<>();
    List<AgentEffect> effects = new ArrayList<>();
    giveUp(entry, now, reason, persist, effects);
    return ready(persist, effects);
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
    if (waitingHeld.isEmpty()) {
      return Optional.empty();
    }
    entriesVisited++;
    return Optional.of(waitingHeld.firstKey().startAt());
  }

  /**
   * The earliest time after {@code now} at which a held launch needs the core: its instant, or
   * {@link #START_RECORDED_AHEAD} before it to record {@code Starting} (the driver wakes up then
   * and calls {@link #onTick}; launches already due start on the next input).
   */
  public Optional<Instant> nextStartAfter(Instant now) {
    Objects.requireNonNull(now, "now");
    Instant next = null;
    // A held launch wakes the driver at its instant once Starting is recorded.
    for (Entry entry : awaitingInstant.tailMap(StartOrder.after(now)).values()) {
      entriesVisited++;
      if (entry.phase == RunPhase.ACCEPTED) {
        next = entry.startAt;
        break;
      }
    }
    // A held launch still waiting wakes it START_RECORDED_AHEAD before its instant, or at the
    // instant once that is nearer than START_RECORDED_AHEAD: the earliest wake is that of the
    // first launch held beyond now, or of the first held beyond now + START_RECORDED_AHEAD.
    Map.Entry<StartOrder, Entry> first = waitingHeld.higherEntry(StartOrder.after(now));
    if (first != null) {
      entriesVisited++;
      Instant record = first.getKey().startAt().minus(START_RECORDED_AHEAD);
      next = earlier(next, record.isAfter(now) ? record : first.getKey().startAt());
      Map.Entry<StartOrder, Entry> beyond =
          waitingHeld.higherEntry(StartOrder.after(now.plus(START_RECORDED_AHEAD)));
      if (beyond != null) {
        entriesVisited++;
        next = earlier(next, beyond.getKey().startAt().minus(START_RECORDED_AHEAD));
      }
    }
    return Optional.ofNullable(next);
  }

  private static Instant earlier(Instant next, Instant candidate) {
    return next == null || candidate.isBefore(next) ? candidate : next;
  }

  /** Every report not acknowledged yet: the driver re-sends them (on every stream) until it is. */
  public List<AgentEffect.Report> pendingReports() {
    List<AgentEffect.Report> reports = new ArrayList<>();
    for (Entry entry : inAcceptanceOrder(open, finishUnacknowledged)) {
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
    for (Entry entry : inAcceptanceOrder(open, finishUnacknowledged)) {
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
    for (Entry entry : open.values()) {
      entriesVisited++;
      if (entry.phase == RunPhase.RUNNING || entry.starting) {
        keys.add(entry.key);
      }
    }
    return keys;
  }

  /** Launches accepted or running: what counts against {@link AgentLimits#capacity()}. */
  public int openCount() {
    return open.size();
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
      entriesVisited++;
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

  /** How many table entries the fence's inputs and queries have looked at so far (for tests). */
  long entriesVisited() {
    return entriesVisited;
  }

  /**
   * Recomputes every index from the table and checks it holds exactly the entries it should, in
   * acceptance order: a programmer error otherwise. Costs a walk of the table; tests call it after
   * every step.
   */
  void checkIndexes() {
    List<TreeMap<?, Entry>> indexes =
        List.of(
            open,
            waitingAtOnce,
            waitingHeld,
            awaitingInstant,
            unconfirmed,
            finishUnacknowledged,
            forgettable);
    List<TreeMap<Object, Entry>> expected = new ArrayList<>();
    for (int i = 0; i < indexes.size(); i++) {
      expected.add(new TreeMap<>());
    }
    long previous = Long.MIN_VALUE;
    for (Entry entry : launches.values()) {
      Check.that(
          entry.sequence > previous, "%s is out of acceptance order in the table", entry.key);
      previous = entry.sequence;
      Check.that(
          launches.get(entry.key) == entry, "%s is in the table under another key", entry.key);
      Check.that(entry.sequence < nextSequence, "%s has a sequence not given out yet", entry.key);
      if (entry.phase.open()) {
        expected.get(0).put(entry.sequence, entry);
      }
      if (entry.waiting() && entry.startAt == null) {
        expected.get(1).put(entry.sequence, entry);
      }
      if (entry.waiting() && entry.startAt != null) {
        expected.get(2).put(entry.startOrder(), entry);
      }
      if (entry.awaitingInstant) {
        Check.that(entry.startAt != null, "%s awaits no instant", entry.key);
        expected.get(3).put(entry.startOrder(), entry);
      }
      if (entry.waiting() && entry.confirmedEpoch != leaseEpoch) {
        expected.get(4).put(entry.sequence, entry);
      }
      if (entry.phase.ended() && !entry.finishAcknowledged) {
        expected.get(5).put(entry.sequence, entry);
      }
      if (entry.finishAcknowledged) {
        expected.get(6).put(entry.sequence, entry);
      }
    }
    List<String> names =
        List.of(
            "open",
            "waitingAtOnce",
            "waitingHeld",
            "awaitingInstant",
            "unconfirmed",
            "finishUnacknowledged",
            "forgettable");
    for (int i = 0; i < indexes.size(); i++) {
      Check.that(
          List.copyOf(indexes.get(i).keySet()).equals(List.copyOf(expected.get(i).keySet())),
          "index %s holds %s, the table says %s",
          names.get(i),
          indexes.get(i).keySet(),
          expected.get(i).keySet());
      Iterator<Entry> indexed = indexes.get(i).values().iterator();
      for (Entry entry : expected.get(i).values()) {
        Check.that(
            indexed.next() == entry,
            "index %s holds a stale entry for %s",
            names.get(i),
            entry.key);
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // internals

  private void replay(JournalRecord record) {
    switch (record) {
      case JournalRecord.Snapshot snapshot -> {
        launches.clear();
        open.clear();
        waitingAtOnce.clear();
        waitingHeld.clear();
        awaitingInstant.clear();
        unconfirmed.clear();
        finishUnacknowledged.clear();
        forgettable.clear();
        highest = snapshot.fence();
        for (JournalRecord.LaunchImage image : snapshot.launches()) {
          // Contradictions that snapshot() never writes; the indexes assume neither.
          if (image.starting() && image.phase() != RunPhase.ACCEPTED) {
            throw new IllegalStateException(image.key() + " starting while " + image.phase());
          }
          if (image.finishAcknowledged() && !image.phase().ended()) {
            throw new IllegalStateException(image.key() + " acknowledged while " + image.phase());
          }
          if (launches.containsKey(image.key())) {
            throw new IllegalStateException(image.key() + " twice in the snapshot");
          }
          Entry entry =
              new Entry(
                  nextSequence++, image.key(), image.ballot(), image.startAt(), image.payload());
          entry.phase = image.phase();
          entry.outcome = image.outcome();
          entry.reason = image.reason();
          entry.startedAt = image.startedAt();
          entry.endedAt = image.endedAt();
          entry.outputTail = image.outputTail();
          entry.starting = image.starting();
          entry.finishAcknowledged = image.finishAcknowledged();
          launches.put(image.key(), entry);
          index(entry);
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
        accept(accepted, UNCONFIRMED);
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
        unindex(entry);
        entry.starting = true;
        index(entry);
      }
      case JournalRecord.Started started -> {
        Entry entry = require(started.key());
        unindex(entry);
        entry.phase = RunPhase.RUNNING;
        entry.starting = false;
        entry.startedAt = started.startedAt();
        index(entry);
      }
      case JournalRecord.Finished finished -> {
        Entry entry = require(finished.key());
        if (entry.phase.ended()) {
          throw new IllegalStateException(finished.key() + " ended twice");
        }
        unindex(entry);
        entry.phase = RunPhase.FINISHED;
        entry.starting = false;
        entry.outcome = finished.outcome();
        entry.reason = finished.reason();
        entry.endedAt = finished.endedAt();
        entry.outputTail = finished.outputTail();
        index(entry);
      }
      case JournalRecord.NeverStarted never -> {
        Entry entry = require(never.key());
        if (entry.phase != RunPhase.ACCEPTED) {
          throw new IllegalStateException(never.key() + " given up while " + entry.phase);
        }
        unindex(entry);
        entry.phase = RunPhase.NEVER_STARTED;
        entry.starting = false;
        entry.awaitingInstant = false;
        entry.reason = never.reason();
        entry.endedAt = never.at();
        index(entry);
      }
      case JournalRecord.FinishAcknowledged acknowledged -> {
        Entry entry = require(acknowledged.key());
        if (!entry.phase.ended()) {
          throw new IllegalStateException(
              acknowledged.key() + " acknowledged while " + entry.phase);
        }
        unindex(entry);
        entry.finishAcknowledged = true;
        index(entry);
      }
      case JournalRecord.Accepted accepted ->
          throw new IllegalStateException("accept through accept()");
      case JournalRecord.Snapshot snapshot ->
          throw new IllegalStateException("snapshot through replay()");
    }
  }

  private Entry accept(JournalRecord.Accepted accepted, long confirmedEpoch) {
    recordsSinceSnapshot++;
    if (launches.size() >= limits.maxLaunches()) {
      forgetOneAcknowledged();
    }
    highest = FenceBallot.max(highest, accepted.ballot());
    Entry entry =
        new Entry(
            nextSequence++,
            accepted.key(),
            accepted.ballot(),
            accepted.startAt(),
            accepted.payload());
    entry.confirmedEpoch = confirmedEpoch;
    launches.put(accepted.key(), entry);
    index(entry);
    return entry;
  }

  /** Adds the entry to every index whose predicate holds of it (checkIndexes() states the same). */
  private void index(Entry entry) {
    if (entry.phase.open()) {
      open.put(entry.sequence, entry);
    }
    if (entry.waiting()) {
      if (entry.startAt == null) {
        waitingAtOnce.put(entry.sequence, entry);
      } else {
        waitingHeld.put(entry.startOrder(), entry);
      }
      if (entry.confirmedEpoch != leaseEpoch) {
        unconfirmed.put(entry.sequence, entry);
      }
    }
    if (entry.awaitingInstant) {
      awaitingInstant.put(entry.startOrder(), entry);
    }
    if (entry.phase.ended() && !entry.finishAcknowledged) {
      finishUnacknowledged.put(entry.sequence, entry);
    }
    if (entry.finishAcknowledged) {
      forgettable.put(entry.sequence, entry);
    }
  }

  /** Removes the entry from every index, before a change of the fields the indexes follow. */
  private void unindex(Entry entry) {
    open.remove(entry.sequence);
    waitingAtOnce.remove(entry.sequence);
    unconfirmed.remove(entry.sequence);
    finishUnacknowledged.remove(entry.sequence);
    forgettable.remove(entry.sequence);
    if (entry.startAt != null) {
      waitingHeld.remove(entry.startOrder());
      awaitingInstant.remove(entry.startOrder());
    }
  }

  /**
   * The entries of two indexes keyed by acceptance order, merged in that order: what a walk of the
   * table would give of them.
   */
  private List<Entry> inAcceptanceOrder(TreeMap<Long, Entry> one, TreeMap<Long, Entry> other) {
    List<Entry> merged = new ArrayList<>(one.size() + other.size());
    Iterator<Entry> left = one.values().iterator();
    Iterator<Entry> right = other.values().iterator();
    Entry nextLeft = left.hasNext() ? left.next() : null;
    Entry nextRight = right.hasNext() ? right.next() : null;
    while (nextLeft != null || nextRight != null) {
      entriesVisited++;
      if (nextRight == null || (nextLeft != null && nextLeft.sequence < nextRight.sequence)) {
        merged.add(nextLeft);
        nextLeft = left.hasNext() ? left.next() : null;
      } else {
        merged.add(nextRight);
        nextRight = right.hasNext() ? right.next() : null;
      }
    }
    return merged;
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
    return !forgettable.isEmpty();
  }

  /** Forgets the launch accepted first among those whose finish the leader acknowledged. */
  private void forgetOneAcknowledged() {
    Map.Entry<Long, Entry> oldest = forgettable.firstEntry();
    if (oldest == null) {
      throw new IllegalStateException("no acknowledged launch to forget in a full table");
    }
    entriesVisited++;
    Entry entry = oldest.getValue();
    Check.that(entry.finishAcknowledged, "%s is forgettable but not acknowledged", entry.key);
    unindex(entry);
    launches.remove(entry.key);
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
      unindex(entry);
      entry.confirmedEpoch = leaseEpoch;
      entry.unconfirmedSince = null;
      index(entry);
    }
  }

  /**
   * Starts every confirmed launch that is due, if the lease holds: a Starting record, then the
   * effect. A held launch gets its Starting record {@link #START_RECORDED_AHEAD} before its
   * instant, if the lease will still hold at the instant, and at the instant only the effect.
   */
  private void startDue(Instant now, List<JournalRecord> persist, List<AgentEffect> effects) {
    List<Entry> atInstant = new ArrayList<>();
    for (Entry entry : awaitingInstant.headMap(StartOrder.after(now)).values()) {
      entriesVisited++;
      atInstant.add(entry);
    }
    atInstant.sort(Comparator.comparingLong(entry -> entry.sequence));
    for (Entry entry : atInstant) {
      unindex(entry);
      entry.awaitingInstant = false;
      index(entry);
      if (mayStart(now)) {
        effects.add(new AgentEffect.Start(entry.key, entry.payload.clone()));
      } else {
        // The instant came later than the lease (the agent was paused): nothing was told to run,
        // so it never starts.
        giveUp(
            entry,
            now,
            "the agent's lease lapsed before the instant (the agent was paused or cut off)",
            persist,
            effects);
      }
    }
    if (!mayStart(now)) {
      return;
    }
    // Launches that start now or get their Starting record now: every one waiting for no start
    // time, and the held ones from the earliest up to START_RECORDED_AHEAD past now.
    List<Entry> candidates = new ArrayList<>();
    for (Entry entry : waitingAtOnce.values()) {
      entriesVisited++;
      candidates.add(entry);
    }
    for (Entry entry : waitingHeld.values()) {
      entriesVisited++;
      if (now.isBefore(entry.startAt.minus(START_RECORDED_AHEAD))) {
        break;
      }
      candidates.add(entry);
    }
    candidates.sort(Comparator.comparingLong(entry -> entry.sequence));
    for (Entry entry : candidates) {
      if (entry.confirmedEpoch != leaseEpoch) {
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
        unindex(entry);
        entry.awaitingInstant = true;
        index(entry);
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
