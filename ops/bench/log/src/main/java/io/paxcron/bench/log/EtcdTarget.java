package io.paxcron.bench.log;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * etcd 3.4 from Debian's {@code etcd-server}: 3 members on 127.0.0.1, each with its own client
 * port, peer port and data directory, default {@code --snapshot-count}, fsync on (etcd cannot turn
 * it off in 3.4).
 *
 * <p>A write is {@code Put(/paxcron-bench/client-N, value)} through jetcd, sent to the leader (like
 * etcd's own benchmark with {@code --target-leader}) over a pool of gRPC connections; client N uses
 * connection N mod pool size. etcd answers a Put after the entry is committed by a quorum whose
 * members have fsynced their WAL, and applied.
 *
 * <p>Threading: {@code write} may be called from many threads after {@code start} returned.
 */
final class EtcdTarget implements LogTarget {

  static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);
  static final String DEBIAN_PACKAGE = "etcd-server";

  private static final Pattern LEADER = Pattern.compile("\"leader\"\\s*:\\s*\"?(\\d+)");
  private static final Pattern MEMBER_ID = Pattern.compile("\"member_id\"\\s*:\\s*\"?(\\d+)");

  private final int connections;
  private final int members;
  private final List<Client> clients = new ArrayList<>();
  private final List<String> clientUrls = new ArrayList<>();
  private LocalCluster cluster;
  private String version = "unknown";

  /**
   * @param members cluster members, 3 or 5
   * @param connections gRPC connections to the leader, shared round-robin by the clients
   */
  EtcdTarget(int members, int connections) {
    if (connections < 1 || connections > LogBenchmark.MAX_CONNECTIONS) {
      throw new IllegalArgumentException(
          "connections "
              + connections
              + " outside 1..MAX_CONNECTIONS="
              + LogBenchmark.MAX_CONNECTIONS);
    }
    this.connections = connections;
    this.members = members;
  }

  @Override
  public int replicas() {
    return members;
  }

  @Override
  public String system() {
    return "etcd";
  }

  @Override
  public List<ProcessHandle> serverProcesses() {
    LocalCluster running = cluster;
    return running == null ? List.of() : running.handles();
  }

  @Override
  public String version() {
    return version;
  }

  @Override
  public void start(Path workDir) throws Exception {
    cluster = new LocalCluster("etcd", workDir);
    if (!Commands.onPath("etcd")) {
      Commands.aptInstall(DEBIAN_PACKAGE);
      if (!Commands.onPath("etcd")) {
        throw new IOException(
            "apt-get installed " + DEBIAN_PACKAGE + " but `etcd` is not on the PATH");
      }
    }
    String etcdVersion =
        Commands.run(List.of("etcd", "--version"), Duration.ofSeconds(10)).output().strip();
    version =
        String.join("; ", etcdVersion.lines().toList())
            + " (Debian "
            + Commands.debianVersion(DEBIAN_PACKAGE)
            + ")";

    List<Integer> ports = LoopbackPorts.allocate(2 * members);
    String host = LoopbackPorts.loopback().getHostAddress();
    clientUrls.clear();
    List<String> peerUrls = new ArrayList<>();
    StringBuilder initialCluster = new StringBuilder();
    for (int i = 0; i < members; i++) {
      clientUrls.add("http://" + host + ":" + ports.get(2 * i));
      peerUrls.add("http://" + host + ":" + ports.get(2 * i + 1));
      initialCluster
          .append(i == 0 ? "" : ",")
          .append(memberName(i))
          .append('=')
          .append(peerUrls.get(i));
    }
    String token = "paxcron-bench-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    List<Path> logs = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      Path memberDir = Files.createDirectories(workDir.resolve(memberName(i)));
      Path log = workDir.resolve(memberName(i) + ".log");
      logs.add(log);
      cluster.launch(
          List.of(
              "etcd",
              "--name=" + memberName(i),
              "--data-dir=" + memberDir.resolve("data"),
              "--listen-client-urls=" + clientUrls.get(i),
              "--advertise-client-urls=" + clientUrls.get(i),
              "--listen-peer-urls=" + peerUrls.get(i),
              "--initial-advertise-peer-urls=" + peerUrls.get(i),
              "--initial-cluster=" + initialCluster,
              "--initial-cluster-token=" + token,
              "--initial-cluster-state=new",
              "--logger=zap",
              "--log-outputs=stderr"),
          memberDir,
          log);
    }

    String leaderUrl = awaitLeader(clientUrls, logs);
    for (int i = 0; i < connections; i++) {
      clients.add(Client.builder().endpoints(leaderUrl).build());
    }
    // One Put per connection before returning, so connection set-up is not measured.
    for (int i = 0; i < connections; i++) {
      clients
          .get(i)
          .getKVClient()
          .put(key(i), ByteSequence.from(new byte[] {0}))
          .get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public List<ProcessHandle> followerProcesses() throws Exception {
    List<ProcessHandle> handles = cluster.handles();
    List<ProcessHandle> followers = new ArrayList<>();
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      for (int i = 0; i < clientUrls.size(); i++) {
        String status = post(http, clientUrls.get(i) + "/v3/maintenance/status", "{}");
        if (!firstNumber(MEMBER_ID, status).equals(firstNumber(LEADER, status))) {
          followers.add(handles.get(i));
        }
      }
    }
    return followers;
  }

  @Override
  public void write(int client, long seq, byte[] value) throws Exception {
    clients
        .get(client % connections)
        .getKVClient()
        .put(key(client), ByteSequence.from(value))
        .get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Idempotent, and safe to call from the shutdown hook while the main thread also calls it. */
  @Override
  public synchronized void close() {
    try {
      for (Client client : clients) {
        client.close();
      }
      clients.clear();
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  private static ByteSequence key(int client) {
    return ByteSequence.from("/paxcron-bench/client-" + client, StandardCharsets.UTF_8);
  }

  private static String memberName(int index) {
    return "member-" + index;
  }

  /**
   * Waits until every member reports healthy and all agree on a leader, through the members' HTTP
   * endpoints ({@code /health} and the v3 JSON gateway's {@code /v3/maintenance/status}), and
   * returns the leader's client URL.
   */
  private String awaitLeader(List<String> clientUrls, List<Path> logs) throws Exception {
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      return awaitLeader(http, clientUrls, logs);
    }
  }

  private String awaitLeader(HttpClient http, List<String> clientUrls, List<Path> logs)
      throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    String lastProblem = "no answer yet";
    while (System.nanoTime() < deadline) {
      cluster.checkAlive(logs);
      try {
        String leaderUrl = null;
        String agreedLeader = null;
        boolean ready = true;
        for (String url : clientUrls) {
          String health = get(http, url + "/health");
          if (!health.contains("\"health\":\"true\"")) {
            ready = false;
            lastProblem = url + "/health: " + health;
            break;
          }
          String status = post(http, url + "/v3/maintenance/status", "{}");
          String leader = firstNumber(LEADER, status);
          String self = firstNumber(MEMBER_ID, status);
          if (leader.equals("0") || (agreedLeader != null && !agreedLeader.equals(leader))) {
            ready = false;
            lastProblem = "no agreed leader yet: " + status;
            break;
          }
          agreedLeader = leader;
          if (self.equals(leader)) {
            leaderUrl = url;
          }
        }
        if (ready && leaderUrl != null) {
          return leaderUrl;
        }
      } catch (IOException e) {
        lastProblem = e.toString();
      }
      Thread.sleep(200);
    }
    throw new IOException(
        "etcd cluster not healthy within "
            + START_TIMEOUT
            + ": "
            + lastProblem
            + "; logs in "
            + logs);
  }

  /** The first decimal number after the pattern's field name, or "0"; etcd ids are uint64. */
  private static String firstNumber(Pattern pattern, String text) {
    Matcher matcher = pattern.matcher(text);
    return matcher.find() ? matcher.group(1) : "0";
  }

  private static String get(HttpClient http, String url) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build();
    return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
  }

  private static String post(HttpClient http, String url, String body)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(2))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
  }
}
