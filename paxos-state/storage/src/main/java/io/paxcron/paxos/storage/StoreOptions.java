package io.paxcron.paxos.storage;

import java.util.regex.Pattern;

/**
 * Identity and limits of one replica's store. The identity is written on first start and verified
 * on every later start; the limits bound the writer's memory (STYLE §6).
 *
 * @param clusterId the cluster this store belongs to: 1 to 64 characters of {@code [A-Za-z0-9._-]},
 *     starting with a letter or digit
 * @param replicaId this replica's id, as in {@code PaxosConfig.replicaId()}
 * @param maxQueuedWrites writes that may wait for the writer thread; {@link LogStore#write} blocks
 *     its caller (back-pressure) while the queue is full
 * @param maxWritesPerGroup the most {@code Persist}s the writer puts into one synced WriteBatch
 * @param maxGroupBytes the most (estimated) bytes the writer puts into one WriteBatch; a single
 *     larger write still goes alone
 * @param snapshotChunkBytes the size of the chunks a snapshot image is split into on disk
 */
public record StoreOptions(
    String clusterId,
    int replicaId,
    int maxQueuedWrites,
    int maxWritesPerGroup,
    int maxGroupBytes,
    int snapshotChunkBytes) {

  public static final int DEFAULT_MAX_QUEUED_WRITES = 4096;
  public static final int LIMIT_MAX_QUEUED_WRITES = 1 << 20;
  public static final int DEFAULT_MAX_WRITES_PER_GROUP = 1024;
  public static final int LIMIT_MAX_WRITES_PER_GROUP = 1 << 16;
  public static final int DEFAULT_MAX_GROUP_BYTES = 64 << 20;
  public static final int MIN_GROUP_BYTES = 64 << 10;
  public static final int LIMIT_MAX_GROUP_BYTES = 1 << 30;
  public static final int DEFAULT_SNAPSHOT_CHUNK_BYTES = 1 << 20;
  public static final int MIN_SNAPSHOT_CHUNK_BYTES = 4 << 10;
  public static final int LIMIT_SNAPSHOT_CHUNK_BYTES = 64 << 20;
  public static final int MAX_CLUSTER_ID_CHARS = 64;

  private static final Pattern CLUSTER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  public StoreOptions {
    checkClusterId(clusterId);
    if (replicaId < 0) {
      throw new IllegalArgumentException("replicaId must be >= 0, got " + replicaId);
    }
    checkRange("maxQueuedWrites", maxQueuedWrites, 1, LIMIT_MAX_QUEUED_WRITES);
    checkRange("maxWritesPerGroup", maxWritesPerGroup, 1, LIMIT_MAX_WRITES_PER_GROUP);
    checkRange("maxGroupBytes", maxGroupBytes, MIN_GROUP_BYTES, LIMIT_MAX_GROUP_BYTES);
    checkRange(
        "snapshotChunkBytes",
        snapshotChunkBytes,
        MIN_SNAPSHOT_CHUNK_BYTES,
        LIMIT_SNAPSHOT_CHUNK_BYTES);
  }

  /** The default limits for the replica {@code replicaId} of the cluster {@code clusterId}. */
  public static StoreOptions defaults(String clusterId, int replicaId) {
    return new StoreOptions(
        clusterId,
        replicaId,
        DEFAULT_MAX_QUEUED_WRITES,
        DEFAULT_MAX_WRITES_PER_GROUP,
        DEFAULT_MAX_GROUP_BYTES,
        DEFAULT_SNAPSHOT_CHUNK_BYTES);
  }

  public StoreOptions withMaxQueuedWrites(int value) {
    return new StoreOptions(
        clusterId, replicaId, value, maxWritesPerGroup, maxGroupBytes, snapshotChunkBytes);
  }

  public StoreOptions withMaxWritesPerGroup(int value) {
    return new StoreOptions(
        clusterId, replicaId, maxQueuedWrites, value, maxGroupBytes, snapshotChunkBytes);
  }

  public StoreOptions withMaxGroupBytes(int value) {
    return new StoreOptions(
        clusterId, replicaId, maxQueuedWrites, maxWritesPerGroup, value, snapshotChunkBytes);
  }

  public StoreOptions withSnapshotChunkBytes(int value) {
    return new StoreOptions(
        clusterId, replicaId, maxQueuedWrites, maxWritesPerGroup, maxGroupBytes, value);
  }

  /** Rejects a cluster id that could not be written to the store or a backup manifest. */
  static void checkClusterId(String clusterId) {
    if (clusterId == null || !CLUSTER_ID.matcher(clusterId).matches()) {
      throw new IllegalArgumentException(
          "clusterId must be 1 to "
              + MAX_CLUSTER_ID_CHARS
              + " characters of [A-Za-z0-9._-] starting with a letter or digit, got "
              + (clusterId == null ? "null" : "'" + clusterId + "'"));
    }
  }

  private static void checkRange(String setting, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          setting + " must be between " + min + " and " + max + ", got " + value);
    }
  }
}
