package io.paxcron.paxos;

/**
 * Every kind of record Paxcron persists in a {@link BinaryWriter#beginFrame frame}, with the format
 * version this build writes and the oldest it reads. The registry lives in the lowest module so
 * that two kinds can never share a tag.
 *
 * <p>Tags are {@code 0xD1} and up: no byte a record written before frames existed starts with (a
 * version byte 1 or 2, the top byte of a slot, a count or a length, the access-snapshot magic
 * {@code 0xA5}), so a reader tells a framed record from an older unframed one by its first byte.
 * Versions below {@link #firstFramedVersion()} are those older unframed layouts, read by the codec
 * of the kind, never written.
 */
public enum RecordKind {
  /** A value of the log store: a log entry, a meta value, a snapshot head, chunk or membership. */
  STORE_RECORD(0xD1, "store", 2, 1, 2),
  /** A {@link Persist} as the simulated disk appends it. */
  PERSIST(0xD2, "persist", 2, 1, 2),
  /** The session part of a snapshot ({@link SessionStateMachine}), followed by the state's part. */
  SESSION_SNAPSHOT(0xD3, "session snapshot", 2, 1, 2),
  /** The key-value state machine's snapshot. */
  KEY_VALUE_SNAPSHOT(0xD4, "key-value snapshot", 2, 1, 2),
  /** The cron state machine's snapshot (scheduler/core). */
  CRON_SNAPSHOT(0xD5, "cron snapshot", 3, 1, 3),
  /** The access layer's snapshot (scheduler/api, auth). */
  ACCESS_SNAPSHOT(0xD6, "access snapshot", 2, 1, 2),
  /** One record of a worker agent's journal (worker-agent/core). */
  JOURNAL_RECORD(0xD7, "agent journal", 2, 1, 2);

  private final byte tag;
  private final String description;
  private final int version;
  private final int oldestReadableVersion;
  private final int firstFramedVersion;

  RecordKind(
      int tag, String description, int version, int oldestReadableVersion, int firstFramedVersion) {
    this.tag = (byte) tag;
    this.description = description;
    this.version = version;
    this.oldestReadableVersion = oldestReadableVersion;
    this.firstFramedVersion = firstFramedVersion;
  }

  /** The first byte of a frame of this kind. */
  public byte tag() {
    return tag;
  }

  /** How messages name this kind: "{@code <description> record}". */
  public String description() {
    return description;
  }

  /** The format version this build writes. */
  public int version() {
    return version;
  }

  /** The oldest format version this build reads (an unframed layout below the first framed one). */
  public int oldestReadableVersion() {
    return oldestReadableVersion;
  }

  /** The first version written in a frame; older versions are unframed. */
  public int firstFramedVersion() {
    return firstFramedVersion;
  }

  /** The kind whose frames start with {@code tag}, or null. */
  public static RecordKind ofTag(byte tag) {
    for (RecordKind kind : values()) {
      if (kind.tag == tag) {
        return kind;
      }
    }
    return null;
  }

  /** "versions 1..3" or "version 2": what a message says this build reads. */
  String readableVersions() {
    return oldestReadableVersion == version
        ? "version " + version
        : "versions " + oldestReadableVersion + ".." + version;
  }
}
