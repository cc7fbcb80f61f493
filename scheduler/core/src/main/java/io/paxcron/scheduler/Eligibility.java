package io.paxcron.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The one rule for whether a run may start (DESIGN §4): pause, DST gap, misfire, concurrency,
 * deadline and retry backoff. Both sides of the launch protocol call it: the leader's {@link
 * Dispatcher} to decide what to propose, and the {@link CronStateMachine} to account a scheduled
 * instant, to open a run ahead of its instant and to accept a {@link CronCommand.RunIntent}. With
 * one rule fed the same facts they cannot disagree: the dispatcher never proposes an intent the
 * state machine refuses as ineligible (the whole-system simulator counts the refusals, {@code
 * intentsRefused}).
 *
 * <p>The rule decides from facts only; it holds no state and reads no clock. {@code now} is the
 * dispatcher's clock reading, or the state machine's "now" when it accounts instants, or the
 * intent's stamp when it checks an intent (what the proposer saw). What the rule does not cover
 * belongs elsewhere: which missed instants a misfire policy runs (the state machine, which sees
 * every missed instant of a job at once), identity (one run per run id), and agent choice and
 * catch-up rate limits (the dispatcher's own choices among eligible runs).
 *
 * <p>Stateless and thread-safe.
 */
public final class Eligibility {
  private Eligibility() {}

  /** What the rule decided for one run or instant. */
  public sealed interface Decision {}

  /** The run may start now: propose its intent (dispatcher), accept it (state machine). */
  public record Launch() implements Decision {}

  /**
   * Not yet: ask again at {@code until}, or, when {@code until} is {@code null}, after the state
   * changes (an open run of the job ends, or a reached instant is accounted).
   */
  public record Wait(Instant until) implements Decision {}

  /** The instant or due run ends {@code SKIPPED(reason)}; no intent for it can be accepted. */
  public record Skip(SkipReason reason) implements Decision {
    public Skip {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * A scheduled instant missed within the job's misfire window: the job's {@link MisfirePolicy}
   * decides whether it runs, when the state machine accounts it. The dispatcher proposes a {@code
   * Tick} for it, never an intent.
   */
  public record Missed() implements Decision {}

  /** The schedule language's finest step: no two scheduled instants of a job are closer. */
  public static final Duration FINEST_PERIOD = Duration.ofSeconds(1);

  private static final Launch LAUNCH = new Launch();
  private static final Missed MISSED = new Missed();
  private static final Wait UNTIL_A_RUN_ENDS = new Wait(null);
  private static final Wait UNTIL_THE_INSTANT_IS_ACCOUNTED = new Wait(null);

  /**
   * A scheduled instant of a job whose run is not open yet.
   *
   * <p>Ahead of the instant ({@code instant} after {@code now}) the launch may be chosen early only
   * if nothing that is decided at the instant could refuse it: at most {@link
   * CronStateMachine#MAX_LAUNCH_AHEAD} ahead, the job not paused, the instant not in a DST gap, and
   * no open run a {@code forbid} or {@code replace} policy would look at (the launch is final once
   * chosen). Otherwise it waits for the instant.
   *
   * <p>Reached, in this order: paused ({@code PAUSED}), in a DST gap ({@code DST_GAP}), missed by
   * more than {@link CronStateMachine#MISFIRE_THRESHOLD} (outside the misfire window {@code
   * MISFIRE}, inside it {@link Missed}), otherwise on time and the concurrency policy decides
   * ({@link #concurrency}).
   *
   * @param openRuns the job's open runs
   * @param inDstGap whether the instant's wall-clock time does not exist and the job's DST policy
   *     skips such times
   */
  public static Decision scheduledInstant(
      JobSpec spec, int openRuns, boolean inDstGap, Instant instant, Instant now) {
    if (instant.isAfter(now)) {
      Instant earliest = instant.minus(CronStateMachine.MAX_LAUNCH_AHEAD);
      if (earliest.isAfter(now)) {
        return new Wait(earliest);
      }
      boolean decidedAtInstant =
          spec.paused()
              || inDstGap
              || spec.concurrency() != ConcurrencyPolicy.ALLOW && openRuns > 0
              || openRuns >= CronStateMachine.MAX_OPEN_RUNS_PER_JOB;
      return decidedAtInstant ? new Wait(instant) : LAUNCH;
    }
    if (spec.paused()) {
      return new Skip(SkipReason.PAUSED);
    }
    if (inDstGap) {
      return new Skip(SkipReason.DST_GAP);
    }
    if (missed(instant, now)) {
      return withinMisfireWindow(spec, instant, now) ? MISSED : new Skip(SkipReason.MISFIRE);
    }
    return concurrency(spec.concurrency(), openRuns, false);
  }

  /**
   * A run that should start, against the job's concurrency policy: {@code allow} starts it beside
   * the open runs (up to {@link CronStateMachine#MAX_OPEN_RUNS_PER_JOB}), {@code forbid} skips it
   * ({@code OVERLAP}) if any run is open unless it may queue, {@code replace} starts it (the state
   * machine supersedes the open runs).
   *
   * @param mayQueue whether under {@code forbid} the run waits behind the open runs (a catch-up
   *     run, or an on-time instant after catch-up runs were queued) instead of being skipped
   */
  public static Decision concurrency(ConcurrencyPolicy policy, int openRuns, boolean mayQueue) {
    if (openRuns >= CronStateMachine.MAX_OPEN_RUNS_PER_JOB && policy != ConcurrencyPolicy.REPLACE) {
      return new Skip(SkipReason.OVERLAP);
    }
    if (policy == ConcurrencyPolicy.FORBID && openRuns > 0 && !mayQueue) {
      return new Skip(SkipReason.OVERLAP);
    }
    return LAUNCH;
  }

  /**
   * A run that is due and has no intent yet (status {@link RunStatus#DUE}). While a scheduled
   * instant of its job at or before {@code now} is not accounted yet it waits: the state machine
   * accounts that instant first when it applies a command stamped {@code now}, and the instant may
   * end this run ({@code replace} supersedes it, a misfire policy expires it). Past its deadline
   * ({@link #deadline}) after it fell due it is skipped ({@code DEADLINE}); under {@code forbid} it
   * waits while another run of the job is launched, running or waiting to retry; otherwise it may
   * start.
   *
   * @param dueAt when the state machine found it due
   * @param otherRunInProgress whether another run of the job is past {@code DUE}
   * @param instantPending whether the job's next scheduled instant is at or before {@code now}
   *     (never for the state machine checking an intent: it has accounted every instant up to the
   *     stamp)
   */
  public static Decision dueRun(
      JobSpec spec,
      Instant dueAt,
      boolean otherRunInProgress,
      boolean instantPending,
      Instant now) {
    if (instantPending) {
      return UNTIL_THE_INSTANT_IS_ACCOUNTED;
    }
    if (Duration.between(dueAt, now).compareTo(deadline(spec)) > 0) {
      return new Skip(SkipReason.DEADLINE);
    }
    if (spec.concurrency() == ConcurrencyPolicy.FORBID && otherRunInProgress) {
      return UNTIL_A_RUN_ENDS;
    }
    return LAUNCH;
  }

  /** A run waiting to retry may start its next attempt once its backoff has passed. */
  public static Decision retry(Instant notBefore, Instant now) {
    return now.isBefore(notBefore) ? new Wait(notBefore) : LAUNCH;
  }

  /**
   * How long a due run may wait for its launch: the job's misfire window, but never less than
   * {@link CronStateMachine#MISFIRE_THRESHOLD}.
   */
  public static Duration deadline(JobSpec spec) {
    Duration window = spec.misfire().window();
    return window.compareTo(CronStateMachine.MISFIRE_THRESHOLD) > 0
        ? window
        : CronStateMachine.MISFIRE_THRESHOLD;
  }

  /**
   * Whether another scheduled instant of the same job may also be reached when {@code instant} is
   * looked at {@code now}: schedules have whole seconds, so two instants of a job are at least
   * {@link #FINEST_PERIOD} apart. The state machine accounts every reached instant of a job
   * together (a {@code replace} instant supersedes the one before, a misfire policy runs one of
   * several), so an instant that may have a reached successor is decided by the command that
   * accounts them, not by the dispatcher looking at it alone.
   */
  public static boolean mayHaveReachedSuccessor(Instant instant, Instant now) {
    return !instant.isAfter(now.minus(FINEST_PERIOD));
  }

  /** Whether {@code instant}, looked at {@code now}, was missed (no leader, or one too slow). */
  public static boolean missed(Instant instant, Instant now) {
    return Duration.between(instant, now).compareTo(CronStateMachine.MISFIRE_THRESHOLD) > 0;
  }

  /** Whether a missed {@code instant} is still young enough for the misfire policy to run it. */
  public static boolean withinMisfireWindow(JobSpec spec, Instant instant, Instant now) {
    return Duration.between(instant, now).compareTo(spec.misfire().window()) <= 0;
  }
}
