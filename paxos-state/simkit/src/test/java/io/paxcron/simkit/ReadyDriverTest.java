package io.paxcron.simkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Ready;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

final class ReadyDriverTest {
  private static final long SEED = 7L;

  private final EventLoop loop = new EventLoop();
  private final SimDisk disk = new SimDisk();
  private final List<String> done = new ArrayList<>();
  private boolean alive = true;
  private boolean faultsOn;

  private final class Host implements ReadyDriver.Host {
    @Override
    public boolean alive() {
      return alive;
    }

    @Override
    public void send(Ready ready, List<Envelope> messages) {
      done.add("send " + messages.size() + " durable " + disk.durableCount());
    }

    @Override
    public void apply(Ready ready) {
      done.add("apply durable " + disk.durableCount());
    }

    @Override
    public void onPowerLossDuringSync() {
      alive = false;
      disk.crash(false);
      done.add("power loss");
    }

    @Override
    public void onFsyncError() {
      alive = false;
      done.add("fsync error");
    }
  }

  private ReadyDriver driver(ReadyDriver.Variant variant, ReadyDriver.DiskFaults faults) {
    return new ReadyDriver(
        loop, disk, new SplittableRandom(SEED), faults, () -> faultsOn, variant, new Host());
  }

  private static Ready promiseAndSend(long round) {
    Ballot ballot = new Ballot(round, 0);
    return new Ready(
        new Persist(ballot, List.of(), null),
        List.of(new Envelope(ReplicaId.of(0), ReplicaId.of(1), new Message.PreVote(ballot, 0))),
        null,
        List.of(),
        List.of(),
        List.of());
  }

  private static Ready sendOnly() {
    return new Ready(
        new Persist(null, List.of(), null),
        List.of(
            new Envelope(ReplicaId.of(0), ReplicaId.of(2), new Message.PreVote(Ballot.ZERO, 0))),
        null,
        List.of(),
        List.of(),
        List.of());
  }

  private static final Ballot LEADER = new Ballot(1, 0);

  /** A step that marks {@code slot} chosen and sends one message: learned-only. */
  private static Ready markChosenAndSend(long slot) {
    return new Ready(
        new Persist(
            null, List.of(new LogEntry(slot, LEADER, new Value.NoOp(), /* chosen= */ true)), null),
        List.of(new Envelope(ReplicaId.of(0), ReplicaId.of(1), new Message.PreVote(LEADER, 0))),
        null,
        List.of(),
        List.of(),
        List.of());
  }

  /** A step that accepts {@code slot} and sends one message: must be durable first. */
  private static Ready acceptAndSend(long slot) {
    return new Ready(
        new Persist(null, List.of(new LogEntry(slot, LEADER, new Value.NoOp(), false)), null),
        List.of(new Envelope(ReplicaId.of(0), ReplicaId.of(1), new Message.PreVote(LEADER, 0))),
        null,
        List.of(),
        List.of(),
        List.of());
  }

  private void runAll() {
    while (loop.runNext(Long.MAX_VALUE)) {}
  }

  @Test
  void aReadysMessagesAreSentAndItsEntriesAppliedOnlyOnceItsWritesAreDurable() {
    ReadyDriver driver = driver(ReadyDriver.Variant.PRODUCTION, new ReadyDriver.DiskFaults(0, 0));
    driver.process(promiseAndSend(1));
    assertEquals(List.of(), done, "nothing leaves before the sync");
    assertFalse(driver.idle());
    runAll();
    assertEquals(List.of("send 1 durable 1", "apply durable 1"), done);
    assertTrue(driver.idle());
  }

  @Test
  void aReadyWithNothingToWriteWaitsBehindEarlierWritesAndOneSyncCoversBoth() {
    ReadyDriver driver = driver(ReadyDriver.Variant.PRODUCTION, new ReadyDriver.DiskFaults(0, 0));
    driver.process(promiseAndSend(1));
    driver.process(sendOnly());
    driver.process(promiseAndSend(2));
    assertEquals(List.of(), done);
    runAll();
    assertEquals(
        List.of(
            "send 1 durable 1",
            "apply durable 1",
            "send 1 durable 1",
            "apply durable 1",
            "send 1 durable 2",
            "apply durable 2"),
        done,
        "seed " + SEED);
  }

  @Test
  void aLearnedOnlyWriteIsNeitherWaitedForNorSyncedByItselfAndTheNextSyncCoversIt() {
    ReadyDriver driver = driver(ReadyDriver.Variant.PRODUCTION, new ReadyDriver.DiskFaults(0, 0));
    driver.process(markChosenAndSend(1));
    assertEquals(List.of("send 1 durable 0", "apply durable 0"), done, "released at once");
    assertTrue(driver.idle());
    runAll();
    assertEquals(0, disk.durableCount(), "no sync for the mark alone");
    driver.process(acceptAndSend(2));
    runAll();
    assertEquals(2, disk.durableCount(), "the accept's sync covers the mark written before it");
    assertEquals(
        List.of("send 1 durable 0", "apply durable 0", "send 1 durable 2", "apply durable 2"),
        done);
  }

  @Test
  void aLearnedOnlyStepBehindAnUnsyncedWriteWaitsForItsTurn() {
    ReadyDriver driver = driver(ReadyDriver.Variant.PRODUCTION, new ReadyDriver.DiskFaults(0, 0));
    driver.process(acceptAndSend(1));
    driver.process(markChosenAndSend(1));
    assertEquals(List.of(), done, "steps are released in order");
    runAll();
    assertEquals(
        List.of("send 1 durable 1", "apply durable 1", "send 1 durable 1", "apply durable 1"),
        done,
        "the mark, written after the accept's sync began, is released with it, still unsynced");
    assertEquals(2, disk.writtenCount());
    assertEquals(1, disk.durableCount());
  }

  @Test
  void aCrashLosesAnUnsyncedMark() {
    ReadyDriver driver = driver(ReadyDriver.Variant.PRODUCTION, new ReadyDriver.DiskFaults(0, 0));
    driver.process(acceptAndSend(1));
    runAll();
    driver.process(markChosenAndSend(1));
    alive = false;
    disk.crash(false);
    assertEquals(1, disk.writtenCount());
    assertFalse(disk.recover().log().get(0).chosen(), "the replica forgot it learned slot 1");
  }

  @Test
  void thePlantedMisclassificationReleasesAnAcceptBeforeItIsDurable() {
    ReadyDriver driver =
        driver(ReadyDriver.Variant.ACCEPTS_AS_LEARNED, new ReadyDriver.DiskFaults(0, 0));
    driver.process(acceptAndSend(1));
    assertEquals(List.of("send 1 durable 0", "apply durable 0"), done);
  }

  @Test
  void thePlantedVariantSendsBeforeTheWritesAreDurable() {
    ReadyDriver driver =
        driver(ReadyDriver.Variant.SEND_BEFORE_PERSIST, new ReadyDriver.DiskFaults(0, 0));
    driver.process(promiseAndSend(1));
    assertEquals(List.of("send 1 durable 0"), done);
    runAll();
    assertEquals(List.of("send 1 durable 0", "apply durable 1"), done);
  }

  @Test
  void aFailedFsyncStopsTheProcessAndNothingHeldIsSent() {
    faultsOn = true;
    ReadyDriver driver = driver(ReadyDriver.Variant.PRODUCTION, new ReadyDriver.DiskFaults(0, 1));
    driver.process(promiseAndSend(1));
    runAll();
    assertEquals(List.of("fsync error"), done);
    assertEquals(0, disk.durableCount());
  }

  @Test
  void powerLossDuringASyncLosesTheUnsyncedWriteAndARestartVoidsTheSyncInFlight() {
    faultsOn = true;
    ReadyDriver driver = driver(ReadyDriver.Variant.PRODUCTION, new ReadyDriver.DiskFaults(1, 0));
    driver.process(promiseAndSend(1));
    runAll();
    assertEquals(List.of("power loss"), done, "seed " + SEED);
    assertEquals(0, disk.writtenCount(), "the unsynced promise is gone");
    alive = true;
    driver.reset();
    faultsOn = false;
    driver.process(promiseAndSend(2));
    runAll();
    assertEquals(List.of("power loss", "send 1 durable 1", "apply durable 1"), done);
  }

  @Test
  void noDiskFaultStrikesOnceFaultsAreOff() {
    ReadyDriver driver = driver(ReadyDriver.Variant.PRODUCTION, new ReadyDriver.DiskFaults(1, 1));
    driver.process(promiseAndSend(1));
    runAll();
    assertEquals(List.of("send 1 durable 1", "apply durable 1"), done);
  }
}
