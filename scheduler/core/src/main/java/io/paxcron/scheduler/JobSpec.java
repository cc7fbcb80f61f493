package io.paxcron.scheduler;

import io.paxcron.schedule.DstPolicy;
import io.paxcron.schedule.Syntax;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A job as the user defines it (DESIGN §4 "Job spec"). Immutable; maps are copied into sorted,
 * unmodifiable maps so that equal specs encode to equal bytes on every replica.
 *
 * <p>The constructor checks only that nothing is {@code null}; whether the contents are acceptable
 * is decided by {@link JobSpecValidator}, which reports every problem at once. Defaults are the
 * {@code DEFAULT_*} constants and {@link #builder}'s starting values.
 *
 * @param name unique, DNS-label-like: 1-63 of {@code a-z 0-9 -}, starting and ending alphanumeric
 * @param schedule the schedule expression as written (may contain Google's {@code ?})
 * @param syntax the dialect of {@code schedule}; default {@link Syntax#VIXIE}
 * @param zone IANA time-zone id; default {@code UTC}
 * @param dstPolicy daylight-saving behaviour; default {@link DstPolicy#DEFAULT}
 * @param command what the agent runs
 * @param env extra environment variables; names {@code PAXCRON_*} are reserved
 * @param workingDirectory absolute directory to run in; empty means the agent's default
 * @param agentSelector labels an agent must carry (all of them, exact values) to run the job
 * @param timeout how long an attempt may run before the agent stops it ({@code TIMED_OUT})
 * @param retries retry policy for failed attempts ({@link Semantics#AT_LEAST_ONCE} only)
 * @param concurrency what happens when runs overlap; default {@link ConcurrencyPolicy#FORBID}
 * @param misfire what happens to instants missed while there was no leader
 * @param semantics at-most-once (default) or at-least-once
 * @param paused whether due instants are recorded {@code SKIPPED(PAUSED)} instead of run
 * @param historyRetention how many terminal ledger records of this job are kept
 * @param stdin text given to the command on its standard input (crontab's {@code %}); empty means
 *     none
 * @param runAs the user the agent runs the command as (a system crontab's user field); empty means
 *     the agent's own user
 * @param source who owns the job: {@code crontab:<name>} for jobs applied from a crontab file,
 *     empty for jobs made through the API; {@code apply --prune} deletes only jobs of its own
 *     source
 * @param annotations free-form metadata kept with the job (a crontab's {@code MAILTO}, the line it
 *     came from); never read by the scheduler
 */
public record JobSpec(
    String name,
    String schedule,
    Syntax syntax,
    String zone,
    DstPolicy dstPolicy,
    JobCommand command,
    SortedMap<String, String> env,
    String workingDirectory,
    SortedMap<String, String> agentSelector,
    Duration timeout,
    RetryPolicy retries,
    ConcurrencyPolicy concurrency,
    MisfirePolicy misfire,
    Semantics semantics,
    boolean paused,
    int historyRetention,
    String stdin,
    String runAs,
    String source,
    SortedMap<String, String> annotations) {

  public static final Syntax DEFAULT_SYNTAX = Syntax.VIXIE;
  public static final String DEFAULT_ZONE = "UTC";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);
  public static final ConcurrencyPolicy DEFAULT_CONCURRENCY = ConcurrencyPolicy.FORBID;
  public static final Semantics DEFAULT_SEMANTICS = Semantics.AT_MOST_ONCE;
  public static final int DEFAULT_HISTORY_RETENTION = 100;

  public JobSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(syntax, "syntax");
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(dstPolicy, "dstPolicy");
    // Values equal to a default share the default's instance: a replica holds a million specs,
    // most of them with default policies, and each copy would cost its own objects.
    dstPolicy = dstPolicy.equals(DstPolicy.DEFAULT) ? DstPolicy.DEFAULT : dstPolicy;
    Objects.requireNonNull(command, "command");
    env = sortedCopy(env, "env");
    Objects.requireNonNull(workingDirectory, "workingDirectory");
    agentSelector = sortedCopy(agentSelector, "agentSelector");
    Objects.requireNonNull(timeout, "timeout");
    timeout = timeout.equals(DEFAULT_TIMEOUT) ? DEFAULT_TIMEOUT : timeout;
    Objects.requireNonNull(retries, "retries");
    retries = retries.equals(RetryPolicy.NONE) ? RetryPolicy.NONE : retries;
    Objects.requireNonNull(concurrency, "concurrency");
    Objects.requireNonNull(misfire, "misfire");
    misfire = misfire.equals(MisfirePolicy.DEFAULT) ? MisfirePolicy.DEFAULT : misfire;
    Objects.requireNonNull(semantics, "semantics");
    Objects.requireNonNull(stdin, "stdin");
    Objects.requireNonNull(runAs, "runAs");
    Objects.requireNonNull(source, "source");
    annotations = sortedCopy(annotations, "annotations");
  }

  /**
   * {@code map} as the sorted map the canonical constructor takes (which copies it): without a copy
   * of its own when it is sorted already or empty, as most jobs' maps are.
   */
  static SortedMap<String, String> sorted(Map<String, String> map) {
    if (map instanceof SortedMap<String, String> sorted) {
      return sorted;
    }
    return map.isEmpty() ? Collections.emptySortedMap() : new TreeMap<>(map);
  }

  /**
   * This spec with {@code schedule} and {@code zone} in place of equal strings (the state machine's
   * shared instances), without going through a builder's copies.
   */
  JobSpec withScheduleAndZone(String schedule, String zone) {
    return new JobSpec(
        name,
        schedule,
        syntax,
        zone,
        dstPolicy,
        command,
        env,
        workingDirectory,
        agentSelector,
        timeout,
        retries,
        concurrency,
        misfire,
        semantics,
        paused,
        historyRetention,
        stdin,
        runAs,
        source,
        annotations);
  }

  private static SortedMap<String, String> sortedCopy(Map<String, String> map, String what) {
    Objects.requireNonNull(map, what);
    if (map.isEmpty()) {
      return Collections.emptySortedMap(); // shared: most jobs have no env, selector or annotations
    }
    TreeMap<String, String> copy = new TreeMap<>();
    for (Map.Entry<String, String> entry : map.entrySet()) {
      copy.put(
          Objects.requireNonNull(entry.getKey(), what + " key"),
          Objects.requireNonNull(entry.getValue(), what + " value"));
    }
    return Collections.unmodifiableSortedMap(copy);
  }

  /** A builder holding every default, for a job with the given name, schedule and command. */
  public static Builder builder(String name, String schedule, JobCommand command) {
    return new Builder(name, schedule, command);
  }

  /** A builder starting from this spec. */
  public Builder toBuilder() {
    Builder builder = new Builder(name, schedule, command);
    builder.syntax = syntax;
    builder.zone = zone;
    builder.dstPolicy = dstPolicy;
    builder.env = env;
    builder.workingDirectory = workingDirectory;
    builder.agentSelector = agentSelector;
    builder.timeout = timeout;
    builder.retries = retries;
    builder.concurrency = concurrency;
    builder.misfire = misfire;
    builder.semantics = semantics;
    builder.paused = paused;
    builder.historyRetention = historyRetention;
    builder.stdin = stdin;
    builder.runAs = runAs;
    builder.source = source;
    builder.annotations = annotations;
    return builder;
  }

  /**
   * Whether the schedule, zone, syntax or DST policy differ, so the job's cursor must be
   * recomputed.
   */
  boolean timingDiffersFrom(JobSpec other) {
    return !schedule.equals(other.schedule)
        || syntax != other.syntax
        || !zone.equals(other.zone)
        || !dstPolicy.equals(other.dstPolicy);
  }

  /** Mutable builder; not thread-safe. */
  public static final class Builder {
    private String name;
    private String schedule;
    private JobCommand command;
    private Syntax syntax = DEFAULT_SYNTAX;
    private String zone = DEFAULT_ZONE;
    private DstPolicy dstPolicy = DstPolicy.DEFAULT;
    private Map<String, String> env = Map.of();
    private String workingDirectory = "";
    private Map<String, String> agentSelector = Map.of();
    private Duration timeout = DEFAULT_TIMEOUT;
    private RetryPolicy retries = RetryPolicy.NONE;
    private ConcurrencyPolicy concurrency = DEFAULT_CONCURRENCY;
    private MisfirePolicy misfire = MisfirePolicy.DEFAULT;
    private Semantics semantics = DEFAULT_SEMANTICS;
    private boolean paused;
    private int historyRetention = DEFAULT_HISTORY_RETENTION;
    private String stdin = "";
    private String runAs = "";
    private String source = "";
    private Map<String, String> annotations = Map.of();

    private Builder(String name, String schedule, JobCommand command) {
      this.name = name;
      this.schedule = schedule;
      this.command = command;
    }

    public Builder name(String value) {
      name = value;
      return this;
    }

    public Builder schedule(String value) {
      schedule = value;
      return this;
    }

    public Builder command(JobCommand value) {
      command = value;
      return this;
    }

    public Builder syntax(Syntax value) {
      syntax = value;
      return this;
    }

    public Builder zone(String value) {
      zone = value;
      return this;
    }

    public Builder dstPolicy(DstPolicy value) {
      dstPolicy = value;
      return this;
    }

    public Builder env(Map<String, String> value) {
      env = value;
      return this;
    }

    public Builder workingDirectory(String value) {
      workingDirectory = value;
      return this;
    }

    public Builder agentSelector(Map<String, String> value) {
      agentSelector = value;
      return this;
    }

    public Builder timeout(Duration value) {
      timeout = value;
      return this;
    }

    public Builder retries(RetryPolicy value) {
      retries = value;
      return this;
    }

    public Builder concurrency(ConcurrencyPolicy value) {
      concurrency = value;
      return this;
    }

    public Builder misfire(MisfirePolicy value) {
      misfire = value;
      return this;
    }

    public Builder semantics(Semantics value) {
      semantics = value;
      return this;
    }

    public Builder paused(boolean value) {
      paused = value;
      return this;
    }

    public Builder historyRetention(int value) {
      historyRetention = value;
      return this;
    }

    public Builder stdin(String value) {
      stdin = value;
      return this;
    }

    public Builder runAs(String value) {
      runAs = value;
      return this;
    }

    public Builder source(String value) {
      source = value;
      return this;
    }

    public Builder annotations(Map<String, String> value) {
      annotations = value;
      return this;
    }

    public JobSpec build() {
      return new JobSpec(
          name,
          schedule,
          syntax,
          zone,
          dstPolicy,
          command,
          sorted(env),
          workingDirectory,
          sorted(agentSelector),
          timeout,
          retries,
          concurrency,
          misfire,
          semantics,
          paused,
          historyRetention,
          stdin,
          runAs,
          source,
          sorted(annotations));
    }
  }
}
