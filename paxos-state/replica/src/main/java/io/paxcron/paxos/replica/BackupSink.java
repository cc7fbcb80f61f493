package io.paxcron.paxos.replica;

import io.paxcron.paxos.Snapshot;

/**
 * Receives every durable snapshot for shipping to a backup target. Called from a storage completion
 * thread: an implementation must hand the work to its own thread and return at once.
 */
@FunctionalInterface
public interface BackupSink {

  BackupSink NONE = snapshot -> {};

  void backup(Snapshot snapshot);
}
