package io.paxcron.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.paxcron.paxos.Ballot;
import io.paxcron.proto.v1.AgentStatus;
import io.paxcron.proto.v1.FenceBallot;
import io.paxcron.proto.v1.LaunchSpec;
import io.paxcron.proto.v1.RunState;
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.AgentId;
import io.paxcron.scheduler.AgentRegistry;
import io.paxcron.scheduler.AgentRunState;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunDetail;
import io.paxcron.scheduler.RunId;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Translation between agent.proto and the scheduler core's types for the leader's side of the agent
 * protocol. Stateless.
 *
 * <p>Fence ballots: the leader's fence is {@code (generation, ballot.round, ballot.replicaId)}.
 * Within one generation a fence maps to the core's {@link Ballot} directly. A fence of a higher
 * generation (the agent has served a cluster restored from a backup of this one) outranks every
 * ballot of this cluster, so it maps to {@link #ABOVE_EVERY_BALLOT}; a fence of a lower generation
 * ranks below every ballot of this cluster and maps to {@link Ballot#ZERO}.
 */
final class AgentProtos {

  /** Above every ballot a replica of this generation can use (rounds are counted up from 1). */
  static final Ballot ABOVE_EVERY_BALLOT = new Ballot(Long.MAX_VALUE, Integer.MAX_VALUE);

  private AgentProtos() {}

  static FenceBallot fence(long generation, Ballot ballot) {
    return FenceBallot.newBuilder()
        .setGeneration(generation)
        .setRound(ballot.round())
        .setReplicaId(ballot.replicaId())
        .build();
  }

  /**
   * The core ballot of a fence as seen from a cluster of {@code generation} (see the class
   * comment).
   */
  static Ballot ballot(long generation, FenceBallot fence) {
    int byGeneration = Long.compareUnsigned(fence.getGeneration(), generation);
    if (byGeneration > 0) {
      return ABOVE_EVERY_BALLOT;
    }
    if (byGeneration < 0 || fence.getRound() < 0) {
      return Ballot.ZERO;
    }
    return new Ballot(
        fence.getRound(),
        fence.getReplicaId() > Integer.MAX_VALUE ? Integer.MAX_VALUE : fence.getReplicaId());
  }

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  static com.google.protobuf.Duration duration(Duration duration) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(duration.getSeconds())
        .setNanos(duration.getNano())
        .build();
  }

  /** The launch spec an agent needs for one run of {@code spec}. */
  static LaunchSpec launchSpec(JobSpec spec) {
    LaunchSpec.Builder builder =
        LaunchSpec.newBuilder()
            .setJob(spec.name())
            .putAllEnv(spec.env())
            .setWorkingDirectory(spec.workingDirectory())
            .setTimeout(duration(spec.timeout()));
    switch (spec.command()) {
      case JobCommand.Argv argv -> builder.addAllArgv(argv.arguments());
      case JobCommand.Shell shell -> builder.setShell(shell.script());
    }
    return builder.build();
  }

  /** The outcome an agent reported for a finished run, or empty if it did not report one it may. */
  static Optional<Outcome> outcome(RunState state) {
    return switch (state.getOutcome()) {
      case OUTCOME_SUCCEEDED -> Optional.of(Outcome.SUCCEEDED);
      case OUTCOME_FAILED -> Optional.of(Outcome.failed(state.getExitCode()));
      case OUTCOME_TIMED_OUT -> Optional.of(Outcome.TIMED_OUT);
      default -> Optional.empty();
    };
  }

  /**
   * What an answer about one run (to a launch or a GetRun) tells the dispatcher, if anything.
   * {@code askedUnder} is the core ballot the question was sent with.
   */
  static Optional<AgentAnswer> answer(AgentId agent, long generation, RunState state) {
    RunId runId;
    try {
      runId = RunId.parse(state.getRunId());
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    Ballot askedUnder = ballot(generation, state.getBallot());
    return switch (state.getState()) {
      case UNKNOWN ->
          Optional.of(new AgentAnswer.Unknown(agent, runId, state.getAttempt(), askedUnder));
      case ACCEPTED ->
          Optional.of(
              new AgentAnswer.Known(
                  agent, runId, state.getAttempt(), askedUnder, AgentRunState.ACCEPTED, null));
      case RUNNING ->
          Optional.of(
              new AgentAnswer.Known(
                  agent, runId, state.getAttempt(), askedUnder, AgentRunState.RUNNING, null));
      case FINISHED ->
          outcome(state)
              .map(
                  outcome ->
                      new AgentAnswer.Known(
                          agent,
                          runId,
                          state.getAttempt(),
                          askedUnder,
                          AgentRunState.FINISHED,
                          outcome));
      case FENCED ->
          Optional.of(new AgentAnswer.Fenced(agent, ballot(generation, state.getHighestSeen())));
      case NEVER_STARTED ->
          Optional.of(
              new AgentAnswer.NeverStarted(agent, runId, state.getAttempt(), state.getReason()));
      case STATE_UNSPECIFIED, UNRECOGNIZED -> Optional.empty();
    };
  }

  /** One agent's line in {@code ClusterService.Status}. */
  static AgentStatus status(AgentRegistry.AgentStatus agent) {
    AgentStatus.Builder status =
        AgentStatus.newBuilder()
            .setName(agent.name().value())
            .putAllLabels(agent.labels())
            .setCapacity(agent.capacity())
            .setRunning(agent.running())
            .setState(agent.health().name())
            .setCircuitOpen(agent.circuitOpen())
            .setLastHeartbeat(timestamp(agent.lastHeard()))
            .setPeer(agent.peer())
            .setVersion(agent.version());
    if (agent.circuitOpenUntil() != null) {
      status.setCircuitOpenUntil(timestamp(agent.circuitOpenUntil()));
    }
    return status.build();
  }

  /** The ledger detail of a finish report: its output tail (cut to its end) and reason. */
  static RunDetail detail(RunState state) {
    ByteString tail = state.getOutputTail();
    int limit = RunDetail.MAX_OUTPUT_TAIL_BYTES;
    ByteString kept = tail.size() <= limit ? tail : tail.substring(tail.size() - limit);
    return RunDetail.of(kept.toByteArray(), state.getReason());
  }
}
