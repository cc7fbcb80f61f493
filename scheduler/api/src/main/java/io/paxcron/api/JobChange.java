package io.paxcron.api;

import io.paxcron.schedule.ScheduleField;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.JobSpec;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A change a client asked for, before the leader stamps it: a {@link CronCommand} without its
 * {@code stampedAt} (and, for a put, without the leader's {@code ?} values). The API layer never
 * reads a clock; the {@link CronCluster} implementation turns changes into commands with {@link
 * LeaderStamper} at the moment it proposes them.
 */
public sealed interface JobChange {

  /** The job the change is about. */
  String name();

  /** Creates or replaces a job. */
  record Put(JobSpec spec, ExpectedVersion expected) implements JobChange {
    public Put {
      Objects.requireNonNull(spec, "spec");
      Objects.requireNonNull(expected, "expected");
    }

    @Override
    public String name() {
      return spec.name();
    }
  }

  /** Deletes a job. */
  record Delete(String name, ExpectedVersion expected) implements JobChange {
    public Delete {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(expected, "expected");
    }
  }

  record Pause(String name) implements JobChange {
    public Pause {
      Objects.requireNonNull(name, "name");
    }
  }

  record Resume(String name) implements JobChange {
    public Resume {
      Objects.requireNonNull(name, "name");
    }
  }

  /** Starts a manual run named by the stamp, {@code job@stamp/manual}. */
  record Trigger(String name) implements JobChange {
    public Trigger {
      Objects.requireNonNull(name, "name");
    }
  }

  /**
   * The command for this change, stamped by the leader.
   *
   * @param stampedAt the leader's clock when it proposes
   * @param chosen for a put: the leader's value per {@code ?} field (empty otherwise, or to keep
   *     the values already chosen for an unchanged schedule)
   */
  default CronCommand toCommand(Instant stampedAt, Map<ScheduleField, Integer> chosen) {
    return switch (this) {
      case Put put -> new CronCommand.PutJob(put.spec(), put.expected(), chosen, stampedAt);
      case Delete delete ->
          new CronCommand.DeleteJob(JobName.of(delete.name()), delete.expected(), stampedAt);
      case Pause pause -> new CronCommand.PauseJob(JobName.of(pause.name()), stampedAt);
      case Resume resume -> new CronCommand.ResumeJob(JobName.of(resume.name()), stampedAt);
      case Trigger trigger -> new CronCommand.TriggerJob(JobName.of(trigger.name()), stampedAt);
    };
  }
}
