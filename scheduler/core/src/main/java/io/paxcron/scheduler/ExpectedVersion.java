package io.paxcron.scheduler;

/**
 * The optimistic-concurrency condition of a write: a job's version is the log slot that last
 * changed it, so two operators cannot overwrite each other silently.
 */
public sealed interface ExpectedVersion {

  /** Write whatever the current version is. */
  record Any() implements ExpectedVersion {}

  /** Write only if the job does not exist (create). */
  record Absent() implements ExpectedVersion {}

  /** Write only if the job exists at exactly this version. */
  record Exactly(long version) implements ExpectedVersion {
    public Exactly {
      if (version < 1) {
        throw new IllegalArgumentException("a job version is a log slot >= 1, got " + version);
      }
    }
  }

  ExpectedVersion ANY = new Any();
  ExpectedVersion ABSENT = new Absent();

  static ExpectedVersion exactly(long version) {
    return new Exactly(version);
  }
}
