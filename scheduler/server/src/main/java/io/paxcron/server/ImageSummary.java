package io.paxcron.server;

import io.paxcron.api.JobBatchStateMachine;
import io.paxcron.paxos.KeyValueStateMachine;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Snapshot;
import io.paxcron.scheduler.CronStateMachine;

/**
 * What a backup image holds, found by opening it the way a replica would: as the cron state machine
 * (jobs, ledger records, open runs), else as the log's key-value store (keys). Opening it proves
 * more than checksums do — that this build can read it.
 */
sealed interface ImageSummary {

  /** As many client sessions as a replica keeps ({@code ReplicaServer}'s setting). */
  int MAX_SESSIONS = 100_000;

  record Cron(int jobs, long ledgerRecords, int openRuns, CronStateMachine state)
      implements ImageSummary {
    @Override
    public String describe() {
      return "cron state machine image: "
          + jobs
          + " jobs, "
          + ledgerRecords
          + " ledger records, "
          + openRuns
          + " open runs";
    }
  }

  record KeyValue(int keys) implements ImageSummary {
    @Override
    public String describe() {
      return "key-value image: " + keys + " keys";
    }
  }

  record Unreadable(String reason) implements ImageSummary {
    @Override
    public String describe() {
      return "image does not open: " + reason;
    }
  }

  String describe();

  static ImageSummary of(Snapshot snapshot) {
    String cronProblem;
    try {
      CronStateMachine cron = new CronStateMachine();
      new SessionStateMachine(
              new io.paxcron.api.auth.SecuredStateMachine(new JobBatchStateMachine(cron)),
              MAX_SESSIONS)
          .restore(snapshot);
      return new Cron(cron.jobs().size(), cron.ledgerSize(), cron.openRuns().size(), cron);
    } catch (RuntimeException e) {
      cronProblem = e.getMessage();
    }
    try {
      KeyValueStateMachine keyValue = new KeyValueStateMachine();
      new SessionStateMachine(keyValue, MAX_SESSIONS).restore(snapshot);
      return new KeyValue(keyValue.view().size());
    } catch (RuntimeException e) {
      return new Unreadable(
          "not a cron image (" + cronProblem + ") nor a key-value image (" + e.getMessage() + ")");
    }
  }
}
