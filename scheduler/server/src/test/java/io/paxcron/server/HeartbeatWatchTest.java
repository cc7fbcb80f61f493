package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.paxcron.proto.v1.LeaderMessage;
import org.junit.jupiter.api.Test;

class HeartbeatWatchTest {
  @Test
  void theReportLineSaysWhatBecameOfTheHeartbeatsAndWhatWentToAgentsThenStartsAfresh() {
    HeartbeatWatch watch = new HeartbeatWatch();
    assertEquals("", watch.summary(), "nothing came, nothing to say");
    watch.received(0);
    watch.received(2_181_000_000L);
    watch.received(500_000_000L);
    watch.acknowledgedAtOnce(0);
    watch.toLoop(HeartbeatWatch.ToLoop.LEASE_NOT_VALID);
    watch.acknowledgedOnLoop(1_250_000_000L, 155);
    watch.toLoop(HeartbeatWatch.ToLoop.NOT_REGISTERED);
    watch.unanswered();
    watch.sent(LeaderMessage.BodyCase.HEARTBEAT_ACK);
    watch.sent(LeaderMessage.BodyCase.HEARTBEAT_ACK);
    watch.sent(LeaderMessage.BodyCase.LAUNCH);
    watch.waited();
    watch.repeatNotQueued();
    assertEquals(
        "; agent heartbeats 3 (longest gap 2181 ms): 1 acknowledged at once, 1 on the loop (1 not"
            + " registered, 1 replica lease not valid) after up to 1250 ms, 1 not acknowledged, at"
            + " most 155 messages waiting for an agent overtaken by one; sent to agents 2"
            + " heartbeat_ack, 1 launch (1 waited for an agent to read, 1 repeats not queued twice)",
        watch.summary());
    assertEquals("", watch.summary(), "each line counts since the last");
  }
}
