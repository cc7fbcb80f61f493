package io.paxcron.api;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.paxcron.proto.v1.FieldViolations;
import io.paxcron.proto.v1.VersionConflict;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.FieldError;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.UnaryOperator;

/**
 * The job API's error model (jobs.proto, "Errors"): gRPC status codes, and trailers that carry what
 * a program needs to act on an error — every field violation, the current version of a conflicting
 * job, the leader's address. Shared by the services and {@link JobClient}.
 */
public final class ApiErrors {
  /**
   * {@code "<id>=<host>:<port>"} of the leader, on FAILED_PRECONDITION from a replica that does not
   * lead.
   */
  public static final Metadata.Key<String> LEADER_TRAILER =
      Metadata.Key.of("paxcron-leader", Metadata.ASCII_STRING_MARSHALLER);

  /** Every problem of an INVALID_ARGUMENT request. */
  public static final Metadata.Key<FieldViolations> FIELD_VIOLATIONS_TRAILER =
      Metadata.Key.of(
          "paxcron-field-violations-bin",
          ProtoUtils.metadataMarshaller(FieldViolations.getDefaultInstance()));

  /** The job and its current version, on FAILED_PRECONDITION for a version conflict. */
  public static final Metadata.Key<VersionConflict> CONFLICT_TRAILER =
      Metadata.Key.of(
          "paxcron-conflict-bin",
          ProtoUtils.metadataMarshaller(VersionConflict.getDefaultInstance()));

  private ApiErrors() {}

  /** INVALID_ARGUMENT listing every problem in the description and in the trailer. */
  public static StatusRuntimeException invalid(List<FieldError> errors) {
    Metadata trailers = new Metadata();
    trailers.put(FIELD_VIOLATIONS_TRAILER, JobProtos.toProto(errors));
    StringBuilder description = new StringBuilder().append(errors.size()).append(" problem(s): ");
    for (int i = 0; i < errors.size(); i++) {
      description.append(i == 0 ? "" : "; ").append(errors.get(i));
    }
    return Status.INVALID_ARGUMENT
        .withDescription(description.toString())
        .asRuntimeException(trailers);
  }

  public static StatusRuntimeException invalid(String path, String reason) {
    return invalid(List.of(new FieldError(path, reason)));
  }

  /**
   * The gRPC error for a result that is not a success, or {@code null} for APPLIED and DUPLICATE.
   *
   * @param job the job the command was about
   * @param errorPath maps a validator path to its path in the request (e.g. adds {@code job.})
   */
  public static StatusRuntimeException forResult(
      String job, CommandResult result, UnaryOperator<String> errorPath) {
    return switch (result.status()) {
      case APPLIED, DUPLICATE -> null;
      case CONFLICT -> {
        Metadata trailers = new Metadata();
        trailers.put(
            CONFLICT_TRAILER,
            VersionConflict.newBuilder().setJob(job).setCurrentVersion(result.version()).build());
        yield Status.FAILED_PRECONDITION
            .withDescription(result.message())
            .asRuntimeException(trailers);
      }
      case NOT_FOUND -> Status.NOT_FOUND.withDescription(result.message()).asRuntimeException();
      case INVALID ->
          invalid(
              result.errors().stream()
                  .map(e -> new FieldError(errorPath.apply(e.path()), e.reason()))
                  .toList());
      case REJECTED ->
          Status.FAILED_PRECONDITION.withDescription(result.message()).asRuntimeException();
      case MALFORMED ->
          Status.INTERNAL
              .withDescription(
                  "the replica could not read the command it proposed: " + result.message())
              .asRuntimeException();
    };
  }

  /** The gRPC error for a failed {@link CronCluster} future. */
  public static StatusRuntimeException forFailure(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return switch (cause) {
      case StatusRuntimeException status -> status;
      case CronCluster.NotLeaderException notLeader -> {
        if (notLeader.leaderHint().isEmpty()) {
          yield Status.UNAVAILABLE
              .withDescription(notLeader.getMessage() + "; no leader known, retry")
              .asRuntimeException();
        }
        Metadata trailers = new Metadata();
        trailers.put(LEADER_TRAILER, notLeader.leaderHint());
        yield Status.FAILED_PRECONDITION
            .withDescription(notLeader.getMessage())
            .asRuntimeException(trailers);
      }
      case CronCluster.UnavailableException unavailable ->
          Status.UNAVAILABLE.withDescription(unavailable.getMessage()).asRuntimeException();
      case CronCluster.StaleRequestException stale ->
          Status.FAILED_PRECONDITION.withDescription(stale.getMessage()).asRuntimeException();
      default ->
          Status.INTERNAL
              .withDescription(String.valueOf(cause))
              .withCause(cause)
              .asRuntimeException();
    };
  }
}
