package io.paxcron.server;

import io.grpc.stub.StreamObserver;
import io.paxcron.api.auth.Caller;
import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.AgentServiceGrpc;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.Refused;
import java.util.Optional;

/**
 * {@code AgentService} on a replica's client API port: every {@code Connect} stream is handed to
 * the replica's {@link LeaderDispatch}, which redirects it unless this replica leads.
 *
 * <p>When the caller's identity fixes the agent's name (its verified client certificate's common
 * name, or an agent token's name; see {@link Caller#agentName()}), a {@code Register} under any
 * other name is refused before the dispatcher sees the stream: an agent's name comes from what it
 * proves, not from what it claims.
 */
final class AgentStreamService extends AgentServiceGrpc.AgentServiceImplBase {

  private final LeaderDispatch dispatch;

  AgentStreamService(LeaderDispatch dispatch) {
    this.dispatch = dispatch;
  }

  @Override
  public StreamObserver<AgentMessage> connect(StreamObserver<LeaderMessage> responseObserver) {
    Optional<Caller> caller = Caller.current();
    Optional<String> proven = caller.flatMap(Caller::agentName);
    if (proven.isEmpty()) {
      return dispatch.connect(responseObserver);
    }
    String name = proven.get();
    String actor = caller.get().actor();
    // The dispatcher must see the stream from its start (it sets the flow-control handler then);
    // a refused registration is answered here and the dispatcher's half is ended unregistered.
    StreamObserver<AgentMessage> delegate = dispatch.connect(responseObserver);
    return new StreamObserver<>() {
      private boolean registered;
      private boolean refused;

      @Override
      public void onNext(AgentMessage message) {
        if (refused) {
          return;
        }
        if (!registered && message.hasRegister()) {
          if (!message.getRegister().getName().equals(name)) {
            refused = true;
            responseObserver.onNext(
                LeaderMessage.newBuilder()
                    .setRefused(
                        Refused.newBuilder()
                            .setReason(
                                "name '"
                                    + clip(message.getRegister().getName())
                                    + "' is not the name "
                                    + actor
                                    + " proves ('"
                                    + name
                                    + "'); an agent registers under the name of its certificate"
                                    + " or token"))
                    .build());
            delegate.onCompleted();
            return;
          }
          registered = true;
        }
        delegate.onNext(message);
      }

      @Override
      public void onError(Throwable error) {
        if (!refused) {
          delegate.onError(error);
        }
      }

      @Override
      public void onCompleted() {
        if (!refused) {
          delegate.onCompleted();
        }
      }
    };
  }

  private static String clip(String text) {
    return text.length() <= 80 ? text : text.substring(0, 80) + "…";
  }
}
