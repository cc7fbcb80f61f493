package io.paxcron.paxos.backup;

import java.time.Instant;

/** One object in a backup store: its name relative to the target, size and modification time. */
public record StoredObject(String name, long sizeBytes, Instant lastModified) {}
