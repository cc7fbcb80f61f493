package io.paxcron.paxos.transport;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnsafeByteOperations;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.SnapshotImage;
import io.paxcron.proto.v1.CatchUpChunk;
import io.paxcron.proto.v1.CatchUpEnd;
import io.paxcron.proto.v1.ChosenPart;
import io.paxcron.proto.v1.LogEntry;
import io.paxcron.proto.v1.SnapshotPart;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.zip.CRC32C;

/**
 * The wire form of one {@link Message.CatchUpReply}: the chunks of a {@code CatchUp} response
 * stream, produced lazily so that a large snapshot is never copied whole — each part holds a slice
 * of the (immutable) image, copied from memory or read back from the store as the part is produced,
 * and is checksummed then. A stored image that a newer snapshot replaced meanwhile fails {@link
 * #next} with an {@link IllegalStateException}; the call then ends and the asker asks again.
 *
 * <p>Order, as {@code peer.proto} states it: snapshot parts of at most {@code chunkBytes} data
 * bytes each, then chosen parts of at most about {@code chunkBytes} encoded bytes each (a single
 * entry larger than that travels alone), then one end marker carrying every count and the image's
 * CRC32C, which {@link CatchUpAssembler} checks.
 *
 * <p>Threading: not thread-safe; one call's writer owns it.
 */
final class CatchUpChunks implements Iterator<CatchUpChunk> {

  private final ProtoCodec codec;
  private final Message.CatchUpReply reply;
  private final int chunkBytes;
  private final SnapshotImage image;
  private final CRC32C imageCrc = new CRC32C();

  private int snapshotPartIndex;
  private int imageOffset;
  private int entryIndex;
  private int chosenPartCount;
  private boolean ended;

  CatchUpChunks(ProtoCodec codec, Message.CatchUpReply reply, int chunkBytes) {
    if (chunkBytes < 1) {
      throw new IllegalArgumentException("chunkBytes must be >= 1, got " + chunkBytes);
    }
    this.codec = codec;
    this.reply = reply;
    this.chunkBytes = chunkBytes;
    this.image =
        reply.snapshot() == null ? SnapshotImage.of(new byte[0]) : reply.snapshot().image();
  }

  @Override
  public boolean hasNext() {
    return !ended;
  }

  @Override
  public CatchUpChunk next() {
    if (ended) {
      throw new NoSuchElementException("the end marker was already produced");
    }
    CatchUpChunk.Builder chunk = CatchUpChunk.newBuilder().setSender(codec.sender());
    if (imageOffset < image.length()) {
      return chunk.setSnapshotPart(nextSnapshotPart()).build();
    }
    if (entryIndex < reply.chosen().size()) {
      chosenPartCount++;
      return chunk.setChosenPart(nextChosenPart()).build();
    }
    ended = true;
    return chunk.setEnd(end()).build();
  }

  private SnapshotPart nextSnapshotPart() {
    Snapshot snapshot = reply.snapshot();
    int length = Math.min(chunkBytes, image.length() - imageOffset);
    // One part's bytes at a time: from memory, or read back from the store (never the whole image).
    byte[] data = image.read(imageOffset, length);
    CRC32C partCrc = new CRC32C();
    partCrc.update(data);
    imageCrc.update(data);
    SnapshotPart part =
        SnapshotPart.newBuilder()
            .setSnapshotSlot(snapshot.slot())
            .setSnapshotSizeBytes(image.length())
            .setIndex(snapshotPartIndex)
            .setOffset(imageOffset)
            .setData(UnsafeByteOperations.unsafeWrap(data))
            .setCrc32C((int) partCrc.getValue())
            .build();
    snapshotPartIndex++;
    imageOffset += length;
    return part;
  }

  private ChosenPart nextChosenPart() {
    ChosenPart.Builder part = ChosenPart.newBuilder();
    long partBytes = 0;
    while (entryIndex < reply.chosen().size()) {
      LogEntry entry = ProtoCodec.encodeEntry(reply.chosen().get(entryIndex));
      int entryBytes = CodedOutputStream.computeMessageSizeNoTag(entry) + 1;
      if (part.getEntriesCount() > 0 && partBytes + entryBytes > chunkBytes) {
        break;
      }
      part.addEntries(entry);
      partBytes += entryBytes;
      entryIndex++;
    }
    return part.build();
  }

  private CatchUpEnd end() {
    CatchUpEnd.Builder end =
        CatchUpEnd.newBuilder()
            .setBallot(ProtoCodec.encodeBallot(reply.ballot()))
            .setChosenBelowSlot(reply.chosenBelowSlot())
            .setChosenPartCount(chosenPartCount)
            .setChosenEntryCount(reply.chosen().size());
    if (reply.snapshot() != null) {
      end.setHasSnapshot(true)
          .setSnapshotSlot(reply.snapshot().slot())
          .setSnapshotSizeBytes(image.length())
          .setSnapshotPartCount(snapshotPartIndex)
          .setSnapshotCrc32C((int) imageCrc.getValue());
      if (reply.snapshot().membership() != null) {
        end.setSnapshotMembership(
            com.google.protobuf.UnsafeByteOperations.unsafeWrap(
                io.paxcron.paxos.RecordCodec.encodeMembership(reply.snapshot().membership())));
      }
    }
    return end.build();
  }
}
