package io.paxcron.paxos;

import java.util.Arrays;

/**
 * An image of the replicated state machine after applying every slot up to and including {@code
 * slot}. The bytes are opaque to the core (they are produced and consumed by the state machine) and
 * never mutated after construction.
 */
public record Snapshot(long slot, byte[] data) {

  public static final Snapshot EMPTY = new Snapshot(0, new byte[0]);

  public Snapshot {
    if (slot < 0) {
      throw new IllegalArgumentException("snapshot slot must be >= 0, got " + slot);
    }
    if (data == null) {
      throw new IllegalArgumentException("snapshot data must not be null");
    }
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Snapshot s && s.slot == slot && Arrays.equals(s.data, data);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(slot) * 31 + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "Snapshot[slot=" + slot + ", " + data.length + " bytes]";
  }
}
