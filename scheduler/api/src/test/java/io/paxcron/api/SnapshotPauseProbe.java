package io.paxcron.api;

import io.paxcron.api.auth.SecuredStateMachine;
import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.Value;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A measuring program, not a test: the replica's state machine stack (sessions, access layer, job
 * batches, cron state) loaded with the scale benchmark's job mix, then what a snapshot costs the
 * replica's loop thread — encoding the whole snapshot there, as before, against taking the image
 * the snapshot thread encodes — and what the encoding and a restore cost off the loop. It prints
 * every round's times and asserts nothing. Usage: {@code SnapshotPauseProbe <jobs> [rounds]}; the
 * command line is in docs/performance.md.
 */
final class SnapshotPauseProbe {

  private SnapshotPauseProbe() {}

  public static void main(String[] args) {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    CronStateMachine cron = new CronStateMachine();
    SessionStateMachine sessions =
        new SessionStateMachine(new SecuredStateMachine(new JobBatchStateMachine(cron)), 100_000);
    load(cron, sessions, jobs);
    System.out.printf(
        Locale.ROOT,
        "%,d jobs loaded through slot %d%n",
        cron.jobCount(),
        sessions.appliedThroughSlot());
    long[] encodeOnLoop = new long[rounds];
    long[] imageOnLoop = new long[rounds];
    long[] encodeOffLoop = new long[rounds];
    long[] restore = new long[rounds];
    int bytes = 0;
    for (int round = 0; round < rounds; round++) {
      long started = System.nanoTime();
      Snapshot before = sessions.snapshot();
      encodeOnLoop[round] = System.nanoTime() - started;

      started = System.nanoTime();
      SessionStateMachine.Image image = sessions.image();
      imageOnLoop[round] = System.nanoTime() - started;
      started = System.nanoTime();
      Snapshot after = image.encode();
      encodeOffLoop[round] = System.nanoTime() - started;
      if (!Arrays.equals(before.data(), after.data())) {
        throw new IllegalStateException("the image encodes other bytes than the snapshot");
      }
      bytes = after.data().length;

      started = System.nanoTime();
      new SessionStateMachine(
              new SecuredStateMachine(new JobBatchStateMachine(new CronStateMachine())), 100_000)
          .restore(after);
      restore[round] = System.nanoTime() - started;
      System.out.printf(
          Locale.ROOT,
          "round %d: loop pause before (encode on the loop) %.1f ms; after (take the image) %.2f"
              + " ms; encode off the loop %.1f ms; restore %.1f ms%n",
          round + 1,
          encodeOnLoop[round] / 1e6,
          imageOnLoop[round] / 1e6,
          encodeOffLoop[round] / 1e6,
          restore[round] / 1e6);
    }
    System.out.printf(
        Locale.ROOT,
        "%,d jobs, snapshot %,d bytes: loop pause median before %.1f ms, after %.2f ms (best %.2f);"
            + " encoding off the loop median %.1f ms; restore median %.1f ms%n",
        jobs,
        bytes,
        median(encodeOnLoop) / 1e6,
        median(imageOnLoop) / 1e6,
        Arrays.stream(imageOnLoop).min().orElse(0) / 1e6,
        median(encodeOffLoop) / 1e6,
        median(restore) / 1e6);
  }

  /** The benchmark's mix (ops/bench/scale), in Apply batches of 1,000 from one client each. */
  private static void load(CronStateMachine cron, SessionStateMachine sessions, int jobs) {
    JobCommand command = new JobCommand.Argv(List.of("/bin/true"));
    Instant stamp = Instant.parse("2026-12-02T12:00:00Z");
    long slot = 0;
    for (int from = 0; from < jobs; from += 1000) {
      List<JobChange> changes = new ArrayList<>(1000);
      for (int i = from; i < Math.min(jobs, from + 1000); i++) {
        String schedule =
            i % 1000 == 0
                ? "* * * * * *"
                : i % 100 == 1
                    ? "? * * * * *"
                    : i % 100 == 2 ? "0 7 * * * *" : i % 2 == 0 ? "? * * * *" : "? ? * * *";
        changes.add(
            new JobChange.Put(
                JobSpec.builder(String.format(Locale.ROOT, "scale-%07d", i), schedule, command)
                    .build(),
                ExpectedVersion.ANY));
      }
      stamp = stamp.plusMillis(5);
      byte[] payload =
          JobBatchStateMachine.encode(
              LeaderStamper.stamp(changes, stamp, cron, cron::launchDensity));
      slot++;
      sessions.apply(
          new LogEntry(
              slot,
              new Ballot(1, 1),
              new Value.Batch(List.of(new Command(slot, 1, payload))),
              true));
    }
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
