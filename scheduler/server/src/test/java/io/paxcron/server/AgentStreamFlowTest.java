package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.paxcron.proto.v1.HeartbeatAck;
import io.paxcron.proto.v1.Launch;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.ReportAck;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The leader's side of one agent stream while the agent reads slowly: messages wait in the leader
 * instead of in gRPC's buffer, heartbeat acknowledgements overtake them, a repeated launch still
 * waiting is not queued twice, and the bound ends the stream.
 */
class AgentStreamFlowTest {
  /** A server call whose readiness the test sets; it records what gRPC was handed. */
  private static final class Call extends ServerCallStreamObserver<LeaderMessage> {
    boolean ready = true;
    final List<LeaderMessage> written = new ArrayList<>();
    Throwable error;
    boolean completed;

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public void onNext(LeaderMessage value) {
      written.add(value);
    }

    @Override
    public void onError(Throwable t) {
      error = t;
    }

    @Override
    public void onCompleted() {
      completed = true;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void disableAutoInboundFlowControl() {}
  }

  private static LeaderMessage launch(int n) {
    return LeaderMessage.newBuilder()
        .setLaunch(Launch.newBuilder().setRunId("job-" + n + "@2026-12-04T00:00:00Z").setAttempt(1))
        .build();
  }

  private static LeaderMessage ack(long sequence) {
    return LeaderMessage.newBuilder()
        .setHeartbeatAck(HeartbeatAck.newBuilder().setSequence(sequence))
        .build();
  }

  @Test
  void anAcknowledgementOvertakesWhatWaitsForASlowAgentAndRepeatsAreNotQueuedTwice() {
    Call call = new Call();
    LeaderDispatch.Stream stream = new LeaderDispatch.Stream(call, new HeartbeatWatch());
    stream.send(launch(0));
    assertEquals(1, call.written.size(), "a ready stream writes at once");

    call.ready = false;
    for (int i = 1; i <= 100; i++) {
      stream.send(launch(i));
      stream.send(launch(i)); // the dispatcher's repeat while the first still waits
    }
    stream.send(
        LeaderMessage.newBuilder().setReportAck(ReportAck.newBuilder().setRunId("r")).build());
    assertEquals(1, call.written.size(), "nothing more goes to gRPC while the agent lags");

    assertEquals(101, stream.sendAhead(ack(7)), "the acknowledgement overtook 101 messages");
    assertEquals(7, call.written.get(1).getHeartbeatAck().getSequence());

    call.ready = true;
    stream.onReady();
    assertEquals(2 + 101, call.written.size(), "each waiting message went once, in order");
    for (int i = 1; i <= 100; i++) {
      assertEquals(
          "job-" + i + "@2026-12-04T00:00:00Z", call.written.get(1 + i).getLaunch().getRunId());
    }
    assertEquals("r", call.written.get(102).getReportAck().getRunId());

    stream.send(launch(1)); // sent once it no longer waits: the agent may not have it
    assertEquals(104, call.written.size());
  }

  @Test
  void anAgentThatReadsNothingIsCutOffAtTheBound() {
    Call call = new Call();
    call.ready = false;
    LeaderDispatch.Stream stream = new LeaderDispatch.Stream(call, new HeartbeatWatch());
    for (int i = 0; i < LeaderDispatch.MAX_UNREAD_MESSAGES_PER_AGENT; i++) {
      stream.send(launch(i));
    }
    assertNull(call.error);
    stream.send(launch(-1));
    StatusRuntimeException error = assertInstanceOf(StatusRuntimeException.class, call.error);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, error.getStatus().getCode());
    call.ready = true;
    stream.onReady();
    stream.send(launch(-2));
    assertEquals(0, call.written.size(), "an ended stream writes nothing");
  }
}
