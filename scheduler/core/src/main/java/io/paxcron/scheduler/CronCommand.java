package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import io.paxcron.schedule.ScheduleField;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The commands of the cron state machine, as the leader proposes them into the replicated log.
 * Every command carries a leader stamp: the state machine never reads a clock, it takes "now" from
 * the highest stamp it has applied (DESIGN §2 "Time"). Encoded by {@link CronCodec}.
 */
public sealed interface CronCommand {

  /** The leader's clock when it proposed the command. */
  Instant stampedAt();

  /**
   * Creates or replaces a job.
   *
   * @param spec the job
   * @param expected the optimistic-concurrency condition
   * @param chosen the value the leader chose for each {@code ?} field of the schedule (empty if
   *     none, or to keep the values already chosen for an unchanged schedule)
   * @param stampedAt the leader's clock at proposal (the job's first run is after it)
   */
  record PutJob(
      JobSpec spec, ExpectedVersion expected, Map<ScheduleField, Integer> chosen, Instant stampedAt)
      implements CronCommand {
    public PutJob {
      Objects.requireNonNull(spec, "spec");
      Objects.requireNonNull(expected, "expected");
      Objects.requireNonNull(stampedAt, "stampedAt");
      chosen = chosen.isEmpty() ? Map.of() : Collections.unmodifiableMap(new EnumMap<>(chosen));
    }
  }

  /** Deletes a job and its ledger; launched runs get a cancel request. */
  record DeleteJob(JobName name, ExpectedVersion expected, Instant stampedAt)
      implements CronCommand {
    public DeleteJob {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(expected, "expected");
      Objects.requireNonNull(stampedAt, "stampedAt");
    }
  }

  /** Pauses a job: instants falling due are recorded {@code SKIPPED(PAUSED)}. */
  record PauseJob(JobName name, Instant stampedAt) implements CronCommand {
    public PauseJob {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(stampedAt, "stampedAt");
    }
  }

  /** Resumes a paused job from the next instant on (instants missed while paused stay skipped). */
  record ResumeJob(JobName name, Instant stampedAt) implements CronCommand {
    public ResumeJob {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(stampedAt, "stampedAt");
    }
  }

  /** Starts a manual run now ({@code job@stampedAt/manual}), obeying the concurrency policy. */
  record TriggerJob(JobName name, Instant stampedAt) implements CronCommand {
    public TriggerJob {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(stampedAt, "stampedAt");
    }

    /**
     * The run this trigger starts: named by the leader's stamp and marked manual, so it never
     * collides with a scheduled instant. The one place a triggered run's id is made.
     */
    public RunId runId() {
      return new RunId(name, stampedAt, true);
    }
  }

  /**
   * Launch protocol step 1: the leader intends to launch {@code attempt} of {@code runId} on {@code
   * agentId} under {@code ballot}. Only once this is chosen may the launch be sent.
   */
  record RunIntent(RunId runId, int attempt, AgentId agentId, Ballot ballot, Instant stampedAt)
      implements CronCommand {
    public RunIntent {
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(ballot, "ballot");
      Objects.requireNonNull(stampedAt, "stampedAt");
      if (attempt < 1) {
        throw new IllegalArgumentException("attempt is 1-based, got " + attempt);
      }
    }
  }

  /**
   * Launch protocol step 3: the agent reported that the attempt started. Duplicates are ignored.
   */
  record RunStarted(RunId runId, int attempt, AgentId agentId, Instant stampedAt)
      implements CronCommand {
    public RunStarted {
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(agentId, "agentId");
      Objects.requireNonNull(stampedAt, "stampedAt");
    }
  }

  /**
   * Launch protocol step 3: the agent reported how the attempt ended ({@link Outcome.Succeeded},
   * {@link Outcome.Failed} or {@link Outcome.TimedOut}). Duplicates are ignored.
   */
  record RunFinished(RunId runId, int attempt, Outcome outcome, Instant stampedAt, RunDetail detail)
      implements CronCommand {
    public RunFinished {
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(outcome, "outcome");
      Objects.requireNonNull(stampedAt, "stampedAt");
      Objects.requireNonNull(detail, "detail");
    }

    /** A finish without output tail or reason. */
    public RunFinished(RunId runId, int attempt, Outcome outcome, Instant stampedAt) {
      this(runId, attempt, outcome, stampedAt, RunDetail.NONE);
    }
  }

  /**
   * What the agent of a {@code LOST} attempt said once it was heard from again ({@link
   * RunDetail#NEVER_STARTED}, or the outcome it saw). Kept beside the {@code LOST} record, which
   * stays {@code LOST}; the first testimony for an attempt is kept, later ones are duplicates.
   */
  record RecordTestimony(RunId runId, int attempt, String testimony, Instant stampedAt)
      implements CronCommand {
    public RecordTestimony {
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(testimony, "testimony");
      Objects.requireNonNull(stampedAt, "stampedAt");
    }
  }

  /**
   * Records a due run that will not be launched (the dispatcher uses it for {@link
   * SkipReason#DEADLINE}).
   */
  record RecordSkip(RunId runId, SkipReason reason, Instant stampedAt) implements CronCommand {
    public RecordSkip {
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(stampedAt, "stampedAt");
    }
  }

  /**
   * Launch protocol step 4: an at-most-once run whose agent vanished past its lease ends {@code
   * LOST}.
   */
  record RecordLost(RunId runId, int attempt, Instant stampedAt) implements CronCommand {
    public RecordLost {
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(stampedAt, "stampedAt");
    }
  }

  /**
   * Only advances the state machine's time: records due instants, skips and misfires up to {@code
   * stampedAt}.
   */
  record Tick(Instant stampedAt) implements CronCommand {
    public Tick {
      Objects.requireNonNull(stampedAt, "stampedAt");
    }
  }
}
