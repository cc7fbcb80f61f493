package io.paxcron.paxos.storage;

/**
 * Counters of the store's writer since it was opened, for metrics and tests.
 *
 * @param persistsWritten {@code Persist}s made durable
 * @param syncedBatches WriteBatches written with {@code sync=true}; each is one WAL fsync, so
 *     {@code persistsWritten / syncedBatches} is the group-commit factor
 * @param unsyncedBatches WriteBatches of learned-only writes, written without a sync ({@link
 *     io.paxcron.paxos.Persist#learnedOnly()}); the next synced batch makes them durable
 * @param largestGroup the most {@code Persist}s ever written in one batch
 * @param queuedWrites writes waiting in the queue at the time of the call
 */
public record StoreStats(
    long persistsWritten,
    long syncedBatches,
    long unsyncedBatches,
    int largestGroup,
    int queuedWrites) {}
