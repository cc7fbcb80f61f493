package io.paxcron.cli.crontab;

import io.paxcron.scheduler.JobSpec;
import java.util.List;
import java.util.Objects;

/**
 * A job read from one crontab line.
 *
 * @param spec the job as it will be applied
 * @param line the 1-based line it came from
 * @param derivedName whether the name was derived from the line (no {@code # paxcron: name=})
 * @param notes how the line was read where that is not obvious (the {@code %} split), for the plan
 */
public record ImportedJob(JobSpec spec, int line, boolean derivedName, List<String> notes) {
  public ImportedJob {
    Objects.requireNonNull(spec, "spec");
    notes = List.copyOf(notes);
  }
}
