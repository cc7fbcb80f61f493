package io.paxcron.paxos.storage;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/** Values for the storage tests, built from seeded randomness. */
final class Fixtures {

  static final String CLUSTER = "test-cluster";
  static final int REPLICA = 2;

  private Fixtures() {}

  /**
   * {@code payload} in the record frame stores held before the common frame (format 1): {@code
   * [1][payload length: 4][CRC32C of payload: 4][payload]}.
   */
  static byte[] formatOneFrame(byte[] payload) {
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(payload);
    return java.nio.ByteBuffer.allocate(9 + payload.length)
        .put((byte) 1)
        .putInt(payload.length)
        .putInt((int) crc.getValue())
        .put(payload)
        .array();
  }

  static StoreOptions options() {
    return StoreOptions.defaults(CLUSTER, REPLICA);
  }

  /** A seeded generator; the seed is printed so that a failure can be replayed with -Dseed=. */
  static RandomGenerator random(String test, long defaultSeed) {
    long seed = Long.getLong("seed", defaultSeed);
    System.out.println(test + ": seed=" + seed + " (replay with -Dseed=" + seed + ")");
    return new SplittableRandom(seed);
  }

  static LogEntry entry(long slot, long round, String payload) {
    return new LogEntry(
        slot,
        new Ballot(round, REPLICA),
        new Value.Batch(List.of(new Command(7, slot, payload.getBytes()))),
        false);
  }

  static LogEntry randomEntry(RandomGenerator random, long slot) {
    if (random.nextInt(8) == 0) {
      return new LogEntry(
          slot,
          new Ballot(1 + random.nextInt(5), random.nextInt(3)),
          Value.NO_OP,
          random.nextBoolean());
    }
    List<Command> commands = new ArrayList<>();
    int count = 1 + random.nextInt(3);
    for (int i = 0; i < count; i++) {
      byte[] payload = new byte[random.nextInt(200)];
      random.nextBytes(payload);
      commands.add(new Command(random.nextLong(), 1 + random.nextInt(1000), payload));
    }
    return new LogEntry(
        slot,
        new Ballot(1 + random.nextInt(5), random.nextInt(3)),
        new Value.Batch(commands),
        random.nextBoolean());
  }

  static Snapshot snapshot(long slot, int sizeBytes, RandomGenerator random) {
    byte[] data = new byte[sizeBytes];
    random.nextBytes(data);
    return new Snapshot(slot, data);
  }

  static Persist entries(LogEntry... entries) {
    return new Persist(null, List.of(entries), null);
  }

  static Persist promise(Ballot ballot) {
    return new Persist(ballot, List.of(), null);
  }
}
