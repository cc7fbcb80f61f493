package io.paxcron.scheduler;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Read-only queries over the applied cron state, for the API and the leader's {@link Dispatcher}.
 * Answers reflect the commands applied so far on this replica; the caller decides whether that is
 * fresh enough (the leader answers under its lease). Same thread as the state machine.
 */
public interface CronView {

  /** The job, if it exists. */
  Optional<JobView> job(String name);

  /** Every job, by name. */
  List<JobView> jobs();

  /** How many jobs there are (without building their views). */
  default int jobCount() {
    return jobs().size();
  }

  /** The job's terminal ledger records, newest first (empty if the job does not exist). */
  List<LedgerRecord> ledger(String job);

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

  /** The job's open runs, by run id. */
  List<Run> openRuns(String job);

  /** Every open run (including runs of deleted jobs still launched), by run id. */
  List<Run> openRuns();

  /** The open run, if it is open. */
  Optional<Run> run(RunId runId);

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
