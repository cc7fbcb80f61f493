package io.paxcron.server;

import io.paxcron.paxos.KeyValueStateMachine;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.ProposeReply;
import io.paxcron.proto.v1.StatusReply;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The quick-start demo: a real 3-replica cluster of {@code paxcron server} processes on
 * localhost. It elects a leader, commits commands, kills the leader with SIGKILL while writing,
 * shows the new leader and that no acknowledged write was lost, restarts the killed replica and
 * shows it catching up, then stops everything it started.
 */
public final class LocalDemo {

  private LocalDemo() {}

  public static void main(String[] args) throws IOException {
    PrintStream out = System.out;
    Path work = Files.createTempDirectory("paxcron-demo-");
    int status = 0;
    try (LocalCluster cluster = new LocalCluster(work, 3, List.of("--state-machine", "kv", "--snapshot-every-entries", "50"));
        LogClient client = cluster.client(1)) {
      out.println("Paxcron demo: a real 3-replica Multi-Paxos cluster on localhost");
      for (LocalCluster.Member member : cluster.members().values()) {
        out.printf("  replica %d: peer port %d, client port %d, data %s%n", member.id(),
            member.peerPort(), member.clientPort(), member.dataDir());
      }
      long start = System.nanoTime();
      cluster.startAll();
      int leader = cluster.awaitLeader(client, Duration.ofSeconds(30));
      out.printf("%nreplica %d was elected leader %d ms after the processes were started%n",
          leader, millisSince(start));

      List<String> written = new ArrayList<>();
      start = System.nanoTime();
      long lastSlot = 0;
      for (int i = 1; i <= 100; i++) {
        String key = "key-" + i;
        ProposeReply reply = client.propose(KeyValueStateMachine.put(key, "value-" + i));
        written.add(key);
        lastSlot = reply.getSlot();
      }
      out.printf("committed 100 commands one by one in %d ms (each: a quorum of fsyncs; slots up"
          + " to %d)%n", millisSince(start), lastSlot);
      printStatus(out, cluster, client);

      out.printf("%nkilling the leader, replica %d, with SIGKILL%n", leader);
      cluster.kill(leader);
      start = System.nanoTime();
      int next = cluster.awaitLeader(client, Duration.ofSeconds(30));
      out.printf("replica %d holds the lease %d ms later%n", next, millisSince(start));
      for (int i = 101; i <= 150; i++) {
        String key = "key-" + i;
        lastSlot = client.propose(KeyValueStateMachine.put(key, "value-" + i)).getSlot();
        written.add(key);
      }
      int missing = 0;
      for (String key : written) {
        if (!client.read(key).getFound()) {
          missing++;
        }
      }
      out.printf("committed 50 more; read back all %d acknowledged keys with lease reads: %d"
          + " missing%n", written.size(), missing);
      if (missing > 0) {
        status = 1;
      }

      out.printf("%nrestarting replica %d from its data dir%n", leader);
      start = System.nanoTime();
      cluster.start(leader);
      cluster.awaitApplied(client, leader, lastSlot, Duration.ofSeconds(30));
      out.printf("replica %d caught up to slot %d in %d ms (including JVM start)%n", leader,
          lastSlot, millisSince(start));
      printStatus(out, cluster, client);
      out.println("\nstopping the cluster; logs and data were in " + work);
    } catch (RuntimeException e) {
      out.println("demo failed: " + e.getMessage() + " (replica logs in " + work + ")");
      status = 1;
    }
    if (status == 0) {
      LocalCluster.deleteTree(work);
    }
    System.exit(status);
  }

  private static void printStatus(PrintStream out, LocalCluster cluster, LogClient client) {
    for (int id : cluster.members().keySet()) {
      Optional<StatusReply> status = cluster.running(id) ? cluster.status(client, id)
          : Optional.empty();
      out.println(status
          .map(s -> String.format("  replica %d  %-9s promised %d.%d  applied %4d  snapshot %4d"
                  + "  lease %s", s.getReplicaId(), s.getRole(), s.getBallotRound(),
              s.getBallotReplica(), s.getAppliedSlot(), s.getSnapshotSlot(),
              s.getHoldsLease() ? "held" : "-"))
          .orElse("  replica " + id + "  down"));
    }
  }

  private static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
