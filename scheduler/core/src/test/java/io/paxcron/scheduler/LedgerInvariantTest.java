package io.paxcron.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.StateMachine;
import io.paxcron.schedule.NextFire;
import io.paxcron.schedule.Schedule;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Drives the state machine with a random, misbehaving leader (gaps without a leader, lost and
 * duplicated reports, agents vanishing, pauses, triggers) and checks DESIGN §1 promise 3: every
 * scheduled instant of every job ends in exactly one ledger record. A twin restored from a snapshot
 * mid-run must answer every later command identically and end in the same bytes.
 */
final class LedgerInvariantTest {
  private static final List<String> SCHEDULES =
      List.of(
          "@every 7s",
          "*/5 * * * * *",
          "*/13 * * * * *",
          "@every 30s",
          "* * * * * *",
          "0 * * * * *");
  private static final List<AgentId> AGENTS =
      List.of(AgentId.of("agent-1"), AgentId.of("agent-2"), AgentId.of("agent-3"));

  private static final class Cluster {
    final SplittableRandom random;
    CronStateMachine machine = new CronStateMachine();
    CronStateMachine twin;
    long slot;
    Instant now = Fixture.T0;
    Ballot ballot = new Ballot(1, 1);
    int commands;

    Cluster(SplittableRandom random) {
      this.random = random;
    }

    CommandResult apply(CronCommand command) {
      commands++;
      slot++;
      CommandResult result = machine.apply(slot, command);
      if (twin != null) {
        CommandResult twinResult = twin.apply(slot, command);
        assertEquals(
            result,
            twinResult,
            "twin restored from a snapshot answered " + command + " differently");
      }
      assertIndexesMatchOpenRuns(machine);
      if (twin != null) {
        assertIndexesMatchOpenRuns(twin);
      }
      return result;
    }
  }

  /** The state machine's index of due runs and count of runs in progress agree with its runs. */
  private static void assertIndexesMatchOpenRuns(CronStateMachine machine) {
    List<Run> open = machine.openRuns();
    assertEquals(
        open.stream().filter(run -> run.status() == RunStatus.DUE).toList(), machine.runsDue());
    assertEquals(
        open.stream().filter(run -> run.status() != RunStatus.DUE).count(),
        machine.inProgressRunCount());
  }

  private static JobSpec randomJob(SplittableRandom random, int index) {
    Semantics semantics = random.nextBoolean() ? Semantics.AT_MOST_ONCE : Semantics.AT_LEAST_ONCE;
    RetryPolicy retries =
        semantics == Semantics.AT_LEAST_ONCE
            ? new RetryPolicy(
                1 + random.nextInt(3),
                Duration.ofSeconds(1 + random.nextInt(5)),
                Duration.ofSeconds(30),
                0)
            : RetryPolicy.NONE;
    return Fixture.job("job-" + index, SCHEDULES.get(random.nextInt(SCHEDULES.size())))
        .concurrency(ConcurrencyPolicy.values()[random.nextInt(3)])
        .misfire(
            new MisfirePolicy(
                MisfirePolicy.Mode.values()[random.nextInt(3)],
                Duration.ofSeconds(10 + random.nextInt(600)),
                1 + random.nextInt(5)))
        .semantics(semantics)
        .retries(retries)
        .historyRetention(JobSpecValidator.MAX_HISTORY_RETENTION)
        .build();
  }

  private static void step(Cluster cluster, int jobs) {
    SplittableRandom random = cluster.random;
    cluster.now =
        cluster.now.plusMillis(
            random.nextInt(100) < 2
                ? 30_000 + random.nextInt(900_000)
                : 200 + random.nextInt(1500));
    Instant now = cluster.now;
    if (random.nextInt(100) < 5) {
      cluster.ballot = new Ballot(cluster.ballot.round() + 1, 1 + random.nextInt(3));
    }
    if (random.nextInt(10) < 9) {
      cluster.apply(new CronCommand.Tick(now));
    }
    for (DueRun due : cluster.machine.dueRuns(now, 1000)) {
      if (random.nextInt(10) < 8) {
        cluster.apply(
            new CronCommand.RunIntent(
                due.runId(),
                due.nextAttempt(),
                AGENTS.get(random.nextInt(AGENTS.size())),
                cluster.ballot,
                now));
      } else if (due.kind() == DueRun.Kind.DUE && random.nextInt(10) == 0) {
        cluster.apply(new CronCommand.RecordSkip(due.runId(), SkipReason.DEADLINE, now));
      }
    }
    for (Run run : cluster.machine.runsNeedingReconciliation()) {
      int dice = random.nextInt(100);
      if (dice < 30) {
        cluster.apply(new CronCommand.RunStarted(run.id(), run.attempt(), run.agentId(), now));
      } else if (dice < 60) {
        Outcome outcome =
            switch (random.nextInt(4)) {
              case 0 -> Outcome.failed(1 + random.nextInt(3));
              case 1 -> Outcome.TIMED_OUT;
              default -> Outcome.SUCCEEDED;
            };
        cluster.apply(new CronCommand.RunFinished(run.id(), run.attempt(), outcome, now));
        if (random.nextInt(4) == 0) {
          cluster.apply(new CronCommand.RunFinished(run.id(), run.attempt(), outcome, now));
        }
      } else if (dice < 63) {
        cluster.apply(new CronCommand.RecordLost(run.id(), run.attempt(), now));
      } else if (dice < 66) {
        cluster.apply(
            new CronCommand.RunIntent(
                run.id(),
                run.attempt() + 1,
                AGENTS.get(random.nextInt(AGENTS.size())),
                cluster.ballot,
                now));
      }
    }
    if (random.nextInt(200) == 0) {
      String name = "job-" + random.nextInt(jobs);
      cluster.apply(
          random.nextBoolean()
              ? new CronCommand.PauseJob(JobName.of(name), now)
              : new CronCommand.ResumeJob(JobName.of(name), now));
    }
    if (random.nextInt(200) == 0) {
      cluster.apply(new CronCommand.TriggerJob(JobName.of("job-" + random.nextInt(jobs)), now));
    }
  }

  @Test
  void everyDueInstantEndsInExactlyOneLedgerRecord() {
    long seed = Seeds.seed("everyDueInstantEndsInExactlyOneLedgerRecord", 4242L);
    for (int round = 0; round < 6; round++) {
      runScenario(seed + round);
    }
  }

  private static void runScenario(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Cluster cluster = new Cluster(random);
    int jobs = 3 + random.nextInt(6);
    List<JobSpec> specs = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      JobSpec spec = randomJob(random, i);
      specs.add(spec);
      Fixture.require(
          cluster.apply(
              new CronCommand.PutJob(
                  spec, ExpectedVersion.ABSENT, java.util.Map.of(), cluster.now)));
    }
    int steps = 1500;
    int twinAt = random.nextInt(steps);
    for (int i = 0; i < steps; i++) {
      if (i == twinAt) {
        CronStateMachine twin = new CronStateMachine();
        twin.restore(cluster.machine.snapshot());
        assertArrayEquals(cluster.machine.snapshot(), twin.snapshot(), "seed " + seed);
        cluster.twin = twin;
      }
      step(cluster, jobs);
    }
    // Heal: the leader records what is reached, then drains every open run.
    cluster.now = cluster.now.plusSeconds(1);
    cluster.apply(new CronCommand.Tick(cluster.now));
    for (JobSpec spec : specs) {
      cluster.apply(new CronCommand.PauseJob(JobName.of(spec.name()), cluster.now));
    }
    for (Run run : cluster.machine.openRuns()) {
      if (run.launched()) {
        cluster.apply(
            new CronCommand.RunFinished(run.id(), run.attempt(), Outcome.SUCCEEDED, cluster.now));
      } else if (run.status() == RunStatus.DUE) {
        cluster.apply(new CronCommand.RecordSkip(run.id(), SkipReason.DEADLINE, cluster.now));
      }
    }
    assertEquals(List.of(), cluster.machine.openRuns(), "seed " + seed);
    for (JobSpec spec : specs) {
      checkLedger(cluster.machine, spec, Fixture.T0, cluster.machine.clock(), seed);
    }
    assertArrayEquals(
        cluster.machine.snapshot(),
        cluster.twin.snapshot(),
        "seed " + seed + ": twin diverged after " + cluster.commands + " commands");
  }

  /**
   * Every instant of the schedule in (createdAt, clock] is covered by exactly one record; records
   * cover nothing else.
   */
  static void checkLedger(
      CronStateMachine machine, JobSpec spec, Instant createdAt, Instant clock, long seed) {
    Schedule schedule = Schedule.parse(spec.schedule());
    List<LedgerRecord> records = new ArrayList<>(machine.ledger(JobName.of(spec.name())));
    records.removeIf(record -> record.runId().manual());
    records.sort((a, b) -> a.runId().instant().compareTo(b.runId().instant()));
    int index = 0;
    long covered = 0;
    Instant instant = createdAt;
    while (true) {
      NextFire next = schedule.next(instant, ZoneOffset.UTC);
      instant = next.instant();
      if (instant.isAfter(clock)) {
        break;
      }
      while (index < records.size() && records.get(index).lastInstant().isBefore(instant)) {
        LedgerRecord done = records.get(index);
        assertEquals(
            done.instantCount(), covered, "seed " + seed + ": " + done + " miscounts its instants");
        index++;
        covered = 0;
      }
      if (index >= records.size() || !records.get(index).covers(instant)) {
        fail(
            "seed "
                + seed
                + ": "
                + spec.name()
                + "@"
                + instant
                + " has no ledger record; records "
                + records.subList(Math.max(0, index - 2), Math.min(records.size(), index + 2)));
      }
      if (covered == 0) {
        assertEquals(
            instant,
            records.get(index).runId().instant(),
            "seed " + seed + ": record starts off the schedule");
      }
      covered++;
      if (spec.semantics() == Semantics.AT_MOST_ONCE) {
        assertTrue(
            records.get(index).attempts() <= 1,
            "seed "
                + seed
                + ": at-most-once run with "
                + records.get(index).attempts()
                + " attempts: "
                + records.get(index));
      }
    }
    if (index < records.size()) {
      assertEquals(
          records.get(index).instantCount(), covered, "seed " + seed + ": " + records.get(index));
      index++;
    }
    assertEquals(
        records.size(),
        index,
        "seed "
            + seed
            + ": records beyond the schedule: "
            + records.subList(index, records.size()));
  }

  @Test
  void snapshotRestoreYieldsEqualStateAndEqualFutureBehaviour() {
    long seed = Seeds.seed("snapshotRestoreYieldsEqualStateAndEqualFutureBehaviour", 99L);
    SplittableRandom random = new SplittableRandom(seed);
    Cluster cluster = new Cluster(random);
    for (int i = 0; i < 5; i++) {
      cluster.apply(
          new CronCommand.PutJob(
              randomJob(random, i), ExpectedVersion.ANY, java.util.Map.of(), cluster.now));
    }
    for (int i = 0; i < 300; i++) {
      step(cluster, 5);
    }
    byte[] image = cluster.machine.snapshot();
    CronStateMachine restored = new CronStateMachine();
    restored.restore(image);
    assertArrayEquals(image, restored.snapshot(), "restore(snapshot()) is the same state");
    assertEquals(cluster.machine.jobs(), restored.jobs());
    assertEquals(cluster.machine.openRuns(), restored.openRuns());
    for (int j = 0; j < 5; j++) {
      assertEquals(
          cluster.machine.ledger(JobName.of("job-" + j)), restored.ledger(JobName.of("job-" + j)));
    }
    cluster.twin = restored;
    for (int i = 0; i < 300; i++) {
      step(cluster, 5);
    }
    assertArrayEquals(cluster.machine.snapshot(), restored.snapshot(), "equal future behaviour");

    CronStateMachine empty = new CronStateMachine();
    empty.restore(new byte[0]);
    assertEquals(List.of(), empty.jobs());
  }

  /**
   * The replica takes an image on its loop and encodes it on another thread while the loop keeps
   * applying: what it encodes must be the state at the image's slot, exactly, however much the
   * jobs, ledgers, cursors and open runs it refers to change afterwards.
   */
  @Test
  void anImageTakenWhileLaterCommandsApplyEncodesExactlyTheStateAtItsSlot() {
    long seed =
        Seeds.seed("anImageTakenWhileLaterCommandsApplyEncodesExactlyTheStateAtItsSlot", 16L);
    for (int round = 0; round < 6; round++) {
      SplittableRandom random = new SplittableRandom(seed + round);
      Cluster cluster = new Cluster(random);
      cluster.twin = new CronStateMachine();
      int jobs = 3 + random.nextInt(6);
      for (int i = 0; i < jobs; i++) {
        cluster.apply(
            new CronCommand.PutJob(
                randomJob(random, i), ExpectedVersion.ANY, java.util.Map.of(), cluster.now));
      }
      for (int i = 0, steps = 50 + random.nextInt(400); i < steps; i++) {
        step(cluster, jobs);
      }
      StateMachine.Image image = cluster.machine.image();
      long imageSlot = cluster.machine.appliedSlot();
      // The twin applied exactly the commands up to the image's slot, and stops there.
      CronStateMachine atImage = cluster.twin;
      cluster.twin = null;
      for (int i = 0; i < 300; i++) {
        step(cluster, jobs);
        int dice = random.nextInt(100);
        String name = "job-" + random.nextInt(jobs);
        if (dice < 3) {
          cluster.apply(
              new CronCommand.PutJob(
                  randomJob(random, random.nextInt(jobs)),
                  ExpectedVersion.ANY,
                  java.util.Map.of(),
                  cluster.now));
        } else if (dice < 4) {
          cluster.apply(
              new CronCommand.DeleteJob(JobName.of(name), ExpectedVersion.ANY, cluster.now));
        }
      }
      byte[] encoded = image.encode();
      String where = "seed " + (seed + round) + ", image at slot " + imageSlot;
      assertArrayEquals(atImage.snapshot(), encoded, where + ": not the state at its slot");
      assertFalse(
          Arrays.equals(encoded, cluster.machine.snapshot()),
          where + ": the state did not move on after the image, so this proves nothing");
      assertArrayEquals(encoded, image.encode(), where + ": a second encoding differs");
      CronStateMachine restored = new CronStateMachine();
      restored.restore(encoded);
      assertEquals(atImage.jobs(), restored.jobs(), where);
      assertEquals(atImage.openRuns(), restored.openRuns(), where);
      assertArrayEquals(encoded, restored.snapshot(), where);
    }
  }
}
