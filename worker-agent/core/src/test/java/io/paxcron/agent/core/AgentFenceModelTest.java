package io.paxcron.agent.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.agent.core.AgentEffect.ReportKind;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Random inputs from a driver that follows the contract (it starts what it is told to, finishes
 * what runs, restarts and compacts), and after every step: indexes that agree with the table
 * ({@code checkIndexes()}), answers that agree with each other, and a journal that, replayed, gives
 * the same fence. The indexed fence was also compared step by step with the table-walking fence it
 * replaced, over the same seeds, when it was introduced. The seed is printed; {@code
 * -Dagent.seed=N} replays one.
 */
final class AgentFenceModelTest {
  private static final String SEED_PROPERTY = "agent.seed";
  private static final long DEFAULT_SEED = 0x5eed_2026_1203L;
  private static final int ROUNDS = 200;
  private static final int STEPS = 400;
  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  private static final AgentLimits LIMITS = new AgentLimits(4, 8, Duration.ofSeconds(2));
  private static final List<FenceBallot> BALLOTS =
      List.of(new FenceBallot(0, 1, 1), new FenceBallot(0, 2, 1), new FenceBallot(0, 3, 2));

  /** The fence under test, its journal, and what its driver was told. */
  private static final class Driven {
    AgentFence fence = new AgentFence(LIMITS);
    final List<JournalRecord> journal = new ArrayList<>();

    /** Keys the driver was told to start and has not reported started or finished yet. */
    final Set<LaunchKey> toldToStart = new LinkedHashSet<>();
  }

  @Test
  void randomInputsKeepTheIndexesTheAnswersAndTheJournalConsistent() {
    Long replayed = Long.getLong(SEED_PROPERTY);
    long first = replayed == null ? DEFAULT_SEED : replayed;
    int rounds = replayed == null ? ROUNDS : 1;
    System.out.println(
        "AgentFenceModelTest: seeds "
            + first
            + " and the "
            + (rounds - 1)
            + " after it (replay one with -D"
            + SEED_PROPERTY
            + "=N)");
    for (int round = 0; round < rounds; round++) {
      long seed = first + round;
      try {
        run(new SplittableRandom(seed));
      } catch (AssertionError | Exception e) {
        throw new AssertionError(
            "seed " + seed + " (replay with -D" + SEED_PROPERTY + "=" + seed + "): " + e, e);
      }
    }
  }

  private static void run(SplittableRandom random) throws Exception {
    Driven driven = new Driven();
    List<LaunchKey> keys = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      keys.add(new LaunchKey(RunId.of(JobName.of("job"), T0.plusSeconds(i)), 1 + i % 2));
    }
    long nowMillis = 0;
    int ballot = 0;
    for (int step = 0; step < STEPS; step++) {
      nowMillis +=
          switch (random.nextInt(4)) {
            case 0 -> random.nextInt(3_000);
            case 1 -> random.nextInt(60, 200);
            default -> random.nextInt(60);
          };
      Instant now = T0.plusMillis(nowMillis);
      if (random.nextInt(20) == 0 && ballot < BALLOTS.size() - 1) {
        ballot++;
      }
      FenceBallot current = BALLOTS.get(random.nextInt(8) == 0 ? random.nextInt(3) : ballot);
      LaunchKey key = keys.get(random.nextInt(keys.size()));
      AgentFence fence = driven.fence;
      String what;
      switch (random.nextInt(12)) {
        case 0, 1 -> {
          Instant startAt =
              random.nextBoolean() ? null : now.plusMillis(40L * random.nextInt(-3, 40));
          byte[] payload = {(byte) step};
          what = "onLaunch " + key + " at " + startAt;
          carryOut(driven, fence.onLaunch(now, key, current, startAt, payload));
        }
        case 2 -> {
          what = "onGetRun " + key;
          carryOut(driven, fence.onGetRun(now, key, current));
        }
        case 3 -> {
          what = "onCancel " + key;
          carryOut(driven, fence.onCancel(now, key, current));
        }
        case 4, 5 -> {
          Instant sentAt = now.minusMillis(random.nextInt(200));
          Duration lease = Duration.ofMillis(500 + random.nextInt(3_000));
          what = "onHeartbeatAcknowledged sent " + sentAt + " for " + lease;
          carryOut(driven, fence.onHeartbeatAcknowledged(now, sentAt, lease, current));
        }
        case 6, 7 -> {
          what = "onTick";
          carryOut(driven, fence.onTick(now));
        }
        case 8 -> {
          List<LaunchKey> told = new ArrayList<>(driven.toldToStart);
          if (told.isEmpty()) {
            continue;
          }
          LaunchKey started = told.get(random.nextInt(told.size()));
          driven.toldToStart.remove(started);
          if (random.nextInt(4) == 0) {
            what = "onFinished (could not start) " + started;
            carryOut(
                driven,
                fence.onFinished(started, Outcome.failed(127), "bad spec", now, new byte[0]));
          } else {
            what = "onStarted " + started;
            carryOut(driven, fence.onStarted(started, now));
          }
        }
        case 9 -> {
          List<LaunchKey> running = new ArrayList<>();
          for (LaunchKey candidate : fence.running()) {
            if (fence.view(candidate).phase() == RunPhase.RUNNING) {
              running.add(candidate);
            }
          }
          if (running.isEmpty()) {
            continue;
          }
          LaunchKey finished = running.get(random.nextInt(running.size()));
          byte[] output = {(byte) step, 1};
          Outcome outcome = random.nextBoolean() ? Outcome.SUCCEEDED : Outcome.failed(1);
          what = "onFinished " + finished;
          carryOut(driven, fence.onFinished(finished, outcome, "", now, output));
        }
        case 10 -> {
          ReportKind kind = random.nextInt(3) == 0 ? ReportKind.STARTED : ReportKind.FINISHED;
          what = "onReportAcknowledged " + key + " " + kind;
          carryOut(driven, fence.onReportAcknowledged(key, kind));
        }
        default -> {
          if (random.nextBoolean()) {
            what = "restart from the journal";
          } else {
            what = "compaction, then a restart";
            JournalRecord.Snapshot snapshot = fence.snapshot();
            driven.journal.clear();
            driven.journal.add(snapshot);
            fence.onCompacted();
          }
          restart(driven);
        }
      }
      checkAnswers(driven, now, "step " + step + " (" + what + ")");
    }
  }

  /** What a restarted driver does: recover, and settle the launches that may have started. */
  private static void restart(Driven driven) throws CorruptJournalException {
    driven.fence = replay(driven.journal);
    driven.toldToStart.clear();
    for (LaunchKey key : driven.fence.running()) {
      if (driven.fence.view(key).phase() == RunPhase.ACCEPTED) {
        carryOut(
            driven, driven.fence.onFinished(key, Outcome.failed(137), "died", T0, new byte[0]));
      }
    }
  }

  private static AgentFence replay(List<JournalRecord> journal) throws CorruptJournalException {
    return AgentFence.recover(
        LIMITS, JournalCodec.decode(JournalCodec.encode(journal), "journal").records());
  }

  /** The driver's part of a step: persist the records, remember the runs it must start. */
  private static void carryOut(Driven driven, Ready ready) {
    driven.journal.addAll(ready.persist());
    for (AgentEffect effect : ready.effects()) {
      if (effect instanceof AgentEffect.Start start) {
        driven.toldToStart.add(start.key());
      }
    }
    driven.fence.checkIndexes();
  }

  private static void checkAnswers(Driven driven, Instant now, String what)
      throws CorruptJournalException {
    AgentFence fence = driven.fence;
    fence.checkIndexes();
    List<LaunchKey> open = fence.running();
    assertTrue(open.size() <= fence.openCount(), what + ": more running than open");
    assertTrue(fence.openCount() <= LIMITS.capacity(), what + ": open launches over capacity");
    assertTrue(fence.size() <= LIMITS.maxLaunches(), what + ": table over maxLaunches");
    for (LaunchKey key : open) {
      RunPhase phase = fence.view(key).phase();
      assertTrue(
          phase == RunPhase.ACCEPTED || phase == RunPhase.RUNNING,
          what + ": running() holds " + key + " in " + phase);
    }
    Set<LaunchKey> unacknowledged = new LinkedHashSet<>();
    for (RunView view : fence.unacknowledged()) {
      unacknowledged.add(view.key());
    }
    for (AgentEffect.Report report : fence.pendingReports()) {
      assertTrue(
          unacknowledged.contains(report.run().key()),
          what
              + ": a report pending for "
              + report.run().key()
              + ", which is not among the unacknowledged");
    }
    // The journal is the fence: replayed, it gives the same table, byte for byte.
    assertArrayEquals(
        JournalCodec.encode(fence.snapshot()),
        JournalCodec.encode(replay(driven.journal).snapshot()),
        what + ": the journal replayed gives another fence");
  }
}
