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
      reply.addMembers(
          Member.newBuilder()
              .setId(member.id())
              .setAddress(member.address())
              .setLeader(member.id() == info.leaderId())
              .setSelf(member.id() == info.replicaId()));
    }
    response.onNext(reply.build());
    response.onCompleted();
  }
}
