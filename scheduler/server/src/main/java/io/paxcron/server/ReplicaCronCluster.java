package io.paxcron.server;

import io.grpc.Status;
import io.paxcron.api.ClusterInfo;
import io.paxcron.api.CronCluster;
import io.paxcron.api.JobBatchStateMachine;
import io.paxcron.api.JobChange;
import io.paxcron.api.LeaderStamper;
import io.paxcron.api.auth.AccessCluster;
import io.paxcron.api.auth.AccessCommand;
import io.paxcron.api.auth.AccessState;
import io.paxcron.api.auth.SecuredStateMachine;
import io.paxcron.paxos.replica.ReplicaNode;
import io.paxcron.proto.v1.AgentStatus;
import io.paxcron.proto.v1.GetRunOutputResponse;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.CronView;
import io.paxcron.scheduler.RunId;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * The job API's view of one replica: job changes go through the replica's log as one session
 * command, stamped on the event loop with the leader's clock (the only clock the cron state machine
 * ever sees, through the log); reads run on the event loop under the leader's lease.
 *
 * <p>Threading: every method may be called from any thread; the cron state machine is touched on
 * the replica's loop thread only.
 */
final class ReplicaCronCluster implements CronCluster, AccessCluster {

  private final ReplicaNode node;
  private final CronStateMachine cron;
  private final Map<Integer, String> clientAddresses;
  private final AccessState access;
  private final InstantSource leaderClock;
  private final java.util.concurrent.Executor answers;
  private volatile LeaderDispatch dispatch;

  /**
   * @param answers where the futures this cluster returns complete (never the replica's loop)
   */
  ReplicaCronCluster(
      ReplicaNode node,
      SecuredStateMachine state,
      Map<Integer, String> clientAddresses,
      InstantSource leaderClock,
      java.util.concurrent.Executor answers) {
    this.node = node;
    this.answers = answers;
    this.cron = state.jobs().cron();
    this.access = state.access();
    this.clientAddresses = Map.copyOf(clientAddresses);
    this.leaderClock = leaderClock;
  }

  @Override
  public CompletableFuture<JobBatchStateMachine.Answer> submit(
      long clientId, long sequence, List<JobChange> changes) {
    List<JobChange> copy = List.copyOf(changes);
    var caller = io.paxcron.api.auth.Caller.current();
    return translate(
        node.proposeBuilt(
                clientId,
                sequence,
                () -> {
                  var stamp = leaderClock.instant();
                  // Who asked travels in the same log entry as the change (docs/security.md).
                  return AccessCluster.audited(
                      JobBatchStateMachine.encode(
                          LeaderStamper.stamp(copy, stamp, cron, cron::launchDensity)),
                      stamp,
                      copy,
                      caller);
                })
            .thenApply(applied -> JobBatchStateMachine.decodeAnswer(applied.result())));
  }

  @Override
  public CompletableFuture<AccessState.Result> submitAccess(
      long clientId, long sequence, Function<java.time.Instant, AccessCommand> build) {
    return translate(
        node.proposeBuilt(
                clientId, sequence, () -> AccessCommand.encode(build.apply(leaderClock.instant())))
            .thenApply(applied -> SecuredStateMachine.decodeAnswer(applied.result())));
  }

  @Override
  public <T> CompletableFuture<T> readAccess(Function<AccessState.View, T> query) {
    return translate(node.readOnLoop(slot -> query.apply(access.view())));
  }

  @Override
  public <T> CompletableFuture<T> read(Function<CronView, T> query) {
    return translate(node.readOnLoop(slot -> query.apply(cron)));
  }

  @Override
  public ClusterInfo info() {
    ReplicaNode.Status status = node.status();
    return new ClusterInfo(
        status.replicaId(),
        status.role().name(),
        status.leaderId(),
        status.ballotRound(),
        status.firstUnchosenSlot(),
        status.appliedSlot(),
        status.holdsLease(),
        members(node.membership(), status.firstUnchosenSlot()));
  }

  /**
   * The members of the configuration that governs {@code slot}, with their client addresses: from
   * the log for members added through it, from the start-up list for the others.
   */
  private List<ClusterInfo.Member> members(io.paxcron.paxos.Membership membership, long slot) {
    List<ClusterInfo.Member> members = new ArrayList<>();
    if (membership == null) {
      clientAddresses.forEach((id, address) -> members.add(new ClusterInfo.Member(id, address)));
    } else {
      io.paxcron.paxos.Configuration configuration = membership.at(slot);
      for (io.paxcron.paxos.ReplicaId id : configuration.members()) {
        members.add(
            new ClusterInfo.Member(
                id.value(),
                clientAddress(configuration.address(id), id.value()),
                configuration.isLearner(id)));
      }
    }
    members.sort((a, b) -> Integer.compare(a.id(), b.id()));
    return members;
  }

  /**
   * The client address of replica {@code id} for redirects: from the log for a member added through
   * it, else from the start-up list; null when neither knows it.
   */
  private String clientAddressOf(int id) {
    return MemberAddresses.clientAddress(node, clientAddresses, id);
  }

  /** The client address in a log address {@code host:peer-port:client-port}, else the list's. */
  private String clientAddress(String logAddress, int id) {
    String[] parts = logAddress.split(":");
    if (parts.length == 3) {
      return parts[0] + ":" + parts[2];
    }
    return clientAddresses.getOrDefault(id, "");
  }

  /** How long a change may take to be chosen and reach the slot where it takes effect. */
  private static final java.time.Duration CHANGE_TIMEOUT = java.time.Duration.ofSeconds(10);

  @Override
  public CompletableFuture<List<ClusterInfo.Member>> changeMembers(
      io.paxcron.proto.v1.ChangeMembersRequest request) {
    // The API checked the id's range (ClusterServiceImpl.invalidChange).
    io.paxcron.paxos.ReplicaId id = io.paxcron.paxos.ReplicaId.of(request.getId());
    io.paxcron.paxos.Configuration.Change change =
        switch (request.getAction()) {
          case ADD_LEARNER ->
              new io.paxcron.paxos.Configuration.Change.AddLearner(id, request.getAddress());
          case PROMOTE -> new io.paxcron.paxos.Configuration.Change.Promote(id);
          default -> new io.paxcron.paxos.Configuration.Change.Remove(id);
        };
    CompletableFuture<List<ClusterInfo.Member>> done = new CompletableFuture<>();
    node.reconfigure(change)
        .whenComplete(
            (outcome, error) -> {
              if (error != null) {
                translate(CompletableFuture.<Void>failedFuture(error))
                    .whenComplete((ignored, translated) -> done.completeExceptionally(translated));
                return;
              }
              if (!outcome.accepted()) {
                ReplicaNode.Status status = node.status();
                if (status.role() != io.paxcron.paxos.PaxosReplica.Role.LEADER) {
                  String address = clientAddressOf(status.leaderId());
                  done.completeExceptionally(
                      new NotLeaderException(
                          address == null ? "" : status.leaderId() + "=" + address,
                          outcome.refusal()));
                } else {
                  done.completeExceptionally(
                      Status.FAILED_PRECONDITION
                          .withDescription("membership change refused: " + outcome.refusal())
                          .asRuntimeException());
                }
                return;
              }
              awaitInEffect(done, outcome.next());
            });
    return done.orTimeout(CHANGE_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .exceptionallyCompose(
            error ->
                CompletableFuture.failedFuture(
                    error instanceof java.util.concurrent.TimeoutException
                        ? Status.DEADLINE_EXCEEDED
                            .withDescription(
                                "the membership change was proposed but is not in effect after "
                                    + CHANGE_TIMEOUT.toSeconds()
                                    + " s; paxcron members list shows where it stands")
                            .asRuntimeException()
                        : error));
  }

  /** Completes {@code done} with the members once {@code next} governs (checked as slots apply). */
  private void awaitInEffect(
      CompletableFuture<List<ClusterInfo.Member>> done, io.paxcron.paxos.Configuration next) {
    AutoCloseable[] subscription = new AutoCloseable[1];
    Runnable check =
        () -> {
          io.paxcron.paxos.Membership membership = node.membership();
          long firstUnchosen = node.status().firstUnchosenSlot();
          if (membership != null && membership.at(firstUnchosen).equals(next)) {
            done.complete(members(membership, firstUnchosen));
          }
        };
    subscription[0] = node.onApplied(check);
    done.whenComplete(
        (ignored, error) -> {
          try {
            subscription[0].close();
          } catch (Exception e) {
            // Removing a listener from a list does not fail.
          }
        });
    node.runOnLoop(check);
  }

  /**
   * The replica's dispatcher, once built (it needs the replica's loop, which needs this cluster).
   */
  void attach(LeaderDispatch dispatch) {
    this.dispatch = dispatch;
  }

  @Override
  public CompletableFuture<GetRunOutputResponse> runOutput(
      RunId runId, int attempt, long offset, int maxBytes) {
    LeaderDispatch current = dispatch;
    if (current == null) {
      return CronCluster.super.runOutput(runId, attempt, offset, maxBytes);
    }
    CompletableFuture<GetRunOutputResponse> answer = new CompletableFuture<>();
    current
        .runOutput(runId, attempt, offset, maxBytes)
        .whenComplete(
            (chunk, error) -> {
              if (error == null) {
                answer.complete(chunk);
                return;
              }
              Throwable cause =
                  error instanceof CompletionException && error.getCause() != null
                      ? error.getCause()
                      : error;
              switch (cause) {
                case LeaderDispatch.NotDispatchingException notDispatching -> {
                  int leader = node.status().leaderId();
                  String address = clientAddressOf(leader);
                  answer.completeExceptionally(
                      new NotLeaderException(
                          address == null || leader == node.status().replicaId()
                              ? ""
                              : leader + "=" + address,
                          notDispatching.getMessage()));
                }
                case java.util.NoSuchElementException missing ->
                    answer.completeExceptionally(
                        Status.NOT_FOUND
                            .withDescription(missing.getMessage())
                            .asRuntimeException());
                case java.util.concurrent.TimeoutException timeout ->
                    answer.completeExceptionally(
                        Status.DEADLINE_EXCEEDED
                            .withDescription(
                                "run_id: the agent did not answer within "
                                    + LeaderDispatch.OUTPUT_DEADLINE_MILLIS
                                    + " ms")
                            .asRuntimeException());
                default ->
                    answer.completeExceptionally(
                        Status.UNAVAILABLE
                            .withDescription(cause.getMessage())
                            .asRuntimeException());
              }
            });
    return answer;
  }

  @Override
  public CompletableFuture<List<AgentStatus>> agents() {
    LeaderDispatch current = dispatch;
    return current == null ? CronCluster.super.agents() : current.agentStatus();
  }

  @Override
  public Subscription onApplied(Runnable listener) {
    AutoCloseable handle = node.onApplied(listener);
    return () -> {
      try {
        handle.close();
      } catch (Exception e) {
        // Removing a listener cannot fail; nothing to report.
      }
    };
  }

  /**
   * Maps the replica's failures to the API's, unwrapped, and completes off the replica's loop: the
   * replica completes its futures on the loop, and what the API then does with an answer (build a
   * page of a thousand jobs, serialize it, write it to the stream) must not hold back the loop's
   * heartbeats, or a leader answering large reads loses its lease.
   */
  private <T> CompletableFuture<T> translate(CompletableFuture<T> future) {
    CompletableFuture<T> translated = new CompletableFuture<>();
    future.whenCompleteAsync(
        (value, error) -> {
          if (error == null) {
            translated.complete(value);
            return;
          }
          Throwable cause =
              error instanceof CompletionException && error.getCause() != null
                  ? error.getCause()
                  : error;
          if (cause instanceof ReplicaNode.NotLeaderException notLeader) {
            String address = clientAddressOf(notLeader.leaderHint());
            translated.completeExceptionally(
                new NotLeaderException(
                    address == null ? "" : notLeader.leaderHint() + "=" + address,
                    cause.getMessage()));
          } else if (cause instanceof ReplicaNode.ReplicaStoppedException) {
            translated.completeExceptionally(new UnavailableException(cause.getMessage()));
          } else {
            translated.completeExceptionally(cause);
          }
        },
        answers);
    return translated;
  }
}
