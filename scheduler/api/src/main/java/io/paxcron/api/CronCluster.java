package io.paxcron.api;

import io.paxcron.scheduler.CronView;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * What the job API needs from the replica it runs in: a way to write job changes through the
 * replicated log, linearizable reads of the cron state, and the replica's view of the cluster. The
 * server implements it on the replica's event loop; tests use a single-replica stand-in.
 *
 * <p><b>Writes.</b> {@link #submit} turns the changes into {@code CronCommand}s and proposes them
 * as <em>one</em> Paxos client command {@code (clientId, sequence)} whose payload is {@link
 * JobBatchStateMachine#encode}: the leader stamps them with its own clock when it proposes (the
 * same stamp for every change of the batch, never read by this module) and chooses the values of
 * any {@code ?} with {@link LeaderStamper}. The replicated state machine must be a {@link
 * JobBatchStateMachine} under the log's session layer, which applies a given {@code (clientId,
 * sequence)} once and answers a retry with the first answer, decoded by {@link
 * JobBatchStateMachine#decodeAnswer}.
 *
 * <p><b>Reads.</b> {@link #read} runs the query on the thread that owns the state machine, after
 * the leader has confirmed its lease, so the answer reflects every write acknowledged before the
 * read began. The query must not keep the view.
 *
 * <p><b>Errors.</b> Futures fail with {@link NotLeaderException} (this replica does not lead),
 * {@link UnavailableException} (the replica stopped) or {@link StaleRequestException} (the session
 * has already answered a later request). Threading: all methods may be called from any thread;
 * futures may complete on the owning thread, so callers must not block in their callbacks.
 */
public interface CronCluster {

  /** Applies {@code changes} in order as one session command; see the class comment. */
  CompletableFuture<JobBatchStateMachine.Answer> submit(
      long clientId, long sequence, List<JobChange> changes);

  /** Runs {@code query} against the applied state under the leader's lease. */
  <T> CompletableFuture<T> read(Function<CronView, T> query);

  /** This replica's view of the cluster; answered locally without a Paxos round. */
  ClusterInfo info();

  /**
   * Changes the membership by one step (docs/membership.md); completes with the members once the
   * change is in effect. Fails with {@link NotLeaderException} off the leader and with a gRPC
   * {@code FAILED_PRECONDITION} status naming the reason when the leader refuses the change.
   */
  default CompletableFuture<List<ClusterInfo.Member>> changeMembers(
      io.paxcron.proto.v1.ChangeMembersRequest request) {
    return CompletableFuture.failedFuture(
        io.grpc.Status.UNIMPLEMENTED
            .withDescription("this replica cannot change the membership")
            .asRuntimeException());
  }

  /**
   * Calls {@code listener} after every applied log slot, on the owning thread, until the returned
   * handle is closed. The listener must return quickly (it may schedule a {@link #read}).
   */
  Subscription onApplied(Runnable listener);

  /**
   * A chunk of a run's output, fetched by the leader from the agent that ran the run (over the
   * agent's stream; whole outputs never enter the log). {@code attempt} 0 means the newest. Fails
   * with {@link NotLeaderException} off the leader, with a gRPC {@code NOT_FOUND} status when no
   * connected agent has the run, and {@code DEADLINE_EXCEEDED} when the agent is slow. Replicas
   * without agents answer {@code UNIMPLEMENTED}.
   */
  default CompletableFuture<io.paxcron.proto.v1.GetRunOutputResponse> runOutput(
      io.paxcron.scheduler.RunId runId, int attempt, long offset, int maxBytes) {
    return CompletableFuture.failedFuture(
        io.grpc.Status.UNIMPLEMENTED
            .withDescription("this replica serves no agents")
            .asRuntimeException());
  }

  /** The agents connected to this replica if it leads (empty otherwise), by name. */
  default CompletableFuture<List<io.paxcron.proto.v1.AgentStatus>> agents() {
    return CompletableFuture.completedFuture(List.of());
  }

  /** A registration that ends when closed; closing twice is harmless. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * This replica does not lead; {@code leaderHint} is {@code "<id>=<host>:<port>"}, or empty if
   * unknown.
   */
  final class NotLeaderException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String leaderHint;

    public NotLeaderException(String leaderHint, String message) {
      super(message);
      this.leaderHint = leaderHint;
    }

    public String leaderHint() {
      return leaderHint;
    }
  }

  /** The replica stopped (shutdown or storage failure) and cannot take the request. */
  final class UnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String message) {
      super(message);
    }
  }

  /**
   * The session already answered a request with a higher sequence, so the answer to this one is
   * gone: the client broke the one-request-at-a-time rule or reused an old request id.
   */
  final class StaleRequestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StaleRequestException(String message) {
      super(message);
    }
  }
}
