package io.paxcron.scheduler;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;

/**
 * Read-only queries over the applied cron state, for the API and the leader's {@link Dispatcher}.
 * The only direction from the state machine to the dispatcher: the dispatcher is told that a batch
 * was applied and reads what changed here; nothing is pushed to it. Answers reflect the commands
 * applied so far on this replica; the caller decides whether that is fresh enough (the leader
 * answers under its lease). Same thread as the state machine.
 */
public interface CronView {

  /** The job, if it exists. */
  Optional<JobView> job(JobName name);

  /** Every job, by name. */
  List<JobView> jobs();

  /**
   * At most {@code limit} jobs whose names sort after {@code after} (all jobs for {@code ""}), by
   * name: one page of a listing, in time proportional to the page, not to the job count.
   */
  default List<JobView> jobsAfter(String after, int limit) {
    return jobs().stream()
        .filter(job -> job.name().value().compareTo(after) > 0)
        .limit(limit)
        .toList();
  }

  /** How many jobs there are (without building their views). */
  default int jobCount() {
    return jobs().size();
  }

  /** The job's terminal ledger records, newest first (empty if the job does not exist). */
  List<LedgerRecord> ledger(JobName job);

  /**
   * The terminal record of one run (not of a stretch of skips), if the job's ledger still holds it.
   */
  default Optional<LedgerRecord> ledgerRecord(RunId runId) {
    for (LedgerRecord record : ledger(runId.job())) {
      if (record.runId().equals(runId)) {
        return Optional.of(record);
      }
    }
    return Optional.empty();
  }

  /**
   * One change to the ledger: a record appended, or the newest record of a job grown in place (a
   * stretch of skips one instant longer). {@code record} is the record as it is now.
   *
   * @param revision this replica's count of ledger changes when it happened (local to the replica:
   *     a restore or another replica counts differently)
   */
  record LedgerChange(long revision, LedgerRecord record) {}

  /**
   * How many changes to jobs this replica has applied (a local count: a restore or another replica
   * counts differently). With {@link #jobsChangedAfter}, what the leader's dispatcher reads after
   * each applied batch.
   */
  long changeRevision();

  /**
   * The names of the jobs whose definition, schedule position, open runs or ledger changed after
   * {@code revision} (a value {@link #changeRevision} returned): the only jobs whose runs an
   * applied batch can have moved. Empty when those changes are no longer held (after a restore, or
   * more changes than are kept): the caller then looks at everything it holds.
   */
  Optional<SortedSet<JobName>> jobsChangedAfter(long revision);

  /** The revision of the newest ledger change applied on this replica (0 before any). */
  long ledgerRevision();

  /**
   * The ledger changes after {@code revision}, oldest first, at most {@code limit}, skipping those
   * whose record is gone (dropped or its job deleted): what a watch of every job needs without
   * reading every job's ledger. Empty when changes after {@code revision} are no longer held (the
   * caller reads every job's ledger once instead).
   */
  Optional<List<LedgerChange>> ledgerChangesAfter(long revision, int limit);

  /**
   * The terminal records of every job with a sequence above {@code afterSequence}, oldest first, at
   * most {@code limit}: in time proportional to the records after it, not to the jobs.
   */
  List<LedgerRecord> ledgerAfter(long afterSequence, int limit);

  /** The job's newest terminal record, if it has one. */
  Optional<LedgerRecord> newestRecord(JobName job);

  /** The job's open runs, by run id. */
  List<Run> openRuns(JobName job);

  /** Every open run (including runs of deleted jobs still launched), by run id. */
  List<Run> openRuns();

  /** The open run, if it is open. */
  Optional<Run> run(RunId runId);

  /**
   * The open runs in status {@code DUE} (fallen due, waiting for an intent), by run id: from the
   * state machine's index of them, in time proportional to their number, not to the open runs.
   */
  List<Run> runsDue();

  /**
   * At most {@code limit} of {@link #runsDue()} whose ids come after {@code after} (all of them
   * from the first when it is null), in run id order: the leader walks a large backlog of due runs
   * in slices, a slice per tick, instead of all of it on every tick.
   */
  List<Run> runsDue(RunId after, int limit);

  /**
   * How many open runs are in progress: launched, running or waiting to retry (every open run that
   * is not {@code DUE}). Counted as runs change, so asking costs nothing; the leader compares it
   * with the runs it tracks.
   */
  int inProgressRunCount();

  /**
   * A job's next scheduled instant that the state machine has not accounted for yet.
   *
   * @param inDstGap whether the instant's wall-clock time does not exist (spring forward): the
   *     state machine records it {@code SKIPPED(DST_GAP)} or moves it, it is never launched ahead
   */
  record ScheduledInstant(JobName job, Instant instant, boolean inDstGap) {
    public ScheduledInstant {
      Objects.requireNonNull(job, "job");
      Objects.requireNonNull(instant, "instant");
    }
  }

  /**
   * The next scheduled instants of the jobs, at or before {@code until}, earliest first (ties by
   * job name), at most {@code limit}: read from the state machine's own due-instant index, in time
   * proportional to the answer, not to the jobs. An instant stays in the index until a command's
   * stamp reaches it (it is then accounted) or a launch chosen ahead of it opens its run; a job far
   * behind its schedule may list an instant already reached.
   */
  List<ScheduledInstant> scheduledInstants(Instant until, int limit);

  /**
   * Runs an intent was chosen for and no finish recorded: what a new leader must reconcile
   * (protocol step 4).
   */
  List<Run> runsNeedingReconciliation();

  /**
   * What the leader should propose at {@code leaderTime}, at most {@code limit} items: scheduled
   * instants reached but not yet recorded, due runs without an intent, and retries whose backoff
   * has passed.
   */
  List<DueRun> dueRuns(Instant leaderTime, int limit);

  /** The highest leader stamp applied: the state machine's "now". */
  Instant clock();
}
