package io.paxcron.http;

import io.paxcron.api.JobClient;
import io.paxcron.proto.v1.Job;
import java.time.Duration;
import java.util.List;

/**
 * The job list as the API answers it ({@link JobClient#listAll()}: linearizable reads, pages of up
 * to 1,000), kept for at most {@code maxAge} so that paging, filtering and searching 10,000 jobs
 * costs one read per second however many browsers poll. Nothing is written here: pause, resume and
 * trigger go through the API and then {@link #invalidate()} the copy.
 *
 * <p>Thread-safe: one caller refreshes while the others wait and then share its answer.
 */
final class JobCatalog {

  /** One read of the whole job list, and when (monotonic nanos) it was taken. */
  record Read(List<Job> jobs, long readAtNanos, long generation) {}

  private final JobClient client;
  private final long maxAgeNanos;
  private Read current;
  private long generation;

  JobCatalog(JobClient client, Duration maxAge) {
    this.client = client;
    this.maxAgeNanos = maxAge.toNanos();
  }

  /**
   * The job list, read again if the copy is older than the maximum age.
   *
   * @throws io.paxcron.api.JobClientException when the cluster cannot answer
   */
  synchronized Read jobs() {
    long now = System.nanoTime();
    if (current == null || now - current.readAtNanos() > maxAgeNanos) {
      current = new Read(List.copyOf(client.listAll()), System.nanoTime(), ++generation);
    }
    return current;
  }

  /** The last copy read, or null, without reading (for scrapes that must not wait). */
  synchronized Read cached() {
    return current;
  }

  synchronized void invalidate() {
    current = null;
  }
}
