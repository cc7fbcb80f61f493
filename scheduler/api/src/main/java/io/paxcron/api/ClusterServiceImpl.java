package io.paxcron.api;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.paxcron.proto.v1.BackupRequest;
import io.paxcron.proto.v1.BackupResponse;
import io.paxcron.proto.v1.ClusterServiceGrpc;
import io.paxcron.proto.v1.ClusterStatusRequest;
import io.paxcron.proto.v1.ClusterStatusResponse;
import io.paxcron.proto.v1.Member;
import io.paxcron.proto.v1.MembersRequest;
import io.paxcron.proto.v1.MembersResponse;

/**
 * {@code ClusterService} (jobs.proto): what this replica knows about the cluster, answered locally
 * from {@link CronCluster#info()} without a Paxos round, so it works on any replica, leader or not,
 * and while there is no leader at all. {@code Backup} asks this replica's {@link BackupControl} and
 * is answered only by the leader.
 */
public final class ClusterServiceImpl extends ClusterServiceGrpc.ClusterServiceImplBase {
  private final CronCluster cluster;
  private final BackupControl backups;

  public ClusterServiceImpl(CronCluster cluster) {
    this(cluster, BackupControl.NONE);
  }

  public ClusterServiceImpl(CronCluster cluster, BackupControl backups) {
    this.cluster = cluster;
    this.backups = backups;
  }

  @Override
  public void status(ClusterStatusRequest request, StreamObserver<ClusterStatusResponse> response) {
    ClusterInfo info = cluster.info();
    ClusterStatusResponse.Builder reply =
        ClusterStatusResponse.newBuilder()
            .setReplicaId(info.replicaId())
            .setRole(info.role())
            .setLeaderId(info.leaderId())
            .setLeaderAddress(info.leaderId() < 0 ? "" : info.addressOf(info.leaderId()))
            .setBallotRound(info.ballotRound())
            .setFirstUnchosenSlot(info.firstUnchosenSlot())
            .setAppliedSlot(info.appliedSlot())
            .setHoldsLease(info.holdsLease())
            .mergeFrom(backupStatus(backups.status()));
    // The agents are the leader's soft state; any other replica lists none.
    cluster
        .agents()
        .whenComplete(
            (agents, failure) -> {
              if (failure == null) {
                reply.addAllAgents(agents);
              }
              response.onNext(reply.build());
              response.onCompleted();
            });
  }

  private static ClusterStatusResponse backupStatus(BackupControl.Status status) {
    ClusterStatusResponse.Builder fields =
        ClusterStatusResponse.newBuilder()
            .setBackupTarget(status.target())
            .setBackupsWritten(status.written())
            .setBackupsFailed(status.failed())
            .setRestoreGeneration(status.restoreGeneration());
    status
        .lastSuccess()
        .ifPresent(
            success ->
                fields
                    .setLastBackupTime(timestamp(success.at()))
                    .setLastBackupSlot(success.slot())
                    .setLastBackupName(success.name()));
    status
        .lastFailure()
        .ifPresent(
            failure ->
                fields
                    .setLastBackupFailureTime(timestamp(failure.at()))
                    .setLastBackupFailure(failure.reason()));
    return fields.build();
  }

  @Override
  public void backup(BackupRequest request, StreamObserver<BackupResponse> response) {
    backups
        .backupNow()
        .whenComplete(
            (result, failure) -> {
              if (failure != null) {
                Throwable cause =
                    failure instanceof java.util.concurrent.CompletionException
                            && failure.getCause() != null
                        ? failure.getCause()
                        : failure;
                // A failed backup is final for this call: retrying it on another replica would only
                // be redirected here and try the same target again.
                response.onError(
                    switch (cause) {
                      case BackupControl.NotConfiguredException notConfigured ->
                          Status.FAILED_PRECONDITION
                              .withDescription(notConfigured.getMessage())
                              .asRuntimeException();
                      case BackupControl.BackupFailedException backupFailed ->
                          Status.FAILED_PRECONDITION
                              .withDescription(backupFailed.getMessage())
                              .asRuntimeException();
                      default -> ApiErrors.forFailure(cause);
                    });
                return;
              }
              response.onNext(
                  BackupResponse.newBuilder()
                      .setName(result.name())
                      .setSlot(result.slot())
                      .setTakenAt(timestamp(result.takenAt()))
                      .setTarget(result.target())
                      .setSizeBytes(result.sizeBytes())
                      .addAllPruned(result.pruned())
                      .build());
              response.onCompleted();
            });
  }

  private static Timestamp timestamp(java.time.Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  @Override
  public void members(MembersRequest request, StreamObserver<MembersResponse> response) {
    ClusterInfo info = cluster.info();
    MembersResponse.Builder reply = MembersResponse.newBuilder();
    for (ClusterInfo.Member member : info.members()) {
      reply.addMembers(member(info, member));
    }
    response.onNext(reply.build());
    response.onCompleted();
  }

  private static Member member(ClusterInfo info, ClusterInfo.Member member) {
    return Member.newBuilder()
        .setId(member.id())
        .setAddress(member.address())
        .setLeader(member.id() == info.leaderId())
        .setSelf(member.id() == info.replicaId())
        .setRole(member.learner() ? "learner" : "voter")
        .build();
  }

  @Override
  public void changeMembers(
      io.paxcron.proto.v1.ChangeMembersRequest request,
      StreamObserver<io.paxcron.proto.v1.ChangeMembersResponse> response) {
    String invalid = invalidChange(request);
    if (invalid != null) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(invalid).asRuntimeException());
      return;
    }
    cluster
        .changeMembers(request)
        .whenComplete(
            (members, failure) -> {
              if (failure != null) {
                response.onError(ApiErrors.forFailure(failure));
                return;
              }
              ClusterInfo info = cluster.info();
              io.paxcron.proto.v1.ChangeMembersResponse.Builder reply =
                  io.paxcron.proto.v1.ChangeMembersResponse.newBuilder();
              for (ClusterInfo.Member member : members) {
                reply.addMembers(member(info, member));
              }
              response.onNext(reply.build());
              response.onCompleted();
            });
  }

  /** Why a membership request is malformed (field and reason), or null. */
  static String invalidChange(io.paxcron.proto.v1.ChangeMembersRequest request) {
    switch (request.getAction()) {
      case ADD_LEARNER -> {
        String[] parts = request.getAddress().split(":", -1);
        if (parts.length != 3 || parts[0].isBlank() || !port(parts[1]) || !port(parts[2])) {
          return "address: '"
              + request.getAddress()
              + "' must be HOST:PEER_PORT:CLIENT_PORT for the replica to add";
        }
      }
      case PROMOTE, REMOVE -> {
        if (!request.getAddress().isEmpty()) {
          return "address: only ADD_LEARNER takes an address";
        }
      }
      default -> {
        return "action: must be ADD_LEARNER, PROMOTE or REMOVE, got " + request.getAction();
      }
    }
    if (request.getId() < 0 || request.getId() > 1_000_000) {
      return "id: " + request.getId() + " is not a replica id (0 to 1000000)";
    }
    return null;
  }

  private static boolean port(String text) {
    try {
      int port = Integer.parseInt(text);
      return port > 0 && port <= 65_535;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
