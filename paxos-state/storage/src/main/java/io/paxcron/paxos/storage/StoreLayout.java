package io.paxcron.paxos.storage;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.RecordCodec;
import io.paxcron.paxos.RecordCodec.CorruptRecordException;
import io.paxcron.paxos.RecordKind;
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

  /**
   * {@code snapshot} family: the head record of the installed snapshot (slot, size, chunk count,
   * CRC32C of the image, and from head version 2 on a leading version byte); see {@link
   * SnapshotHead}.
   */
  static final byte[] SNAPSHOT_HEAD_KEY = {0};

  /**
   * {@code snapshot} family, head version 1 (the first layout): chunk keys are this byte followed
   * by a 4-byte big-endian index. Still read; the next install deletes the whole range.
   */
  static final byte LEGACY_CHUNK_KEY_PREFIX = 1;

  static final byte[] LEGACY_CHUNKS_BEGIN = {LEGACY_CHUNK_KEY_PREFIX};
  static final byte[] LEGACY_CHUNKS_END = {LEGACY_CHUNK_KEY_PREFIX + 1};

  /**
   * {@code snapshot} family, head version 2: chunk keys are this byte, the snapshot's slot (8 bytes
   * big-endian) and the chunk index (4 bytes big-endian), so a snapshot's chunks can be written
   * before it is installed without touching the installed snapshot's.
   */
  static final byte CHUNK_KEY_PREFIX = 2;

  static final byte[] CHUNKS_BEGIN = {CHUNK_KEY_PREFIX};
  static final byte[] CHUNKS_END = {CHUNK_KEY_PREFIX + 1};

  /** The first head version: 20 bytes, no version byte, chunks under the legacy prefix. */
  static final int HEAD_VERSION_LEGACY = 1;

  /** The head version this build writes: a version byte, then the legacy fields (21 bytes). */
  static final int HEAD_VERSION = 2;

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

  /** The first key of the chunks of the snapshot at {@code slot} (head version 2). */
  static byte[] chunksOf(long slot) {
    return ByteBuffer.allocate(1 + Long.BYTES).put(CHUNK_KEY_PREFIX).putLong(slot).array();
  }

  static byte[] chunkKey(long slot, int index) {
    return ByteBuffer.allocate(1 + Long.BYTES + Integer.BYTES)
        .put(CHUNK_KEY_PREFIX)
        .putLong(slot)
        .putInt(index)
        .array();
  }

  static byte[] frameInt(int value) {
    return RecordCodec.frame(
        RecordKind.STORE_RECORD, ByteBuffer.allocate(Integer.BYTES).putInt(value).array());
  }

  static int unframeInt(byte[] framed) throws CorruptRecordException {
    byte[] payload = RecordCodec.unframe(RecordKind.STORE_RECORD, framed);
    if (payload.length != Integer.BYTES) {
      throw new CorruptRecordException(
          "expected a 4-byte integer, found " + payload.length + " bytes");
    }
    return ByteBuffer.wrap(payload).getInt();
  }

  static byte[] frameString(String value) {
    return RecordCodec.frame(RecordKind.STORE_RECORD, value.getBytes(StandardCharsets.UTF_8));
  }

  static String unframeString(byte[] framed) throws CorruptRecordException {
    return new String(RecordCodec.unframe(RecordKind.STORE_RECORD, framed), StandardCharsets.UTF_8);
  }

  static byte[] frameBallot(Ballot ballot) {
    return RecordCodec.frame(
        RecordKind.STORE_RECORD,
        ByteBuffer.allocate(Long.BYTES + Integer.BYTES)
            .putLong(ballot.round())
            .putInt(ballot.replicaId())
            .array());
  }

  static Ballot unframeBallot(byte[] framed) throws CorruptRecordException {
    byte[] payload = RecordCodec.unframe(RecordKind.STORE_RECORD, framed);
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

  /**
   * The head of a stored snapshot: which slot it covers, how to check its chunks, and (through
   * {@code version}) where they are: version 1 under {@link #LEGACY_CHUNK_KEY_PREFIX} + index,
   * version 2 under {@link #CHUNK_KEY_PREFIX} + slot + index.
   */
  record SnapshotHead(int version, long slot, int sizeBytes, int chunkCount, int crc32c) {

    private static final int LEGACY_BYTES = Long.BYTES + 3 * Integer.BYTES;

    /** Only version 2 is written; version 1 exists in older data dirs and in tests. */
    byte[] frame() {
      ByteBuffer buffer =
          ByteBuffer.allocate((version == HEAD_VERSION_LEGACY ? 0 : 1) + LEGACY_BYTES);
      if (version != HEAD_VERSION_LEGACY) {
        buffer.put((byte) version);
      }
      return RecordCodec.frame(
          RecordKind.STORE_RECORD,
          buffer.putLong(slot).putInt(sizeBytes).putInt(chunkCount).putInt(crc32c).array());
    }

    /** The first key of this snapshot's chunks. */
    byte[] chunksBegin() {
      return version == HEAD_VERSION_LEGACY ? LEGACY_CHUNKS_BEGIN : chunksOf(slot);
    }

    /** The key just past this snapshot's chunks. */
    byte[] chunksEnd() {
      return version == HEAD_VERSION_LEGACY ? LEGACY_CHUNKS_END : chunksOf(slot + 1);
    }

    byte[] chunkKey(int index) {
      return version == HEAD_VERSION_LEGACY
          ? ByteBuffer.allocate(1 + Integer.BYTES)
              .put(LEGACY_CHUNK_KEY_PREFIX)
              .putInt(index)
              .array()
          : StoreLayout.chunkKey(slot, index);
    }

    /** The chunk index in {@code key}, or -1 if it is not a chunk key of this snapshot. */
    int indexOf(byte[] key) {
      byte[] begin = chunksBegin();
      if (key.length != begin.length + Integer.BYTES
          || !java.util.Arrays.equals(key, 0, begin.length, begin, 0, begin.length)) {
        return -1;
      }
      return ByteBuffer.wrap(key, begin.length, Integer.BYTES).getInt();
    }

    /**
     * The head version of an unframed head payload: 1 for the first layout's 20 bytes (whose first
     * byte, the top byte of the slot, is 0), otherwise the leading version byte.
     */
    static int versionOf(byte[] payload) {
      if (payload.length == LEGACY_BYTES && payload[0] == 0) {
        return HEAD_VERSION_LEGACY;
      }
      return payload.length == 0 ? 0 : payload[0] & 0xff;
    }

    /** Decodes a payload of a version this build reads (1 or 2; the caller checks). */
    static SnapshotHead decode(byte[] payload) throws CorruptRecordException {
      int version = versionOf(payload);
      int offset = version == HEAD_VERSION_LEGACY ? 0 : 1;
      if (payload.length != offset + LEGACY_BYTES) {
        throw new CorruptRecordException(
            "expected a "
                + (offset + LEGACY_BYTES)
                + "-byte snapshot head of version "
                + version
                + ", found "
                + payload.length
                + " bytes");
      }
      ByteBuffer buffer = ByteBuffer.wrap(payload, offset, LEGACY_BYTES);
      SnapshotHead head =
          new SnapshotHead(
              version, buffer.getLong(), buffer.getInt(), buffer.getInt(), buffer.getInt());
      if (head.slot < 0 || head.sizeBytes < 0 || head.chunkCount < 0) {
        throw new CorruptRecordException("snapshot head holds negative numbers: " + head);
      }
      if (head.slot == Long.MAX_VALUE) {
        throw new CorruptRecordException("snapshot head slot " + head.slot + " is out of range");
      }
      return head;
    }
  }
}
