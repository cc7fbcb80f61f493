package io.paxcron.scheduler;

/**
 * The name of a job: unique in the cluster, a DNS label (1-63 of {@code a-z 0-9 -}, starting and
 * ending with a letter or digit). The rule lives here; {@link JobSpecValidator} reports a bad name
 * of user input through {@link #problem}. Ordered as its string; {@link #toString()} is the bare
 * name, and every serialized form encodes the bare name.
 *
 * @param value the name
 */
public record JobName(String value) implements Comparable<JobName> {

  /** Longest job name. */
  public static final int MAX_LENGTH = DnsLabel.MAX_LENGTH;

  /**
   * @throws IllegalArgumentException naming the reason, if {@code value} is not a job name
   */
  public JobName {
    String problem = DnsLabel.problem(value);
    if (problem != null) {
      throw new IllegalArgumentException("job name: " + problem);
    }
  }

  /** The job name {@code value}. */
  public static JobName of(String value) {
    return new JobName(value);
  }

  /** Why {@code value} is not a job name, or {@code null} if it is one. */
  public static String problem(String value) {
    return DnsLabel.problem(value);
  }

  /** Whether {@code value} is a job name. */
  public static boolean isValid(String value) {
    return DnsLabel.problem(value) == null;
  }

  @Override
  public int compareTo(JobName other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
