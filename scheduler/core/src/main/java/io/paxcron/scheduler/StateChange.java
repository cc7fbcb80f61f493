package io.paxcron.scheduler;

import java.time.Instant;
import java.util.Objects;

/**
 * What applying a chosen command changed, for the leader's {@link Dispatcher} (followers drain and
 * drop them). Emitted in apply order by {@link CronStateMachine#drainChanges()}.
 */
public sealed interface StateChange {

  /**
   * A job's next scheduled instant is now {@code nextDue} ({@code null}: the schedule is
   * exhausted).
   */
  record JobScheduled(String job, Instant nextDue) implements StateChange {
    public JobScheduled {
      Objects.requireNonNull(job, "job");
    }
  }

  /** A job was deleted. */
  record JobRemoved(String job) implements StateChange {
    public JobRemoved {
      Objects.requireNonNull(job, "job");
    }
  }

  /** A run fell due (on time, caught up, or triggered) and waits for an intent. */
  record RunDue(Run run) implements StateChange {
    public RunDue {
      Objects.requireNonNull(run, "run");
    }
  }

  /**
   * An intent is chosen: the leader whose ballot it carries may now send the launch (protocol step
   * 2).
   */
  record LaunchChosen(Run run) implements StateChange {
    public LaunchChosen {
      Objects.requireNonNull(run, "run");
    }
  }

  /** A launched run must be cancelled ({@code replace} policy or job deleted). */
  record CancelRequested(Run run) implements StateChange {
    public CancelRequested {
      Objects.requireNonNull(run, "run");
    }
  }

  /** An attempt failed and the run waits for its next attempt. */
  record RetryScheduled(Run run) implements StateChange {
    public RetryScheduled {
      Objects.requireNonNull(run, "run");
    }
  }

  /** A run (or a stretch of skipped instants) ended in the ledger. */
  record RunEnded(LedgerRecord record) implements StateChange {
    public RunEnded {
      Objects.requireNonNull(record, "record");
    }
  }
}
