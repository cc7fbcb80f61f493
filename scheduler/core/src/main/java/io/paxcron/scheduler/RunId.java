package io.paxcron.scheduler;

import java.time.Instant;
import java.util.Objects;

/**
 * Names one run: a job and the instant it was scheduled for, {@code job@instant} (DESIGN §4). A run
 * started by Trigger is named by the leader's stamp and marked manual ({@code job@instant/manual}),
 * so it can never collide with a scheduled instant. The run id is also the agent's idempotency key.
 *
 * @param job the job name
 * @param instant the scheduled instant (or the trigger's stamp)
 * @param manual whether the run was triggered by an operator rather than the schedule
 */
public record RunId(JobName job, Instant instant, boolean manual) implements Comparable<RunId> {
  public RunId {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(instant, "instant");
  }

  /** A scheduled run of {@code job}. */
  public static RunId of(JobName job, Instant instant) {
    return new RunId(job, instant, false);
  }

  /**
   * The run named by {@link #toString()}'s form, {@code job@instant} or {@code job@instant/manual}.
   *
   * @throws IllegalArgumentException naming what is wrong with {@code text}
   */
  public static RunId parse(String text) {
    Objects.requireNonNull(text, "text");
    int at = text.indexOf('@');
    if (at < 1) {
      throw new IllegalArgumentException("run id: expected job@instant, got '" + text + "'");
    }
    String rest = text.substring(at + 1);
    boolean manual = rest.endsWith("/manual");
    if (manual) {
      rest = rest.substring(0, rest.length() - "/manual".length());
    }
    JobName job;
    try {
      job = new JobName(text.substring(0, at));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("run id: bad " + e.getMessage() + " in '" + text + "'", e);
    }
    try {
      return new RunId(job, Instant.parse(rest), manual);
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException("run id: bad instant '" + rest + "' in '" + text + "'", e);
    }
  }

  @Override
  public int compareTo(RunId other) {
    // By job, instant, then scheduled before manual; written out because the leader's indexes
    // compare run ids on every lookup.
    int byJob = job.compareTo(other.job);
    if (byJob != 0) {
      return byJob;
    }
    int byInstant = instant.compareTo(other.instant);
    return byInstant != 0 ? byInstant : Boolean.compare(manual, other.manual);
  }

  /**
   * Mixes the fields: the record's own hash (31 × the name's hash + the instant's) collides for
   * whole families of runs, since names like {@code job-17} and instants a second apart hash to
   * neighbouring values, and the leader's maps of runs then search long chains.
   */
  @Override
  public int hashCode() {
    long h =
        job.hashCode() * 0x9E37_79B9_7F4A_7C15L
            + instant.getEpochSecond() * 0xC2B2_AE3D_27D4_EB4FL
            + instant.getNano() * 0x1656_67B1_9E37_79F9L
            + (manual ? 1 : 0);
    h ^= h >>> 33;
    h *= 0xFF51_AFD7_ED55_8CCDL;
    h ^= h >>> 33;
    return (int) h;
  }

  @Override
  public String toString() {
    return job + "@" + instant + (manual ? "/manual" : "");
  }
}
