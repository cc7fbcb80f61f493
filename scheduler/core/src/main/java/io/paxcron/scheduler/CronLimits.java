package io.paxcron.scheduler;

/**
 * The cluster-wide bounds of the cron state machine, as operator settings. Every replica of a
 * cluster must run with the same values: a create refused on one replica and applied on another
 * would split their states.
 *
 * <p>A setting out of range is refused at construction with the setting's name and its range.
 * Lowering {@code max-jobs} below the jobs a cluster holds deletes nothing; it only refuses new
 * jobs until the count is below it again.
 *
 * @param maxJobs most jobs in the cluster (setting {@code max-jobs}); a put that would create one
 *     more is rejected
 * @param maxLedgerRecords terminal ledger records kept across all jobs (setting {@code
 *     max-ledger-records}); the oldest are dropped first, open runs never
 */
public record CronLimits(int maxJobs, long maxLedgerRecords) {

  /** The default of {@code max-jobs}: what one 3-replica cluster is measured to hold (issue 16). */
  public static final int DEFAULT_MAX_JOBS = 1_000_000;

  /**
   * The ceiling of {@code max-jobs}: beyond it, spread namespaces over several clusters
   * (docs/scaling.md). It also bounds what a snapshot may hold.
   */
  public static final int MAX_JOBS_CEILING = 10_000_000;

  /** The default of {@code max-ledger-records}. */
  public static final long DEFAULT_MAX_LEDGER_RECORDS = 1_000_000;

  /** The ceiling of {@code max-ledger-records}. */
  public static final long MAX_LEDGER_RECORDS_CEILING = 100_000_000;

  /** The defaults. */
  public static final CronLimits DEFAULT =
      new CronLimits(DEFAULT_MAX_JOBS, DEFAULT_MAX_LEDGER_RECORDS);

  public CronLimits {
    if (maxJobs < 1 || maxJobs > MAX_JOBS_CEILING) {
      throw new IllegalArgumentException(
          "max-jobs must be 1.." + MAX_JOBS_CEILING + ", got " + maxJobs);
    }
    if (maxLedgerRecords < 1 || maxLedgerRecords > MAX_LEDGER_RECORDS_CEILING) {
      throw new IllegalArgumentException(
          "max-ledger-records must be 1.."
              + MAX_LEDGER_RECORDS_CEILING
              + ", got "
              + maxLedgerRecords);
    }
  }

  /** These limits with {@code max-jobs} set to {@code maxJobs}. */
  public CronLimits withMaxJobs(int maxJobs) {
    return new CronLimits(maxJobs, maxLedgerRecords);
  }

  /** These limits with {@code max-ledger-records} set to {@code maxLedgerRecords}. */
  public CronLimits withMaxLedgerRecords(long maxLedgerRecords) {
    return new CronLimits(maxJobs, maxLedgerRecords);
  }
}
