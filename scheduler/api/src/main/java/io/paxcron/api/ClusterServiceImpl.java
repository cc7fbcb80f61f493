package io.paxcron.api;

import io.grpc.stub.StreamObserver;
import io.paxcron.proto.v1.ClusterServiceGrpc;
import io.paxcron.proto.v1.ClusterStatusRequest;
import io.paxcron.proto.v1.ClusterStatusResponse;
import io.paxcron.proto.v1.Member;
import io.paxcron.proto.v1.MembersRequest;
import io.paxcron.proto.v1.MembersResponse;

/**
 * {@code ClusterService} (jobs.proto): what this replica knows about the cluster, answered locally
 * from {@link CronCluster#info()} without a Paxos round, so it works on any replica, leader or not,
 * and while there is no leader at all.
 */
public final class ClusterServiceImpl extends ClusterServiceGrpc.ClusterServiceImplBase {
    private final CronCluster cluster;

    public ClusterServiceImpl(CronCluster cluster) {
        this.cluster = cluster;
    }

    @Override
    public void status(ClusterStatusRequest request, StreamObserver<ClusterStatusResponse> response) {
        ClusterInfo info = cluster.info();
        ClusterStatusResponse.Builder reply = ClusterStatusResponse.newBuilder()
                .setReplicaId(info.replicaId())
                .setRole(info.role())
                .setLeaderId(info.leaderId())
                .setLeaderAddress(info.leaderId() < 0 ? "" : info.addressOf(info.leaderId()))
                .setBallotRound(info.ballotRound())
                .setFirstUnchosenSlot(info.firstUnchosenSlot())
                .setAppliedSlot(info.appliedSlot())
                .setHoldsLease(info.holdsLease());
        // The agents are the leader's soft state; any other replica lists none.
        cluster.agents().whenComplete((agents, failure) -> {
            if (failure == null) {
                reply.addAllAgents(agents);
            }
            response.onNext(reply.build());
            response.onCompleted();
        });
    }

    @Override
    public void members(MembersRequest request, StreamObserver<MembersResponse> response) {
        ClusterInfo info = cluster.info();
        MembersResponse.Builder reply = MembersResponse.newBuilder();
        for (ClusterInfo.Member member : info.members()) {
            reply.addMembers(Member.newBuilder()
                    .setId(member.id())
                    .setAddress(member.address())
                    .setLeader(member.id() == info.leaderId())
                    .setSelf(member.id() == info.replicaId()));
        }
        response.onNext(reply.build());
        response.onCompleted();
    }
}
