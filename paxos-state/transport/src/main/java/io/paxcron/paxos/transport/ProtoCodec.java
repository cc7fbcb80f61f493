package io.paxcron.paxos.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.RecordCodec;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.Value;
import io.paxcron.proto.v1.Accept;
import io.paxcron.proto.v1.AcceptReply;
import io.paxcron.proto.v1.Accepted;
import io.paxcron.proto.v1.Batch;
import io.paxcron.proto.v1.CatchUpReply;
import io.paxcron.proto.v1.CatchUpRequest;
import io.paxcron.proto.v1.NoOp;
import io.paxcron.proto.v1.PeerMessage;
import io.paxcron.proto.v1.PreVoteGranted;
import io.paxcron.proto.v1.Prepare;
import io.paxcron.proto.v1.PrepareReply;
import io.paxcron.proto.v1.Promise;
import io.paxcron.proto.v1.Rejected;
import io.paxcron.proto.v1.Sender;
import io.paxcron.proto.v1.SnapshotImage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Converts between the core's sealed {@link Message} family and the protobuf messages of {@code
 * peer.proto}, one to one and field for field.
 *
 * <p>Encoding stamps every message with this replica's {@link Sender}. Decoding checks structure
 * only (required sub-messages present, the core's record invariants); whether the sender belongs to
 * the cluster is the transport's check, not the codec's. A message that does not decode throws
 * {@link IllegalArgumentException} whose message names the missing or invalid field — an operating
 * error the transport turns into {@code INVALID_ARGUMENT}.
 *
 * <p>Byte arrays are shared, not copied, on encode: {@link Command} payloads and {@link Snapshot}
 * images are never mutated after construction, so wrapping them is safe. Decoding copies, because a
 * protobuf {@link ByteString} may be backed by a network buffer.
 *
 * <p>Threading: immutable and thread-safe.
 */
public final class ProtoCodec {

  private volatile Sender sender;

  public ProtoCodec(String clusterId, int replicaId) {
    this.sender = Sender.newBuilder().setClusterId(clusterId).setReplicaId(replicaId).build();
  }

  /** Stamps every message encoded from now on with the port of this replica's Accept socket. */
  public void advertiseAcceptPort(int port) {
    sender = sender.toBuilder().setAcceptPort(port).build();
  }

  /** The identity stamped on every message this codec encodes. */
  public Sender sender() {
    return sender;
  }

  // ---------------------------------------------------------------------------------------------
  // The whole family

  /** Encodes any message in its unchunked form. */
  public PeerMessage encode(Message message) {
    PeerMessage.Builder builder = PeerMessage.newBuilder();
    return switch (message) {
      case Message.PreVote preVote -> builder.setPrepare(encodePreVote(preVote)).build();
      case Message.PreVoteGranted granted ->
          builder.setPreVoteGranted(encodePreVoteGranted(granted)).build();
      case Message.Prepare prepare -> builder.setPrepare(encodePrepare(prepare)).build();
      case Message.Promise promise -> builder.setPromise(encodePromise(promise)).build();
      case Message.Accept accept -> builder.setAccept(encodeAccept(accept)).build();
      case Message.Accepted accepted -> builder.setAccepted(encodeAccepted(accepted)).build();
      case Message.Rejected rejected -> builder.setRejected(encodeRejected(rejected)).build();
      case Message.CatchUpRequest request ->
          builder.setCatchUpRequest(encodeCatchUpRequest(request)).build();
      case Message.CatchUpReply reply -> builder.setCatchUpReply(encodeCatchUpReply(reply)).build();
    };
  }

  /** Decodes any message from its unchunked form. */
  public static Message decode(PeerMessage message) {
    return switch (message.getKindCase()) {
      case PREPARE -> decodePrepareOrPreVote(message.getPrepare());
      case PRE_VOTE_GRANTED -> decodePreVoteGranted(message.getPreVoteGranted());
      case PROMISE -> decodePromise(message.getPromise());
      case ACCEPT -> decodeAccept(message.getAccept());
      case ACCEPTED -> decodeAccepted(message.getAccepted());
      case REJECTED -> decodeRejected(message.getRejected());
      case CATCH_UP_REQUEST -> decodeCatchUpRequest(message.getCatchUpRequest());
      case CATCH_UP_REPLY -> decodeCatchUpReply(message.getCatchUpReply());
      case KIND_NOT_SET -> throw new IllegalArgumentException("peer_message.kind is not set");
    };
  }

  /** The sender stamped on a message in its unchunked form. */
  public static Sender senderOf(PeerMessage message) {
    return switch (message.getKindCase()) {
      case PREPARE -> message.getPrepare().getSender();
      case PRE_VOTE_GRANTED -> message.getPreVoteGranted().getSender();
      case PROMISE -> message.getPromise().getSender();
      case ACCEPT -> message.getAccept().getSender();
      case ACCEPTED -> message.getAccepted().getSender();
      case REJECTED -> message.getRejected().getSender();
      case CATCH_UP_REQUEST -> message.getCatchUpRequest().getSender();
      case CATCH_UP_REPLY -> message.getCatchUpReply().getSender();
      case KIND_NOT_SET -> throw new IllegalArgumentException("peer_message.kind is not set");
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Replies as the RPCs carry them

  public AcceptReply encodeAcceptReply(Message message) {
    return switch (message) {
      case Message.Accepted accepted ->
          AcceptReply.newBuilder().setAccepted(encodeAccepted(accepted)).build();
      case Message.Rejected rejected ->
          AcceptReply.newBuilder().setRejected(encodeRejected(rejected)).build();
      default ->
          throw new IllegalArgumentException(
              "an accept reply is an Accepted or a Rejected, not " + message);
    };
  }

  public static Message decodeAcceptReply(AcceptReply reply) {
    return switch (reply.getKindCase()) {
      case ACCEPTED -> decodeAccepted(reply.getAccepted());
      case REJECTED -> decodeRejected(reply.getRejected());
      case KIND_NOT_SET -> throw new IllegalArgumentException("accept_reply.kind is not set");
    };
  }

  public static Sender senderOf(AcceptReply reply) {
    return switch (reply.getKindCase()) {
      case ACCEPTED -> reply.getAccepted().getSender();
      case REJECTED -> reply.getRejected().getSender();
      case KIND_NOT_SET -> throw new IllegalArgumentException("accept_reply.kind is not set");
    };
  }

  public PrepareReply encodePrepareReply(Message message) {
    return switch (message) {
      case Message.Promise promise ->
          PrepareReply.newBuilder().setPromise(encodePromise(promise)).build();
      case Message.Rejected rejected ->
          PrepareReply.newBuilder().setRejected(encodeRejected(rejected)).build();
      case Message.PreVoteGranted granted ->
          PrepareReply.newBuilder().setPreVoteGranted(encodePreVoteGranted(granted)).build();
      default ->
          throw new IllegalArgumentException(
              "a prepare reply is a Promise, a PreVoteGranted or a Rejected, not " + message);
    };
  }

  public static Message decodePrepareReply(PrepareReply reply) {
    return switch (reply.getKindCase()) {
      case PROMISE -> decodePromise(reply.getPromise());
      case REJECTED -> decodeRejected(reply.getRejected());
      case PRE_VOTE_GRANTED -> decodePreVoteGranted(reply.getPreVoteGranted());
      case KIND_NOT_SET -> throw new IllegalArgumentException("prepare_reply.kind is not set");
    };
  }

  public static Sender senderOf(PrepareReply reply) {
    return switch (reply.getKindCase()) {
      case PROMISE -> reply.getPromise().getSender();
      case REJECTED -> reply.getRejected().getSender();
      case PRE_VOTE_GRANTED -> reply.getPreVoteGranted().getSender();
      case KIND_NOT_SET -> throw new IllegalArgumentException("prepare_reply.kind is not set");
    };
  }

  // ---------------------------------------------------------------------------------------------
  // One kind at a time

  public Prepare encodePrepare(Message.Prepare prepare) {
    return Prepare.newBuilder()
        .setSender(sender)
        .setBallot(encodeBallot(prepare.ballot()))
        .setFromSlot(prepare.fromSlot())
        .setSentAtMillis(prepare.sentAtMillis())
        .build();
  }

  public static Message.Prepare decodePrepare(Prepare prepare) {
    Ballot ballot = decodeBallot(prepare.hasBallot(), prepare.getBallot(), "prepare.ballot");
    return decoding(
        "prepare",
        () -> new Message.Prepare(ballot, prepare.getFromSlot(), prepare.getSentAtMillis()));
  }

  /** A pre-vote travels as a Prepare call with {@code pre_vote} set (peer.proto). */
  public Prepare encodePreVote(Message.PreVote preVote) {
    return Prepare.newBuilder()
        .setSender(sender)
        .setBallot(encodeBallot(preVote.ballot()))
        .setSentAtMillis(preVote.sentAtMillis())
        .setPreVote(true)
        .build();
  }

  /** A Prepare call's message: a {@link Message.PreVote} when {@code pre_vote} is set. */
  public static Message decodePrepareOrPreVote(Prepare prepare) {
    if (prepare.getPreVote()) {
      Ballot ballot = decodeBallot(prepare.hasBallot(), prepare.getBallot(), "prepare.ballot");
      return decoding("prepare", () -> new Message.PreVote(ballot, prepare.getSentAtMillis()));
    }
    return decodePrepare(prepare);
  }

  public PreVoteGranted encodePreVoteGranted(Message.PreVoteGranted granted) {
    return PreVoteGranted.newBuilder()
        .setSender(sender)
        .setBallot(encodeBallot(granted.ballot()))
        .build();
  }

  public static Message.PreVoteGranted decodePreVoteGranted(PreVoteGranted granted) {
    Ballot ballot =
        decodeBallot(granted.hasBallot(), granted.getBallot(), "pre_vote_granted.ballot");
    return decoding("pre_vote_granted", () -> new Message.PreVoteGranted(ballot));
  }

  public Promise encodePromise(Message.Promise promise) {
    return Promise.newBuilder()
        .setSender(sender)
        .setBallot(encodeBallot(promise.ballot()))
        .setFromSlot(promise.fromSlot())
        .addAllAccepted(encodeEntries(promise.accepted()))
        .setComplete(promise.complete())
        .setEchoSentAtMillis(promise.echoSentAtMillis())
        .build();
  }

  public static Message.Promise decodePromise(Promise promise) {
    Ballot ballot = decodeBallot(promise.hasBallot(), promise.getBallot(), "promise.ballot");
    List<LogEntry> accepted = decodeEntries(promise.getAcceptedList(), "promise.accepted");
    return decoding(
        "promise",
        () ->
            new Message.Promise(
                ballot,
                promise.getFromSlot(),
                accepted,
                promise.getComplete(),
                promise.getEchoSentAtMillis()));
  }

  public Accept encodeAccept(Message.Accept accept) {
    return Accept.newBuilder()
        .setSender(sender)
        .setBallot(encodeBallot(accept.ballot()))
        .addAllEntries(encodeEntries(accept.entries()))
        .setChosenBelowSlot(accept.chosenBelowSlot())
        .setSentAtMillis(accept.sentAtMillis())
        .setProbe(accept.probe())
        .build();
  }

  public static Message.Accept decodeAccept(Accept accept) {
    Ballot ballot = decodeBallot(accept.hasBallot(), accept.getBallot(), "accept.ballot");
    List<LogEntry> entries = decodeEntries(accept.getEntriesList(), "accept.entries");
    return decoding(
        "accept",
        () ->
            new Message.Accept(
                ballot,
                entries,
                accept.getChosenBelowSlot(),
                accept.getSentAtMillis(),
                accept.getProbe()));
  }

  public Accepted encodeAccepted(Message.Accepted accepted) {
    return Accepted.newBuilder()
        .setSender(sender)
        .setBallot(encodeBallot(accepted.ballot()))
        .addAllSlots(accepted.slots())
        .setFirstUnchosenSlot(accepted.firstUnchosenSlot())
        .setEchoSentAtMillis(accepted.echoSentAtMillis())
        .setProbe(accepted.probe())
        .build();
  }

  public static Message.Accepted decodeAccepted(Accepted accepted) {
    Ballot ballot = decodeBallot(accepted.hasBallot(), accepted.getBallot(), "accepted.ballot");
    return decoding(
        "accepted",
        () ->
            new Message.Accepted(
                ballot,
                accepted.getSlotsList(),
                accepted.getFirstUnchosenSlot(),
                accepted.getEchoSentAtMillis(),
                accepted.getProbe()));
  }

  public Rejected encodeRejected(Message.Rejected rejected) {
    return Rejected.newBuilder()
        .setSender(sender)
        .setBallot(encodeBallot(rejected.ballot()))
        .setPromised(encodeBallot(rejected.promised()))
        .setKnownLeader(rejected.knownLeader() == null ? -1 : rejected.knownLeader().value())
        .setLeaderAlive(rejected.leaderAlive())
        .build();
  }

  public static Message.Rejected decodeRejected(Rejected rejected) {
    return new Message.Rejected(
        decodeBallot(rejected.hasBallot(), rejected.getBallot(), "rejected.ballot"),
        decodeBallot(rejected.hasPromised(), rejected.getPromised(), "rejected.promised"),
        // The wire says -1 for "no leader known", as it always has.
        rejected.getKnownLeader() < 0 ? null : ReplicaId.of(rejected.getKnownLeader()),
        rejected.getLeaderAlive());
  }

  public CatchUpRequest encodeCatchUpRequest(Message.CatchUpRequest request) {
    return CatchUpRequest.newBuilder()
        .setSender(sender)
        .setBallot(encodeBallot(request.ballot()))
        .setFromSlot(request.fromSlot())
        .build();
  }

  public static Message.CatchUpRequest decodeCatchUpRequest(CatchUpRequest request) {
    Ballot ballot =
        decodeBallot(request.hasBallot(), request.getBallot(), "catch_up_request.ballot");
    return decoding(
        "catch_up_request", () -> new Message.CatchUpRequest(ballot, request.getFromSlot()));
  }

  public CatchUpReply encodeCatchUpReply(Message.CatchUpReply reply) {
    CatchUpReply.Builder builder =
        CatchUpReply.newBuilder()
            .setSender(sender)
            .setBallot(encodeBallot(reply.ballot()))
            .addAllChosen(encodeEntries(reply.chosen()))
            .setChosenBelowSlot(reply.chosenBelowSlot());
    if (reply.snapshot() != null) {
      SnapshotImage.Builder image =
          SnapshotImage.newBuilder()
              .setSlot(reply.snapshot().slot())
              .setData(UnsafeByteOperations.unsafeWrap(reply.snapshot().data()));
      if (reply.snapshot().membership() != null) {
        image.setMembership(
            UnsafeByteOperations.unsafeWrap(
                RecordCodec.encodeMembership(reply.snapshot().membership())));
      }
      builder.setSnapshot(image);
    }
    return builder.build();
  }

  public static Message.CatchUpReply decodeCatchUpReply(CatchUpReply reply) {
    Ballot ballot = decodeBallot(reply.hasBallot(), reply.getBallot(), "catch_up_reply.ballot");
    Snapshot snapshot =
        reply.hasSnapshot()
            ? decoding(
                "catch_up_reply.snapshot",
                () ->
                    withMembership(
                        new Snapshot(
                            reply.getSnapshot().getSlot(),
                            reply.getSnapshot().getData().toByteArray()),
                        reply.getSnapshot().getMembership()))
            : null;
    List<LogEntry> chosen = decodeEntries(reply.getChosenList(), "catch_up_reply.chosen");
    return decoding(
        "catch_up_reply",
        () -> new Message.CatchUpReply(ballot, snapshot, chosen, reply.getChosenBelowSlot()));
  }

  // ---------------------------------------------------------------------------------------------
  // Parts

  public static io.paxcron.proto.v1.Ballot encodeBallot(Ballot ballot) {
    return io.paxcron.proto.v1.Ballot.newBuilder()
        .setRound(ballot.round())
        .setReplicaId(ballot.replicaId())
        .build();
  }

  static Ballot decodeBallot(boolean present, io.paxcron.proto.v1.Ballot ballot, String field) {
    if (!present) {
      throw new IllegalArgumentException(field + " is missing");
    }
    try {
      return new Ballot(ballot.getRound(), ballot.getReplicaId());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
    }
  }

  public static List<io.paxcron.proto.v1.LogEntry> encodeEntries(List<LogEntry> entries) {
    List<io.paxcron.proto.v1.LogEntry> encoded = new ArrayList<>(entries.size());
    for (LogEntry entry : entries) {
      encoded.add(encodeEntry(entry));
    }
    return encoded;
  }

  public static io.paxcron.proto.v1.LogEntry encodeEntry(LogEntry entry) {
    return io.paxcron.proto.v1.LogEntry.newBuilder()
        .setSlot(entry.slot())
        .setBallot(encodeBallot(entry.ballot()))
        .setValue(encodeValue(entry.value()))
        .setChosen(entry.chosen())
        .build();
  }

  static List<LogEntry> decodeEntries(List<io.paxcron.proto.v1.LogEntry> entries, String field) {
    List<LogEntry> decoded = new ArrayList<>(entries.size());
    for (int i = 0; i < entries.size(); i++) {
      decoded.add(decodeEntry(entries.get(i), field + "[" + i + "]"));
    }
    return decoded;
  }

  static LogEntry decodeEntry(io.paxcron.proto.v1.LogEntry entry, String field) {
    Ballot ballot = decodeBallot(entry.hasBallot(), entry.getBallot(), field + ".ballot");
    if (!entry.hasValue()) {
      throw new IllegalArgumentException(field + ".value is missing");
    }
    Value value = decodeValue(entry.getValue(), field + ".value");
    try {
      return new LogEntry(entry.getSlot(), ballot, value, entry.getChosen());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
    }
  }

  static io.paxcron.proto.v1.Value encodeValue(Value value) {
    io.paxcron.proto.v1.Value.Builder builder = io.paxcron.proto.v1.Value.newBuilder();
    return switch (value) {
      case Value.NoOp noOp -> builder.setNoOp(NoOp.getDefaultInstance()).build();
      case Value.Batch batch -> {
        Batch.Builder commands = Batch.newBuilder();
        for (Command command : batch.commands()) {
          commands.addCommands(
              io.paxcron.proto.v1.Command.newBuilder()
                  .setClientId(command.clientId())
                  .setSequence(command.sequence())
                  .setPayload(UnsafeByteOperations.unsafeWrap(command.payload())));
        }
        yield builder.setBatch(commands).build();
      }
      case Value.Reconfigure reconfigure ->
          builder
              .setReconfigure(UnsafeByteOperations.unsafeWrap(RecordCodec.encodeValue(reconfigure)))
              .build();
    };
  }

  static Value decodeValue(io.paxcron.proto.v1.Value value, String field) {
    return switch (value.getKindCase()) {
      case NO_OP -> Value.NO_OP;
      case BATCH -> {
        List<io.paxcron.proto.v1.Command> encoded = value.getBatch().getCommandsList();
        List<Command> commands = new ArrayList<>(encoded.size());
        for (int i = 0; i < encoded.size(); i++) {
          io.paxcron.proto.v1.Command command = encoded.get(i);
          try {
            commands.add(
                new Command(
                    command.getClientId(),
                    command.getSequence(),
                    command.getPayload().toByteArray()));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                field + ".batch.commands[" + i + "]: " + e.getMessage(), e);
          }
        }
        try {
          yield new Value.Batch(commands);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(field + ".batch: " + e.getMessage(), e);
        }
      }
      case RECONFIGURE -> {
        try {
          yield RecordCodec.decodeValue(value.getReconfigure().toByteArray());
        } catch (RecordCodec.CorruptRecordException e) {
          throw new IllegalArgumentException(field + ".reconfigure: " + e.getMessage(), e);
        }
      }
      case KIND_NOT_SET -> throw new IllegalArgumentException(field + ".kind is not set");
    };
  }

  private static Snapshot withMembership(
      Snapshot snapshot, com.google.protobuf.ByteString encoded) {
    if (encoded.isEmpty()) {
      return snapshot;
    }
    try {
      return snapshot.withMembership(RecordCodec.decodeMembership(encoded.toByteArray()));
    } catch (RecordCodec.CorruptRecordException e) {
      throw new IllegalArgumentException("membership: " + e.getMessage(), e);
    }
  }

  /** Runs a record constructor, prefixing its complaint with the message kind. */
  static <T> T decoding(String kind, Supplier<T> decoder) {
    try {
      return decoder.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(kind + ": " + e.getMessage(), e);
    }
  }
}
