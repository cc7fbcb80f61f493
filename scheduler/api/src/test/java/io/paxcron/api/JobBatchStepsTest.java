package io.paxcron.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.StateMachine;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.CronCodec;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * A job batch applied in steps ({@link JobBatchStateMachine#applyInSteps}) answers and leaves the
 * state exactly as applying it at once does: a batch of a thousand puts with {@code ?} values, a
 * refused batch, an unreadable one, a plain dispatcher command, and commands whose stamp reaches
 * every job's scheduled instants.
 */
final class JobBatchStepsTest {

  private static final Instant T0 = Instant.parse("2026-12-04T10:00:00Z");

  /** Both machines, fed the same payloads, one at once and one in steps. */
  private final CronStateMachine wholeCron = new CronStateMachine();

  private final JobBatchStateMachine whole = new JobBatchStateMachine(wholeCron);
  private final JobBatchStateMachine stepped = new JobBatchStateMachine(new CronStateMachine());
  private long slot;

  private static List<JobChange> puts(int from, int count, String badAt) {
    List<JobChange> changes = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      String name = String.format(Locale.ROOT, "job-%05d", i);
      String schedule = name.equals(badAt) ? "61 * * * *" : i % 3 == 0 ? "? ? * * *" : "? * * * *";
      changes.add(
          new JobChange.Put(
              JobSpec.builder(name, schedule, new JobCommand.Argv(List.of("/bin/true"))).build(),
              ExpectedVersion.ANY));
    }
    return changes;
  }

  /** Applies {@code payload} to both; returns the number of steps the stepped one took. */
  private int applyBoth(byte[] payload) {
    slot++;
    byte[] expected = whole.apply(slot, payload);
    StateMachine.Steps steps = stepped.applyInSteps(slot, payload);
    int taken = 1;
    byte[] answer = steps.next();
    while (answer == null) {
      taken++;
      answer = steps.next();
    }
    assertArrayEquals(expected, answer, "the answer of slot " + slot);
    assertArrayEquals(whole.snapshot(), stepped.snapshot(), "the state after slot " + slot);
    return taken;
  }

  private byte[] batch(List<JobChange> changes, Instant at) {
    return JobBatchStateMachine.encode(
        LeaderStamper.stamp(changes, at, wholeCron, wholeCron::launchDensity));
  }

  @Test
  void aBatchAppliedInStepsAnswersAndEndsAsAppliedAtOnce() {
    int steps = applyBoth(batch(puts(0, 1000, null), T0));
    assertTrue(
        steps >= 1000 / JobBatchStateMachine.UNITS_PER_STEP,
        "a thousand puts in " + steps + " steps");
    assertEquals(1000, wholeCron.jobCount());

    // A refused batch changes nothing, in one step.
    byte[] refused = batch(puts(990, 20, "job-01005"), T0.plusSeconds(1));
    assertEquals(1, applyBoth(refused));
    List<CommandResult> results =
        JobBatchStateMachine.decodeAnswer(whole.apply(++slot, refused)).results();
    assertEquals(CommandResult.Status.INVALID, results.get(15).status());
    stepped.apply(slot, refused);
    assertEquals(1000, wholeCron.jobCount());

    // An unreadable batch, and a plain command of the dispatcher.
    assertEquals(1, applyBoth(new byte[] {JobBatchStateMachine.BATCH_TAG, 0, 0}));
    assertEquals(1, applyBoth(CronCodec.encode(new CronCommand.Tick(T0.plusSeconds(2)))));
  }

  @Test
  void theJobsAStampReachesAreAccountedForInStepsAndEndAsAccountedForAtOnce() {
    applyBoth(batch(puts(0, 1000, null), T0));
    // A day and an hour later every job has instants to account for: hourly ones 25 (missed, so
    // skipped or run once), daily ones one or two.
    int tickSteps =
        applyBoth(CronCodec.encode(new CronCommand.Tick(T0.plus(Duration.ofHours(25)))));
    assertTrue(
        tickSteps >= 1000 / JobBatchStateMachine.UNITS_PER_STEP,
        "a tick that reached a thousand jobs in " + tickSteps + " steps");
    assertTrue(wholeCron.runsDue().size() > 0, "the tick opened due runs");

    // A batch whose stamp reaches every job again accounts for them before its own commands.
    int batchSteps = applyBoth(batch(puts(1000, 10, null), T0.plus(Duration.ofHours(50))));
    assertTrue(
        batchSteps >= 1 + 1000 / JobBatchStateMachine.UNITS_PER_STEP,
        "a batch whose stamp reached a thousand jobs in " + batchSteps + " steps");
    assertEquals(1010, wholeCron.jobCount());
  }

  @Test
  void stepsAfterTheLastAreNotNeeded() {
    StateMachine.Steps steps = stepped.applyInSteps(++slot, batch(puts(0, 2, null), T0));
    assertNull(steps.next(), "the first step decodes and checks");
    assertTrue(steps.next() != null, "two puts fit one step");
  }
}
