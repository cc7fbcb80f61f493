package io.paxcron.fault.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One network namespace per replica, joined by a bridge in the harness's namespace: replica {@code
 * i} is {@code 10.77.0.i} in namespace {@code pxf-r<i>}; the harness, the agents and the churn
 * clients stay in the root namespace at {@code 10.77.0.254} and reach every replica. A partition is
 * a set of cut replica pairs, enforced by iptables DROP rules inside both replicas' namespaces
 * (silent loss, as a real partition: no reset, no ICMP). Healing flushes the rules.
 */
final class Network implements AutoCloseable {
  static final String BRIDGE = "pxf-br";
  static final String HOST_ADDRESS = "10.77.0.254";

  private final int replicas;

  Network(int replicas) {
    this.replicas = replicas;
  }

  static String namespace(int id) {
    return "pxf-r" + id;
  }

  static String address(int id) {
    return "10.77.0." + id;
  }

  /** Deletes what an earlier, interrupted run may have left behind. */
  static void removeLeftovers() {
    String list = Shell.run("ip", "netns", "list").output();
    for (String line : list.split("\n")) {
      String name = line.strip().split(" ")[0];
      if (name.startsWith("pxf-r")) {
        Shell.run("ip", "netns", "del", name);
      }
    }
    Shell.run("ip", "link", "del", BRIDGE);
  }

  void create() {
    removeLeftovers();
    Shell.must("ip", "link", "add", BRIDGE, "type", "bridge");
    Shell.must("ip", "addr", "add", HOST_ADDRESS + "/24", "dev", BRIDGE);
    Shell.must("ip", "link", "set", BRIDGE, "up");
    for (int id = 1; id <= replicas; id++) {
      String ns = namespace(id);
      String veth = "pxf-v" + id;
      Shell.must("ip", "netns", "add", ns);
      Shell.must("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
      Shell.must("ip", "link", "set", veth, "master", BRIDGE, "up");
      Shell.must("ip", "-n", ns, "addr", "add", address(id) + "/24", "dev", "eth0");
      Shell.must("ip", "-n", ns, "link", "set", "eth0", "up");
      Shell.must("ip", "-n", ns, "link", "set", "lo", "up");
    }
  }

  /** Cuts every listed pair of replicas in both directions; other links stay as they are. */
  void cut(List<int[]> pairs) {
    // One shell per namespace: under load each `ip netns exec` costs a noticeable fraction of a
    // second, and the cut should take effect at once, not pair by pair.
    java.util.Map<Integer, StringBuilder> rules = new java.util.TreeMap<>();
    for (int[] pair : pairs) {
      drop(rules, pair[0], pair[1]);
      drop(rules, pair[1], pair[0]);
    }
    for (var entry : rules.entrySet()) {
      Shell.must(
          "ip",
          "netns",
          "exec",
          namespace(entry.getKey()),
          "sh",
          "-ec",
          entry.getValue().toString());
    }
  }

  private static void drop(java.util.Map<Integer, StringBuilder> rules, int in, int from) {
    rules
        .computeIfAbsent(in, k -> new StringBuilder())
        .append("iptables -A INPUT -s ")
        .append(address(from))
        .append(" -j DROP; iptables -A OUTPUT -d ")
        .append(address(from))
        .append(" -j DROP; ");
  }

  void heal() {
    List<String[]> commands = new ArrayList<>();
    for (int id = 1; id <= replicas; id++) {
      commands.add(new String[] {"ip", "netns", "exec", namespace(id), "iptables", "-F"});
    }
    Shell.mustAll(commands);
  }

  /** The pairs to cut so that only replicas inside the same group talk. */
  static List<int[]> between(List<Set<Integer>> groups) {
    List<int[]> pairs = new ArrayList<>();
    for (int a = 0; a < groups.size(); a++) {
      for (int b = a + 1; b < groups.size(); b++) {
        for (int x : groups.get(a)) {
          for (int y : groups.get(b)) {
            pairs.add(new int[] {x, y});
          }
        }
      }
    }
    return pairs;
  }

  /** A majorities ring: each replica talks only to its two neighbours in {@code order}. */
  static List<int[]> ring(List<Integer> order) {
    List<int[]> pairs = new ArrayList<>();
    int n = order.size();
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        boolean neighbours = j == i + 1 || (i == 0 && j == n - 1);
        if (!neighbours) {
          pairs.add(new int[] {order.get(i), order.get(j)});
        }
      }
    }
    return pairs;
  }

  static String describe(List<Set<Integer>> groups) {
    List<String> parts = new ArrayList<>();
    for (Set<Integer> group : groups) {
      parts.add(new TreeSet<>(group).toString().replace(" ", ""));
    }
    return String.join("|", parts);
  }

  @Override
  public void close() {
    removeLeftovers();
  }
}
