package io.paxcron.fault.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * The seeded fault schedule. Each step waits a healthy stretch, picks one enabled fault, holds it,
 * heals it, and records the window ({@code faults.tsv}). The same seed picks the same sequence of
 * faults and targets (roles such as "the leader" are resolved when the fault starts, so the replica
 * ids depend on the run).
 */
final class Nemesis {
  /** Every family and its kinds; {@code --nemesis family} enables all of a family's kinds. */
  static final Map<String, List<String>> FAMILIES = new LinkedHashMap<>();

  static {
    FAMILIES.put("kill", List.of("leader", "replica", "agent", "agents+leader"));
    FAMILIES.put("pause", List.of("leader", "replica", "agent"));
    FAMILIES.put("partition", List.of("halves", "leader", "bridge", "ring"));
    FAMILIES.put("clock", List.of("within", "beyond"));
    FAMILIES.put("disk", List.of("full", "fsync"));
  }

  /** Parses {@code all} or a comma list of {@code family} and {@code family:kind}. */
  static List<String> parse(String spec) {
    List<String> kinds = new ArrayList<>();
    for (String part : spec.split(",")) {
      String item = part.strip();
      if (item.equals("all")) {
        FAMILIES.forEach((family, list) -> list.forEach(k -> kinds.add(family + ":" + k)));
      } else if (FAMILIES.containsKey(item)) {
        FAMILIES.get(item).forEach(k -> kinds.add(item + ":" + k));
      } else if (item.contains(":")
          && FAMILIES
              .getOrDefault(item.substring(0, item.indexOf(':')), List.of())
              .contains(item.substring(item.indexOf(':') + 1))) {
        kinds.add(item);
      } else {
        throw new IllegalArgumentException(
            "--nemesis: '"
                + item
                + "' is not a fault; use all, a family ("
                + String.join(", ", FAMILIES.keySet())
                + ") or family:kind (e.g. partition:ring)");
      }
    }
    return kinds;
  }

  /** One recorded window. */
  record Window(
      long start, long end, String family, String kind, String target, boolean leaderLoss) {
    String row() {
      return String.join(
          "\t",
          String.valueOf(start),
          String.valueOf(end),
          family,
          kind,
          target.isEmpty() ? "-" : target.replace(' ', '_'),
          leaderLoss ? "1" : "0");
    }
  }

  static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(60);

  private final FaultCluster cluster;
  private final Network network;
  private final Random random;
  private final List<String> kinds;
  private final FaultCluster.PrintLog log;
  final List<Window> windows = new ArrayList<>();
  final List<String> disks = new ArrayList<>();

  Nemesis(
      FaultCluster cluster,
      Network network,
      long seed,
      List<String> kinds,
      FaultCluster.PrintLog log) {
    this.cluster = cluster;
    this.network = network;
    this.random = new Random(seed);
    this.kinds = kinds;
    this.log = log;
  }

  /** Runs faults until {@code untilMillis} (wall clock of the harness). */
  void run(long untilMillis) throws IOException {
    while (true) {
      FaultCluster.sleep(3_000 + random.nextInt(4_000));
      long hold = 4_000 + random.nextInt(6_000);
      if (System.currentTimeMillis() + hold > untilMillis) {
        return;
      }
      String pick = kinds.get(random.nextInt(kinds.size()));
      String family = pick.substring(0, pick.indexOf(':'));
      String kind = pick.substring(pick.indexOf(':') + 1);
      one(family, kind, hold);
      // The next fault waits for recovery: a fault that lands before the last one's restarted
      // processes are back tests nothing about recovery (on a loaded 2-core machine a restarted
      // agent's JVM can take 10 s to register, longer than a healthy stretch).
      long recovered = cluster.awaitRecovered(cluster.agentNames().size(), RECOVERY_TIMEOUT);
      log.line(
          recovered >= 0
              ? String.format(Locale.ROOT, "recovered in %.1f s", recovered / 1000.0)
              : "not recovered within "
                  + RECOVERY_TIMEOUT.toSeconds()
                  + " s (a leader with every agent healthy); the next fault starts anyway");
    }
  }

  private int randomReplica() {
    List<Integer> ids = cluster.ids();
    return ids.get(random.nextInt(ids.size()));
  }

  private int leaderOr(int fallback) {
    return cluster.leader().orElse(fallback);
  }

  private void one(String family, String kind, long hold) throws IOException {
    // Draw every random choice first, so the seed decides them whatever the cluster answers.
    int someReplica = randomReplica();
    List<String> agentNames = cluster.agentNames();
    String someAgent = agentNames.get(random.nextInt(agentNames.size()));
    List<Integer> shuffled = new ArrayList<>(cluster.ids());
    Collections.shuffle(shuffled, random);
    boolean forward = random.nextBoolean();
    int jumpMillis = 5 + random.nextInt(14);
    int beyondSeconds = 1 + random.nextInt(30);
    boolean clockOnLeader = random.nextBoolean();

    long start = System.currentTimeMillis();
    String target;
    boolean leaderLoss = false;
    switch (family + ":" + kind) {
      case "kill:leader" -> {
        int leader = leaderOr(someReplica);
        target = "replica " + leader;
        leaderLoss = true;
        cluster.kill(leader);
        FaultCluster.sleep(hold);
        cluster.start(leader);
      }
      case "kill:replica" -> {
        target = "replica " + someReplica;
        leaderLoss = cluster.leader().map(l -> l == someReplica).orElse(false);
        cluster.kill(someReplica);
        FaultCluster.sleep(hold);
        cluster.start(someReplica);
      }
      case "kill:agent" -> {
        target = "agent " + someAgent;
        cluster.killAgent(someAgent);
        FaultCluster.sleep(hold);
        cluster.startAgent(someAgent);
      }
      case "kill:agents+leader" -> {
        int leader = leaderOr(someReplica);
        target = "all agents and replica " + leader;
        leaderLoss = true;
        for (String agent : agentNames) {
          cluster.killAgent(agent);
        }
        cluster.kill(leader);
        FaultCluster.sleep(1_000);
        for (String agent : agentNames) {
          cluster.startAgent(agent);
        }
        FaultCluster.sleep(Math.max(0, hold - 1_000));
        cluster.start(leader);
      }
      case "pause:leader", "pause:replica" -> {
        int replica = kind.equals("leader") ? leaderOr(someReplica) : someReplica;
        target = "replica " + replica;
        leaderLoss = cluster.leader().map(l -> l == replica).orElse(kind.equals("leader"));
        cluster.signal(replica, "STOP");
        FaultCluster.sleep(hold);
        cluster.signal(replica, "CONT");
      }
      case "pause:agent" -> {
        target = "agent " + someAgent;
        cluster.signalAgent(someAgent, "STOP");
        FaultCluster.sleep(hold);
        cluster.signalAgent(someAgent, "CONT");
      }
      case "partition:halves" -> {
        List<Set<Integer>> groups =
            List.of(Set.copyOf(shuffled.subList(0, 2)), Set.copyOf(shuffled.subList(2, 5)));
        target = Network.describe(groups);
        leaderLoss = cluster.leader().map(groups.get(0)::contains).orElse(false);
        network.cut(Network.between(groups));
        FaultCluster.sleep(hold);
        network.heal();
      }
      case "partition:leader" -> {
        int leader = leaderOr(someReplica);
        List<Set<Integer>> groups = new ArrayList<>();
        groups.add(Set.of(leader));
        List<Integer> rest = new ArrayList<>(cluster.ids());
        rest.remove(Integer.valueOf(leader));
        groups.add(Set.copyOf(rest));
        target = "leader isolated " + Network.describe(groups);
        leaderLoss = true;
        network.cut(Network.between(groups));
        FaultCluster.sleep(hold);
        network.heal();
      }
      case "partition:bridge" -> {
        List<Set<Integer>> sides =
            List.of(Set.copyOf(shuffled.subList(0, 2)), Set.copyOf(shuffled.subList(3, 5)));
        target = "bridge " + shuffled.get(2) + " between " + Network.describe(sides);
        network.cut(Network.between(sides));
        FaultCluster.sleep(hold);
        network.heal();
      }
      case "partition:ring" -> {
        target = "ring " + shuffled;
        network.cut(Network.ring(shuffled));
        FaultCluster.sleep(hold);
        network.heal();
      }
      case "clock:within", "clock:beyond" -> {
        int replica = clockOnLeader ? leaderOr(someReplica) : someReplica;
        String offset =
            kind.equals("within")
                ? (forward ? "+" : "-")
                    + String.format(java.util.Locale.ROOT, "%.3f", jumpMillis / 1000.0)
                : (forward ? "+" : "-") + beyondSeconds;
        target = "replica " + replica + " wall clock " + offset + " s";
        cluster.setClock(replica, offset);
        FaultCluster.sleep(hold);
        cluster.setClock(replica, "+0");
      }
      case "disk:full", "disk:fsync" -> {
        int replica = someReplica;
        target = "replica " + replica;
        leaderLoss = cluster.leader().map(l -> l == replica).orElse(false);
        Path filler = null;
        long injected = System.currentTimeMillis();
        if (kind.equals("full")) {
          filler = cluster.fillDisk(replica);
        } else {
          cluster.failFsync(replica);
        }
        long deadline = injected + Math.max(hold, 20_000);
        while (cluster.running(replica) && System.currentTimeMillis() < deadline) {
          FaultCluster.sleep(100);
        }
        boolean stopped = !cluster.running(replica);
        long exited = stopped ? System.currentTimeMillis() : -1;
        int code = stopped ? cluster.process(replica).map(Process::exitValue).orElse(-1) : -1;
        disks.add(
            String.join(
                "\t",
                String.valueOf(replica),
                kind,
                String.valueOf(injected),
                String.valueOf(exited),
                String.valueOf(code)));
        log.line(
            "disk "
                + kind
                + " on replica "
                + replica
                + ": "
                + (stopped
                    ? "stopped with exit code " + code + " after " + (exited - injected) + " ms"
                    : "kept running"));
        cluster.kill(replica);
        if (filler != null) {
          Files.deleteIfExists(filler);
        }
        restartChecked(replica);
      }
      default -> throw new IllegalStateException("unknown fault " + family + ":" + kind);
    }
    long end = System.currentTimeMillis();
    windows.add(new Window(start, end, family, kind, target, leaderLoss));
    log.line(
        String.format(
            java.util.Locale.ROOT,
            "fault %s:%s on %s, %.1f s",
            family,
            kind,
            target,
            (end - start) / 1000.0));
  }

  /**
   * Restarts a replica after a disk fault. If it refuses to start on what the fault left (for
   * example a torn write it will not trust), its data dir is emptied and it is rebuilt from its
   * peers, as docs/operations.md tells an operator to do; the log says so.
   */
  private void restartChecked(int replica) throws IOException {
    cluster.start(replica);
    FaultCluster.sleep(5_000);
    if (!cluster.running(replica)) {
      log.line(
          "replica "
              + replica
              + " refused to start after the disk fault; rebuilding it from its peers");
      try (var entries = Files.list(cluster.dataDir(replica))) {
        for (Path entry : entries.toList()) {
          FaultCluster.deleteTree(entry);
        }
      }
      cluster.start(replica);
    }
  }

  Optional<String> describeKinds() {
    return Optional.of(String.join(",", kinds));
  }
}
