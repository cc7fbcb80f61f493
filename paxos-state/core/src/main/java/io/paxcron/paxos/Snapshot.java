package io.paxcron.paxos;

import java.util.Arrays;

/**
 * An image of the replicated state machine after applying every slot up to and including {@code
 * slot}, with the cluster's {@link Membership} as of that slot. The bytes are opaque to the core
 * (they are produced and consumed by the state machine) and never mutated after construction.
 *
 * <p>The bytes live in a {@link SnapshotImage}: on the heap, or only in the store once it made them
 * durable (a replica's newest snapshot is read back only to answer a catch-up or for a backup).
 *
 * <p>{@code membership} is null in a snapshot the state machine made (the core adds it before it
 * keeps or ships the snapshot) and in one written before membership changes existed: such a
 * snapshot's cluster still has its start-up configuration.
 */
public record Snapshot(long slot, SnapshotImage image, Membership membership) {

  public static final Snapshot EMPTY = new Snapshot(0, new byte[0]);

  /** A snapshot without a membership; see the class comment. */
  public Snapshot(long slot, byte[] data) {
    this(slot, data, null);
  }

  /** A snapshot of bytes in memory. */
  public Snapshot(long slot, byte[] data, Membership membership) {
    this(slot, SnapshotImage.of(data), membership);
  }

  /** This snapshot carrying {@code known} (the same image). */
  public Snapshot withMembership(Membership known) {
    return new Snapshot(slot, image, known);
  }

  public Snapshot {
    if (slot < 0) {
      throw new IllegalArgumentException("snapshot slot must be >= 0, got " + slot);
    }
    if (image == null) {
      throw new IllegalArgumentException("snapshot data must not be null");
    }
  }

  /**
   * The whole image ({@link SnapshotImage#bytes}): the array in memory, or a copy read back from
   * the store.
   */
  public byte[] data() {
    return image.bytes();
  }

  /** The image's size, without reading it. */
  public int sizeBytes() {
    return image.length();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Snapshot s
        && s.slot == slot
        && s.image.length() == image.length()
        && (s.image == image || Arrays.equals(s.data(), data()))
        && java.util.Objects.equals(s.membership, membership);
  }

  @Override
  public int hashCode() {
    return (Long.hashCode(slot) * 31 + image.length()) * 31
        + java.util.Objects.hashCode(membership);
  }

  @Override
  public String toString() {
    return "Snapshot[slot=" + slot + ", " + image.length() + " bytes]";
  }
}
