package io.paxcron.paxos.storage;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.RecordCodec;
import io.paxcron.paxos.RecordCodec.CorruptRecordException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

/**
 * The on-disk layout of a {@link LogStore}: column family names, key encodings and the payloads of
 * the records that are not log entries. Every value is a {@link RecordCodec} frame, so each record
 * carries its own format version byte, length and CRC32C. See the module README for the same layout
 * in prose.
 */
final class StoreLayout {

  /** The layout version in {@code meta/format-version}; bump it on any incompatible change. */
  static final int FORMAT_VERSION = 1;

  static final String DEFAULT_FAMILY = "default";
  static final String META_FAMILY = "meta";
  static final String LOG_FAMILY = "log";
  static final String SNAPSHOT_FAMILY = "snapshot";

  /** Every column family, in the order the store opens them. */
  static final List<String> FAMILIES =
      List.of(DEFAULT_FAMILY, META_FAMILY, LOG_FAMILY, SNAPSHOT_FAMILY);

  static final byte[] FORMAT_VERSION_KEY = ascii("format-version");
  static final byte[] CLUSTER_ID_KEY = ascii("cluster-id");
  static final byte[] REPLICA_ID_KEY = ascii("replica-id");
  static final byte[] PROMISED_KEY = ascii("promised");

  /**
   * The installed snapshot's membership (RecordCodec's form, framed), written in the same batch as
   * the snapshot; absent while the cluster has its start-up configuration.
   */
  static final byte[] SNAPSHOT_MEMBERSHIP_KEY = ascii("snapshot-membership");

  /** {@code snapshot} family: the head record (slot, size, chunk count, CRC32C of the image). */
  static final byte[] SNAPSHOT_HEAD_KEY = {0};

  /** {@code snapshot} family: chunk keys are this byte followed by a 4-byte big-endian index. */
  static final byte CHUNK_KEY_PREFIX = 1;

  static final byte[] CHUNKS_BEGIN = {CHUNK_KEY_PREFIX};
  static final byte[] CHUNKS_END = {CHUNK_KEY_PREFIX + 1};

  private StoreLayout() {}

  static byte[] ascii(String key) {
    return key.getBytes(StandardCharsets.US_ASCII);
  }

  static String describeKey(byte[] key) {
    return "0x" + HexFormat.of().formatHex(key);
  }

  /** Log keys are the slot as 8 bytes, big-endian, so RocksDB's byte order is slot order. */
  static byte[] slotKey(long slot) {
    return ByteBuffer.allocate(Long.BYTES).putLong(slot).array();
  }

  static long slotOf(byte[] key) {
    return ByteBuffer.wrap(key).getLong();
  }

  static byte[] chunkKey(int index) {
    return ByteBuffer.allocate(1 + Integer.BYTES).put(CHUNK_KEY_PREFIX).putInt(index).array();
  }

  static byte[] frameInt(int value) {
    return RecordCodec.frame(ByteBuffer.allocate(Integer.BYTES).putInt(value).array());
  }

  static int unframeInt(byte[] framed) throws CorruptRecordException {
    byte[] payload = RecordCodec.unframe(framed);
    if (payload.length != Integer.BYTES) {
      throw new CorruptRecordException(
          "expected a 4-byte integer, found " + payload.length + " bytes");
    }
    return ByteBuffer.wrap(payload).getInt();
  }

  static byte[] frameString(String value) {
    return RecordCodec.frame(value.getBytes(StandardCharsets.UTF_8));
  }

  static String unframeString(byte[] framed) throws CorruptRecordException {
    return new String(RecordCodec.unframe(framed), StandardCharsets.UTF_8);
  }

  static byte[] frameBallot(Ballot ballot) {
    return RecordCodec.frame(
        ByteBuffer.allocate(Long.BYTES + Integer.BYTES)
            .putLong(ballot.round())
            .putInt(ballot.replicaId())
            .array());
  }

  static Ballot unframeBallot(byte[] framed) throws CorruptRecordException {
    byte[] payload = RecordCodec.unframe(framed);
    if (payload.length != Long.BYTES + Integer.BYTES) {
      throw new CorruptRecordException("expected a 12-byte ballot, found " + payload.length);
    }
    ByteBuffer buffer = ByteBuffer.wrap(payload);
    try {
      return new Ballot(buffer.getLong(), buffer.getInt());
    } catch (IllegalArgumentException e) {
      throw new CorruptRecordException("ballot is invalid: " + e.getMessage());
    }
  }

  /** The head of a stored snapshot: which slot it covers and how to check its chunks. */
  record SnapshotHead(long slot, int sizeBytes, int chunkCount, int crc32c) {

    byte[] frame() {
      return RecordCodec.frame(
          ByteBuffer.allocate(Long.BYTES + 3 * Integer.BYTES)
              .putLong(slot)
              .putInt(sizeBytes)
              .putInt(chunkCount)
              .putInt(crc32c)
              .array());
    }

    static SnapshotHead unframe(byte[] framed) throws CorruptRecordException {
      byte[] payload = RecordCodec.unframe(framed);
      if (payload.length != Long.BYTES + 3 * Integer.BYTES) {
        throw new CorruptRecordException(
            "expected a 20-byte snapshot head, found " + payload.length + " bytes");
      }
      ByteBuffer buffer = ByteBuffer.wrap(payload);
      SnapshotHead head =
          new SnapshotHead(buffer.getLong(), buffer.getInt(), buffer.getInt(), buffer.getInt());
      if (head.slot < 0 || head.sizeBytes < 0 || head.chunkCount < 0) {
        throw new CorruptRecordException("snapshot head holds negative numbers: " + head);
      }
      return head;
    }
  }
}
