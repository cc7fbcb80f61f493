package io.paxcron.paxos;

/**
 * The id of a replica: a member of a {@link Configuration}, the sender and addressee of an {@link
 * Envelope}, a leader that a rejection names.
 *
 * <p>Valid ids are {@code 0} to {@link Integer#MAX_VALUE}, the ids {@link PaxosConfig} and {@link
 * Configuration} accepted when they were bare {@code int}s; every wire and persisted format still
 * carries the bare number, and a shell that reads a negative one (such as the {@code -1} of "no
 * leader known" on the wire) maps it to {@code null} before it builds an id. Ordered by the number,
 * so sorted sets and maps of ids keep the order they had as integers; {@link #toString} is the bare
 * number, so logs and traces read as before.
 *
 * <p>Use {@link #of}: it returns a shared instance for ids up to {@link #MAX_CACHED}, so decoding a
 * message or stepping the replica allocates nothing. Compare ids with {@link #equals}, never with
 * {@code ==}: an id above the cache is a new instance each time.
 */
public record ReplicaId(int value) implements Comparable<ReplicaId> {

  /** The largest id {@link #of} returns a shared instance for. */
  public static final int MAX_CACHED = 255;

  private static final ReplicaId[] CACHE = new ReplicaId[MAX_CACHED + 1];

  static {
    for (int i = 0; i <= MAX_CACHED; i++) {
      CACHE[i] = new ReplicaId(i);
    }
  }

  public ReplicaId {
    if (value < 0) {
      throw new IllegalArgumentException(
          "replica id " + value + " is not valid: replica ids are 0 or greater");
    }
  }

  /** The id {@code value}; shared for small ids. */
  public static ReplicaId of(int value) {
    return value >= 0 && value <= MAX_CACHED ? CACHE[value] : new ReplicaId(value);
  }

  @Override
  public int compareTo(ReplicaId other) {
    return Integer.compare(value, other.value);
  }

  @Override
  public String toString() {
    return Integer.toString(value);
  }
}
