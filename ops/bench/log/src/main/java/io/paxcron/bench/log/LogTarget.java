package io.paxcron.bench.log;

import java.nio.file.Path;
import java.util.List;

/**
 * A replicated log under test: a cluster that {@link #start(Path)} brings up on loopback and that
 * then accepts durable writes until {@link #close()} tears it down.
 *
 * <p>Contract, for every implementation (etcd, ZooKeeper, later Paxcron):
 *
 * <ul>
 *   <li><b>Lifecycle.</b> The benchmark calls {@code start} once, then {@code write} many times,
 *       then {@code close} exactly once — also when {@code start} or a write failed. {@code close}
 *       stops every process the target started and deletes everything it created under the work
 *       directory. It must also run if the JVM is asked to exit (a shutdown hook), and it must be
 *       idempotent because the hook and the normal path may both call it.
 *   <li><b>Durability.</b> {@code write} returns only after the value is committed by a majority of
 *       3 replicas, each having forced it to disk (fsync on), so a crash of any one machine after
 *       the return cannot lose it. No batching across calls is visible to the caller; a target may
 *       batch internally (group commit) — that is what is being measured.
 *   <li><b>Threading.</b> {@code write} is called concurrently from up to the run's client count of
 *       threads, each thread with its own {@code client} number (0-based, dense) and its own
 *       increasing {@code seq} (starting at 0). Calls for one client never overlap.
 *   <li><b>Ownership.</b> {@code value} belongs to the caller again once {@code write} returns; the
 *       target must not keep it.
 *   <li><b>Errors.</b> A write that fails or times out throws; the benchmark stops that system's
 *       run and reports the exception. Never retry silently inside {@code write}: a retried write
 *       would hide the failure and count twice the latency as one operation.
 * </ul>
 */
public interface LogTarget extends AutoCloseable {

  /** The name used in reports and on the command line: "etcd", "zookeeper", "paxcron". */
  String system();

  /** How many replicas {@link #start} starts (3 or 5). */
  int replicas();

  /**
   * Installs what is missing, starts {@link #replicas()} replicas on loopback with their data under
   * {@code workDir} (which exists and is empty) and returns once the cluster accepts writes.
   */
  void start(Path workDir) throws Exception;

  /** One synchronous durable write of a 256-byte value under the key of {@code client}. */
  void write(int client, long seq, byte[] value) throws Exception;

  /**
   * Stops every process the target started and deletes its directory; idempotent. It throws no
   * checked exception — a problem while tearing down is printed to stderr as a warning — both
   * because there is nothing the caller could do with it and because AutoCloseable's {@code throws
   * Exception} would include InterruptedException, which {@code -Xlint:try} rejects.
   */
  @Override
  void close();

  /**
   * The processes the target started for its servers (their descendants are counted with them),
   * whose CPU the benchmark reads at the edges of each measured window; empty before {@link
   * #start}.
   */
  default List<ProcessHandle> serverProcesses() {
    return List.of();
  }

  /**
   * The server processes of the replicas that follow at this moment (not the leader), in replica
   * order, as the system itself reports its leader; for {@code SlowFollowerBenchmark}.
   */
  default List<ProcessHandle> followerProcesses() throws Exception {
    throw new UnsupportedOperationException(system() + " cannot name its followers");
  }

  /** What was measured, for the report: for example the output of {@code etcd --version}. */
  default String version() {
    return "unknown";
  }
}
