package io.paxcron.agent.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.agent.core.AgentEffect.ReportKind;
import io.paxcron.agent.core.LeaderReply.LaunchStatus;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The fence's cost follows what an operation answers, not how many launches the table remembers: a
 * table full of launches whose end the leader acknowledged (what an agent holds after minutes of
 * every-second jobs) is not walked by a tick, a query or a launch. Counted in table entries looked
 * at, not timed.
 */
final class AgentFenceScaleTest {
  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  private static final FenceBallot BALLOT = new FenceBallot(0, 1, 1);
  private static final Duration LEASE = Duration.ofSeconds(3);
  private static final int TABLE = 100_000;
  private static final byte[] SPEC = {1, 2, 3};

  /** Entries any one operation below may look at: the few open or unacknowledged launches. */
  private static final long FEW = 20;

  private static LaunchKey key(String job, int second) {
    return new LaunchKey(RunId.of(JobName.of(job), T0.plusSeconds(second)), 1);
  }

  private static Instant at(long millis) {
    return T0.plusMillis(millis);
  }

  /** A fence recovered from a snapshot of {@link #TABLE} ended launches, every one acknowledged. */
  private static AgentFence fullOfAcknowledgedLaunches() {
    List<JournalRecord.LaunchImage> images = new ArrayList<>(TABLE);
    for (int i = 0; i < TABLE; i++) {
      images.add(
          new JournalRecord.LaunchImage(
              key("done", i),
              BALLOT,
              null,
              SPEC,
              RunPhase.FINISHED,
              Outcome.SUCCEEDED,
              "",
              T0.plusSeconds(i),
              T0.plusSeconds(i),
              new byte[0],
              false,
              true));
    }
    AgentFence fence =
        AgentFence.recover(
            new AgentLimits(8, TABLE, Duration.ofMinutes(1)),
            List.of(new JournalRecord.Snapshot(BALLOT, images)));
    assertEquals(TABLE, fence.size());
    return fence;
  }

  /** Runs {@code operation} and returns how many table entries it looked at. */
  private static long visits(AgentFence fence, Runnable operation) {
    long before = fence.entriesVisited();
    operation.run();
    return fence.entriesVisited() - before;
  }

  @Test
  void aTickAndTheDriversQueriesLookOnlyAtTheOpenAndUnacknowledgedLaunchesOfAFullTable() {
    AgentFence fence = fullOfAcknowledgedLaunches();
    fence.onHeartbeatAcknowledged(at(0), at(0), LEASE, BALLOT);
    fence.onLaunch(at(1), key("now", 0), BALLOT, null, SPEC);
    fence.onStarted(key("now", 0), at(2));
    fence.onLaunch(at(3), key("held", 0), BALLOT, at(2_000), SPEC);
    fence.onLaunch(at(4), key("ended", 0), BALLOT, null, SPEC);
    fence.onFinished(key("ended", 0), Outcome.SUCCEEDED, "", at(5), new byte[0]);

    assertTrue(visits(fence, () -> fence.onTick(at(10))) <= FEW, "onTick");
    assertTrue(visits(fence, () -> fence.nextStartAt()) <= FEW, "nextStartAt");
    assertEquals(Optional.of(at(2_000)), fence.nextStartAt());
    long ahead = 2_000 - AgentFence.START_RECORDED_AHEAD.toMillis();
    assertTrue(visits(fence, () -> fence.nextStartAfter(at(10))) <= FEW, "nextStartAfter");
    assertEquals(Optional.of(at(ahead)), fence.nextStartAfter(at(10)));
    assertTrue(visits(fence, fence::pendingReports) <= FEW, "pendingReports");
    assertEquals(
        List.of(ReportKind.STARTED, ReportKind.FINISHED),
        fence.pendingReports().stream().map(AgentEffect.Report::kind).toList());
    assertTrue(visits(fence, fence::unacknowledged) <= FEW, "unacknowledged");
    assertEquals(
        List.of(key("now", 0), key("held", 0), key("ended", 0)),
        fence.unacknowledged().stream().map(RunView::key).toList(),
        "in the order they were accepted");
    assertTrue(visits(fence, fence::running) <= FEW, "running");
    assertEquals(List.of(key("now", 0)), fence.running());
    assertTrue(visits(fence, fence::openCount) <= FEW, "openCount");
    assertEquals(2, fence.openCount());
    assertTrue(visits(fence, () -> fence.onTick(at(ahead))) <= FEW, "onTick recording ahead");
    assertTrue(visits(fence, () -> fence.onTick(at(2_000))) <= FEW, "onTick at the instant");
    assertEquals(List.of(key("now", 0), key("held", 0)), fence.running());
  }

  @Test
  void aLaunchIntoAFullTableForgetsTheOldestAcknowledgedLaunchWithoutWalkingTheTable() {
    AgentFence fence = fullOfAcknowledgedLaunches();
    fence.onHeartbeatAcknowledged(at(0), at(0), LEASE, BALLOT);
    for (int i = 0; i < 3; i++) {
      LaunchKey key = key("new", i);
      long looked =
          visits(
              fence,
              () ->
                  assertEquals(
                      LaunchStatus.ACCEPTED,
                      ((LeaderReply.LaunchAnswer)
                              ((AgentEffect.Reply)
                                      fence
                                          .onLaunch(at(1), key, BALLOT, null, SPEC)
                                          .effects()
                                          .get(0))
                                  .reply())
                          .status()));
      assertTrue(looked <= FEW, "launch " + i + " looked at " + looked + " entries");
      assertEquals(RunPhase.UNKNOWN, fence.view(key("done", i)).phase(), "the oldest forgotten");
      fence.onFinished(key, Outcome.SUCCEEDED, "", at(2), new byte[0]);
      assertTrue(
          visits(fence, () -> fence.onReportAcknowledged(key, ReportKind.FINISHED)) <= FEW,
          "acknowledging a finish");
    }
    assertEquals(RunPhase.FINISHED, fence.view(key("done", 3)).phase());
    assertEquals(TABLE, fence.size());
  }

  @Test
  void aLapsedLeaseAndTheGiveUpOfUnconfirmedLaunchesDoNotWalkTheEndedLaunches() {
    AgentFence fence = fullOfAcknowledgedLaunches();
    fence.onHeartbeatAcknowledged(at(0), at(0), LEASE, BALLOT);
    fence.onLaunch(at(3_100), key("waiting", 0), BALLOT, null, SPEC);
    assertTrue(
        visits(fence, () -> fence.onHeartbeatAcknowledged(at(4_000), at(4_000), LEASE, BALLOT))
            <= FEW,
        "a heartbeat after the lease lapsed");
    assertTrue(visits(fence, () -> fence.onTick(at(4_001))) <= FEW, "onTick, unconfirmed");
    List<AgentEffect> effects = new ArrayList<>();
    assertTrue(
        visits(fence, () -> effects.addAll(fence.onTick(at(64_001)).effects())) <= FEW,
        "onTick giving up");
    assertEquals(RunPhase.NEVER_STARTED, ((AgentEffect.Report) effects.getFirst()).run().phase());
  }
}
