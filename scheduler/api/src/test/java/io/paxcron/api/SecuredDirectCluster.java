package io.paxcron.api;

import io.grpc.Context;
import io.paxcron.api.auth.AccessCluster;
import io.paxcron.api.auth.AccessCommand;
import io.paxcron.api.auth.AccessState;
import io.paxcron.api.auth.Caller;
import io.paxcron.api.auth.SecuredStateMachine;
import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Value;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.CronView;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * {@link DirectCronCluster}'s twin with the access layer: one replica's REAL session layer over the
 * REAL {@link SecuredStateMachine} (job batches, tokens, audit), every write chosen at once in the
 * next slot on one loop thread. Job changes carry the caller's audit envelope exactly as the
 * server's cluster builds it.
 */
final class SecuredDirectCluster implements CronCluster, AccessCluster, AutoCloseable {
  private final CronStateMachine cron = new CronStateMachine();
  private final SecuredStateMachine secured =
      new SecuredStateMachine(new JobBatchStateMachine(cron));
  private final SessionStateMachine sessions = new SessionStateMachine(secured, 1000);
  private final InstantSource clock;
  private final ClusterInfo.Member self;
  private final ExecutorService loop =
      Executors.newSingleThreadExecutor(r -> new Thread(r, "secured-direct-loop"));
  private long slot;

  SecuredDirectCluster(InstantSource clock, String address) {
    this.clock = clock;
    this.self = new ClusterInfo.Member(1, address);
  }

  AccessState access() {
    return secured.access();
  }

  /** The replicated state's image (jobs, runs, tokens, audit), read on the loop. */
  byte[] image() {
    return CompletableFuture.supplyAsync(secured::snapshot, loop).join();
  }

  @Override
  public CompletableFuture<JobBatchStateMachine.Answer> submit(
      long clientId, long sequence, List<JobChange> changes) {
    Optional<Caller> caller = Caller.current();
    return CompletableFuture.supplyAsync(
        () -> {
          Instant stamp = clock.instant();
          List<CronCommand> commands =
              LeaderStamper.stamp(changes, stamp, cron, cron::launchDensity);
          byte[] payload =
              AccessCluster.audited(JobBatchStateMachine.encode(commands), stamp, changes, caller);
          return JobBatchStateMachine.decodeAnswer(
              choose(new Command(clientId, sequence, payload)));
        },
        Context.currentContextExecutor(loop));
  }

  @Override
  public CompletableFuture<AccessState.Result> submitAccess(
      long clientId, long sequence, Function<Instant, AccessCommand> build) {
    return CompletableFuture.supplyAsync(
        () ->
            SecuredStateMachine.decodeAnswer(
                choose(
                    new Command(
                        clientId, sequence, AccessCommand.encode(build.apply(clock.instant()))))),
        loop);
  }

  @Override
  public <T> CompletableFuture<T> readAccess(Function<AccessState.View, T> query) {
    return CompletableFuture.supplyAsync(() -> query.apply(secured.access().view()), loop);
  }

  private byte[] choose(Command command) {
    LogEntry entry =
        new LogEntry(++slot, new Ballot(1, 1), new Value.Batch(List.of(command)), true);
    return sessions.apply(entry).get(0).result();
  }

  @Override
  public <T> CompletableFuture<T> read(Function<CronView, T> query) {
    return CompletableFuture.supplyAsync(() -> query.apply(cron), loop);
  }

  @Override
  public ClusterInfo info() {
    return new ClusterInfo(1, "LEADER", 1, 1, slot + 1, slot, true, List.of(self));
  }

  @Override
  public Subscription onApplied(Runnable listener) {
    return () -> {};
  }

  @Override
  public void close() {
    loop.shutdownNow();
  }
}
