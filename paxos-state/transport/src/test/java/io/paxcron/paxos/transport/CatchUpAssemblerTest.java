package io.paxcron.paxos.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.SnapshotImage;
import io.paxcron.proto.v1.CatchUpChunk;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class CatchUpAssemblerTest {

  private static final ProtoCodec CODEC = new ProtoCodec("prod-eu", 2);

  private static List<CatchUpChunk> chunks(Message.CatchUpReply reply, int chunkBytes) {
    List<CatchUpChunk> chunks = new ArrayList<>();
    new CatchUpChunks(CODEC, reply, chunkBytes).forEachRemaining(chunks::add);
    return chunks;
  }

  private static Message.CatchUpReply assemble(List<CatchUpChunk> chunks)
      throws CatchUpTransferException {
    CatchUpAssembler assembler = new CatchUpAssembler(1 << 20, 1000);
    for (CatchUpChunk chunk : chunks) {
      assembler.add(chunk);
    }
    return assembler.finish();
  }

  private static CatchUpChunk corrupt(CatchUpChunk chunk) {
    byte[] data = chunk.getSnapshotPart().getData().toByteArray();
    data[data.length / 2] ^= 0x10;
    return chunk.toBuilder()
        .setSnapshotPart(chunk.getSnapshotPart().toBuilder().setData(ByteString.copyFrom(data)))
        .build();
  }

  @Test
  void aSnapshotIsSplitIntoPartsOfAtMostTheChunkSizeAndReassembledIntact()
      throws CatchUpTransferException {
    Message.CatchUpReply reply = Fixtures.catchUpReply(10_000, 3);

    List<CatchUpChunk> chunks = chunks(reply, 1024);

    long parts = chunks.stream().filter(CatchUpChunk::hasSnapshotPart).count();
    assertEquals(10, parts);
    assertTrue(
        chunks.stream()
            .filter(CatchUpChunk::hasSnapshotPart)
            .allMatch(c -> c.getSnapshotPart().getData().size() <= 1024));
    assertTrue(chunks.getLast().hasEnd());
    assertEquals(reply, assemble(chunks));
  }

  @Test
  void anImageOnlyInTheStoreIsReadOnePartAtATimeAndReassembledIntact()
      throws CatchUpTransferException {
    Message.CatchUpReply reply = Fixtures.catchUpReply(10_000, 3);
    byte[] bytes = reply.snapshot().data().clone();
    SnapshotImage stored = SnapshotImage.of(bytes.clone());
    List<Integer> reads = new ArrayList<>();
    stored.storedIn(
        (offset, length) -> {
          reads.add(length);
          return Arrays.copyOfRange(bytes, (int) offset, (int) offset + length);
        });
    stored.dropFromMemory();
    Message.CatchUpReply fromStore =
        new Message.CatchUpReply(
            reply.ballot(),
            new Snapshot(reply.snapshot().slot(), stored, null),
            reply.chosen(),
            reply.chosenBelowSlot());

    List<CatchUpChunk> chunks = chunks(fromStore, 1024);

    assertEquals(10, reads.size(), "one read per part, never the whole image");
    assertTrue(reads.stream().allMatch(length -> length <= 1024), reads.toString());
    assertEquals(reply, assemble(chunks));
  }

  @Test
  void anImageANewerSnapshotReplacedMidwayFailsTheParts() {
    byte[] bytes = new byte[4096];
    SnapshotImage stored = SnapshotImage.of(bytes);
    AtomicBoolean replaced = new AtomicBoolean();
    stored.storedIn(
        (offset, length) -> {
          if (replaced.get()) {
            throw new IllegalStateException("the snapshot at slot 99 is no longer stored");
          }
          return new byte[length];
        });
    stored.dropFromMemory();
    CatchUpChunks parts =
        new CatchUpChunks(
            CODEC,
            new Message.CatchUpReply(
                Fixtures.catchUpReply(0, 1).ballot(),
                new Snapshot(99, stored, null),
                List.of(),
                100),
            1024);

    parts.next();
    replaced.set(true);

    assertThrows(IllegalStateException.class, parts::next);
  }

  @Test
  void chosenEntriesBeyondOneChunkTravelInSeveralParts() throws CatchUpTransferException {
    Message.CatchUpReply reply = Fixtures.catchUpReply(0, 200);

    List<CatchUpChunk> chunks = chunks(reply, 1024);

    assertTrue(chunks.stream().filter(CatchUpChunk::hasChosenPart).count() > 1);
    assertEquals(reply, assemble(chunks));
  }

  @Test
  void aReplyWithoutSnapshotCarriesOnlyEntriesAndTheEndMarker() throws CatchUpTransferException {
    Message.CatchUpReply reply = Fixtures.catchUpReplyWithoutSnapshot();

    List<CatchUpChunk> chunks = chunks(reply, 1024);

    assertEquals(2, chunks.size());
    assertEquals(reply, assemble(chunks));
  }

  @Test
  void anEmptySnapshotTravelsInTheEndMarkerAlone() throws CatchUpTransferException {
    Message.CatchUpReply reply =
        new Message.CatchUpReply(Fixtures.BALLOT, new Snapshot(7, new byte[0]), List.of(), 8);

    assertEquals(reply, assemble(chunks(reply, 1024)));
  }

  @Test
  void aCorruptedPartIsRejectedNamingThePartAndTheChecksum() {
    List<CatchUpChunk> chunks = chunks(Fixtures.catchUpReply(10_000, 1), 1024);
    chunks.set(3, corrupt(chunks.get(3)));

    CatchUpTransferException error =
        assertThrows(CatchUpTransferException.class, () -> assemble(chunks));

    assertTrue(
        error
            .getMessage()
            .startsWith("snapshot part 3 (offset 3072, 1024 bytes) fails its CRC32C check"),
        error.getMessage());
  }

  @Test
  void aMissingPartIsRejectedAsOutOfOrder() {
    List<CatchUpChunk> chunks = chunks(Fixtures.catchUpReply(10_000, 1), 1024);
    chunks.remove(2);

    CatchUpTransferException error =
        assertThrows(CatchUpTransferException.class, () -> assemble(chunks));

    assertEquals("snapshot part 3 arrived where part 2 was expected", error.getMessage());
  }

  @Test
  void aStreamThatEndsBeforeItsEndMarkerIsRejectedAsIncomplete() {
    List<CatchUpChunk> chunks = chunks(Fixtures.catchUpReply(10_000, 1), 1024);
    chunks.removeLast();

    CatchUpTransferException error =
        assertThrows(CatchUpTransferException.class, () -> assemble(chunks));

    assertTrue(
        error
            .getMessage()
            .startsWith("incomplete transfer: the stream ended before its end marker"),
        error.getMessage());
  }

  @Test
  void aLostChosenPartIsCaughtByTheCountsInTheEndMarker() {
    List<CatchUpChunk> chunks = chunks(Fixtures.catchUpReply(0, 200), 1024);
    chunks.remove(1);

    CatchUpTransferException error =
        assertThrows(CatchUpTransferException.class, () -> assemble(chunks));

    assertTrue(
        error.getMessage().startsWith("incomplete transfer: the end marker announces"),
        error.getMessage());
  }

  @Test
  void aSnapshotAboveTheLimitIsRefusedBeforeItIsBuffered() {
    List<CatchUpChunk> chunks = chunks(Fixtures.catchUpReply(10_000, 0), 4096);
    CatchUpAssembler assembler = new CatchUpAssembler(8192, 1000);

    CatchUpTransferException error =
        assertThrows(CatchUpTransferException.class, () -> assembler.add(chunks.getFirst()));

    assertTrue(error.getMessage().contains("maxSnapshotBytes is 8192"), error.getMessage());
  }
}
