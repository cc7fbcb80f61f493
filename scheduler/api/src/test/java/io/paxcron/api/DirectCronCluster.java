package io.paxcron.api;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Value;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.CronCodec;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.CronView;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * A single-replica stand-in for the server's {@link CronCluster}, for API tests: every write is
 * "chosen" at once in the next slot and applied in order through the REAL session layer ({@link
 * SessionStateMachine}) and the REAL {@link JobBatchStateMachine} over a REAL {@link
 * CronStateMachine}. No Paxos, no disk, no network — but the same stamping ({@link LeaderStamper}
 * with the clock given), deduplication and apply path as a replica.
 *
 * <p>Like a replica's event loop, one thread owns the state: writes, reads and listeners run on it,
 * and futures complete there. The clock is an input, so tests move time explicitly.
 */
final class DirectCronCluster implements CronCluster, AutoCloseable {
  /** The session the test's stand-in dispatcher proposes its own commands in. */
  private static final long DISPATCHER_CLIENT_ID = -1;

  private final CronStateMachine cron = new CronStateMachine();
  private final SessionStateMachine sessions =
      new SessionStateMachine(new JobBatchStateMachine(cron), 1000);
  private final InstantSource clock;
  private final ClusterInfo.Member self;
  private final ExecutorService loop =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "direct-cron-loop"));
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private long slot;
  private long dispatcherSequence;

  DirectCronCluster(InstantSource clock, String address) {
    this.clock = clock;
    this.self = new ClusterInfo.Member(1, address);
  }

  @Override
  public CompletableFuture<JobBatchStateMachine.Answer> submit(
      long clientId, long sequence, List<JobChange> changes) {
    return CompletableFuture.supplyAsync(
        () -> {
          Instant stamp = clock.instant();
          List<CronCommand> commands =
              LeaderStamper.stamp(changes, stamp, cron, cron::launchDensity);
          byte[] answer =
              choose(new Command(clientId, sequence, JobBatchStateMachine.encode(commands)));
          return JobBatchStateMachine.decodeAnswer(answer);
        },
        loop);
  }

  /** Proposes a command the way the leader's dispatcher does (Tick, RunIntent, RunFinished...). */
  CommandResult applyAsLeader(CronCommand command) {
    return CompletableFuture.supplyAsync(
            () ->
                CronCodec.decodeResult(
                    choose(
                        new Command(
                            DISPATCHER_CLIENT_ID,
                            ++dispatcherSequence,
                            CronCodec.encode(command)))),
            loop)
        .join();
  }

  private byte[] choose(Command command) {
    LogEntry entry =
        new LogEntry(++slot, new Ballot(1, 1), new Value.Batch(List.of(command)), true);
    byte[] result = sessions.apply(entry).get(0).result();
    listeners.forEach(Runnable::run);
    return result;
  }

  @Override
  public <T> CompletableFuture<T> read(Function<CronView, T> query) {
    return CompletableFuture.supplyAsync(() -> query.apply(cron), loop);
  }

  /** The slots chosen so far (every write takes one, even a refused one). */
  long slots() {
    return CompletableFuture.supplyAsync(() -> slot, loop).join();
  }

  @Override
  public ClusterInfo info() {
    return new ClusterInfo(1, "LEADER", 1, 1, slots() + 1, slots(), true, List.of(self));
  }

  @Override
  public Subscription onApplied(Runnable listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    loop.shutdownNow();
  }
}
