package io.paxcron.paxos.replica;

import io.paxcron.paxos.PaxosConfig;

/**
 * The shell's settings around the core's {@link PaxosConfig}, validated with the setting's name.
 *
 * @param paxos the core's configuration
 * @param tickMillis how often the loop ticks the core
 * @param snapshotEveryEntries take a snapshot after this many applied slots
 * @param snapshotEveryBytes or after this many applied payload bytes, whichever comes first
 * @param maxSessions client sessions the state machine remembers
 */
public record ReplicaSettings(
    PaxosConfig paxos,
    long tickMillis,
    long snapshotEveryEntries,
    long snapshotEveryBytes,
    int maxSessions) {

  public ReplicaSettings {
    if (tickMillis < 1 || tickMillis > paxos.heartbeatMillis()) {
      throw new IllegalArgumentException(
          "tickMillis must be in [1, heartbeatMillis="
              + paxos.heartbeatMillis()
              + "], got "
              + tickMillis);
    }
    if (snapshotEveryEntries < 1) {
      throw new IllegalArgumentException(
          "snapshotEveryEntries must be >= 1, got " + snapshotEveryEntries);
    }
    if (snapshotEveryBytes < 1) {
      throw new IllegalArgumentException(
          "snapshotEveryBytes must be >= 1, got " + snapshotEveryBytes);
    }
    if (maxSessions < 1) {
      throw new IllegalArgumentException("maxSessions must be >= 1, got " + maxSessions);
    }
  }

  /** Defaults: 5 ms ticks, a snapshot every 10,000 slots or 64 MiB, 100,000 sessions. */
  public static ReplicaSettings defaults(PaxosConfig paxos) {
    return new ReplicaSettings(paxos, 5, 10_000, 64L << 20, 100_000);
  }
}
