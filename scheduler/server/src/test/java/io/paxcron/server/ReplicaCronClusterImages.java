package io.paxcron.server;

import io.paxcron.api.JobBatchStateMachine;
import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Value;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds cron state machine images the way replicas do: by applying chosen log entries. */
final class ReplicaCronClusterImages {

  private ReplicaCronClusterImages() {}

  /**
   * Applies, in slots 1..{@code slot}, {@code jobs} job puts (slot 1) followed by no-ops, so the
   * image is labelled {@code slot}.
   */
  static void putJobs(SessionStateMachine sessions, long slot, int jobs) {
    Instant stamp = Instant.parse("2026-12-01T09:00:00Z");
    List<CronCommand> puts = new ArrayList<>();
    for (int n = 0; n < jobs; n++) {
      JobSpec spec =
          JobSpec.builder("job-" + n, "0 3 * * *", new JobCommand.Argv(List.of("/bin/true")))
              .build();
      puts.add(new CronCommand.PutJob(spec, ExpectedVersion.ANY, Map.of(), stamp));
    }
    Ballot ballot = new Ballot(1, 1);
    sessions.apply(
        new LogEntry(
            1,
            ballot,
            new Value.Batch(List.of(new Command(7, 1, JobBatchStateMachine.encode(puts)))),
            true));
    for (long s = 2; s <= slot; s++) {
      sessions.apply(new LogEntry(s, ballot, new Value.NoOp(), true));
    }
  }
}
