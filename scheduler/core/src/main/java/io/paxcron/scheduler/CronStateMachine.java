package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.BinaryReader;
import io.paxcron.paxos.BinaryWriter;
import io.paxcron.paxos.Check;
import io.paxcron.paxos.Frame;
import io.paxcron.paxos.RecordKind;
import io.paxcron.paxos.StateMachine;
import io.paxcron.schedule.CronExpression;
import io.paxcron.schedule.LaunchDensity;
import io.paxcron.schedule.NextFire;
import io.paxcron.schedule.Schedule;
import io.paxcron.schedule.ScheduleField;
import io.paxcron.schedule.ScheduleZone;
import io.paxcron.schedule.Syntax;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The replicated cron state machine (DESIGN §4): jobs, each job's schedule cursor, open runs, and
 * the run ledger in which every scheduled instant of every job ends in exactly one terminal record.
 *
 * <p><b>Time.</b> It never reads a clock. Every command carries the leader's stamp; the state
 * machine's "now" ({@link #clock()}) is the highest stamp applied so far, so it never goes back
 * when a new leader's clock is behind. Applying any command first advances "now" to its stamp and
 * accounts for every scheduled instant reached: each becomes a due run, or a terminal {@code
 * SKIPPED(PAUSED | DST_GAP | OVERLAP | MISFIRE)} record. An instant first looked at more than
 * {@link #MISFIRE_THRESHOLD} after it fell due was missed (no leader, or a leader too slow) and
 * goes through the job's {@link MisfirePolicy}; otherwise it goes through the job's {@link
 * ConcurrencyPolicy}.
 *
 * <p><b>Launch protocol</b> (DESIGN §4 steps 1–5). A run is launched only after its {@link
 * CronCommand.RunIntent} is applied here; reports of start and finish are idempotent; a run whose
 * agent vanished ends {@code LOST} (at-most-once) or gets a new attempt (at-least-once).
 *
 * <p><b>Bounds.</b> Jobs ({@link CronLimits#maxJobs()}), open runs per job ({@link
 * #MAX_OPEN_RUNS_PER_JOB}), attempts per run ({@link #MAX_ATTEMPTS_PER_RUN}), ledger records per
 * job (the job's history retention) and in total ({@link CronLimits#maxLedgerRecords()}, oldest
 * terminal records dropped first; open runs are never dropped), instants accounted per job per
 * command ({@link #MAX_INSTANTS_PER_ADVANCE}).
 *
 * <p><b>The leader.</b> The leader's {@link Dispatcher} learns what applying changed only by
 * reading it through {@link CronView}, after each applied batch and on its ticks: indexes kept for
 * it (the due-instant index behind {@link #scheduledInstants}, the due runs behind {@link
 * #runsDue()}, the count behind {@link #inProgressRunCount()}) make those reads proportional to
 * what it tracks, not to the jobs. Applying returns only the command's result.
 *
 * <p><b>Contract.</b> Single-threaded; deterministic: the same commands in the same slots give the
 * same results, state and snapshot bytes on every replica (given the same JDK time-zone data).
 * Operating errors (bad or stale commands) are answered with a {@link CommandResult}; a broken
 * invariant throws {@link IllegalStateException} and must stop the replica.
 */
public final class CronStateMachine implements StateMachine, CronView {
  /**
   * An instant first accounted for later than this after it fell due was missed and follows the
   * misfire policy.
   */
  public static final Duration MISFIRE_THRESHOLD = Duration.ofSeconds(5);

  /** The default bound on jobs in a cluster; the setting is {@link CronLimits#maxJobs()}. */
  public static final int MAX_JOBS = CronLimits.DEFAULT_MAX_JOBS;

  /** Most open runs one job may have; a due instant beyond it is {@code SKIPPED(OVERLAP)}. */
  public static final int MAX_OPEN_RUNS_PER_JOB = 100;

  /**
   * How far ahead of a scheduled instant its launch may be chosen (the leader asks for less; see
   * {@link DispatcherConfig#launchAhead()}). The agent holds such a launch and starts it at the
   * instant, so consensus is off the lateness path (DESIGN promise 4).
   */
  public static final Duration MAX_LAUNCH_AHEAD = Duration.ofSeconds(60);

  /** Most attempts of one run, counting retries and re-attempts after agent loss. */
  public static final int MAX_ATTEMPTS_PER_RUN = 100;

  /** Default bound on terminal ledger records across all jobs. */
  public static final long MAX_LEDGER_RECORDS = CronLimits.DEFAULT_MAX_LEDGER_RECORDS;

  /**
   * Most scheduled instants of one job accounted for by one command. A job further behind (a
   * once-a-second job after a long outage) catches up over the following commands; the leader sees
   * it as {@link DueRun.Kind#BEHIND} and proposes ticks until it is current.
   */
  public static final int MAX_INSTANTS_PER_ADVANCE = 10_000;

  /**
   * Most ledger changes remembered for {@link #ledgerChangesAfter} (a watch further behind reads
   * every job's ledger once).
   */
  public static final int MAX_LEDGER_CHANGES_KEPT = 100_000;

  /** How many job changes {@link #jobsChangedAfter} can look back over. */
  public static final int MAX_JOB_CHANGES_KEPT = 65_536;

  /**
   * The snapshot image format this code writes: a {@link RecordKind#CRON_SNAPSHOT} frame holding
   * job specs of {@link CronCodec#FORMAT_VERSION} and ledger records with their {@link RunDetail}.
   * Formats 1 and 2, unframed (a leading format byte, then the same body; format 1 with specs
   * without stdin, run-as, source and annotations, and records without detail), are still read.
   */
  public static final int SNAPSHOT_FORMAT = RecordKind.CRON_SNAPSHOT.version();

  /**
   * The oldest snapshot image format this code still restores (a backup taken before an upgrade).
   */
  public static final int OLDEST_READABLE_SNAPSHOT_FORMAT =
      RecordKind.CRON_SNAPSHOT.oldestReadableVersion();

  /**
   * How the message of an intent refused by the {@link Eligibility} rule begins (the run was not
   * eligible, as opposed to a stale, duplicate or malformed intent).
   */
  public static final String INELIGIBLE = "ineligible: ";

  private final long maxLedgerRecords;
  private final int maxJobs;
  private final TreeMap<JobName, JobState> jobs = new TreeMap<>();

  /** Jobs with a next instant, ordered by it: the state machine's own due-instant index. */
  private final TreeSet<Cursor> cursors = new TreeSet<>();

  private final TreeMap<RunId, Run> open = new TreeMap<>();

  /** {@link #open} by hash, for the lookups by run id (kept with it; not in snapshots). */
  private final java.util.HashMap<RunId, Run> openById = new java.util.HashMap<>();

  /**
   * The open runs in status {@code DUE}, by run id: the index {@link #runsDue()} answers from, so
   * that the leader's due-run pass walks the runs waiting for an intent and not every open run.
   * Kept with {@link #open} by {@link #putOpen} and {@link #removeOpen}; not in snapshots.
   */
  private final TreeSet<RunId> dueRuns = new TreeSet<>();

  /** How many open runs are not {@code DUE} (launched, running or waiting to retry). */
  private int runsInProgress;

  /** Jobs paused, and jobs whose {@code ?} the cluster resolved ({@link #totals}). */
  private int pausedJobs;

  private int resolvedJobs;

  /**
   * Ledger records in sequence order, for dropping the oldest across jobs; entries of dropped
   * records go stale.
   */
  private final Ring<LedgerEntry> ledgerOrder = new Ring<>();

  private long ledgerSize;
  private long nextSequence = 1;
  private Instant clock = Instant.EPOCH;
  private long appliedSlot;

  /**
   * The launches per minute of the week of every job, kept up to date as jobs are put and deleted
   * (each job counted with the zone offset in force when it was put), so that resolving the {@code
   * ?} of a new job does not walk every job. An index for the leader's choice only: the state's
   * behaviour never depends on it, and snapshots do not hold it (a restore rebuilds it).
   */
  private LaunchDensity density = new LaunchDensity();

  private record TailEntry(long revision, JobName job, long sequence) {}

  /** What a resolved schedule is made from: the schedule text, its syntax and the chosen values. */
  record ScheduleKey(String text, Syntax syntax, Map<ScheduleField, Integer> chosen) {
    /**
     * Spreads the chosen values: the maps' own hash (a sum of key and value hashes) gives the 1,440
     * minute-and-hour choices of a daily {@code ? ? * * *} a few hundred distinct hashes, and the
     * lookup of every put and restored job then searches long hash bins. Each field and value is
     * mixed on its own before the sum (a sum of plain products depends only on the sum of the
     * values: minute + hour, 83 hashes for 1,440 keys).
     */
    @Override
    public int hashCode() {
      long hash = text.hashCode() * 31L + syntax.ordinal();
      // By field rather than over entrySet(): an EnumMap's iterator makes an entry per value.
      for (ScheduleField field : CronCodec.SCHEDULE_FIELDS) {
        Integer value = chosen.get(field);
        if (value != null) {
          hash += mix((field.ordinal() + 1L) << 32 | value);
        }
      }
      return Long.hashCode(mix(hash));
    }

    /** SplitMix64's finalizer: every input bit moves about half of the output bits. */
    private static long mix(long z) {
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }
  }

  /** A resolved schedule shared by every job with the same key, and how many jobs use it. */
  private static final class SharedSchedule {
    final ScheduleKey key;
    final Schedule schedule;
    int users;

    SharedSchedule(ScheduleKey key, Schedule schedule) {
      this.key = key;
      this.schedule = schedule;
    }
  }

  /**
   * Resolved schedules (immutable) kept once for all the jobs that have the same one: a million
   * jobs have a few thousand distinct schedules, and each parsed copy costs hundreds of bytes and a
   * parse per put. Entries are counted and dropped when no job uses them, so there are never more
   * than jobs. Zones likewise (at most the JDK's few hundred zone ids).
   */
  private final java.util.HashMap<ScheduleKey, SharedSchedule> sharedSchedules =
      new java.util.HashMap<>();

  private final java.util.HashMap<String, ZoneId> sharedZones = new java.util.HashMap<>();

  /**
   * The latest {@link #MAX_LEDGER_CHANGES_KEPT} ledger changes, oldest first, so that a watch of
   * every job reads what changed instead of every job's ledger after each slot. Local to this
   * replica, like the density: not in snapshots, restarted empty by a restore.
   */
  private final Ring<TailEntry> ledgerTail = new Ring<>();

  private long ledgerRevision;

  /**
   * The names of the latest {@link #MAX_JOB_CHANGES_KEPT} jobs changed, oldest first (the newest at
   * revision {@link #changeRevision}), so that the leader reads what an applied batch changed
   * instead of walking every run it tracks. Local to this replica like {@link #ledgerTail}.
   */
  private final ArrayDeque<JobName> changedJobs = new ArrayDeque<>();

  private long changeRevision;

  /** The job last noted changed by the command being applied. */
  private JobName lastChanged;

  /** A state machine with the default limits ({@link CronLimits#DEFAULT}). */
  public CronStateMachine() {
    this(CronLimits.DEFAULT);
  }

  /**
   * @param maxLedgerRecords terminal ledger records kept across all jobs; every replica must use
   *     the same value
   */
  public CronStateMachine(long maxLedgerRecords) {
    this(CronLimits.DEFAULT.withMaxLedgerRecords(maxLedgerRecords));
  }

  /**
   * @param limits the cluster's bounds; every replica must use the same values
   */
  public CronStateMachine(CronLimits limits) {
    this.maxLedgerRecords = limits.maxLedgerRecords();
    this.maxJobs = limits.maxJobs();
  }

  /** Most jobs this state machine accepts (setting {@code max-jobs}). */
  public int maxJobs() {
    return maxJobs;
  }

  /**
   * A job's next instant in the due-instant index, with whether it falls in a DST gap, so that
   * reading the index does not look each job up ({@code inDstGap} is not part of the order).
   */
  private record Cursor(Instant instant, JobName job, boolean inDstGap)
      implements Comparable<Cursor> {
    /** By instant, then job name (written out: the due-run index compares on every put). */
    @Override
    public int compareTo(Cursor other) {
      int byInstant = instant.compareTo(other.instant);
      return byInstant != 0 ? byInstant : job.compareTo(other.job);
    }
  }

  private record LedgerEntry(long sequence, JobName job, long incarnation) {}

  /** One job's replicated record. Mutable, owned by the state machine. */
  private static final class JobState {
    JobSpec spec;
    long version;
    final long incarnation;
    Map<ScheduleField, Integer> chosen;
    Schedule schedule;
    ZoneId zone;

    /** The shared resolved schedule ({@link #schedule} is its schedule). */
    SharedSchedule shared;

    /** The instant whose zone offset and week placed this job in {@link #density}. */
    Instant densityReference;

    /**
     * The next scheduled instant not yet accounted for; {@code null} when the schedule is
     * exhausted.
     */
    NextFire cursor;

    /** The scheduled instant accounted for last, so consecutive skips can share one record. */
    Instant lastAccounted;

    /** Catch-up runs {@code run-all} may still start in the current catch-up. */
    int catchUpBudget;

    /**
     * The job's records, oldest first. Room for one at first: at a million jobs most hold one or
     * two (the ledger's bound is across jobs), and the default room for sixteen cost 60 bytes a
     * job.
     */
    final ArrayDeque<LedgerRecord> ledger = new ArrayDeque<>(1);

    /**
     * The job's open runs, oldest first; null while it has none (most jobs, most of the time: an
     * empty set cost 64 bytes a job at a million jobs).
     */
    private TreeSet<RunId> openRuns;

    java.util.SortedSet<RunId> openRuns() {
      return openRuns == null ? java.util.Collections.emptySortedSet() : openRuns;
    }

    int openRunCount() {
      return openRuns == null ? 0 : openRuns.size();
    }

    void addOpenRun(RunId id) {
      if (openRuns == null) {
        openRuns = new TreeSet<>();
      }
      openRuns.add(id);
    }

    void removeOpenRun(RunId id) {
      if (openRuns != null && openRuns.remove(id) && openRuns.isEmpty()) {
        openRuns = null;
      }
    }

    /** The job's name, {@code spec.name()} as a {@link JobName} (a name never changes). */
    JobName name;

    JobState(long incarnation) {
      this.incarnation = incarnation;
    }

    JobName name() {
      return name;
    }
  }

  // ---------------------------------------------------------------- apply

  @Override
  public byte[] apply(long slot, byte[] command) {
    return CronCodec.encodeResult(applyEncoded(slot, command));
  }

  /** {@link #apply(long, byte[])} with the result not yet encoded. */
  public CommandResult applyEncoded(long slot, byte[] command) {
    CronCommand decoded;
    try {
      decoded = CronCodec.decode(command);
    } catch (MalformedCommandException e) {
      beginSlot(slot);
      return new CommandResult(CommandResult.Status.MALFORMED, 0, e.getMessage(), List.of());
    }
    return apply(slot, decoded);
  }

  /** Applies one decoded command chosen in {@code slot}; slots never decrease. */
  public CommandResult apply(long slot, CronCommand command) {
    PartialCommand partial = begin(slot, command);
    partial.account(Integer.MAX_VALUE);
    return partial.finish();
  }

  /**
   * Starts applying {@code command} in parts: the command's stamp moves the clock, and every job
   * with a scheduled instant the clock reached is accounted for ({@link PartialCommand#account}, a
   * few jobs at a time) before the command itself ({@link PartialCommand#finish}). At a million
   * jobs one minute's stamp reaches thousands of jobs (the top of an hour more): accounted for at
   * once they held the replica's loop for half a second. Together the parts do exactly what {@link
   * #apply(long, CronCommand)} does. Until {@code finish} the state holds part of the command: no
   * query, image or other command may touch it.
   */
  public PartialCommand begin(long slot, CronCommand command) {
    Check.that(!partialOpen, "command of slot %s begun while another is partly applied", slot);
    beginSlot(slot);
    lastChanged = null;
    partialOpen = true;
    if (command.stampedAt().isAfter(clock)) {
      clock = command.stampedAt();
    }
    return new PartialCommand(command);
  }

  /** Set while a {@link PartialCommand} has not finished. */
  private boolean partialOpen;

  /**
   * A command being applied in parts; see {@link #begin}. The jobs the stamp reached are those
   * whose cursor in the due-run index is at or before the clock when the command began; they are
   * taken from the index one at a time, in index order, each accounted for and put back at its next
   * instant. A job still behind after one accounting ({@link #MAX_INSTANTS_PER_ADVANCE}) is put
   * back at or before the clock and passed over until the next command, as when every reached job
   * was taken out first.
   */
  public final class PartialCommand {
    private final CronCommand command;

    /** The cursor taken last, or null: every later one at or before the clock comes next. */
    private Cursor after;

    /** Jobs accounted for in this command whose cursor is still at or before the clock. */
    private java.util.Set<JobName> stillBehind;

    private boolean finished;

    private PartialCommand(CronCommand command) {
      this.command = command;
    }

    /**
     * Accounts for the scheduled instants of at most {@code jobs} more of the jobs the stamp
     * reached; returns how many it accounted for.
     */
    public int account(int jobs) {
      Check.that(!finished, "accounting for a command already applied");
      int accounted = 0;
      Cursor next;
      while (accounted < jobs && (next = nextReached()) != null) {
        cursors.remove(next);
        after = next;
        JobState job = CronStateMachine.this.jobs.get(next.job());
        CronStateMachine.this.account(job);
        indexCursor(job);
        accounted++;
        if (job.cursor != null && !job.cursor.instant().isAfter(clock)) {
          if (stillBehind == null) {
            stillBehind = new java.util.HashSet<>();
          }
          stillBehind.add(job.name());
        }
      }
      return accounted;
    }

    /** Whether every job the stamp reached is accounted for. */
    public boolean accounted() {
      return nextReached() == null;
    }

    private Cursor nextReached() {
      Cursor next =
          after == null ? (cursors.isEmpty() ? null : cursors.first()) : cursors.higher(after);
      while (next != null
          && !next.instant().isAfter(clock)
          && stillBehind != null
          && stillBehind.contains(next.job())) {
        next = cursors.higher(next);
      }
      return next == null || next.instant().isAfter(clock) ? null : next;
    }

    /** Applies the command itself, once every reached job was accounted for. */
    public CommandResult finish() {
      Check.that(!finished, "command applied twice");
      Check.that(accounted(), "jobs the stamp reached are not all accounted for");
      finished = true;
      partialOpen = false;
      return applyAccounted(command);
    }
  }

  private CommandResult applyAccounted(CronCommand command) {
    changed(jobNamed(command));
    return switch (command) {
      case CronCommand.PutJob put -> onPutJob(put);
      case CronCommand.DeleteJob delete -> onDeleteJob(delete);
      case CronCommand.PauseJob pause -> onPause(pause.name(), true);
      case CronCommand.ResumeJob resume -> onPause(resume.name(), false);
      case CronCommand.TriggerJob trigger -> onTrigger(trigger);
      case CronCommand.RunIntent intent -> onRunIntent(intent);
      case CronCommand.RunStarted started -> onRunStarted(started);
      case CronCommand.RunFinished finished -> onRunFinished(finished);
      case CronCommand.RecordSkip skip -> onRecordSkip(skip);
      case CronCommand.RecordLost lost -> onRecordLost(lost);
      case CronCommand.RecordTestimony testimony -> onRecordTestimony(testimony);
      case CronCommand.Tick tick -> CommandResult.applied(0);
    };
  }

  /** The job a command is about ({@code null} for a {@code Tick} or a put of a bad name). */
  private static JobName jobNamed(CronCommand command) {
    return switch (command) {
      case CronCommand.PutJob put ->
          JobName.isValid(put.spec().name()) ? JobName.of(put.spec().name()) : null;
      case CronCommand.DeleteJob delete -> delete.name();
      case CronCommand.PauseJob pause -> pause.name();
      case CronCommand.ResumeJob resume -> resume.name();
      case CronCommand.TriggerJob trigger -> trigger.name();
      case CronCommand.RunIntent intent -> intent.runId().job();
      case CronCommand.RunStarted started -> started.runId().job();
      case CronCommand.RunFinished finished -> finished.runId().job();
      case CronCommand.RecordSkip skip -> skip.runId().job();
      case CronCommand.RecordLost lost -> lost.runId().job();
      case CronCommand.RecordTestimony testimony -> testimony.runId().job();
      case CronCommand.Tick tick -> null;
    };
  }

  /**
   * Notes that {@code job}'s definition, schedule position, open runs or ledger may have changed
   * (see {@link #jobsChangedAfter}); a repeat of the name just noted, within one command and with
   * no reader asking in between, is not noted twice.
   */
  private void changed(JobName job) {
    if (job == null || job.equals(lastChanged)) {
      return;
    }
    lastChanged = job;
    changedJobs.addLast(job);
    changeRevision++;
    if (changedJobs.size() > MAX_JOB_CHANGES_KEPT) {
      changedJobs.pollFirst();
    }
  }

  private void beginSlot(long slot) {
    Check.that(
        slot >= appliedSlot,
        "slot %s applied after slot %s: the log must be applied in order",
        slot,
        appliedSlot);
    appliedSlot = slot;
  }

  private CommandResult onPutJob(CronCommand.PutJob put) {
    JobSpec spec = put.spec();
    List<FieldError> errors = new ArrayList<>(JobSpecValidator.validate(spec));
    if (!errors.isEmpty()) {
      return CommandResult.invalid(errors);
    }
    JobName name = new JobName(spec.name());
    JobState existing = jobs.get(name);
    CommandResult conflict = checkExpected(name, existing, put.expected());
    if (conflict != null) {
      return conflict;
    }
    if (existing == null && jobs.size() >= maxJobs) {
      return CommandResult.rejected(
          "the cluster holds the maximum of " + maxJobs + " jobs (setting max-jobs)");
    }
    Map<ScheduleField, Integer> chosen = put.chosen();
    if (chosen.isEmpty()
        && existing != null
        && existing.spec.schedule().equals(spec.schedule())
        && existing.spec.syntax() == spec.syntax()) {
      chosen = existing.chosen; // "?" values are re-balanced only on request (DESIGN §4).
    }
    SharedSchedule shared;
    try {
      shared = acquireSchedule(spec, chosen);
    } catch (IllegalArgumentException e) {
      return CommandResult.invalid(List.of(new FieldError("schedule", e.getMessage())));
    }
    ZoneId zone = sharedZone(spec.zone());
    spec = withSharedStrings(spec, shared, zone);
    chosen = shared.key.chosen();
    JobState job = existing != null ? existing : new JobState(appliedSlot);
    boolean retime =
        existing == null
            || spec.timingDiffersFrom(existing.spec)
            || !chosen.equals(existing.chosen);
    if (existing != null) {
      uncount(existing);
      cursors.remove(cursorKey(existing));
      density.remove(existing.schedule, existing.zone, existing.densityReference);
      releaseSchedule(existing.shared);
    }
    job.spec = spec;
    job.name = name;
    job.version = appliedSlot;
    job.chosen = chosen;
    job.shared = shared;
    count(job);
    job.schedule = shared.schedule;
    job.zone = zone;
    job.densityReference = clock;
    density.add(job.schedule, job.zone, job.densityReference);
    if (retime) {
      // An instant whose launch was chosen ahead keeps its run (the launch is final); the new
      // timing starts from now, and accounting passes over that instant if it comes round again.
      Instant openedAhead =
          job.lastAccounted != null && job.lastAccounted.isAfter(clock) ? job.lastAccounted : null;
      job.cursor = nextAfter(job, clock);
      // A run id names one run: an instant still open from an earlier incarnation of this name
      // (deleted while its launch was held for the instant) is not this job's to run.
      while (job.cursor != null && openById.containsKey(RunId.of(name, job.cursor.instant()))) {
        job.cursor = nextAfter(job, job.cursor.instant());
      }
      job.catchUpBudget = spec.misfire().maxCount();
      job.lastAccounted = openedAhead;
    }
    jobs.put(name, job);
    trimJobLedger(job);
    if (spec.paused()) {
      stopNewRunsOfPausedJob(job);
    }
    indexCursor(job);
    return CommandResult.applied(job.version);
  }

  /**
   * The shared resolved schedule of {@code spec} with {@code chosen}, counted as used once more.
   *
   * @throws IllegalArgumentException if the chosen values do not fit the schedule
   */
  private SharedSchedule acquireSchedule(JobSpec spec, Map<ScheduleField, Integer> chosen) {
    // Looked up with the command's own map (maps are equal by content); copied only for a new key.
    SharedSchedule shared =
        sharedSchedules.get(
            new ScheduleKey(spec.schedule(), spec.syntax(), chosen.isEmpty() ? Map.of() : chosen));
    if (shared == null) {
      ScheduleKey key =
          new ScheduleKey(
              spec.schedule(),
              spec.syntax(),
              chosen.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(chosen)));
      shared = new SharedSchedule(key, resolve(spec, chosen));
      sharedSchedules.put(key, shared);
    }
    shared.users++;
    return shared;
  }

  /** How many distinct resolved schedules the jobs use (each kept once). */
  int distinctSchedules() {
    return sharedSchedules.size();
  }

  private void releaseSchedule(SharedSchedule shared) {
    shared.users--;
    Check.that(shared.users >= 0, "schedule '%s' released once too often", shared.key.text());
    if (shared.users == 0) {
      sharedSchedules.remove(shared.key);
    }
  }

  private ZoneId sharedZone(String id) {
    ZoneId zone = sharedZones.get(id);
    if (zone == null) {
      zone = ScheduleZone.parse(id);
      sharedZones.put(id, zone);
    }
    return zone;
  }

  /** The spec with its schedule text and zone id the shared instances (equal strings). */
  private static JobSpec withSharedStrings(JobSpec spec, SharedSchedule shared, ZoneId zone) {
    if (spec.schedule() == shared.key.text() && spec.zone() == zone.getId()) {
      return spec;
    }
    return spec.withScheduleAndZone(shared.key.text(), zone.getId());
  }

  private static Schedule resolve(JobSpec spec, Map<ScheduleField, Integer> chosen) {
    // The validator let only paused jobs keep a schedule that never fires; such a job is
    // never due, paused or not.
    Schedule schedule = Schedule.parseMayNeverFire(spec.schedule(), spec.syntax());
    if (schedule instanceof CronExpression cron && !cron.isResolved()) {
      if (!chosen.keySet().equals(cron.questionMarks())) {
        throw new IllegalArgumentException(
            "'?' in "
                + cron.questionMarks()
                + " needs a value chosen by the"
                + " leader for each of those fields, got values for "
                + chosen.keySet());
      }
      return cron.resolve(chosen);
    }
    if (!chosen.isEmpty()) {
      throw new IllegalArgumentException(
          "values were chosen for " + chosen.keySet() + " but the schedule has no '?'");
    }
    return schedule;
  }

  private static CommandResult checkExpected(JobName name, JobState job, ExpectedVersion expected) {
    return switch (expected) {
      case ExpectedVersion.Any any -> null;
      case ExpectedVersion.Absent absent ->
          job == null
              ? null
              : new CommandResult(
                  CommandResult.Status.CONFLICT,
                  job.version,
                  "job '"
                      + name
                      + "' already exists at version "
                      + job.version
                      + "; expected it to be absent",
                  List.of());
      case ExpectedVersion.Exactly exactly -> {
        if (job == null) {
          yield new CommandResult(
              CommandResult.Status.CONFLICT,
              0,
              "job '" + name + "' does not exist; expected version " + exactly.version(),
              List.of());
        }
        yield job.version == exactly.version()
            ? null
            : new CommandResult(
                CommandResult.Status.CONFLICT,
                job.version,
                "job '"
                    + name
                    + "': expected version "
                    + exactly.version()
                    + " but the current version is "
                    + job.version,
                List.of());
      }
    };
  }

  private CommandResult onDeleteJob(CronCommand.DeleteJob delete) {
    JobState job = jobs.get(delete.name());
    if (job == null) {
      return CommandResult.notFound(delete.name());
    }
    CommandResult conflict = checkExpected(delete.name(), job, delete.expected());
    if (conflict != null) {
      return conflict;
    }
    for (RunId id : List.copyOf(job.openRuns())) {
      Run run = openById.get(id);
      if (run.launched()) {
        // The agent may still run it: keep the run for reconciliation and fencing, ask to cancel.
        requestCancel(run);
      } else {
        removeOpen(id);
      }
    }
    cursors.remove(cursorKey(job));
    jobs.remove(job.name());
    uncount(job);
    density.remove(job.schedule, job.zone, job.densityReference);
    releaseSchedule(job.shared);
    ledgerSize -= job.ledger.size();
    return CommandResult.applied(appliedSlot);
  }

  private CommandResult onPause(JobName name, boolean paused) {
    JobState job = jobs.get(name);
    if (job == null) {
      return CommandResult.notFound(name);
    }
    if (job.spec.paused() == paused) {
      return new CommandResult(
          CommandResult.Status.DUPLICATE,
          job.version,
          "job '" + name + "' is already " + (paused ? "paused" : "running"),
          List.of());
    }
    uncount(job);
    job.spec = job.spec.toBuilder().paused(paused).build();
    count(job);
    job.version = appliedSlot;
    if (paused) {
      stopNewRunsOfPausedJob(job);
    }
    return CommandResult.applied(job.version);
  }

  /**
   * Nothing new starts while a job is paused: due runs are skipped, pending retries end with their
   * failure.
   */
  private void stopNewRunsOfPausedJob(JobState job) {
    for (RunId id : List.copyOf(job.openRuns())) {
      Run run = openById.get(id);
      if (run.status() == RunStatus.DUE && !run.id().manual()) {
        end(run, Outcome.skipped(SkipReason.PAUSED));
      } else if (run.status() == RunStatus.RETRY_WAIT) {
        end(run, run.lastFailure());
      }
    }
  }

  private CommandResult onTrigger(CronCommand.TriggerJob trigger) {
    JobState job = jobs.get(trigger.name());
    if (job == null) {
      return CommandResult.notFound(trigger.name());
    }
    RunId id = trigger.runId();
    if (openById.containsKey(id) || ledgerRecordOf(job, id) != null) {
      return CommandResult.duplicate("run " + id + " was already triggered");
    }
    // A manual run obeys the concurrency policy (peers' manual runs bypassing forbid is a known
    // complaint),
    // but not the pause: operators pause a job and then run it by hand to test it.
    startOrSkip(job, id, false, false);
    return CommandResult.applied(0);
  }

  private CommandResult onRunIntent(CronCommand.RunIntent intent) {
    Run run = openById.get(intent.runId());
    if (run == null && intent.attempt() == 1) {
      run = openAhead(intent.runId());
    }
    if (run == null) {
      return noRunToLaunch(intent.runId());
    }
    JobState job = jobOf(run);
    if (job == null) {
      return CommandResult.rejected("run " + run.id() + " belongs to a deleted job");
    }
    if (intent.attempt() <= run.attempt()) {
      boolean same =
          intent.attempt() == run.attempt()
              && intent.agentId().equals(run.agentId())
              && run.ballot().equals(intent.ballot());
      return same
          ? CommandResult.duplicate(
              "intent for attempt " + run.attempt() + " of " + run.id() + " is already chosen")
          : CommandResult.rejected(
              "attempt "
                  + intent.attempt()
                  + " of "
                  + run.id()
                  + " is stale: attempt "
                  + run.attempt()
                  + " is chosen on agent '"
                  + run.agentId()
                  + "' under ballot "
                  + run.ballot());
    }
    if (intent.attempt() != run.attempt() + 1) {
      return CommandResult.rejected(
          "attempt "
              + intent.attempt()
              + " of "
              + run.id()
              + " skips attempt "
              + (run.attempt() + 1));
    }
    if (intent.attempt() > MAX_ATTEMPTS_PER_RUN) {
      return CommandResult.rejected(
          "run "
              + run.id()
              + " reached "
              + MAX_ATTEMPTS_PER_RUN
              + " attempts (MAX_ATTEMPTS_PER_RUN)");
    }
    if (run.cancelRequested()) {
      return CommandResult.rejected(
          "run " + run.id() + " was superseded and must not be launched again");
    }
    switch (run.status()) {
      case DUE -> {
        Run blocking = otherRunInProgress(job, run.id());
        Eligibility.Decision decision =
            Eligibility.dueRun(job.spec, run.dueAt(), blocking != null, false, intent.stampedAt());
        switch (decision) {
          case Eligibility.Launch launch -> {}
          case Eligibility.Wait wait -> {
            return ineligible(
                run.id(),
                "it waits: concurrency policy forbid and "
                    + blocking.id()
                    + " is "
                    + blocking.status());
          }
          case Eligibility.Skip skip -> {
            return ineligible(
                run.id(),
                "it fell due at "
                    + run.dueAt()
                    + ", more than its deadline of "
                    + Eligibility.deadline(job.spec)
                    + " before the intent's stamp "
                    + intent.stampedAt());
          }
          case Eligibility.Missed missed ->
              throw Check.unreachable("a due run's eligibility decided %s", missed);
        }
      }
      case LAUNCHED, RUNNING -> {
        // Protocol step 4: a new attempt elsewhere is allowed only when a second launch is
        // acceptable.
        if (job.spec.semantics() != Semantics.AT_LEAST_ONCE) {
          return CommandResult.rejected(
              "run "
                  + run.id()
                  + " is at-most-once and attempt "
                  + run.attempt()
                  + " is already chosen; record it LOST instead of launching it again");
        }
      }
      case RETRY_WAIT -> {
        if (!(Eligibility.retry(run.retryNotBefore(), intent.stampedAt())
            instanceof Eligibility.Launch)) {
          return ineligible(run.id(), "it retries not before " + run.retryNotBefore());
        }
      }
    }
    Run launched =
        run.withIntent(intent.attempt(), intent.agentId(), intent.ballot(), intent.stampedAt());
    putOpen(launched);
    return CommandResult.applied(0);
  }

  /** Another run of the job launched, running or waiting to retry, or {@code null}. */
  private Run otherRunInProgress(JobState job, RunId id) {
    for (RunId other : job.openRuns()) {
      Run run = openById.get(other);
      if (!other.equals(id) && run.status() != RunStatus.DUE) {
        return run;
      }
    }
    return null;
  }

  /**
   * The refusal of an intent the eligibility rule does not allow. The dispatcher asks the same
   * rule, so in a stretch without faults or concurrent job changes this never happens; the
   * whole-system simulator counts these refusals by their {@link #INELIGIBLE} prefix.
   */
  private static CommandResult ineligible(RunId id, String why) {
    return CommandResult.rejected(INELIGIBLE + "run " + id + " may not start: " + why);
  }

  private CommandResult onRunStarted(CronCommand.RunStarted started) {
    Run run = openById.get(started.runId());
    if (run == null) {
      return CommandResult.duplicate(
          "run " + started.runId() + " is not open; start report ignored");
    }
    if (started.attempt() != run.attempt() || !run.launched()) {
      return CommandResult.duplicate(
          "attempt "
              + started.attempt()
              + " of "
              + run.id()
              + " is not the current launched attempt; start report ignored");
    }
    if (!started.agentId().equals(run.agentId())) {
      return CommandResult.rejected(
          "attempt "
              + run.attempt()
              + " of "
              + run.id()
              + " was launched on agent '"
              + run.agentId()
              + "', not '"
              + started.agentId()
              + "'");
    }
    if (run.status() == RunStatus.RUNNING) {
      return CommandResult.duplicate(
          "start of attempt " + run.attempt() + " of " + run.id() + " already recorded");
    }
    putOpen(run.withStarted(started.stampedAt()));
    return CommandResult.applied(0);
  }

  private CommandResult onRunFinished(CronCommand.RunFinished finished) {
    if (!finished.outcome().reportedByAgent()) {
      return CommandResult.invalid(
          List.of(
              new FieldError(
                  "outcome",
                  "an agent reports SUCCEEDED, FAILED or TIMED_OUT, got " + finished.outcome())));
    }
    Run run = openById.get(finished.runId());
    if (run == null) {
      return CommandResult.duplicate(
          "run " + finished.runId() + " is not open; finish report ignored");
    }
    if (finished.attempt() != run.attempt() || !run.launched()) {
      return CommandResult.duplicate(
          "attempt "
              + finished.attempt()
              + " of "
              + run.id()
              + " is not the current launched attempt; finish report ignored");
    }
    JobState job = jobOf(run);
    if (job != null
        && finished.outcome().isFailure()
        && job.spec.semantics() == Semantics.AT_LEAST_ONCE
        && run.attempt() < Math.min(job.spec.retries().maxAttempts(), MAX_ATTEMPTS_PER_RUN)
        && !run.cancelRequested()
        && !job.spec.paused()) {
      Instant notBefore = finished.stampedAt().plus(job.spec.retries().backoffAfter(run.attempt()));
      Run waiting = run.withRetry(notBefore, finished.outcome());
      putOpen(waiting);
      return CommandResult.applied(0);
    }
    end(run, finished.outcome(), finished.detail());
    return CommandResult.applied(0);
  }

  private CommandResult onRecordSkip(CronCommand.RecordSkip skip) {
    Run run = openById.get(skip.runId());
    if (run == null) {
      return noOpenRun(skip.runId());
    }
    if (run.status() != RunStatus.DUE) {
      return CommandResult.rejected(
          "run "
              + run.id()
              + " is "
              + run.status()
              + "; only a run without an intent can be skipped");
    }
    end(run, Outcome.skipped(skip.reason()));
    return CommandResult.applied(0);
  }

  private CommandResult onRecordLost(CronCommand.RecordLost lost) {
    Run run = openById.get(lost.runId());
    if (run == null) {
      return CommandResult.duplicate("run " + lost.runId() + " is not open");
    }
    if (lost.attempt() != run.attempt() || !run.launched()) {
      return CommandResult.duplicate(
          "attempt " + lost.attempt() + " of " + run.id() + " is not the current launched attempt");
    }
    end(run, Outcome.LOST);
    return CommandResult.applied(0);
  }

  private CommandResult onRecordTestimony(CronCommand.RecordTestimony testimony) {
    JobState job = jobs.get(testimony.runId().job());
    if (job == null) {
      return CommandResult.notFound(testimony.runId().job());
    }
    if (testimony.testimony().isEmpty()) {
      return CommandResult.invalid(List.of(new FieldError("testimony", "must not be empty")));
    }
    for (var it = job.ledger.descendingIterator(); it.hasNext(); ) {
      LedgerRecord record = it.next();
      if (!record.runId().equals(testimony.runId())) {
        continue;
      }
      if (!(record.outcome() instanceof Outcome.Lost) || record.attempts() != testimony.attempt()) {
        return CommandResult.rejected(
            "run "
                + record.runId()
                + " attempt "
                + testimony.attempt()
                + " is not recorded LOST ("
                + record.outcome()
                + ", attempt "
                + record.attempts()
                + ")");
      }
      if (!record.detail().agentTestimony().isEmpty()) {
        return CommandResult.duplicate(
            "testimony for "
                + record.runId()
                + " already recorded: "
                + record.detail().agentTestimony());
      }
      // The LOST outcome stays: the testimony is kept beside it, never in place of it. The
      // record keeps its place (and sequence) in the job's ledger.
      LedgerRecord witnessed = record.withTestimony(testimony.testimony());
      ArrayDeque<LedgerRecord> rewritten = new ArrayDeque<>(job.ledger.size());
      for (LedgerRecord each : job.ledger) {
        rewritten.addLast(each == record ? witnessed : each);
      }
      job.ledger.clear();
      job.ledger.addAll(rewritten);
      return CommandResult.applied(0);
    }
    return CommandResult.rejected(
        "run " + testimony.runId() + " has no ledger record (yet, or any more)");
  }

  /**
   * Opens the run of a scheduled instant not reached yet, for a launch chosen ahead of it: only the
   * job's very next instant, at most {@link #MAX_LAUNCH_AHEAD} away, of a job that is not paused,
   * and only when the run would not meet an open run (a {@code forbid} or {@code replace} job with
   * runs open waits for its instant, when the policy is applied as usual). The instant is accounted
   * now exactly as it would be when reached, so every replica agrees. Returns {@code null} when the
   * intent does not qualify.
   */
  private Run openAhead(RunId id) {
    JobState job = jobs.get(id.job());
    if (id.manual()
        || job == null
        || job.cursor == null
        || !job.cursor.instant().equals(id.instant())
        || !id.instant().isAfter(clock)
        || !(Eligibility.scheduledInstant(
                job.spec,
                job.openRunCount(),
                job.cursor instanceof NextFire.Skipped,
                id.instant(),
                clock)
            instanceof Eligibility.Launch)
        // One run per run id: an instant already run and recorded (opened ahead under the job's
        // earlier timing, then ended, e.g. LOST) that the new timing comes round to again.
        || openById.containsKey(id)
        || ledgerRecordOf(job, id) != null) {
      return null;
    }
    cursors.remove(cursorKey(job));
    job.cursor = nextAfter(job, id.instant());
    job.lastAccounted = id.instant();
    job.catchUpBudget = job.spec.misfire().maxCount();
    indexCursor(job);
    startOrSkip(job, id, false, false);
    return openById.get(id);
  }

  /**
   * Why an intent names no open run: a skipped instant or one the rule does not let open ahead is
   * {@linkplain #ineligible ineligible}; anything else is an intent for a run that is not due.
   */
  private CommandResult noRunToLaunch(RunId id) {
    JobState job = jobs.get(id.job());
    if (job != null) {
      LedgerRecord record = ledgerRecordOf(job, id);
      if (record != null && record.outcome() instanceof Outcome.Skipped) {
        return ineligible(id, "it was recorded " + record.outcome());
      }
      if (record == null
          && !id.manual()
          && job.cursor != null
          && job.cursor.instant().equals(id.instant())) {
        Eligibility.Decision decision =
            Eligibility.scheduledInstant(
                job.spec,
                job.openRunCount(),
                job.cursor instanceof NextFire.Skipped,
                id.instant(),
                clock);
        if (!(decision instanceof Eligibility.Launch)) {
          return ineligible(
              id, "its instant is ahead of " + clock + " and the rule says " + decision);
        }
      }
    }
    return noOpenRun(id);
  }

  /** Whether {@code result} refuses an intent as not eligible ({@link Eligibility}). */
  public static boolean refusedAsIneligible(CommandResult result) {
    return result.status() == CommandResult.Status.REJECTED
        && result.message().startsWith(INELIGIBLE);
  }

  private CommandResult noOpenRun(RunId id) {
    JobState job = jobs.get(id.job());
    if (job == null) {
      return CommandResult.notFound(id.job());
    }
    LedgerRecord record = ledgerRecordOf(job, id);
    if (record != null) {
      return CommandResult.rejected("run " + id + " already ended: " + record.outcome());
    }
    return CommandResult.rejected(
        "run " + id + " is not due: not a scheduled instant reached by " + clock);
  }

  // ---------------------------------------------------------------- time and instants

  /**
   * Gives each instant of {@code job} up to "now" (at most {@link #MAX_INSTANTS_PER_ADVANCE}) its
   * due run or record.
   */
  private void account(JobState job) {
    List<NextFire> reached = new ArrayList<>();
    NextFire cursor = job.cursor;
    while (cursor != null
        && !cursor.instant().isAfter(clock)
        && reached.size() < MAX_INSTANTS_PER_ADVANCE) {
      reached.add(cursor);
      cursor = nextAfter(job, cursor.instant());
    }
    job.cursor = cursor;
    boolean truncated = cursor != null && !cursor.instant().isAfter(clock);
    MisfirePolicy misfire = job.spec.misfire();
    // run-once runs the latest missed instant, unless an on-time instant is reached too: that run
    // is the one.
    Instant latestRunnableMiss = null;
    if (!truncated && misfire.mode() == MisfirePolicy.Mode.RUN_ONCE) {
      for (NextFire fire : reached) {
        if (fire instanceof NextFire.Run) {
          latestRunnableMiss =
              Eligibility.missed(fire.instant(), clock)
                      && Eligibility.withinMisfireWindow(job.spec, fire.instant(), clock)
                  ? fire.instant()
                  : null;
        }
      }
    }
    if (!job.spec.paused()
        && job.spec.concurrency() != ConcurrencyPolicy.REPLACE
        && reached.stream().anyMatch(fire -> fire instanceof NextFire.Run)) {
      expireMissedDueRuns(job);
    }
    boolean caughtUp = false;
    for (NextFire fire : reached) {
      Instant instant = fire.instant();
      RunId id = RunId.of(job.name(), instant);
      if (openById.containsKey(id)
          || job.lastAccounted != null
              && !instant.isAfter(job.lastAccounted)
              && ledgerRecordOf(job, id) != null) {
        // Opened ahead of its instant before the job's timing changed, or by an earlier
        // incarnation of a job of the same name: one run per run id.
        continue;
      }
      Eligibility.Decision decision =
          Eligibility.scheduledInstant(
              job.spec, job.openRunCount(), fire instanceof NextFire.Skipped, instant, clock);
      switch (decision) {
        // On time: the concurrency policy decides. After catch-up runs were queued, an on-time
        // instant queues behind them rather than overlapping.
        case Eligibility.Launch launch -> startOrSkip(job, id, false, caughtUp);
        case Eligibility.Skip skip when skip.reason() == SkipReason.OVERLAP ->
            startOrSkip(job, id, false, caughtUp);
        case Eligibility.Skip skip -> skipScheduled(job, id, skip.reason());
        case Eligibility.Missed missed -> {
          boolean runs =
              switch (misfire.mode()) {
                case SKIP -> false;
                case RUN_ONCE -> instant.equals(latestRunnableMiss);
                case RUN_ALL -> {
                  if (job.catchUpBudget > 0) {
                    job.catchUpBudget--;
                    yield true;
                  }
                  yield false;
                }
              };
          if (runs) {
            startOrSkip(job, id, true, true);
            caughtUp = true;
          } else {
            skipScheduled(job, id, SkipReason.MISFIRE);
          }
        }
        case Eligibility.Wait wait ->
            throw Check.unreachable("an instant reached by the clock decided %s", wait);
      }
      if (job.lastAccounted == null || instant.isAfter(job.lastAccounted)) {
        job.lastAccounted = instant;
      }
    }
    if (!truncated) {
      job.catchUpBudget = misfire.maxCount();
    }
  }

  /**
   * A run that fell due but could not launch within {@link #MISFIRE_THRESHOLD} (no eligible agent,
   * no leader, a forbid queue) is a missed instant like any other once a newer instant of its job
   * is reached: {@code run-once} keeps only the newest, so the waiting run gives way (and the newer
   * instant is no longer an overlap); {@code skip} keeps none; {@code run-all} keeps it. Past the
   * window it is skipped whatever the mode. Each leaves a {@code SKIPPED(MISFIRE)} record. Under
   * {@code replace} the newer instant supersedes the waiting run anyway ({@code OVERLAP}).
   */
  private void expireMissedDueRuns(JobState job) {
    for (RunId id : List.copyOf(job.openRuns())) {
      Run run = openById.get(id);
      if (run == null
          || run.status() != RunStatus.DUE
          || id.manual()
          || !Eligibility.missed(id.instant(), clock)) {
        continue;
      }
      if (Eligibility.withinMisfireWindow(job.spec, id.instant(), clock)
          && job.spec.misfire().mode() == MisfirePolicy.Mode.RUN_ALL) {
        continue;
      }
      removeOpen(id);
      job.removeOpenRun(id);
      skip(job, id, SkipReason.MISFIRE, false);
    }
  }

  /**
   * Applies the concurrency policy to a run that should start: it becomes due, or is skipped.
   *
   * @param catchUp whether the misfire policy chose the run (the dispatcher rate-limits those)
   * @param mayQueue whether, under {@code forbid}, the run waits behind open runs instead of being
   *     skipped
   */
  private void startOrSkip(JobState job, RunId id, boolean catchUp, boolean mayQueue) {
    int openRuns = job.openRunCount();
    if (Eligibility.concurrency(job.spec.concurrency(), openRuns, mayQueue)
        instanceof Eligibility.Skip(SkipReason reason)) {
      // A forbid overlap extends the job's stretch of overlaps; a job at its bound of open runs
      // gets a record per instant.
      skip(job, id, reason, !id.manual() && openRuns < MAX_OPEN_RUNS_PER_JOB);
      return;
    }
    if (job.spec.concurrency() == ConcurrencyPolicy.REPLACE) {
      supersedeOpenRuns(job);
    }
    Run run = Run.due(id, catchUp, clock, job.incarnation);
    putOpen(run);
    job.addOpenRun(id);
  }

  private void supersedeOpenRuns(JobState job) {
    for (RunId id : List.copyOf(job.openRuns())) {
      Run run = openById.get(id);
      switch (run.status()) {
        case DUE -> end(run, Outcome.skipped(SkipReason.OVERLAP));
        case LAUNCHED, RUNNING -> requestCancel(run);
        case RETRY_WAIT -> end(run, run.lastFailure());
      }
    }
  }

  private void requestCancel(Run run) {
    if (!run.cancelRequested()) {
      Run cancelled = run.withCancelRequested();
      putOpen(cancelled);
    }
  }

  private void skipScheduled(JobState job, RunId id, SkipReason reason) {
    skip(job, id, reason, true);
  }

  /**
   * Records {@code SKIPPED(reason)} for one instant. A scheduled instant right after an instant
   * skipped for the same reason, with nothing recorded for the job in between, extends that record
   * instead of adding one.
   */
  private void skip(JobState job, RunId id, SkipReason reason, boolean coalesce) {
    Outcome outcome = Outcome.skipped(reason);
    LedgerRecord last = job.ledger.peekLast();
    if (coalesce
        && last != null
        && !last.runId().manual()
        && last.outcome().equals(outcome)
        && job.lastAccounted != null
        && last.lastInstant().equals(job.lastAccounted)) {
      LedgerRecord extended =
          new LedgerRecord(
              last.sequence(),
              last.runId(),
              id.instant(),
              last.instantCount() + 1,
              outcome,
              0,
              null,
              last.ballot(),
              null,
              clock,
              appliedSlot);
      job.ledger.pollLast();
      job.ledger.addLast(extended);
      noteLedgerChange(job, extended);
      return;
    }
    appendRecord(
        job,
        new LedgerRecord(
            nextSequence++,
            id,
            id.instant(),
            1,
            outcome,
            0,
            null,
            Ballot.ZERO,
            null,
            clock,
            appliedSlot));
  }

  /** Ends an open run with its terminal record (dropped if its job was deleted meanwhile). */
  private void end(Run run, Outcome outcome) {
    end(run, outcome, RunDetail.NONE);
  }

  private void end(Run run, Outcome outcome, RunDetail detail) {
    Run removed = removeOpen(run.id());
    Check.that(removed != null, "ending run %s that is not open", run.id());
    JobState job = jobOf(run);
    if (job == null) {
      return;
    }
    job.removeOpenRun(run.id());
    appendRecord(
        job,
        new LedgerRecord(
            nextSequence++,
            run.id(),
            run.id().instant(),
            1,
            outcome,
            run.attempt(),
            run.agentId(),
            run.ballot(),
            run.startedAt(),
            clock,
            appliedSlot,
            detail));
  }

  private void appendRecord(JobState job, LedgerRecord record) {
    job.ledger.addLast(record);
    ledgerSize++;
    noteLedgerChange(job, record);
    ledgerOrder.addLast(new LedgerEntry(record.sequence(), job.name(), job.incarnation));
    trimJobLedger(job);
    while (ledgerSize > maxLedgerRecords) {
      dropOldestRecord();
    }
    if (ledgerOrder.size() > 2 * ledgerSize + 1024) {
      compactLedgerOrder();
    }
  }

  private void noteLedgerChange(JobState job, LedgerRecord record) {
    changed(job.name());
    ledgerTail.addLast(new TailEntry(++ledgerRevision, job.name(), record.sequence()));
    if (ledgerTail.size() > MAX_LEDGER_CHANGES_KEPT) {
      ledgerTail.pollFirst();
    }
  }

  private void trimJobLedger(JobState job) {
    while (job.ledger.size() > job.spec.historyRetention()) {
      job.ledger.pollFirst();
      ledgerSize--;
    }
  }

  private void dropOldestRecord() {
    while (true) {
      LedgerEntry entry = ledgerOrder.pollFirst();
      Check.that(entry != null, "ledger holds %s records but none is indexed", ledgerSize);
      JobState job = jobs.get(entry.job());
      if (job != null
          && job.incarnation == entry.incarnation()
          && !job.ledger.isEmpty()
          && job.ledger.peekFirst().sequence() == entry.sequence()) {
        job.ledger.pollFirst();
        ledgerSize--;
        return;
      }
    }
  }

  /** Rebuilds the cross-job order from the live records (drops stale entries). */
  private void compactLedgerOrder() {
    List<LedgerEntry> live = new ArrayList<>();
    for (JobState job : jobs.values()) {
      for (LedgerRecord record : job.ledger) {
        live.add(new LedgerEntry(record.sequence(), job.name(), job.incarnation));
      }
    }
    live.sort(Comparator.comparingLong(LedgerEntry::sequence));
    ledgerOrder.clear();
    live.forEach(ledgerOrder::addLast);
  }

  private NextFire nextAfter(JobState job, Instant after) {
    NextFire next;
    try {
      next = job.schedule.next(after, job.zone, job.spec.dstPolicy());
    } catch (IllegalArgumentException beyondYear9999) {
      return null;
    }
    return next instanceof NextFire.Exhausted ? null : next;
  }

  private void indexCursor(JobState job) {
    changed(job.name());
    if (job.cursor != null) {
      cursors.add(cursorKey(job));
    }
  }

  private static Cursor cursorKey(JobState job) {
    return job.cursor == null
        ? new Cursor(Instant.MAX, job.name(), false)
        : new Cursor(job.cursor.instant(), job.name(), job.cursor instanceof NextFire.Skipped);
  }

  private JobState jobOf(Run run) {
    JobState job = jobs.get(run.id().job());
    return job != null && job.incarnation == run.jobIncarnation() ? job : null;
  }

  private static LedgerRecord ledgerRecordOf(JobState job, RunId id) {
    for (Iterator<LedgerRecord> it = job.ledger.descendingIterator(); it.hasNext(); ) {
      LedgerRecord record = it.next();
      if (record.runId().equals(id)
          || !id.manual() && !record.runId().manual() && record.covers(id.instant())) {
        return record;
      }
    }
    return null;
  }

  /** Puts {@code run} in {@link #open}, replacing the run of its id, and keeps the indexes. */
  private void putOpen(Run run) {
    changed(run.id().job());
    Run replaced = open.put(run.id(), run);
    openById.put(run.id(), run);
    if (replaced != null) {
      unindexRun(replaced);
    }
    indexRun(run);
  }

  /** Removes the open run of {@code id}, if any, and keeps the indexes; returns it. */
  private Run removeOpen(RunId id) {
    changed(id.job());
    Run removed = open.remove(id);
    openById.remove(id);
    if (removed != null) {
      unindexRun(removed);
    }
    return removed;
  }

  private void indexRun(Run run) {
    if (run.status() == RunStatus.DUE) {
      dueRuns.add(run.id());
    } else {
      runsInProgress++;
    }
  }

  private void unindexRun(Run run) {
    if (run.status() == RunStatus.DUE) {
      dueRuns.remove(run.id());
    } else {
      runsInProgress--;
    }
  }

  // ---------------------------------------------------------------- queries

  @Override
  public Optional<JobView> job(JobName name) {
    JobState job = jobs.get(name);
    return job == null ? Optional.empty() : Optional.of(view(job));
  }

  @Override
  public List<JobView> jobsAfter(String after, int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0, got " + limit);
    }
    List<JobView> views = new ArrayList<>(Math.min(limit, jobs.size()));
    // A page token names the last job of the previous page; any other text is a position in name
    // order too, found by a scan.
    Iterable<JobState> tail =
        after.isEmpty()
            ? jobs.values()
            : JobName.isValid(after)
                ? jobs.tailMap(new JobName(after), false).values()
                : jobs.values().stream().filter(j -> j.name.value().compareTo(after) > 0).toList();
    for (JobState job : tail) {
      if (views.size() == limit) {
        break;
      }
      views.add(view(job));
    }
    return views;
  }

  @Override
  public long ledgerRevision() {
    return ledgerRevision;
  }

  @Override
  public long changeRevision() {
    lastChanged = null; // a reader has seen the newest name: a repeat of it is a new change
    return changeRevision;
  }

  @Override
  public Optional<SortedSet<JobName>> jobsChangedAfter(long revision) {
    if (revision < 0 || revision > changeRevision) {
      return Optional.empty();
    }
    long kept = changedJobs.size();
    if (changeRevision - revision > kept) {
      return Optional.empty();
    }
    SortedSet<JobName> names = new TreeSet<>();
    Iterator<JobName> newestFirst = changedJobs.descendingIterator();
    for (long i = revision; i < changeRevision; i++) {
      names.add(newestFirst.next());
    }
    return Optional.of(names);
  }

  @Override
  public Optional<List<LedgerChange>> ledgerChangesAfter(long revision, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, got " + limit);
    }
    if (revision < 0 || revision > ledgerRevision) {
      return Optional.empty();
    }
    if (revision == ledgerRevision) {
      return Optional.of(List.of());
    }
    TailEntry oldest = ledgerTail.first();
    if (oldest == null || oldest.revision() > revision + 1) {
      return Optional.empty();
    }
    // Entries are consecutive revisions: the one after `revision` is at a known offset.
    List<LedgerChange> found = new ArrayList<>(Math.min(limit, 64));
    for (int i = (int) (revision + 1 - oldest.revision());
        i < ledgerTail.size() && found.size() < limit;
        i++) {
      TailEntry entry = ledgerTail.get(i);
      LedgerRecord record = currentRecord(entry);
      if (record != null) {
        found.add(new LedgerChange(entry.revision(), record));
      }
    }
    return Optional.of(found);
  }

  @Override
  public List<LedgerRecord> ledgerAfter(long afterSequence, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, got " + limit);
    }
    // The cross-job order is sorted by sequence (records are appended with rising sequences and
    // a compaction sorts): the first entry after `afterSequence` is found by binary search.
    int low = 0;
    int high = ledgerOrder.size();
    while (low < high) {
      int middle = (low + high) >>> 1;
      if (ledgerOrder.get(middle).sequence() > afterSequence) {
        high = middle;
      } else {
        low = middle + 1;
      }
    }
    List<LedgerRecord> found = new ArrayList<>(Math.min(limit, ledgerOrder.size() - low));
    for (int i = low; i < ledgerOrder.size() && found.size() < limit; i++) {
      LedgerEntry entry = ledgerOrder.get(i);
      JobState job = jobs.get(entry.job());
      if (job != null && job.incarnation == entry.incarnation()) {
        LedgerRecord record = recordWithSequence(job, entry.sequence());
        if (record != null) {
          found.add(record);
        }
      }
    }
    return found;
  }

  @Override
  public Optional<LedgerRecord> newestRecord(JobName name) {
    JobState job = jobs.get(name);
    return job == null ? Optional.empty() : Optional.ofNullable(job.ledger.peekLast());
  }

  private static LedgerRecord recordWithSequence(JobState job, long sequence) {
    Iterator<LedgerRecord> newestFirst = job.ledger.descendingIterator();
    while (newestFirst.hasNext()) {
      LedgerRecord record = newestFirst.next();
      if (record.sequence() == sequence) {
        return record;
      }
      if (record.sequence() < sequence) {
        return null;
      }
    }
    return null;
  }

  /** The record a tail entry names as it is now, or null if it is gone. */
  private LedgerRecord currentRecord(TailEntry entry) {
    JobState job = jobs.get(entry.job());
    if (job == null) {
      return null;
    }
    Iterator<LedgerRecord> newestFirst = job.ledger.descendingIterator();
    while (newestFirst.hasNext()) {
      LedgerRecord record = newestFirst.next();
      if (record.sequence() == entry.sequence()) {
        return record;
      }
      if (record.sequence() < entry.sequence()) {
        return null;
      }
    }
    return null;
  }

  @Override
  public int jobCount() {
    return jobs.size();
  }

  /**
   * The totals a scrape of {@code /metrics} reports, kept as commands apply: reading them costs
   * nothing at any job count, where summing over a listing of every job did not (at a million jobs
   * that listing failed the scrape).
   */
  public JobTotals totals() {
    return new JobTotals(jobs.size(), pausedJobs, resolvedJobs, openById.size());
  }

  /**
   * @param jobs jobs held
   * @param paused of them, paused
   * @param questionMarksResolved of them, with a schedule whose {@code ?} the cluster resolved
   * @param openRuns runs due, launched, running or waiting to retry, over all jobs (the runs of a
   *     deleted job still being cancelled included)
   */
  public record JobTotals(int jobs, int paused, int questionMarksResolved, int openRuns) {}

  /** Counts {@code job} into the totals ({@link #totals}); {@link #uncount} takes it out. */
  private void count(JobState job) {
    pausedJobs += job.spec.paused() ? 1 : 0;
    resolvedJobs += job.chosen.isEmpty() ? 0 : 1;
  }

  private void uncount(JobState job) {
    pausedJobs -= job.spec.paused() ? 1 : 0;
    resolvedJobs -= job.chosen.isEmpty() ? 0 : 1;
  }

  /** Fails if the kept totals differ from a recount: the simulator calls it after every apply. */
  public void checkTotals() {
    JobTotals recounted = totalsRecounted();
    Check.that(
        recounted.equals(totals()), "job totals kept as %s, recounted %s", totals(), recounted);
  }

  /** The totals recounted over every job, to check the kept ones against (tests, simulator). */
  public JobTotals totalsRecounted() {
    int paused = 0;
    int resolved = 0;
    for (JobState job : jobs.values()) {
      paused += job.spec.paused() ? 1 : 0;
      resolved += job.chosen.isEmpty() ? 0 : 1;
    }
    return new JobTotals(jobs.size(), paused, resolved, openById.size());
  }

  @Override
  public List<JobView> jobs() {
    List<JobView> views = new ArrayList<>(jobs.size());
    for (JobState job : jobs.values()) {
      views.add(view(job));
    }
    return views;
  }

  private static JobView view(JobState job) {
    return new JobView(
        job.spec,
        job.version,
        job.incarnation,
        job.schedule.text(),
        job.chosen,
        job.cursor == null ? null : job.cursor.instant(),
        job.cursor instanceof NextFire.Skipped,
        job.openRunCount(),
        job.ledger.size());
  }

  @Override
  public List<LedgerRecord> ledger(JobName name) {
    JobState job = jobs.get(name);
    if (job == null) {
      return List.of();
    }
    List<LedgerRecord> records = new ArrayList<>(job.ledger);
    Collections.reverse(records);
    return records;
  }

  @Override
  public List<Run> openRuns(JobName name) {
    JobState job = jobs.get(name);
    if (job == null) {
      return List.of();
    }
    List<Run> runs = new ArrayList<>(job.openRunCount());
    for (RunId id : job.openRuns()) {
      runs.add(openById.get(id));
    }
    return runs;
  }

  @Override
  public List<Run> openRuns() {
    return List.copyOf(open.values());
  }

  @Override
  public Optional<Run> run(RunId runId) {
    return Optional.ofNullable(openById.get(runId));
  }

  @Override
  public List<Run> runsNeedingReconciliation() {
    List<Run> runs = new ArrayList<>();
    for (Run run : open.values()) {
      if (run.launched()) {
        runs.add(run);
      }
    }
    return runs;
  }

  @Override
  public List<Run> runsDue() {
    return runsDue(null, Integer.MAX_VALUE);
  }

  @Override
  public List<Run> runsDue(RunId after, int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0, got " + limit);
    }
    java.util.SortedSet<RunId> from = after == null ? dueRuns : dueRuns.tailSet(after, false);
    // Not from.size(): a tail set counts its elements by walking them.
    List<Run> runs = new ArrayList<>(Math.min(limit, Math.min(dueRuns.size(), 1024)));
    for (RunId id : from) {
      if (runs.size() >= limit) {
        break;
      }
      runs.add(openById.get(id));
    }
    return runs;
  }

  @Override
  public int inProgressRunCount() {
    return runsInProgress;
  }

  @Override
  public List<ScheduledInstant> scheduledInstants(Instant until, int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0, got " + limit);
    }
    List<ScheduledInstant> found = new ArrayList<>(Math.min(limit, 1024));
    for (Cursor cursor : cursors) {
      if (found.size() >= limit || cursor.instant().isAfter(until)) {
        break;
      }
      found.add(new ScheduledInstant(cursor.job(), cursor.instant(), cursor.inDstGap()));
    }
    return found;
  }

  @Override
  public List<DueRun> dueRuns(Instant leaderTime, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, got " + limit);
    }
    List<DueRun> due = new ArrayList<>();
    for (Cursor cursor : cursors) {
      if (cursor.instant().isAfter(leaderTime) || due.size() >= limit) {
        break;
      }
      JobState job = jobs.get(cursor.job());
      boolean behind = Eligibility.missed(cursor.instant(), leaderTime);
      boolean scheduledRun = job.cursor instanceof NextFire.Run && !job.spec.paused();
      DueRun.Kind kind = behind || !scheduledRun ? DueRun.Kind.BEHIND : DueRun.Kind.SCHEDULED;
      due.add(new DueRun(RunId.of(job.name(), cursor.instant()), kind, 1));
    }
    for (Run run : open.values()) {
      if (due.size() >= limit) {
        break;
      }
      if (run.status() == RunStatus.DUE) {
        due.add(new DueRun(run.id(), DueRun.Kind.DUE, 1));
      } else if (run.status() == RunStatus.RETRY_WAIT
          && !run.retryNotBefore().isAfter(leaderTime)) {
        due.add(new DueRun(run.id(), DueRun.Kind.RETRY, run.attempt() + 1));
      }
    }
    return due;
  }

  @Override
  public Instant clock() {
    return clock;
  }

  /** The slot of the last command applied. */
  public long appliedSlot() {
    return appliedSlot;
  }

  /** Terminal ledger records held across all jobs. */
  public long ledgerSize() {
    return ledgerSize;
  }

  /**
   * The launches per minute of the week of every job, for resolving the {@code ?} of a new job
   * ({@link io.paxcron.schedule.QuestionMarkResolver}): a copy of the density kept up to date as
   * jobs are put and deleted, so this costs the same at a million jobs as at ten. Each job is
   * placed in the UTC week with the zone offset in force when it was last put (or when this replica
   * restored its snapshot); a job in a zone with daylight saving time counts an hour off for the
   * part of the year after a change, which only makes the spread of {@code ?} slightly less even,
   * never wrong.
   */
  public LaunchDensity launchDensity() {
    return density.copy();
  }

  // ---------------------------------------------------------------- snapshot

  @Override
  public byte[] snapshot() {
    return image().encode();
  }

  /**
   * The state at {@link #appliedSlot()}, copied by reference: one small record per job (its spec,
   * cursor, ledger records and the open runs are immutable values) and no encoding. The replica
   * takes it on its loop thread, where it costs a walk of the jobs; {@link
   * StateMachine.Image#encode} produces the bytes {@link #snapshot()} returned at that slot, on any
   * thread, while this state machine goes on applying.
   */
  @Override
  public StateMachine.Image image() {
    Check.that(!partialOpen, "an image taken while a command is partly applied");
    JobImage[] jobImages = new JobImage[jobs.size()];
    int index = 0;
    for (JobState job : jobs.values()) {
      jobImages[index++] =
          new JobImage(
              job.spec,
              job.version,
              job.incarnation,
              job.chosen,
              job.cursor,
              job.lastAccounted,
              job.catchUpBudget,
              job.ledger.isEmpty() ? NO_RECORDS : job.ledger.toArray(NO_RECORDS));
    }
    return new StateImage(clock, nextSequence, jobImages, open.values().toArray(NO_RUNS));
  }

  private static final LedgerRecord[] NO_RECORDS = new LedgerRecord[0];
  private static final Run[] NO_RUNS = new Run[0];

  /** What a snapshot holds of one job, as {@link #image()} took it. */
  private record JobImage(
      JobSpec spec,
      long version,
      long incarnation,
      Map<ScheduleField, Integer> chosen,
      NextFire cursor,
      Instant lastAccounted,
      int catchUpBudget,
      LedgerRecord[] ledger) {}

  /** The whole state as {@link #image()} took it; never changed, so any thread may encode it. */
  private record StateImage(Instant clock, long nextSequence, JobImage[] jobs, Run[] open)
      implements StateMachine.Image {
    @Override
    public byte[] encode() {
      BinaryWriter out = new BinaryWriter(4096);
      encodeTo(out);
      return out.toByteArray();
    }

    @Override
    public void encodeTo(BinaryWriter out) {
      int start = out.beginFrame(RecordKind.CRON_SNAPSHOT);
      out.writeInstant(clock).writeLong(nextSequence);
      out.writeInt(jobs.length);
      for (JobImage job : jobs) {
        CronCodec.writeSpec(out, job.spec());
        out.writeLong(job.version()).writeLong(job.incarnation());
        CronCodec.writeChosen(out, job.chosen());
        writeCursor(out, job.cursor());
        out.writeOptionalInstant(job.lastAccounted()).writeInt(job.catchUpBudget());
        out.writeInt(job.ledger().length);
        for (LedgerRecord record : job.ledger()) {
          CronCodec.writeRecord(out, record);
        }
      }
      out.writeInt(open.length);
      for (Run run : open) {
        CronCodec.writeRun(out, run);
      }
      out.endFrame(start);
    }
  }

  @Override
  public void restore(byte[] snapshot) {
    Check.that(!partialOpen, "a restore while a command is partly applied");
    jobs.clear();
    pausedJobs = 0;
    resolvedJobs = 0;
    density = new LaunchDensity();
    sharedSchedules.clear();
    sharedZones.clear();
    ledgerTail.clear();
    // Every watch must read the restored ledger whole: no revision before this one is answerable.
    ledgerRevision++;
    changedJobs.clear();
    changeRevision++;
    cursors.clear();
    open.clear();
    openById.clear();
    dueRuns.clear();
    runsInProgress = 0;
    ledgerOrder.clear();
    ledgerSize = 0;
    nextSequence = 1;
    clock = Instant.EPOCH;
    appliedSlot = 0;
    if (snapshot.length == 0) {
      return;
    }
    try {
      BinaryReader in;
      int format;
      if (Frame.startsAt(snapshot, 0, RecordKind.CRON_SNAPSHOT)) {
        Frame frame = Frame.readWhole(snapshot, RecordKind.CRON_SNAPSHOT);
        format = frame.version();
        in = frame.body();
      } else {
        in = new BinaryReader(snapshot);
        format = in.readByte();
        if (format < OLDEST_READABLE_SNAPSHOT_FORMAT || format >= 3) {
          throw new MalformedCommandException(
              "cron snapshot record: format version "
                  + format
                  + " (unframed) is not one this build reads (versions "
                  + OLDEST_READABLE_SNAPSHOT_FORMAT
                  + ".."
                  + SNAPSHOT_FORMAT
                  + ", from 3 on in a frame)");
        }
      }
      // Snapshot formats 2 and 3 hold job specs of command format 2 (3 only adds the frame).
      int specFormat = Math.min(format, CronCodec.FORMAT_VERSION);
      clock = in.readInstant();
      nextSequence = in.readLong();
      // A snapshot may hold more jobs than max-jobs allows now (the setting was lowered).
      int jobCount = in.readCount(CronLimits.MAX_JOBS_CEILING, 16);
      // Equal schedule texts and zone ids decode to one instance, the one the shared schedule and
      // zone hold, so that a decoded spec is kept as it is (not built a second time).
      java.util.HashMap<String, String> texts = new java.util.HashMap<>();
      java.util.function.UnaryOperator<String> shareSchedule =
          text -> {
            String known = texts.putIfAbsent(text, text);
            return known == null ? text : known;
          };
      java.util.function.UnaryOperator<String> shareZone =
          id -> {
            String shared = sharedZone(id).getId();
            return shared.equals(id) ? shared : id;
          };
      // The snapshot lists jobs in name order: the name and due-instant indexes are built from
      // sorted lists in linear time, and the density once per distinct schedule and zone.
      List<Map.Entry<JobName, JobState>> byName = new ArrayList<>(Math.min(jobCount, 1 << 16));
      // Jobs due at the same instant, in name order (the order they are read in).
      java.util.HashMap<Instant, List<Cursor>> byInstant = new java.util.HashMap<>();
      java.util.HashMap<DensityGroup, int[]> densityGroups = new java.util.HashMap<>();
      String previousName = null;
      for (int i = 0; i < jobCount; i++) {
        JobSpec read = CronCodec.readSpec(in, specFormat, shareSchedule, shareZone);
        if (previousName != null && read.name().compareTo(previousName) <= 0) {
          throw new MalformedCommandException(
              "job '" + read.name() + "' follows '" + previousName + "': not in name order");
        }
        previousName = read.name();
        long version = in.readLong();
        JobState job = new JobState(in.readLong());
        job.version = version;
        int chosenCount = in.readCount(CronCodec.MAX_CHOSEN_VALUES, 8);
        Map<ScheduleField, Integer> chosen = new EnumMap<>(ScheduleField.class);
        for (int c = 0; c < chosenCount; c++) {
          chosen.put(in.readEnum(ScheduleField.class), in.readInt());
        }
        job.shared = acquireSchedule(read, chosen);
        job.chosen = job.shared.key.chosen();
        job.schedule = job.shared.schedule;
        job.zone = sharedZone(read.zone());
        JobSpec spec = withSharedStrings(read, job.shared, job.zone);
        job.spec = spec;
        job.name = CronCodec.jobName(spec.name());
        job.densityReference = clock;
        count(job);
        densityGroups.computeIfAbsent(new DensityGroup(job.shared, job.zone), g -> new int[1])[0]++;
        job.cursor = readCursor(in);
        job.lastAccounted = in.readOptionalInstant();
        job.catchUpBudget = in.readInt();
        int records = in.readCount(JobSpecValidator.MAX_HISTORY_RETENTION, 16);
        for (int r = 0; r < records; r++) {
          job.ledger.addLast(CronCodec.readRecord(in, format >= 2));
        }
        ledgerSize += records;
        byName.add(Map.entry(job.name, job));
        if (job.cursor != null) {
          byInstant
              .computeIfAbsent(job.cursor.instant(), at -> new ArrayList<>())
              .add(cursorKey(job));
        }
      }
      jobs.putAll(new SortedEntries<>(byName));
      // A million jobs fall due at a few thousand instants: sort those, not the jobs.
      List<Instant> instants = new ArrayList<>(byInstant.keySet());
      instants.sort(null);
      List<Cursor> dueOrder = new ArrayList<>(byName.size());
      for (Instant at : instants) {
        dueOrder.addAll(byInstant.get(at));
      }
      cursors.addAll(new SortedElements<>(dueOrder));
      densityGroups.forEach(
          (group, count) -> density.add(group.shared().schedule, group.zone(), clock, count[0]));
      int runCount = in.readCount(Integer.MAX_VALUE, 16);
      for (int i = 0; i < runCount; i++) {
        Run run = CronCodec.readRun(in);
        putOpen(run);
        JobState job = jobOf(run);
        if (job != null) {
          job.addOpenRun(run.id());
        }
      }
      in.expectEnd("snapshot");
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("cron state snapshot is unreadable: " + e.getMessage(), e);
    }
    compactLedgerOrder();
  }

  /** Jobs that count alike in the density: one shared schedule (by identity) in one zone. */
  private record DensityGroup(SharedSchedule shared, ZoneId zone) {}

  /**
   * Entries in ascending key order, offered to {@link TreeMap#putAll} as a sorted map so that it
   * builds the tree in linear time; it supports only what that build reads.
   */
  private static final class SortedEntries<K, V> extends java.util.AbstractMap<K, V>
      implements java.util.SortedMap<K, V> {
    private final List<Map.Entry<K, V>> entries;

    SortedEntries(List<Map.Entry<K, V>> entries) {
      this.entries = entries;
    }

    @Override
    public java.util.Set<Map.Entry<K, V>> entrySet() {
      return new SortedElements<>(entries);
    }

    @Override
    public Comparator<? super K> comparator() {
      return null;
    }

    @Override
    public java.util.SortedMap<K, V> subMap(K fromKey, K toKey) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.util.SortedMap<K, V> headMap(K toKey) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.util.SortedMap<K, V> tailMap(K fromKey) {
      throw new UnsupportedOperationException();
    }

    @Override
    public K firstKey() {
      throw new UnsupportedOperationException();
    }

    @Override
    public K lastKey() {
      throw new UnsupportedOperationException();
    }
  }

  /**
   * Elements in ascending natural order, offered to {@link TreeSet#addAll} as a sorted set so that
   * it builds the tree in linear time; it supports only what that build reads.
   */
  private static final class SortedElements<E> extends java.util.AbstractSet<E>
      implements java.util.SortedSet<E> {
    private final List<E> elements;

    SortedElements(List<E> elements) {
      this.elements = elements;
    }

    @Override
    public Iterator<E> iterator() {
      return elements.iterator();
    }

    @Override
    public int size() {
      return elements.size();
    }

    @Override
    public Comparator<? super E> comparator() {
      return null;
    }

    @Override
    public java.util.SortedSet<E> subSet(E fromElement, E toElement) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.util.SortedSet<E> headSet(E toElement) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.util.SortedSet<E> tailSet(E fromElement) {
      throw new UnsupportedOperationException();
    }

    @Override
    public E first() {
      throw new UnsupportedOperationException();
    }

    @Override
    public E last() {
      throw new UnsupportedOperationException();
    }
  }

  private static void writeCursor(BinaryWriter out, NextFire cursor) {
    switch (cursor) {
      case null -> out.writeByte(0);
      case NextFire.Run run -> {
        out.writeByte(1).writeInstant(run.instant());
        writeLocal(out, run.wallTime());
      }
      case NextFire.Skipped skipped -> {
        out.writeByte(2).writeInstant(skipped.instant());
        writeLocal(out, skipped.wallTime());
      }
      case NextFire.Exhausted exhausted -> out.writeByte(0);
    }
  }

  private static NextFire readCursor(BinaryReader in) {
    int kind = in.readByte();
    return switch (kind) {
      case 0 -> null;
      case 1 -> new NextFire.Run(in.readInstant(), readLocal(in));
      case 2 -> new NextFire.Skipped(in.readInstant(), readLocal(in), NextFire.SkipReason.DST_GAP);
      default -> throw new MalformedCommandException("unknown cursor kind " + kind);
    };
  }

  private static void writeLocal(BinaryWriter out, LocalDateTime time) {
    out.writeLong(time.toEpochSecond(ZoneOffset.UTC)).writeInt(time.getNano());
  }

  private static LocalDateTime readLocal(BinaryReader in) {
    long seconds = in.readLong();
    int nanos = in.readInt();
    try {
      return LocalDateTime.ofEpochSecond(seconds, nanos, ZoneOffset.UTC);
    } catch (java.time.DateTimeException e) {
      throw new MalformedCommandException("local time out of range", e);
    }
  }

  @Override
  public String toString() {
    return "CronStateMachine{slot="
        + appliedSlot
        + ", clock="
        + clock
        + ", jobs="
        + jobs.size()
        + ", open="
        + open.size()
        + ", ledger="
        + ledgerSize
        + "}";
  }
}
