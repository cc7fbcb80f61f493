package io.paxcron.paxos.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.Snapshot;
import io.paxcron.proto.v1.Accept;
import io.paxcron.proto.v1.AcceptReply;
import io.paxcron.proto.v1.Ballot;
import io.paxcron.proto.v1.LogEntry;
import io.paxcron.proto.v1.PeerMessage;
import io.paxcron.proto.v1.Prepare;
import io.paxcron.proto.v1.PrepareReply;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ProtoCodecTest {

  private final ProtoCodec codec = new ProtoCodec("prod-eu", 1);

  static Stream<Named<Message>> everyKind() {
    return Stream.of(
        Named.of("Prepare", Fixtures.prepare()),
        Named.of("PreVote", new Message.PreVote(Fixtures.BALLOT, 1_234)),
        Named.of("PreVoteGranted", new Message.PreVoteGranted(Fixtures.BALLOT)),
        Named.of("Promise", Fixtures.promise()),
        Named.of(
            "Promise with nothing accepted",
            new Message.Promise(Fixtures.BALLOT, 1, List.of(), true, 0)),
        Named.of("Accept", Fixtures.accept(42)),
        Named.of("Accept as heartbeat", Fixtures.heartbeat()),
        Named.of("Accepted", Fixtures.accepted(42)),
        Named.of("Rejected", Fixtures.rejected()),
        Named.of("Rejected without a known leader", Fixtures.rejectedWithoutLeader()),
        Named.of("CatchUpRequest", Fixtures.catchUpRequest()),
        Named.of("CatchUpReply with snapshot", Fixtures.catchUpReply(4096, 3)),
        Named.of(
            "CatchUpReply with empty snapshot",
            new Message.CatchUpReply(Fixtures.BALLOT, Snapshot.EMPTY, List.of(), 1)),
        Named.of("CatchUpReply without snapshot", Fixtures.catchUpReplyWithoutSnapshot()));
  }

  @ParameterizedTest
  @MethodSource("everyKind")
  void everyMessageKindSurvivesEncodingToBytesAndBack(Message message)
      throws InvalidProtocolBufferException {
    PeerMessage encoded = codec.encode(message);
    PeerMessage parsed = PeerMessage.parseFrom(encoded.toByteArray());

    assertEquals(message, ProtoCodec.decode(parsed));
    assertEquals("prod-eu", ProtoCodec.senderOf(parsed).getClusterId());
    assertEquals(1, ProtoCodec.senderOf(parsed).getReplicaId());
  }

  @Test
  void theRoundTripCoversEveryMemberOfTheSealedFamily() {
    Set<Class<?>> covered = new HashSet<>();
    everyKind().forEach(named -> covered.add(named.getPayload().getClass()));

    assertEquals(Set.copyOf(Arrays.asList(Message.class.getPermittedSubclasses())), covered);
  }

  @Test
  void acceptRepliesCarryAcceptedAndRejectedOnly() {
    AcceptReply accepted = codec.encodeAcceptReply(Fixtures.accepted(1));
    AcceptReply rejected = codec.encodeAcceptReply(Fixtures.rejected());

    assertEquals(Fixtures.accepted(1), ProtoCodec.decodeAcceptReply(accepted));
    assertEquals(Fixtures.rejected(), ProtoCodec.decodeAcceptReply(rejected));
    assertThrows(IllegalArgumentException.class, () -> codec.encodeAcceptReply(Fixtures.promise()));
  }

  @Test
  void prepareRepliesCarryPromisePreVoteGrantedAndRejectedOnly() {
    PrepareReply promise = codec.encodePrepareReply(Fixtures.promise());
    PrepareReply rejected = codec.encodePrepareReply(Fixtures.rejected());
    Message.PreVoteGranted granted = new Message.PreVoteGranted(Fixtures.BALLOT);

    assertEquals(Fixtures.promise(), ProtoCodec.decodePrepareReply(promise));
    assertEquals(Fixtures.rejected(), ProtoCodec.decodePrepareReply(rejected));
    assertEquals(granted, ProtoCodec.decodePrepareReply(codec.encodePrepareReply(granted)));
    assertThrows(
        IllegalArgumentException.class, () -> codec.encodePrepareReply(Fixtures.accepted(1)));
  }

  @Test
  void decodingAMessageWithoutItsBallotNamesTheField() {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> ProtoCodec.decodeAccept(Accept.getDefaultInstance()));

    assertEquals("accept.ballot is missing", error.getMessage());
  }

  @Test
  void decodingAnEntryWithoutItsValueNamesTheEntry() {
    Accept accept =
        codec.encodeAccept(Fixtures.accept(1)).toBuilder()
            .setEntries(
                0,
                LogEntry.newBuilder()
                    .setSlot(8)
                    .setBallot(ProtoCodec.encodeBallot(Fixtures.BALLOT)))
            .build();

    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> ProtoCodec.decodeAccept(accept));

    assertEquals("accept.entries[0].value is missing", error.getMessage());
  }

  @Test
  void decodingAnInvalidSlotNamesTheMessageAndTheRule() {
    Prepare prepare =
        Prepare.newBuilder().setBallot(Ballot.newBuilder().setRound(1).setReplicaId(1)).build();

    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> ProtoCodec.decodePrepare(prepare));

    assertTrue(error.getMessage().startsWith("prepare: fromSlot must be >= 1"), error.getMessage());
  }

  @Test
  void decodingAnEmptyPeerMessageSaysWhichFieldIsUnset() {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> ProtoCodec.decode(PeerMessage.getDefaultInstance()));

    assertEquals("peer_message.kind is not set", error.getMessage());
  }
}
