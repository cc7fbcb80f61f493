package io.paxcron.paxos;

/**
 * The bytes of a {@link Snapshot}: in memory, or — once the store has made them durable and said
 * where it can read them back — only there. The content never changes; only where it lives does.
 *
 * <p>Why: a replica keeps its newest snapshot to answer catch-up requests, and at a million jobs
 * the image is ~300 MB. Held on the heap it was a quarter of a replica's memory, for bytes that are
 * on disk already and read only when a replica falls behind or a backup runs. A stored image is
 * read back on demand ({@link #read}, {@link #bytes}); the core sees no difference.
 *
 * <p>Threading: {@link #storedIn} and {@link #dropFromMemory} may run on the store's thread while
 * others read; both fields are volatile and the reader is set before the bytes are dropped.
 */
public final class SnapshotImage {

  /** Where a stored image is read back from. */
  @FunctionalInterface
  public interface Stored {
    /**
     * Reads {@code length} bytes of the image from {@code offset}.
     *
     * @throws IllegalStateException naming why when the image is no longer there (a newer snapshot
     *     replaced it, the store closed or failed)
     */
    byte[] read(long offset, int length);
  }

  private static final SnapshotImage EMPTY = new SnapshotImage(new byte[0]);

  private final int length;
  private volatile byte[] bytes;
  private volatile Stored stored;

  private SnapshotImage(byte[] bytes) {
    this.length = bytes.length;
    this.bytes = bytes;
  }

  /** An image held in memory. */
  public static SnapshotImage of(byte[] bytes) {
    if (bytes == null) {
      throw new IllegalArgumentException("snapshot data must not be null");
    }
    return bytes.length == 0 ? EMPTY : new SnapshotImage(bytes);
  }

  /** The image's size in bytes, without reading it. */
  public int length() {
    return length;
  }

  /** Whether the bytes are on the heap (false once {@link #dropFromMemory} released them). */
  public boolean inMemory() {
    return bytes != null;
  }

  /**
   * The whole image. In memory: the array itself (never mutate it). Stored only: read back, a new
   * array on every call — a caller that needs it twice keeps it.
   *
   * @throws IllegalStateException if the image is stored only and no longer readable
   */
  public byte[] bytes() {
    byte[] held = bytes;
    if (held != null) {
      return held;
    }
    return stored.read(0, length);
  }

  /**
   * {@code length} bytes from {@code offset}: a copy from memory, or a read of just those bytes
   * from the store.
   */
  public byte[] read(long offset, int length) {
    if (offset < 0 || length < 0 || offset + length > this.length) {
      throw new IndexOutOfBoundsException(
          "bytes " + offset + ".." + (offset + length) + " of an image of " + this.length);
    }
    byte[] held = bytes;
    if (held != null) {
      byte[] slice = new byte[length];
      System.arraycopy(held, (int) offset, slice, 0, length);
      return slice;
    }
    return stored.read(offset, length);
  }

  /**
   * Records where the store keeps these exact bytes durably; the bytes stay in memory until {@link
   * #dropFromMemory}. Only a store that has synced them calls this.
   */
  public void storedIn(Stored where) {
    if (this == EMPTY) {
      return;
    }
    this.stored = where;
  }

  /** Releases the heap copy if the image is stored; otherwise nothing changes. */
  public void dropFromMemory() {
    if (stored != null) {
      bytes = null;
    }
  }
}
