package io.paxcron.scheduler.sim;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.schedule.ScheduleField;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.DispatcherConfig;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.JobView;
import io.paxcron.scheduler.LedgerRecord;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;

/**
 * The scheduler-level checkers of a whole-system run. Like the log simulator's {@code Invariants}
 * they never trust a replica's or agent's own belief: they watch the commands the log applies (the
 * first time any replica applies a slot), what agents accept and start, and what clients were told.
 *
 * <ol>
 *   <li><b>Same results:</b> every replica that applies a command gets the same result bytes.
 *   <li><b>Intent before launch:</b> an agent accepts a launch only of a {@code (run, attempt,
 *       agent)} whose {@code RunIntent} some replica has already applied (step 1: no dispatch
 *       before the intent is chosen).
 *   <li><b>Fence:</b> no agent accepts a launch whose ballot is below one it has already seen (its
 *       persisted fence survives crashes; what it saw but never persisted does not).
 *   <li><b>At most once:</b> for at-most-once jobs no {@code (job, instant)} is started by agents
 *       twice, across all agents and the whole run; for at-least-once jobs no attempt is.
 *   <li><b>One record per instant:</b> no scheduled instant gets two terminal ledger records, and
 *       no record names an instant the job's schedule (by an independent oracle) does not have.
 *   <li><b>No silent skip</b> (final, Chronos-style target windows): every instant of every live
 *       job from its creation or last re-timing until {@link #LEDGER_BOUND_MILLIS} before the end
 *       has exactly one terminal record, recorded within that bound after the later of the instant
 *       and the moment the faults healed.
 *   <li><b>No lost change</b> (final, Jepsen set-style): every job change acknowledged to a client
 *       is present in the final state; counts attempted/acknowledged/ok/lost/recovered/unexpected.
 * </ol>
 *
 * <p>The first violation is kept with the virtual time it happened at. Single-threaded.
 */
final class SystemChecker {

  /** How long after the later of an instant and the heal its terminal record may take. */
  static final long LEDGER_BOUND_MILLIS = 20_000;

  /** Most examples a final violation message lists. */
  static final int MAX_EXAMPLES = 3;

  /** What a run counted, per invariant. */
  record Counts(
      long attempted,
      long acknowledged,
      long ok,
      long lost,
      long recovered,
      long unexpected,
      long launchesAccepted,
      long runsStarted,
      long duplicated,
      long fencedBelowSeen,
      long launchesWithoutIntent,
      long instantsExpected,
      long instantsAccounted,
      long unaccounted,
      long doubleRecords,
      long lateRecords,
      long maxSettleMillis,
      long ledgerRecords,
      long lostRuns,
      long skippedInstants,
      long succeededRuns,
      long intentsRefused) {

    static final Counts ZERO =
        new Counts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    Counts plus(Counts o) {
      return new Counts(
          attempted + o.attempted,
          acknowledged + o.acknowledged,
          ok + o.ok,
          lost + o.lost,
          recovered + o.recovered,
          unexpected + o.unexpected,
          launchesAccepted + o.launchesAccepted,
          runsStarted + o.runsStarted,
          duplicated + o.duplicated,
          fencedBelowSeen + o.fencedBelowSeen,
          launchesWithoutIntent + o.launchesWithoutIntent,
          instantsExpected + o.instantsExpected,
          instantsAccounted + o.instantsAccounted,
          unaccounted + o.unaccounted,
          doubleRecords + o.doubleRecords,
          lateRecords + o.lateRecords,
          Math.max(maxSettleMillis, o.maxSettleMillis),
          ledgerRecords + o.ledgerRecords,
          lostRuns + o.lostRuns,
          skippedInstants + o.skippedInstants,
          succeededRuns + o.succeededRuns,
          intentsRefused + o.intentsRefused);
    }
  }

  /**
   * One command as the state machine applied it.
   *
   * @param ledger the ledger records the command appended or grew (a stretch of skips one instant
   *     longer), as they are after it: read from the state machine's {@code ledgerChangesAfter}
   */
  record AppliedCommand(
      long slot,
      CronCommand command,
      CommandResult result,
      Instant clockAfter,
      List<LedgerRecord> ledger) {}

  /** A job change or trigger as one API client saw it; {@code result} is null while unanswered. */
  record ClientOperation(
      int client,
      long clientId,
      long sequence,
      String kind,
      String job,
      String token,
      int timeouts,
      CommandResult result) {
    boolean isChange() {
      return !kind.equals("trigger");
    }
  }

  /**
   * One stretch of a job's life with one schedule: instants in {@code (from, to]}. Deleting a job
   * deletes the ledger of its whole incarnation (every segment since it was created).
   */
  private static final Duration LAUNCH_AHEAD = DispatcherConfig.DEFAULT.launchAhead();

  private static final class Segment {
    final SimSchedule schedule;
    final Map<ScheduleField, Integer> chosen;
    final Instant from;
    final int incarnation;
    Instant to;
    boolean deleted;

    Segment(
        SimSchedule schedule, Map<ScheduleField, Integer> chosen, Instant from, int incarnation) {
      this.schedule = schedule;
      this.chosen = chosen;
      this.from = from;
      this.incarnation = incarnation;
    }

    boolean firesAt(long epochSecond) {
      return schedule.firesAt(epochSecond, chosen);
    }

    boolean contains(Instant instant) {
      return instant.isAfter(from) && (to == null || !instant.isAfter(to));
    }
  }

  /** What the ledger says about one scheduled instant. */
  private static final class InstantRecords {
    final long firstRecordedMillis;
    final TreeSet<Long> sequences = new TreeSet<>();
    String outcome;

    InstantRecords(long firstRecordedMillis) {
      this.firstRecordedMillis = firstRecordedMillis;
    }
  }

  private record ResultKey(long slot, long clientId, long sequence) {}

  private record IntentKey(RunId runId, int attempt, String agentId) {}

  private record StartKey(RunId runId, int attempt) {}

  private record DurableLaunch(int agent, RunId runId, int attempt) {}

  private final Instant base;
  private final boolean intentCheck;
  private String violation;
  private final Map<ResultKey, Integer> results = new HashMap<>();
  private long streamSlot;
  private final Set<IntentKey> chosenIntents = new HashSet<>();

  /** A report the log holds: a start ({@code finish} false) or an end of one run attempt. */
  private record ReportKey(RunId runId, int attempt, boolean finish) {}

  private final Set<ReportKey> logHolds = new HashSet<>();
  private final Set<RunId> endedRuns = new HashSet<>();
  private final Map<RunId, Integer> chosenAttempt = new HashMap<>();
  private final TreeMap<String, List<Segment>> segments = new TreeMap<>();
  private final TreeMap<String, TreeMap<Instant, InstantRecords>> coverage = new TreeMap<>();
  private final TreeMap<String, List<Long>> deletedAtSlots = new TreeMap<>();
  private final Ballot[] seen;
  private final Ballot[] durableSeen;
  private final Map<StartKey, Integer> starts = new HashMap<>();
  private final Set<DurableLaunch> durableLaunches = new HashSet<>();
  private long launchesAccepted;
  private long runsStarted;
  private long duplicated;
  private long fencedBelowSeen;
  private long launchesWithoutIntent;
  private long doubleRecords;
  private long ledgerRecords;
  private long lostRuns;
  private long skippedInstants;
  private long succeededRuns;
  private Counts finalCounts;

  /**
   * Intents the dispatcher proposed in a stretch without faults, by the highest slot the proposing
   * replica had applied then (the earliest proposal of each).
   */
  private final Map<IntentKey, Long> intentsProposedAfterSlot = new HashMap<>();

  /** The slot of the latest client command about each job (put, delete, pause, resume, trigger). */
  private final Map<String, Long> jobChangedAtSlot = new HashMap<>();

  private long intentsRefused;
  private String firstRefusal;

  SystemChecker(Instant base, int agents, boolean intentCheck) {
    this.base = base;
    this.intentCheck = intentCheck;
    this.seen = new Ballot[agents];
    this.durableSeen = new Ballot[agents];
    Arrays.fill(seen, Ballot.ZERO);
    Arrays.fill(durableSeen, Ballot.ZERO);
  }

  String violation() {
    return violation;
  }

  /** The highest slot the checkers have seen applied. */
  long streamSlot() {
    return streamSlot;
  }

  void fail(long atMillis, String what) {
    if (violation == null) {
      violation = "t=" + atMillis + "ms: " + what;
    }
  }

  /**
   * Jobs with an even index are at-most-once, odd ones at-least-once; a job keeps its semantics for
   * life.
   */
  static boolean atMostOnce(String job) {
    return (job.charAt(job.length() - 1) - '0') % 2 == 0;
  }

  // ------------------------------------------------------------------ replicas and the applied log

  /** Replica {@code replica} applied {@code command} in {@code slot} (not a session duplicate). */
  void onResult(long atMillis, int replica, long slot, Command command, byte[] result) {
    ResultKey key = new ResultKey(slot, command.clientId(), command.sequence());
    int hash = Arrays.hashCode(result);
    Integer before = results.putIfAbsent(key, hash);
    if (before != null && before != hash) {
      fail(
          atMillis,
          "replica "
              + replica
              + " got a different result for command "
              + command.clientId()
              + "#"
              + command.sequence()
              + " in slot "
              + slot
              + " than another replica: the cron state machine"
              + " is not deterministic");
    }
  }

  /** The {@code ?} values each put applied with, by slot and job: every replica must agree. */
  private final Map<String, String> chosenBySlotAndJob = new HashMap<>();

  /**
   * Replica {@code replica} applied {@code commands} in {@code slot}: a job's {@code ?} values are
   * the leader's, carried in the log, so every replica applies the same ones (DESIGN §4).
   */
  void onAppliedBy(long atMillis, int replica, long slot, List<AppliedCommand> commands) {
    for (AppliedCommand applied : commands) {
      if (applied.command() instanceof CronCommand.PutJob put && !put.chosen().isEmpty()) {
        String key = slot + "/" + put.spec().name();
        String values = new TreeMap<>(put.chosen()).toString();
        String before = chosenBySlotAndJob.putIfAbsent(key, values);
        if (before != null && !before.equals(values)) {
          fail(
              atMillis,
              "replica "
                  + replica
                  + " applied job '"
                  + put.spec().name()
                  + "' in slot "
                  + slot
                  + " with ? values "
                  + values
                  + ", another replica with "
                  + before
                  + ": ? must be resolved once, by the leader");
        }
      }
    }
    if (chosenBySlotAndJob.size() > 100_000) {
      chosenBySlotAndJob.clear();
    }
  }

  /**
   * A client's answer to one request: a request of several changes ({@code Apply}) is all or
   * nothing (promise 6), so its results are all applied or none is.
   */
  void onBatchAnswer(long atMillis, long clientId, long sequence, List<CommandResult> results) {
    long applied = results.stream().filter(CommandResult::applied).count();
    if (results.size() > 1 && applied > 0 && applied < results.size()) {
      fail(
          atMillis,
          "client "
              + clientId
              + " request #"
              + sequence
              + " of "
              + results.size()
              + " changes was applied partly ("
              + applied
              + " applied): "
              + results);
    }
  }

  /**
   * The leader's dispatcher proposed {@code intent} in a stretch without faults, having applied the
   * log through {@code appliedSlot}.
   */
  void onIntentProposed(CronCommand.RunIntent intent, long appliedSlot) {
    intentsProposedAfterSlot.putIfAbsent(
        new IntentKey(intent.runId(), intent.attempt(), intent.agentId().value()), appliedSlot);
  }

  /**
   * The eligibility check: an intent proposed without faults that the state machine refuses as
   * ineligible, with no client command about its job applied between the proposal and the intent,
   * means the dispatcher and the state machine disagree about the rule (they share {@code
   * Eligibility}; this counts any drift back into two copies).
   */
  private void onIntentApplied(CronCommand.RunIntent intent, long slot, CommandResult result) {
    Long proposedAfter =
        intentsProposedAfterSlot.remove(
            new IntentKey(intent.runId(), intent.attempt(), intent.agentId().value()));
    if (proposedAfter == null || !CronStateMachine.refusedAsIneligible(result)) {
      return;
    }
    if (jobChangedAtSlot.getOrDefault(intent.runId().job().value(), 0L) > proposedAfter) {
      return;
    }
    intentsRefused++;
    if (firstRefusal == null) {
      firstRefusal = "slot " + slot + ": " + result.message();
    }
  }

  /** The first refusal {@link Counts#intentsRefused()} counted, or {@code null}. */
  String firstRefusal() {
    return firstRefusal;
  }

  /** A replica applied {@code slot}; the first replica to apply each slot feeds the checkers. */
  void onSlotApplied(long atMillis, long slot, List<AppliedCommand> commands) {
    if (slot <= streamSlot) {
      return;
    }
    if (slot != streamSlot + 1) {
      fail(
          atMillis,
          "slot "
              + slot
              + " applied for the first time while slot "
              + (streamSlot + 1)
              + " never was");
    }
    streamSlot = slot;
    for (AppliedCommand applied : commands) {
      switch (applied.command()) {
        case CronCommand.PutJob put -> jobChangedAtSlot.put(put.spec().name(), slot);
        case CronCommand.DeleteJob delete -> jobChangedAtSlot.put(delete.name().value(), slot);
        case CronCommand.PauseJob pause -> jobChangedAtSlot.put(pause.name().value(), slot);
        case CronCommand.ResumeJob resume -> jobChangedAtSlot.put(resume.name().value(), slot);
        case CronCommand.TriggerJob trigger -> jobChangedAtSlot.put(trigger.name().value(), slot);
        case CronCommand.RunIntent intent -> onIntentApplied(intent, slot, applied.result());
        case null, default -> {}
      }
      if (applied.command() != null && applied.result().applied()) {
        switch (applied.command()) {
          case CronCommand.PutJob put -> onPut(put, applied.clockAfter());
          case CronCommand.DeleteJob delete -> {
            Segment open = openSegment(delete.name().value());
            if (open != null) {
              open.to = applied.clockAfter();
              for (Segment segment : segments.get(delete.name().value())) {
                segment.deleted |= segment.incarnation == open.incarnation;
              }
            }
            deletedAtSlots.computeIfAbsent(delete.name().value(), j -> new ArrayList<>()).add(slot);
          }
          case CronCommand.RunIntent intent -> {
            chosenIntents.add(
                new IntentKey(intent.runId(), intent.attempt(), intent.agentId().value()));
            chosenAttempt.merge(intent.runId(), intent.attempt(), Math::max);
          }
          default -> {}
        }
      }
      // What the log holds about each report, applied or refused: the leader may acknowledge a
      // report once the log holds it (ReportAcknowledgement), whatever the state machine made of
      // it.
      switch (applied.command()) {
        case CronCommand.RunStarted started ->
            logHolds.add(new ReportKey(started.runId(), started.attempt(), false));
        case CronCommand.RunFinished finished ->
            logHolds.add(new ReportKey(finished.runId(), finished.attempt(), true));
        case CronCommand.RecordLost lost ->
            logHolds.add(new ReportKey(lost.runId(), lost.attempt(), true));
        case null, default -> {}
      }
      for (LedgerRecord record : applied.ledger()) {
        onRecord(atMillis, record);
        endedRuns.add(record.runId());
      }
    }
  }

  private void onPut(CronCommand.PutJob put, Instant clockAfter) {
    String job = put.spec().name();
    SimSchedule schedule = SimSchedule.of(put.spec());
    Segment open = openSegment(job);
    if (open != null && open.schedule == schedule) {
      // The same schedule text keeps the values already chosen for its ? (the leader sends none).
      return;
    }
    Map<ScheduleField, Integer> chosen = new TreeMap<>(put.chosen());
    List<Segment> list = segments.computeIfAbsent(job, j -> new ArrayList<>());
    int incarnation = open != null ? open.incarnation : list.size();
    if (open != null) {
      open.to = clockAfter;
    }
    Instant from = clockAfter;
    if (open == null) {
      // A new incarnation starts after any instant an earlier one still holds a launch for
      // (chosen ahead of its instant, the job deleted before it): one run per run id.
      for (IntentKey intent : chosenIntents) {
        RunId held = intent.runId();
        if (held.job().value().equals(job)
            && !held.manual()
            && held.instant().isAfter(from)
            && !endedRuns.contains(held)) {
          from = held.instant();
        }
      }
    }
    list.add(new Segment(schedule, chosen, from, incarnation));
  }

  private Segment openSegment(String job) {
    List<Segment> list = segments.get(job);
    if (list == null || list.isEmpty()) {
      return null;
    }
    Segment last = list.get(list.size() - 1);
    return last.to == null ? last : null;
  }

  private Segment segmentAt(String job, Instant instant) {
    List<Segment> list = segments.get(job);
    if (list != null) {
      for (int i = list.size() - 1; i >= 0; i--) {
        if (list.get(i).contains(instant)) {
          return list.get(i);
        }
      }
    }
    return null;
  }

  private void onRecord(long atMillis, LedgerRecord record) {
    ledgerRecords++;
    switch (record.outcome()) {
      case Outcome.Lost lost -> lostRuns++;
      case Outcome.Succeeded succeeded -> succeededRuns++;
      case Outcome.Skipped skipped -> skippedInstants++;
      default -> {}
    }
    RunId first = record.runId();
    if (first.manual()) {
      return;
    }
    Segment segment = segmentAt(first.job().value(), first.instant());
    boolean launchedAhead = false;
    if (segment == null || !fires(segment, first.instant())) {
      Segment ahead = segmentLaunchedAheadOf(first.job().value(), first.instant());
      if (ahead != null) {
        segment = ahead;
        launchedAhead = true;
      }
    }
    if (segment == null || !fires(segment, first.instant())) {
      fail(
          atMillis,
          "ledger record "
              + record
              + " names an instant that is not a scheduled instant of job '"
              + first.job()
              + "'"
              + (segment == null ? " (outside its lifetime)" : " under " + segment.schedule.text));
      return;
    }
    TreeMap<Instant, InstantRecords> byInstant =
        coverage.computeIfAbsent(first.job().value(), j -> new TreeMap<>());
    for (long second = first.instant().getEpochSecond();
        second <= record.lastInstant().getEpochSecond();
        second++) {
      Instant instant = Instant.ofEpochSecond(second);
      if (!(segment.contains(instant) || launchedAhead && instant.equals(first.instant()))
          || !segment.firesAt(second)) {
        continue;
      }
      InstantRecords records =
          byInstant.computeIfAbsent(instant, i -> new InstantRecords(atMillis));
      records.outcome = record.outcome().toString();
      if (records.sequences.add(record.sequence()) && records.sequences.size() == 2) {
        doubleRecords++;
        fail(
            atMillis,
            "instant "
                + first.job()
                + "@"
                + instant
                + " has two terminal ledger records (sequences "
                + records.sequences
                + "), the latest "
                + record);
      }
    }
  }

  /**
   * The schedule that ended shortly before {@code instant} and fires at it: a launch chosen ahead
   * of its instant (at most {@code launchAhead} before it) is final, so a change of timing in that
   * window applies from the next instant (docs/scheduler.md).
   */
  private Segment segmentLaunchedAheadOf(String job, Instant instant) {
    List<Segment> list = segments.get(job);
    if (list == null) {
      return null;
    }
    for (int i = list.size() - 1; i >= 0; i--) {
      Segment segment = list.get(i);
      if (segment.to != null
          && segment.from.isBefore(instant)
          && segment.to.isBefore(instant)
          && Duration.between(segment.to, instant).compareTo(LAUNCH_AHEAD) <= 0
          && fires(segment, instant)) {
        return segment;
      }
    }
    return null;
  }

  private static boolean fires(Segment segment, Instant instant) {
    return instant.getNano() == 0 && segment.firesAt(instant.getEpochSecond());
  }

  // ------------------------------------------------------------------ agents

  /**
   * An agent received the leader's acknowledgement of its start or finish report (launch protocol
   * step 3): the log must already hold the report, or have moved past the attempt (the run ended,
   * or a later attempt was chosen), else a leader that dies now loses a report the agent no longer
   * re-sends.
   */
  void onReportAcknowledged(
      long atMillis, int agent, String agentId, RunId runId, int attempt, boolean finish) {
    boolean held =
        logHolds.contains(new ReportKey(runId, attempt, finish))
            || logHolds.contains(new ReportKey(runId, attempt, true))
            || endedRuns.contains(runId)
            || chosenAttempt.getOrDefault(runId, 0) > attempt;
    if (!held) {
      fail(
          atMillis,
          agentId
              + " got the acknowledgement of its "
              + (finish ? "finish" : "start")
              + " report for "
              + runId
              + " attempt "
              + attempt
              + " but no replica has applied it: a report acknowledged before it is chosen");
    }
  }

  /** Agent {@code agent} decided to accept a new launch (before persisting it). */
  void onLaunchAccepted(
      long atMillis, int agent, String agentId, RunId runId, int attempt, Ballot ballot) {
    launchesAccepted++;
    if (ballot.isBelow(seen[agent])) {
      fencedBelowSeen++;
      fail(
          atMillis,
          agentId
              + " accepted the launch of "
              + runId
              + " attempt "
              + attempt
              + " under ballot "
              + ballot
              + " after it had seen ballot "
              + seen[agent]
              + ": the agent is not fenced");
    }
    seen[agent] = Ballot.max(seen[agent], ballot);
    if (!chosenIntents.contains(new IntentKey(runId, attempt, agentId))) {
      launchesWithoutIntent++;
      if (!intentCheck) {
        return;
      }
      fail(
          atMillis,
          agentId
              + " accepted the launch of "
              + runId
              + " attempt "
              + attempt
              + " (ballot "
              + ballot
              + ") but no replica has applied a RunIntent for that run, attempt and agent: dispatch before"
              + " the intent is chosen");
    }
  }

  /** Agent {@code agent} processed a message of {@code ballot} without refusing it. */
  void onAgentBallot(int agent, Ballot ballot) {
    seen[agent] = Ballot.max(seen[agent], ballot);
  }

  /** Agent {@code agent}'s fence at {@code ballot} is durable. */
  void onAgentDurable(int agent, Ballot ballot) {
    durableSeen[agent] = Ballot.max(durableSeen[agent], ballot);
  }

  /**
   * The agent lost power: what it saw but never persisted is forgotten, as the agent forgets it.
   */
  void onAgentCrash(int agent) {
    seen[agent] = durableSeen[agent];
  }

  /** Agent {@code agent}'s journal holds the accepted launch {@code (runId, attempt)} durably. */
  void onAgentLaunchDurable(int agent, RunId runId, int attempt) {
    durableLaunches.add(new DurableLaunch(agent, runId, attempt));
  }

  /** Agent {@code agent} starts the process of an accepted launch, which must be durable by now. */
  void onRunStarted(long atMillis, int agent, String agentId, RunId runId, int attempt) {
    runsStarted++;
    if (!durableLaunches.contains(new DurableLaunch(agent, runId, attempt))) {
      fail(
          atMillis,
          agentId
              + " started "
              + runId
              + " attempt "
              + attempt
              + " before persisting the launch:"
              + " a crash now forgets a process that runs");
    }
    boolean once = atMostOnce(runId.job().value());
    StartKey key = new StartKey(runId, once ? 0 : attempt);
    int count = starts.merge(key, 1, Integer::sum);
    if (count == 2) {
      duplicated++;
      fail(
          atMillis,
          agentId
              + " started "
              + runId
              + " attempt "
              + attempt
              + " but "
              + (once ? "this at-most-once run" : "this attempt")
              + " was already started by an agent:"
              + " launched twice");
    }
  }

  // ------------------------------------------------------------------ final checks

  /**
   * The final checks, after the quiet period: target windows of the ledger and the Jepsen counts.
   *
   * @param endMillis the virtual time of the end
   * @param healedMillis the virtual time every fault healed
   * @param finalState the state machine of the replica that applied the most
   * @param operations every client operation, answered or not
   * @param tookEffect for a client command, the slot it took effect in, or null
   */
  void finish(
      long endMillis,
      long healedMillis,
      CronStateMachine finalState,
      List<ClientOperation> operations,
      BiFunction<Long, Long, Long> tookEffect) {
    long expected = 0;
    long accounted = 0;
    long unaccounted = 0;
    long late = 0;
    long maxSettle = 0;
    List<String> missing = new ArrayList<>();
    List<String> lateExamples = new ArrayList<>();
    Instant checkEnd = base.plusMillis(endMillis - LEDGER_BOUND_MILLIS);
    for (Map.Entry<String, List<Segment>> job : segments.entrySet()) {
      TreeMap<Instant, InstantRecords> byInstant =
          coverage.getOrDefault(job.getKey(), new TreeMap<>());
      for (Segment segment : job.getValue()) {
        if (segment.deleted) {
          continue;
        }
        Instant to = segment.to == null || segment.to.isAfter(checkEnd) ? checkEnd : segment.to;
        for (long second = segment.from.getEpochSecond() + 1;
            second <= to.getEpochSecond();
            second++) {
          if (!segment.firesAt(second)) {
            continue;
          }
          Instant instant = Instant.ofEpochSecond(second);
          expected++;
          InstantRecords records = byInstant.get(instant);
          if (records == null) {
            unaccounted++;
            if (missing.size() < MAX_EXAMPLES) {
              missing.add(job.getKey() + "@" + instant);
            }
            continue;
          }
          accounted++;
          long window = Math.max(instant.toEpochMilli() - base.toEpochMilli(), healedMillis);
          long settle = records.firstRecordedMillis - window;
          maxSettle = Math.max(maxSettle, settle);
          if (settle > LEDGER_BOUND_MILLIS) {
            late++;
            if (lateExamples.size() < MAX_EXAMPLES) {
              lateExamples.add(
                  job.getKey()
                      + "@"
                      + instant
                      + " "
                      + records.outcome
                      + " recorded "
                      + settle
                      + " ms after its window opened");
            }
          }
        }
      }
    }
    if (unaccounted > 0) {
      fail(
          endMillis,
          unaccounted
              + " of "
              + expected
              + " due instants have no terminal ledger record "
              + LEDGER_BOUND_MILLIS
              + " ms after the faults healed (run skipped silently), e.g. "
              + missing);
    } else if (late > 0) {
      fail(
          endMillis,
          late
              + " of "
              + expected
              + " due instants were recorded later than "
              + LEDGER_BOUND_MILLIS
              + " ms after their window opened, e.g. "
              + lateExamples);
    }

    long attempted = 0;
    long acknowledged = 0;
    long ok = 0;
    long lost = 0;
    long recovered = 0;
    long unexpected = 0;
    Map<String, Set<String>> tokens = new TreeMap<>();
    Map<String, Set<Long>> changeSlots = new TreeMap<>();
    List<String> lostExamples = new ArrayList<>();
    for (ClientOperation operation : operations) {
      if (!operation.isChange()) {
        continue;
      }
      attempted++;
      if (operation.token() != null) {
        tokens.computeIfAbsent(operation.job(), j -> new TreeSet<>()).add(operation.token());
      }
      Long slot = tookEffect.apply(operation.clientId(), operation.sequence());
      if (slot != null && operation.result() != null && operation.result().applied()) {
        changeSlots.computeIfAbsent(operation.job(), j -> new TreeSet<>()).add(slot);
      }
      if (operation.result() == null || !operation.result().applied()) {
        continue;
      }
      acknowledged++;
      if (present(operation, finalState)) {
        ok++;
        if (operation.timeouts() > 0) {
          recovered++;
        }
      } else {
        lost++;
        if (lostExamples.size() < MAX_EXAMPLES) {
          lostExamples.add(
              operation.kind()
                  + " "
                  + operation.job()
                  + " by client "
                  + operation.clientId()
                  + "#"
                  + operation.sequence()
                  + " at version "
                  + operation.result().version());
        }
      }
    }
    List<String> unexpectedExamples = new ArrayList<>();
    for (JobView job : finalState.jobs()) {
      String token = job.spec().env().get("SIM_CHANGE");
      boolean known =
          token != null
              && tokens.getOrDefault(job.name().value(), Set.of()).contains(token)
              && changeSlots.getOrDefault(job.name().value(), Set.of()).contains(job.version());
      if (!known) {
        unexpected++;
        if (unexpectedExamples.size() < MAX_EXAMPLES) {
          unexpectedExamples.add(job.name() + " version " + job.version() + " change " + token);
        }
      }
    }
    if (lost > 0) {
      fail(endMillis, lost + " acknowledged job changes are lost: " + lostExamples);
    } else if (unexpected > 0) {
      fail(
          endMillis,
          unexpected
              + " jobs end in a state no acknowledged or pending change wrote: "
              + unexpectedExamples);
    }
    finalCounts =
        new Counts(
            attempted,
            acknowledged,
            ok,
            lost,
            recovered,
            unexpected,
            launchesAccepted,
            runsStarted,
            duplicated,
            fencedBelowSeen,
            launchesWithoutIntent,
            expected,
            accounted,
            unaccounted,
            doubleRecords,
            late,
            maxSettle,
            ledgerRecords,
            lostRuns,
            skippedInstants,
            succeededRuns,
            intentsRefused);
  }

  /**
   * Whether an acknowledged change is reflected in the final state (or superseded by a later one
   * that is).
   */
  private boolean present(ClientOperation operation, CronStateMachine finalState) {
    long version = operation.result().version();
    var job = finalState.job(JobName.of(operation.job()));
    if (operation.kind().equals("delete")) {
      return job.isEmpty() || job.get().createdSlot() > version;
    }
    if (job.isPresent() && job.get().version() >= version) {
      return job.get().version() > version
          || operation.token() == null
          || operation.token().equals(job.get().spec().env().get("SIM_CHANGE"));
    }
    for (long deleted : deletedAtSlots.getOrDefault(operation.job(), List.of())) {
      if (deleted > version && (job.isEmpty() || job.get().createdSlot() > deleted)) {
        return true;
      }
    }
    return false;
  }

  /** The counts so far (complete after {@link #finish}). */
  Counts counts() {
    if (finalCounts != null) {
      return finalCounts;
    }
    return new Counts(
        0,
        0,
        0,
        0,
        0,
        0,
        launchesAccepted,
        runsStarted,
        duplicated,
        fencedBelowSeen,
        launchesWithoutIntent,
        0,
        0,
        0,
        doubleRecords,
        0,
        0,
        ledgerRecords,
        lostRuns,
        skippedInstants,
        succeededRuns,
        intentsRefused);
  }
}
