package io.paxcron.paxos.transport;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.Snapshot;
import io.paxcron.proto.v1.CatchUpChunk;
import io.paxcron.proto.v1.CatchUpEnd;
import io.paxcron.proto.v1.ChosenPart;
import io.paxcron.proto.v1.SnapshotPart;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reassembles one {@code CatchUp} response stream (see {@link CatchUpChunks} for its order) into
 * the {@link Message.CatchUpReply} it carries, verifying as it goes: every snapshot part's CRC32C,
 * that parts are contiguous and in order, the limits on image size and entry count, and at the end
 * every count in the end marker and the CRC32C of the whole image. The first violation throws
 * {@link CatchUpTransferException} saying which part and why; the assembler is then spent.
 *
 * <p>Sender identity is not checked here; the transport checks it on every chunk first.
 *
 * <p>Threading: not thread-safe; one call's response observer owns it (gRPC delivers a call's
 * messages one at a time).
 */
final class CatchUpAssembler {

  private final long maxSnapshotBytes;
  private final int maxChosenEntries;

  private byte[] image;
  private long snapshotSlot;
  private int snapshotParts;
  private long imageBytes;
  private final CRC32C imageCrc = new CRC32C();
  private final List<LogEntry> chosen = new ArrayList<>();
  private int chosenParts;
  private Message.CatchUpReply reply;

  CatchUpAssembler(long maxSnapshotBytes, int maxChosenEntries) {
    this.maxSnapshotBytes = maxSnapshotBytes;
    this.maxChosenEntries = maxChosenEntries;
  }

  void add(CatchUpChunk chunk) throws CatchUpTransferException {
    if (reply != null) {
      throw new CatchUpTransferException("a chunk arrived after the end marker");
    }
    switch (chunk.getPartCase()) {
      case SNAPSHOT_PART -> addSnapshotPart(chunk.getSnapshotPart());
      case CHOSEN_PART -> addChosenPart(chunk.getChosenPart());
      case END -> end(chunk.getEnd());
      case PART_NOT_SET ->
          throw new CatchUpTransferException(
              "chunk " + received() + " has no part (catch_up_chunk.part is not set)");
    }
  }

  /** The reassembled reply, once the stream has completed normally. */
  Message.CatchUpReply finish() throws CatchUpTransferException {
    if (reply == null) {
      throw new CatchUpTransferException(
          "incomplete transfer: the stream ended before its end marker, after "
              + snapshotParts
              + " snapshot parts ("
              + imageBytes
              + (image == null ? "" : " of " + image.length)
              + " bytes) and "
              + chosenParts
              + " chosen parts");
    }
    return reply;
  }

  private void addSnapshotPart(SnapshotPart part) throws CatchUpTransferException {
    String name = "snapshot part " + part.getIndex();
    if (chosenParts > 0) {
      throw new CatchUpTransferException(name + " arrived after chosen entries");
    }
    if (image == null) {
      long size = part.getSnapshotSizeBytes();
      if (size < 1 || size > maxSnapshotBytes) {
        throw new CatchUpTransferException(
            name
                + " announces an image of "
                + size
                + " bytes; the limit maxSnapshotBytes is "
                + maxSnapshotBytes);
      }
      image = new byte[(int) size];
      snapshotSlot = part.getSnapshotSlot();
    }
    if (part.getIndex() != snapshotParts) {
      throw new CatchUpTransferException(
          name + " arrived where part " + snapshotParts + " was expected");
    }
    if (part.getSnapshotSlot() != snapshotSlot || part.getSnapshotSizeBytes() != image.length) {
      throw new CatchUpTransferException(
          name
              + " belongs to another image (slot "
              + part.getSnapshotSlot()
              + ", "
              + part.getSnapshotSizeBytes()
              + " bytes) than part 0 (slot "
              + snapshotSlot
              + ", "
              + image.length
              + " bytes)");
    }
    int length = part.getData().size();
    if (part.getOffset() != imageBytes || length == 0 || imageBytes + length > image.length) {
      throw new CatchUpTransferException(
          name
              + " covers bytes ["
              + part.getOffset()
              + ", "
              + (part.getOffset() + length)
              + ") where ["
              + imageBytes
              + ", ...) of "
              + image.length
              + " was expected");
    }
    part.getData().copyTo(image, (int) imageBytes);
    CRC32C partCrc = new CRC32C();
    partCrc.update(image, (int) imageBytes, length);
    int computed = (int) partCrc.getValue();
    if (computed != part.getCrc32C()) {
      throw new CatchUpTransferException(
          name
              + " (offset "
              + part.getOffset()
              + ", "
              + length
              + " bytes) fails its CRC32C check: the sender computed "
              + Integer.toHexString(part.getCrc32C())
              + ", the received bytes give "
              + Integer.toHexString(computed));
    }
    imageCrc.update(image, (int) imageBytes, length);
    imageBytes += length;
    snapshotParts++;
  }

  private void addChosenPart(ChosenPart part) throws CatchUpTransferException {
    String name = "chosen part " + chosenParts;
    if (chosen.size() + part.getEntriesCount() > maxChosenEntries) {
      throw new CatchUpTransferException(
          name
              + " brings the entry count above the limit maxCatchUpEntries of "
              + maxChosenEntries);
    }
    try {
      chosen.addAll(ProtoCodec.decodeEntries(part.getEntriesList(), name + ".entries"));
    } catch (IllegalArgumentException e) {
      throw new CatchUpTransferException(e.getMessage(), e);
    }
    chosenParts++;
  }

  private void end(CatchUpEnd end) throws CatchUpTransferException {
    Snapshot snapshot = null;
    if (end.getHasSnapshot()) {
      byte[] data = image == null ? new byte[0] : image;
      if (end.getSnapshotPartCount() != snapshotParts
          || end.getSnapshotSizeBytes() != imageBytes
          || data.length != imageBytes) {
        throw new CatchUpTransferException(
            "incomplete transfer: the end marker announces "
                + end.getSnapshotPartCount()
                + " snapshot parts and "
                + end.getSnapshotSizeBytes()
                + " bytes, but "
                + snapshotParts
                + " parts and "
                + imageBytes
                + " bytes arrived");
      }
      if (image != null && end.getSnapshotSlot() != snapshotSlot) {
        throw new CatchUpTransferException(
            "the end marker names snapshot slot "
                + end.getSnapshotSlot()
                + " but the parts carried slot "
                + snapshotSlot);
      }
      int computed = (int) imageCrc.getValue();
      if (computed != end.getSnapshotCrc32C()) {
        throw new CatchUpTransferException(
            "the reassembled image fails its CRC32C check: the sender computed "
                + Integer.toHexString(end.getSnapshotCrc32C())
                + ", the received bytes give "
                + Integer.toHexString(computed));
      }
      try {
        snapshot = new Snapshot(end.getSnapshotSlot(), data);
      } catch (IllegalArgumentException e) {
        throw new CatchUpTransferException("catch_up_end.snapshot_slot: " + e.getMessage(), e);
      }
      if (!end.getSnapshotMembership().isEmpty()) {
        try {
          snapshot =
              snapshot.withMembership(
                  io.paxcron.paxos.RecordCodec.decodeMembership(
                      end.getSnapshotMembership().toByteArray()));
        } catch (io.paxcron.paxos.RecordCodec.CorruptRecordException e) {
          throw new CatchUpTransferException(
              "catch_up_end.snapshot_membership: " + e.getMessage(), e);
        }
      }
    } else if (snapshotParts > 0) {
      throw new CatchUpTransferException(
          "the end marker announces no snapshot, but " + snapshotParts + " snapshot parts arrived");
    }
    if (end.getChosenPartCount() != chosenParts || end.getChosenEntryCount() != chosen.size()) {
      throw new CatchUpTransferException(
          "incomplete transfer: the end marker announces "
              + end.getChosenPartCount()
              + " chosen parts with "
              + end.getChosenEntryCount()
              + " entries, but "
              + chosenParts
              + " parts with "
              + chosen.size()
              + " entries arrived");
    }
    try {
      Ballot ballot =
          ProtoCodec.decodeBallot(end.hasBallot(), end.getBallot(), "catch_up_end.ballot");
      reply = new Message.CatchUpReply(ballot, snapshot, chosen, end.getChosenBelowSlot());
    } catch (IllegalArgumentException e) {
      throw new CatchUpTransferException(e.getMessage(), e);
    }
  }

  private int received() {
    return snapshotParts + chosenParts;
  }
}
