package io.paxcron.api;

import io.paxcron.scheduler.CronView;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A follower's {@link CronCluster}: every write and read is answered "not the leader, ask replica
 * 1".
 */
final class NotLeaderCluster implements CronCluster {
  private final String leaderAddress;
  private final String selfAddress;

  NotLeaderCluster(String selfAddress, String leaderAddress) {
    this.selfAddress = selfAddress;
    this.leaderAddress = leaderAddress;
  }

  @Override
  public CompletableFuture<JobBatchStateMachine.Answer> submit(
      long clientId, long sequence, List<JobChange> changes) {
    return CompletableFuture.failedFuture(notLeader());
  }

  @Override
  public <T> CompletableFuture<T> read(Function<CronView, T> query) {
    return CompletableFuture.failedFuture(notLeader());
  }

  private NotLeaderException notLeader() {
    return new NotLeaderException(
        "1=" + leaderAddress, "replica 2 is not the leader; leader is replica 1");
  }

  @Override
  public ClusterInfo info() {
    return new ClusterInfo(
        2,
        "FOLLOWER",
        1,
        1,
        1,
        0,
        false,
        List.of(new ClusterInfo.Member(1, leaderAddress), new ClusterInfo.Member(2, selfAddress)));
  }

  @Override
  public Subscription onApplied(Runnable listener) {
    return () -> {};
  }
}
