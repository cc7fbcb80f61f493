package io.paxcron.agent.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import org.junit.jupiter.api.Test;

final class AgentFenceTest {
  private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
  private static final FenceBallot OLD = new FenceBallot(0, 1, 1);
  private static final FenceBallot NEW = new FenceBallot(0, 2, 3);
  private static final FenceBallot RESTORED = new FenceBallot(1, 1, 1);
  private static final Duration LEASE = Duration.ofSeconds(3);
  private static final byte[] SPEC = {1, 2, 3};

  private final List<JournalRecord> journal = new ArrayList<>();
  private AgentFence fence = new AgentFence(new AgentLimits(2, 4, Duration.ofMinutes(1)));

  private static LaunchKey key(int second) {
    return new LaunchKey(RunId.of(JobName.of("backup"), T0.plusSeconds(second)), 1);
  }

  private static Instant at(long millis) {
    return T0.plusMillis(millis);
  }

  /** What a driver does: persist, then return the effects. */
  private List<AgentEffect> step(Ready ready) {
    journal.addAll(ready.persist());
    fence.checkIndexes();
    return ready.effects();
  }

  private LeaderReply.LaunchAnswer launch(long nowMillis, LaunchKey key, FenceBallot ballot) {
    return (LeaderReply.LaunchAnswer)
        ((AgentEffect.Reply)
                step(fence.onLaunch(at(nowMillis), key, ballot, null, SPEC)).getFirst())
            .reply();
  }

  private void lease(long sentMillis, FenceBallot ballot) {
    step(fence.onHeartbeatAcknowledged(at(sentMillis), at(sentMillis), LEASE, ballot));
  }

  private static long starts(List<AgentEffect> effects) {
    return effects.stream().filter(AgentEffect.Start.class::isInstance).count();
  }

  @Test
  void launchBelowTheFenceIsRefusedAndNotRemembered() {
    lease(0, NEW);
    assertEquals(LaunchStatus.ACCEPTED, launch(1, key(0), NEW).status());
    LeaderReply.LaunchAnswer fenced = launch(2, key(1), OLD);
    assertEquals(LaunchStatus.FENCED, fenced.status());
    assertEquals(NEW, fenced.highestSeen());
    assertEquals(RunPhase.UNKNOWN, fence.view(key(1)).phase());
    assertEquals(1, fence.size());
  }

  @Test
  void acceptedLaunchIsPersistedBeforeItsReplyAndStartAndStartsWhileTheLeaseHolds() {
    lease(0, OLD);
    Ready ready = fence.onLaunch(at(5), key(0), OLD, null, SPEC);
    assertEquals(JournalRecord.Accepted.class, ready.persist().getFirst().getClass());
    assertEquals(2, ready.effects().size());
    AgentEffect.Start start = (AgentEffect.Start) ready.effects().get(1);
    assertArrayEquals(SPEC, start.payload());
  }

  @Test
  void repeatLaunchReturnsTheCurrentStateAndChangesNothing() {
    lease(0, OLD);
    launch(1, key(0), OLD);
    step(fence.onStarted(key(0), at(2)));
    LeaderReply.LaunchAnswer repeat = launch(3, key(0), NEW);
    assertEquals(LaunchStatus.REPEAT, repeat.status());
    assertEquals(RunPhase.RUNNING, repeat.run().phase());
    step(fence.onFinished(key(0), Outcome.failed(4), "", at(4), new byte[0]));
    repeat = launch(5, key(0), NEW);
    assertEquals(Outcome.failed(4), repeat.run().outcome());
    assertEquals(1, fence.size(), "a repeat is not a second launch");
  }

  @Test
  void getRunRaisesTheFenceSoTheOldLeadersDelayedLaunchIsRefused() {
    Ready ready = fence.onGetRun(at(0), key(0), NEW);
    assertEquals(
        List.of(new JournalRecord.FenceRaised(NEW)),
        ready.persist(),
        "the raised fence is persisted first");
    LeaderReply.RunAnswer answer =
        (LeaderReply.RunAnswer) ((AgentEffect.Reply) ready.effects().getFirst()).reply();
    assertEquals(RunPhase.UNKNOWN, answer.run().phase());
    assertEquals(LaunchStatus.FENCED, launch(1, key(0), OLD).status());
  }

  @Test
  void restoredClusterGenerationOutranksEveryBallotOfTheOldCluster() {
    fence.onGetRun(at(0), key(0), new FenceBallot(0, 99, 7));
    assertEquals(LaunchStatus.ACCEPTED, launch(1, key(1), RESTORED).status());
    assertEquals(LaunchStatus.FENCED, launch(2, key(2), new FenceBallot(0, 100, 1)).status());
  }

  @Test
  void noStartWithoutALeaseAndNoneOnceItLapsed() {
    assertEquals(0, starts(step(fence.onLaunch(at(0), key(0), OLD, null, SPEC))), "no lease yet");
    assertEquals(
        1,
        starts(step(fence.onHeartbeatAcknowledged(at(10), at(10), LEASE, OLD))),
        "the accepted launch starts once the lease holds");
    assertEquals(
        0,
        starts(step(fence.onLaunch(at(3_500), key(1), OLD, null, SPEC))),
        "lease sent at 10 ms for 3 s lapsed at 3.01 s");
    assertTrue(fence.mayStart(at(3_000)));
    assertEquals(0, starts(step(fence.onTick(at(3_600)))));
  }

  @Test
  void afterALeaseLapseAnAcceptedLaunchStartsOnlyWhenALeaderConfirmsIt() {
    lease(0, OLD);
    step(fence.onLaunch(at(3_100), key(0), OLD, null, SPEC));
    lease(4_000, NEW);
    assertEquals(
        0, starts(step(fence.onTick(at(4_001)))), "the new leader may have recorded it LOST");
    assertEquals(1, starts(step(fence.onGetRun(at(4_002), key(0), NEW))), "GetRun confirms it");
  }

  @Test
  void anUnconfirmedLaunchIsGivenUpAsNeverStarted() {
    lease(0, OLD);
    step(fence.onLaunch(at(3_100), key(0), OLD, null, SPEC));
    lease(4_000, NEW);
    step(fence.onTick(at(5_000)));
    List<AgentEffect> effects = step(fence.onTick(at(65_000)));
    AgentEffect.Report report = (AgentEffect.Report) effects.getFirst();
    assertEquals(ReportKind.FINISHED, report.kind());
    assertEquals(RunPhase.NEVER_STARTED, report.run().phase());
    assertEquals(List.of(report), fence.pendingReports());
    assertEquals(0, fence.openCount(), "a given-up launch frees its slot");
  }

  @Test
  void aStartTheDriverCouldNotMakeBeforeTheLeaseLapsedIsGivenUpAsNeverStarted() {
    lease(0, OLD);
    List<AgentEffect> told = step(fence.onLaunch(at(1), key(0), OLD, null, SPEC));
    assertEquals(1, starts(told), "told to start while the lease held");
    assertFalse(fence.mayStart(at(3_500)), "the wrapper was still being spawned when it lapsed");
    List<AgentEffect> effects =
        step(fence.onStartGivenUp(key(0), at(3_500), "the lease lapsed before the start"));
    assertEquals(RunPhase.NEVER_STARTED, fence.view(key(0)).phase());
    AgentEffect.Report report = (AgentEffect.Report) effects.getFirst();
    assertEquals(ReportKind.FINISHED, report.kind());
    assertEquals(RunPhase.NEVER_STARTED, report.run().phase());
    assertEquals(JournalRecord.NeverStarted.class, journal.getLast().getClass(), "journaled");
    assertEquals(0, fence.openCount(), "its slot is free");
    assertThrows(
        IllegalStateException.class,
        () -> fence.onStartGivenUp(key(0), at(3_600), "again"),
        "only an accepted launch can be given up");
  }

  @Test
  void cancelOfAnAcceptedLaunchEndsItNeverStartedAndOfARunningOneStopsIt() {
    step(fence.onLaunch(at(0), key(0), OLD, null, SPEC));
    List<AgentEffect> effects = step(fence.onCancel(at(1), key(0), OLD));
    assertEquals(RunPhase.NEVER_STARTED, fence.view(key(0)).phase());
    assertEquals(ReportKind.FINISHED, ((AgentEffect.Report) effects.get(1)).kind());
    lease(2, OLD);
    step(fence.onLaunch(at(3), key(1), OLD, null, SPEC));
    effects = step(fence.onCancel(at(4), key(1), OLD));
    assertEquals(new AgentEffect.Stop(key(1)), effects.get(1));
  }

  @Test
  void fullCapacityRefusesAsBackPressure() {
    launch(0, key(0), OLD);
    launch(0, key(1), OLD);
    LeaderReply.LaunchAnswer refused = launch(0, key(2), OLD);
    assertEquals(LaunchStatus.CAPACITY, refused.status());
    assertTrue(refused.reason().contains("capacity of 2"), refused.reason());
  }

  @Test
  void tableForgetsOnlyLaunchesWhoseFinishWasAcknowledged() {
    lease(0, OLD);
    for (int i = 0; i < 4; i++) {
      launch(1, key(i), OLD);
      step(fence.onStarted(key(i), at(2)));
      step(fence.onFinished(key(i), Outcome.SUCCEEDED, "", at(3), new byte[0]));
    }
    LeaderReply.LaunchAnswer refused = launch(4, key(9), OLD);
    assertEquals(
        LaunchStatus.CAPACITY, refused.status(), "finishes not acknowledged are still needed");
    step(fence.onReportAcknowledged(key(1), ReportKind.FINISHED));
    assertEquals(LaunchStatus.ACCEPTED, launch(5, key(9), OLD).status());
    assertEquals(
        RunPhase.UNKNOWN, fence.view(key(1)).phase(), "the acknowledged launch was forgotten");
    assertEquals(RunPhase.FINISHED, fence.view(key(0)).phase());
    assertEquals(4, fence.size());
  }

  @Test
  void aLaunchEndsOnce() {
    lease(0, OLD);
    launch(1, key(0), OLD);
    step(fence.onStarted(key(0), at(2)));
    step(fence.onFinished(key(0), Outcome.SUCCEEDED, "", at(3), new byte[0]));
    assertThrows(
        IllegalStateException.class,
        () -> fence.onFinished(key(0), Outcome.failed(1), "", at(4), new byte[0]));
  }

  @Test
  void restartFromThePersistedJournalKeepsFenceTableAndNeedsConfirmationToStart() throws Exception {
    lease(0, NEW);
    launch(1, key(0), NEW);
    step(fence.onStarted(key(0), at(2)));
    step(fence.onLaunch(at(3_500), key(1), NEW, null, SPEC));
    byte[] file = JournalCodec.encode(journal);
    AgentFence restarted =
        AgentFence.recover(fence.limits(), JournalCodec.decode(file, "agent.journal").records());
    assertEquals(NEW, restarted.highestSeen());
    assertEquals(RunPhase.RUNNING, restarted.view(key(0)).phase());
    assertEquals(List.of(key(0)), restarted.running());
    restarted.onHeartbeatAcknowledged(at(5_000), at(5_000), LEASE, NEW);
    assertEquals(
        0,
        starts(restarted.onTick(at(5_001)).effects()),
        "accepted before the restart: not confirmed");
    assertEquals(
        1,
        starts(restarted.onLaunch(at(5_002), key(1), NEW, null, SPEC).effects()),
        "a repeat launch confirms it");
    assertEquals(
        LaunchStatus.FENCED,
        ((LeaderReply.LaunchAnswer)
                ((AgentEffect.Reply)
                        restarted.onLaunch(at(5_003), key(2), OLD, null, SPEC).effects().getFirst())
                    .reply())
            .status());
  }

  @Test
  void snapshotRecoversTheSameState() throws Exception {
    lease(0, NEW);
    launch(1, key(0), NEW);
    step(fence.onStarted(key(0), at(2)));
    step(fence.onFinished(key(0), Outcome.TIMED_OUT, "timeout", at(3), "tail".getBytes()));
    step(fence.onReportAcknowledged(key(0), ReportKind.FINISHED));
    byte[] image = JournalCodec.encode(fence.snapshot());
    AgentFence restarted =
        AgentFence.recover(fence.limits(), JournalCodec.decode(image, "snap").records());
    assertArrayEquals(image, JournalCodec.encode(restarted.snapshot()));
    assertEquals(fence.view(key(0)), restarted.view(key(0)));
  }

  @Test
  void recoveryRefusesASnapshotThatContradictsItself() {
    JournalRecord.LaunchImage running =
        new JournalRecord.LaunchImage(
            key(0),
            OLD,
            null,
            SPEC,
            RunPhase.RUNNING,
            null,
            "",
            at(1),
            null,
            new byte[0],
            false,
            false);
    JournalRecord.LaunchImage acknowledgedWhileRunning =
        new JournalRecord.LaunchImage(
            key(1),
            OLD,
            null,
            SPEC,
            RunPhase.RUNNING,
            null,
            "",
            at(1),
            null,
            new byte[0],
            false,
            true);
    JournalRecord.LaunchImage startingWhileFinished =
        new JournalRecord.LaunchImage(
            key(2),
            OLD,
            null,
            SPEC,
            RunPhase.FINISHED,
            Outcome.SUCCEEDED,
            "",
            at(1),
            at(2),
            new byte[0],
            true,
            false);
    for (List<JournalRecord.LaunchImage> images :
        List.of(
            List.of(running, running),
            List.of(acknowledgedWhileRunning),
            List.of(startingWhileFinished))) {
      IllegalArgumentException refused =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  AgentFence.recover(
                      fence.limits(), List.of(new JournalRecord.Snapshot(OLD, images))));
      assertTrue(
          refused.getMessage().startsWith("journal record 0 (Snapshot)"), refused.getMessage());
    }
    assertEquals(
        List.of(key(0)),
        AgentFence.recover(
                fence.limits(), List.of(new JournalRecord.Snapshot(OLD, List.of(running))))
            .running());
  }

  @Test
  void heartbeatAcknowledgedByADeposedLeaderGrantsNoLease() {
    step(fence.onGetRun(at(0), key(0), NEW));
    assertEquals(Ready.NONE, fence.onHeartbeatAcknowledged(at(1), at(1), LEASE, OLD));
    assertTrue(!fence.mayStart(at(2)));
  }

  @Test
  void aStartIsJournaledBeforeTheProcessStartsAndAfterARestartItIsNeverStartedAgain()
      throws Exception {
    lease(0, OLD);
    Ready ready = fence.onLaunch(at(1), key(0), OLD, null, SPEC);
    assertEquals(
        List.of(JournalRecord.Accepted.class, JournalRecord.Starting.class),
        ready.persist().stream().map(Object::getClass).toList(),
        "accept and start share one sync");
    step(ready);
    AgentFence restarted =
        AgentFence.recover(
            fence.limits(), JournalCodec.decode(JournalCodec.encode(journal), "j").records());
    assertEquals(List.of(key(0)), restarted.running(), "the driver must find out whether it ran");
    restarted.onHeartbeatAcknowledged(at(2), at(2), LEASE, OLD);
    assertEquals(
        0,
        starts(restarted.onLaunch(at(3), key(0), OLD, null, SPEC).effects()),
        "a repeat launch never starts a launch that may have run");
    List<AgentEffect> effects =
        restarted
            .onFinished(key(0), Outcome.failed(137), "died while starting", at(4), new byte[0])
            .effects();
    assertEquals(ReportKind.FINISHED, ((AgentEffect.Report) effects.getFirst()).kind());
  }

  @Test
  void aLaunchWithAStartTimeStartsAtThatInstantNotBefore() {
    lease(0, OLD);
    assertEquals(0, starts(step(fence.onLaunch(at(1), key(0), OLD, at(500), SPEC))));
    assertEquals(java.util.Optional.of(at(500)), fence.nextStartAt());
    assertEquals(0, starts(step(fence.onTick(at(499)))));
    assertEquals(1, starts(step(fence.onTick(at(500)))));
    assertEquals(0, starts(step(fence.onTick(at(501)))), "started once");
  }

  @Test
  void aHeldLaunchIsRecordedStartingAheadSoThatTheInstantNeedsNoSync() throws Exception {
    lease(0, OLD);
    step(fence.onLaunch(at(1), key(0), OLD, at(1_000), SPEC));
    long ahead = 1_000 - AgentFence.START_RECORDED_AHEAD.toMillis();
    assertEquals(java.util.Optional.of(at(ahead)), fence.nextStartAfter(at(1)));
    assertEquals(Ready.NONE, fence.onTick(at(ahead - 1)), "nothing before the record is due");
    Ready record = fence.onTick(at(ahead));
    assertEquals(
        List.of(JournalRecord.Starting.class),
        record.persist().stream().map(Object::getClass).toList());
    assertEquals(0, starts(step(record)), "recorded, not started");
    assertEquals(java.util.Optional.of(at(1_000)), fence.nextStartAfter(at(ahead)));
    assertEquals(0, starts(step(fence.onTick(at(999)))));
    Ready instant = fence.onTick(at(1_000));
    assertEquals(List.of(), instant.persist(), "the instant itself waits for no sync");
    assertEquals(1, starts(step(instant)));
    assertEquals(0, starts(step(fence.onTick(at(1_001)))), "started once");
    AgentFence restarted =
        AgentFence.recover(
            fence.limits(), JournalCodec.decode(JournalCodec.encode(journal), "j").records());
    assertEquals(List.of(key(0)), restarted.running(), "the driver must find out whether it ran");
  }

  @Test
  void launchesFallingDueAtOneInputStartInTheOrderTheyWereAccepted() {
    step(fence.onLaunch(at(0), key(0), OLD, at(500), SPEC));
    step(fence.onLaunch(at(0), key(1), OLD, at(400), SPEC));
    List<AgentEffect> effects = step(fence.onHeartbeatAcknowledged(at(600), at(600), LEASE, OLD));
    assertEquals(
        List.of(key(0), key(1)),
        effects.stream().map(effect -> ((AgentEffect.Start) effect).key()).toList());
    step(fence.onFinished(key(0), Outcome.SUCCEEDED, "", at(601), new byte[0]));
    step(fence.onFinished(key(1), Outcome.SUCCEEDED, "", at(601), new byte[0]));
    step(fence.onLaunch(at(700), key(2), OLD, at(1_000), SPEC));
    step(fence.onLaunch(at(700), key(3), OLD, at(960), SPEC));
    assertEquals(0, starts(step(fence.onTick(at(920)))), "both recorded ahead");
    effects = step(fence.onTick(at(1_000)));
    assertEquals(
        List.of(key(2), key(3)),
        effects.stream().map(effect -> ((AgentEffect.Start) effect).key()).toList(),
        "held launches reaching their instants at one tick");
  }

  @Test
  void aStartingRecordIsWrittenAheadOnlyIfTheLeaseHoldsAtTheInstant() {
    lease(0, OLD); // the lease runs to 3,000
    step(fence.onLaunch(at(1), key(0), OLD, at(3_050), SPEC));
    assertEquals(Ready.NONE, fence.onTick(at(2_960)), "the lease ends before the instant");
    assertEquals(0, starts(step(fence.onTick(at(3_050)))), "nor does it start without a lease");
    assertEquals(RunPhase.ACCEPTED, fence.view(key(0)).phase());
  }

  @Test
  void aLaunchRecordedStartingWhoseInstantComesAfterTheLeaseNeverStarts() {
    lease(0, OLD); // the lease runs to 3,000
    step(fence.onLaunch(at(1), key(0), OLD, at(2_950), SPEC));
    step(fence.onTick(at(2_900)));
    List<AgentEffect> late = step(fence.onTick(at(3_200))); // the agent was paused
    assertEquals(0, starts(late));
    assertEquals(RunPhase.NEVER_STARTED, fence.view(key(0)).phase());
    assertEquals(ReportKind.FINISHED, ((AgentEffect.Report) late.getFirst()).kind());
  }

  @Test
  void aLaunchRecordedStartingAndCancelledBeforeItsInstantNeverStarts() {
    lease(0, OLD);
    step(fence.onLaunch(at(1), key(0), OLD, at(1_000), SPEC));
    step(fence.onTick(at(950)));
    List<AgentEffect> cancelled = step(fence.onCancel(at(960), key(0), OLD));
    assertEquals(0, cancelled.stream().filter(AgentEffect.Stop.class::isInstance).count());
    assertEquals(RunPhase.NEVER_STARTED, fence.view(key(0)).phase());
    assertEquals(0, starts(step(fence.onTick(at(1_000)))));
  }

  @Test
  void outputTailInAFinishReportIsAtMostOneKibibyte() {
    lease(0, OLD);
    launch(1, key(0), OLD);
    byte[] output = new byte[5000];
    output[4999] = 7;
    List<AgentEffect> effects =
        step(fence.onFinished(key(0), Outcome.SUCCEEDED, "", at(2), output));
    byte[] tail = ((AgentEffect.Report) effects.getFirst()).run().outputTail();
    assertEquals(AgentFence.MAX_OUTPUT_TAIL_BYTES, tail.length);
    assertEquals(7, tail[tail.length - 1]);
  }
}
