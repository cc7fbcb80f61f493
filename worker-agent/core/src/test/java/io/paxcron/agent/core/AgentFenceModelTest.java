package io.paxcron.agent.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.paxcron.agent.core.AgentEffect.ReportKind;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The indexed {@link AgentFence} against {@link TableWalkingFence}, the same rules computed by
 * walking the whole table: random inputs from a driver that follows the contract (it starts what it
 * is told to, finishes what runs, restarts and compacts), and after every step the same records,
 * the same effects in the same order, the same answer to every query, and indexes that agree with
 * the table. The seed is printed; {@code -Dagent.seed=N} replays one.
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

  /** One fence and the model it is compared with, each with its own journal. */
  private static final class Twins {
    AgentFence fence = new AgentFence(LIMITS);
    TableWalkingFence model = new TableWalkingFence(LIMITS);
    final List<JournalRecord> fenceJournal = new ArrayList<>();
    final List<JournalRecord> modelJournal = new ArrayList<>();

    /** Keys the driver was told to start and has not reported started or finished yet. */
    final Set<LaunchKey> toldToStart = new LinkedHashSet<>();
  }

  @Test
  void theIndexedFenceAnswersEveryInputAndQueryAsAWalkOfTheWholeTableDoes() {
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
    Twins twins = new Twins();
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
      String what;
      switch (random.nextInt(12)) {
        case 0, 1 -> {
          Instant startAt =
              random.nextBoolean() ? null : now.plusMillis(40L * random.nextInt(-3, 40));
          byte[] payload = {(byte) step};
          what = "onLaunch " + key + " at " + startAt;
          compare(
              twins,
              what,
              twins.fence.onLaunch(now, key, current, startAt, payload),
              twins.model.onLaunch(now, key, current, startAt, payload));
        }
        case 2 -> {
          what = "onGetRun " + key;
          compare(
              twins,
              what,
              twins.fence.onGetRun(now, key, current),
              twins.model.onGetRun(now, key, current));
        }
        case 3 -> {
          what = "onCancel " + key;
          compare(
              twins,
              what,
              twins.fence.onCancel(now, key, current),
              twins.model.onCancel(now, key, current));
        }
        case 4, 5 -> {
          Instant sentAt = now.minusMillis(random.nextInt(200));
          Duration lease = Duration.ofMillis(500 + random.nextInt(3_000));
          what = "onHeartbeatAcknowledged sent " + sentAt + " for " + lease;
          compare(
              twins,
              what,
              twins.fence.onHeartbeatAcknowledged(now, sentAt, lease, current),
              twins.model.onHeartbeatAcknowledged(now, sentAt, lease, current));
        }
        case 6, 7 -> {
          what = "onTick";
          compare(twins, what, twins.fence.onTick(now), twins.model.onTick(now));
        }
        case 8 -> {
          List<LaunchKey> told = new ArrayList<>(twins.toldToStart);
          if (told.isEmpty()) {
            continue;
          }
          LaunchKey started = told.get(random.nextInt(told.size()));
          twins.toldToStart.remove(started);
          if (random.nextInt(4) == 0) {
            what = "onFinished (could not start) " + started;
            compare(
                twins,
                what,
                twins.fence.onFinished(started, Outcome.failed(127), "bad spec", now, new byte[0]),
                twins.model.onFinished(started, Outcome.failed(127), "bad spec", now, new byte[0]));
          } else {
            what = "onStarted " + started;
            compare(
                twins,
                what,
                twins.fence.onStarted(started, now),
                twins.model.onStarted(started, now));
          }
        }
        case 9 -> {
          List<LaunchKey> running = new ArrayList<>();
          for (LaunchKey candidate : twins.model.running()) {
            if (twins.model.view(candidate).phase() == RunPhase.RUNNING) {
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
          compare(
              twins,
              what,
              twins.fence.onFinished(finished, outcome, "", now, output),
              twins.model.onFinished(finished, outcome, "", now, output));
        }
        case 10 -> {
          ReportKind kind = random.nextInt(3) == 0 ? ReportKind.STARTED : ReportKind.FINISHED;
          what = "onReportAcknowledged " + key + " " + kind;
          compare(
              twins,
              what,
              twins.fence.onReportAcknowledged(key, kind),
              twins.model.onReportAcknowledged(key, kind));
        }
        default -> {
          if (random.nextBoolean()) {
            what = "restart from the journal";
            restart(twins, twins.fenceJournal, twins.modelJournal);
          } else {
            what = "compaction, then a restart";
            JournalRecord.Snapshot fenceSnapshot = twins.fence.snapshot();
            JournalRecord.Snapshot modelSnapshot = twins.model.snapshot();
            assertArrayEquals(
                JournalCodec.encode(modelSnapshot), JournalCodec.encode(fenceSnapshot), what);
            twins.fenceJournal.clear();
            twins.fenceJournal.add(fenceSnapshot);
            twins.modelJournal.clear();
            twins.modelJournal.add(modelSnapshot);
            twins.fence.onCompacted();
            twins.model.onCompacted();
            restart(twins, twins.fenceJournal, twins.modelJournal);
          }
        }
      }
      compareQueries(twins, now, "step " + step + " (" + what + ")");
    }
  }

  /** What a restarted driver does: recover, and settle the launches that may have started. */
  private static void restart(
      Twins twins, List<JournalRecord> fenceJournal, List<JournalRecord> modelJournal)
      throws CorruptJournalException {
    twins.fence =
        AgentFence.recover(
            LIMITS, JournalCodec.decode(JournalCodec.encode(fenceJournal), "fence").records());
    twins.model =
        TableWalkingFence.recover(
            LIMITS, JournalCodec.decode(JournalCodec.encode(modelJournal), "model").records());
    twins.toldToStart.clear();
    for (LaunchKey key : twins.model.running()) {
      if (twins.model.view(key).phase() == RunPhase.ACCEPTED) {
        compare(
            twins,
            "settling " + key + " after a restart",
            twins.fence.onFinished(key, Outcome.failed(137), "died", T0, new byte[0]),
            twins.model.onFinished(key, Outcome.failed(137), "died", T0, new byte[0]));
      }
    }
  }

  private static void compare(Twins twins, String what, Ready fence, Ready model) {
    assertEquals(
        HexFormat.of().formatHex(JournalCodec.encode(model.persist())),
        HexFormat.of().formatHex(JournalCodec.encode(fence.persist())),
        what + ": records");
    assertEquals(model.effects().size(), fence.effects().size(), what + ": effects " + fence);
    for (int i = 0; i < model.effects().size(); i++) {
      AgentEffect expected = model.effects().get(i);
      AgentEffect actual = fence.effects().get(i);
      if (expected instanceof AgentEffect.Start start) {
        AgentEffect.Start other = assertInstanceOf(AgentEffect.Start.class, actual, what);
        assertEquals(start.key(), other.key(), what + ": effect " + i);
        assertArrayEquals(start.payload(), other.payload(), what + ": effect " + i);
        twins.toldToStart.add(start.key());
      } else {
        assertEquals(expected, actual, what + ": effect " + i);
      }
    }
    twins.fenceJournal.addAll(fence.persist());
    twins.modelJournal.addAll(model.persist());
    twins.fence.checkIndexes();
  }

  private static void compareQueries(Twins twins, Instant now, String what) {
    AgentFence fence = twins.fence;
    TableWalkingFence model = twins.model;
    fence.checkIndexes();
    assertEquals(model.pendingReports(), fence.pendingReports(), what + ": pendingReports");
    assertEquals(model.unacknowledged(), fence.unacknowledged(), what + ": unacknowledged");
    assertEquals(model.running(), fence.running(), what + ": running");
    assertEquals(model.openCount(), fence.openCount(), what + ": openCount");
    assertEquals(model.nextStartAt(), fence.nextStartAt(), what + ": nextStartAt");
    for (long millis : new long[] {-150, -1, 0, 1, 50, 99, 100, 101, 700}) {
      Instant asked = now.plusMillis(millis);
      assertEquals(
          model.nextStartAfter(asked),
          fence.nextStartAfter(asked),
          what + ": nextStartAfter " + asked);
    }
    assertEquals(model.size(), fence.size(), what + ": size");
    assertEquals(model.highestSeen(), fence.highestSeen(), what + ": highestSeen");
    assertEquals(model.leaseExpiry(), fence.leaseExpiry(), what + ": leaseExpiry");
    assertEquals(model.needsCompaction(), fence.needsCompaction(), what + ": needsCompaction");
    assertArrayEquals(
        JournalCodec.encode(model.snapshot()),
        JournalCodec.encode(fence.snapshot()),
        what + ": snapshot");
  }
}
