package io.paxcron.server;

import io.grpc.stub.StreamObserver;
import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.AgentServiceGrpc;
import io.paxcron.proto.v1.LeaderMessage;

/**
 * {@code AgentService} on a replica's client API port: every {@code Connect} stream is handed to
 * the replica's {@link LeaderDispatch}, which redirects it unless this replica leads.
 */
final class AgentStreamService extends AgentServiceGrpc.AgentServiceImplBase {

  private final LeaderDispatch dispatch;

  AgentStreamService(LeaderDispatch dispatch) {
    this.dispatch = dispatch;
  }

  @Override
  public StreamObserver<AgentMessage> connect(StreamObserver<LeaderMessage> responseObserver) {
    return dispatch.connect(responseObserver);
  }
}
