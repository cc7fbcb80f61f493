package io.paxcron.api;

import io.paxcron.scheduler.CronView;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.JobView;
import java.util.Optional;

/**
 * The API's boundary from a job name as a request carries it to a {@link JobName}. Requests are
 * checked first (a bad name is answered with the field and the reason), so a name that is not a
 * {@link JobName} here names no job.
 */
final class RequestNames {
  private RequestNames() {}

  /** The job named {@code name}, if {@code name} is a job name and the job exists. */
  static Optional<JobView> job(CronView view, String name) {
    return JobName.isValid(name) ? view.job(new JobName(name)) : Optional.empty();
  }
}
