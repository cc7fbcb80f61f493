package io.paxcron.bench.log;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * ZooKeeper 3.8 from Debian's {@code zookeeper} package: a 3-server ensemble on 127.0.0.1, each
 * server a {@code java -cp} of the package's jars running {@code QuorumPeerMain} with its own
 * generated {@code zoo.cfg}, {@code myid} and data directory, {@code forceSync=yes}.
 *
 * <p>A write is {@code setData(/paxcron-bench/client-N, value, -1)} on the client's own znode
 * (created by its first write). setData, not create-sequential, because it is the same operation as
 * etcd's Put — replace the value under a key — and it leaves the tree's size constant; a growing
 * tree would make ZooKeeper's snapshots (it holds the whole tree in memory and writes all of it)
 * slower as the run goes on and measure that instead. Both kinds are one Zab proposal that the
 * leader answers only after a quorum has logged and fsynced it.
 *
 * <p>Sessions go to the leader (a follower would forward the write, adding a hop that etcd's setup
 * does not have) over a pool of sessions; client N uses session N mod pool size.
 *
 * <p>Threading: {@code write} may be called from many threads after {@code start} returned.
 */
final class ZooKeeperTarget implements LogTarget {

  static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  static final Duration SESSION_TIMEOUT = Duration.ofSeconds(30);
  static final String DEBIAN_PACKAGE = "zookeeper";
  static final Path SERVER_JAR = Path.of("/usr/share/java/zookeeper.jar");
  static final String ROOT = "/paxcron-bench";

  /** Logging for the server, if the package's log4j 1.2 and its slf4j binding are installed. */
  private static final List<Path> LOGGING_JARS =
      List.of(
          Path.of("/usr/share/java/slf4j-log4j12.jar"), Path.of("/usr/share/java/log4j-1.2.jar"));

  private final int connections;
  private final int servers;
  private final List<ZooKeeper> sessions = new ArrayList<>();
  private final List<Integer> clientPorts = new ArrayList<>();
  private LocalCluster cluster;
  private String version = "unknown";

  /**
   * @param servers cluster members, 3 or 5
   * @param connections sessions to the leader, shared round-robin by the clients
   */
  ZooKeeperTarget(int servers, int connections) {
    if (connections < 1 || connections > LogBenchmark.MAX_CONNECTIONS) {
      throw new IllegalArgumentException(
          "connections "
              + connections
              + " outside 1..MAX_CONNECTIONS="
              + LogBenchmark.MAX_CONNECTIONS);
    }
    this.connections = connections;
    this.servers = servers;
  }

  @Override
  public int replicas() {
    return servers;
  }

  @Override
  public String system() {
    return "zookeeper";
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
    cluster = new LocalCluster("zookeeper", workDir);
    if (!Files.isRegularFile(SERVER_JAR)) {
      Commands.aptInstall(DEBIAN_PACKAGE);
      if (!Files.isRegularFile(SERVER_JAR)) {
        throw new IOException(
            "apt-get installed " + DEBIAN_PACKAGE + " but " + SERVER_JAR + " is missing");
      }
    }

    List<Integer> ports = LoopbackPorts.allocate(3 * servers);
    String host = LoopbackPorts.loopback().getHostAddress();
    StringBuilder ensemble = new StringBuilder();
    for (int i = 0; i < servers; i++) {
      ensemble
          .append("server.")
          .append(serverId(i))
          .append('=')
          .append(host)
          .append(':')
          .append(ports.get(3 * i + 1))
          .append(':')
          .append(ports.get(3 * i + 2))
          .append('\n');
    }
    String classPath = serverClassPath(workDir);
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<Path> logs = new ArrayList<>();
    clientPorts.clear();
    for (int i = 0; i < servers; i++) {
      Path serverDir = Files.createDirectories(workDir.resolve("server-" + serverId(i)));
      Path dataDir = Files.createDirectories(serverDir.resolve("data"));
      Files.writeString(dataDir.resolve("myid"), serverId(i) + "\n");
      int clientPort = ports.get(3 * i);
      clientPorts.add(clientPort);
      Path config = serverDir.resolve("zoo.cfg");
      Files.writeString(
          config,
          String.join(
                  "\n",
                  "tickTime=2000",
                  "initLimit=10",
                  "syncLimit=5",
                  "dataDir=" + dataDir,
                  "clientPort=" + clientPort,
                  "clientPortAddress=" + host,
                  "forceSync=yes",
                  "maxClientCnxns=0",
                  "admin.enableServer=false",
                  "4lw.commands.whitelist=srvr,ruok",
                  "")
              + ensemble);
      Path log = workDir.resolve("server-" + serverId(i) + ".log");
      logs.add(log);
      cluster.launch(
          List.of(
              java.toString(),
              "-Dzookeeper.log.dir=" + serverDir,
              "-Dlog4j.configuration=file:" + workDir.resolve("log4j.properties"),
              "-cp",
              classPath,
              "org.apache.zookeeper.server.quorum.QuorumPeerMain",
              config.toString()),
          serverDir,
          log);
    }

    int leaderPort = awaitLeader(host, clientPorts, logs);
    version = version + " (Debian " + Commands.debianVersion(DEBIAN_PACKAGE) + ")";
    for (int i = 0; i < connections; i++) {
      sessions.add(connect(host + ":" + leaderPort));
    }
    try {
      sessions.get(0).create(ROOT, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    } catch (KeeperException.NodeExistsException alreadyThere) {
      // A previous attempt in this same fresh ensemble created it; nothing to do.
    }
  }

  @Override
  public void write(int client, long seq, byte[] value) throws Exception {
    ZooKeeper session = sessions.get(client % connections);
    String path = ROOT + "/client-" + client;
    try {
      session.setData(path, value, -1);
    } catch (KeeperException.NoNodeException firstWriteOfThisClient) {
      // The client's znode does not exist yet: creating it with the value is this write.
      session.create(path, value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    }
  }

  /** Idempotent, and safe to call from the shutdown hook while the main thread also calls it. */
  @Override
  public synchronized void close() {
    try {
      for (ZooKeeper session : sessions) {
        session.close();
      }
      sessions.clear();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  private static int serverId(int index) {
    return index + 1;
  }

  /** The package's server jar (its manifest names its dependencies) and, if present, logging. */
  private static String serverClassPath(Path workDir) throws IOException {
    List<String> entries = new ArrayList<>();
    entries.add(SERVER_JAR.toString());
    boolean logging = LOGGING_JARS.stream().allMatch(Files::isRegularFile);
    if (logging) {
      LOGGING_JARS.forEach(jar -> entries.add(jar.toString()));
    }
    Files.writeString(
        workDir.resolve("log4j.properties"),
        String.join(
            "\n",
            "log4j.rootLogger=WARN, CONSOLE",
            "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender",
            "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout",
            "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t] %c{1}: %m%n",
            "log4j.logger.org.apache.zookeeper.server.quorum.QuorumPeer=INFO",
            ""));
    return String.join(":", entries);
  }

  private ZooKeeper connect(String address) throws IOException, InterruptedException {
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper session =
        new ZooKeeper(
            address,
            (int) SESSION_TIMEOUT.toMillis(),
            event -> {
              if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            });
    if (!connected.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      session.close();
      throw new IOException(
          "ZooKeeper session to " + address + " not connected within " + START_TIMEOUT);
    }
    return session;
  }

  @Override
  public List<ProcessHandle> followerProcesses() throws Exception {
    List<ProcessHandle> handles = cluster.handles();
    List<ProcessHandle> followers = new ArrayList<>();
    String host = LoopbackPorts.loopback().getHostAddress();
    for (int i = 0; i < clientPorts.size(); i++) {
      if (fourLetterWord(host, clientPorts.get(i), "srvr").contains("Mode: follower")) {
        followers.add(handles.get(i));
      }
    }
    return followers;
  }

  /**
   * Polls each server with the {@code srvr} four-letter word until one says "Mode: leader" and the
   * others "Mode: follower"; returns the leader's client port.
   */
  private int awaitLeader(String host, List<Integer> clientPorts, List<Path> logs)
      throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    String lastProblem = "no answer yet";
    while (System.nanoTime() < deadline) {
      cluster.checkAlive(logs);
      int leaderPort = -1;
      int followers = 0;
      for (int port : clientPorts) {
        String answer;
        try {
          answer = fourLetterWord(host, port, "srvr");
        } catch (IOException e) {
          lastProblem = port + ": " + e;
          continue;
        }
        if (answer.contains("Mode: leader")) {
          leaderPort = port;
          version = firstLine(answer);
        } else if (answer.contains("Mode: follower")) {
          followers++;
        } else {
          lastProblem = port + ": " + answer.strip();
        }
      }
      if (leaderPort != -1 && followers == servers - 1) {
        return leaderPort;
      }
      Thread.sleep(200);
    }
    throw new IOException(
        "ZooKeeper ensemble has no leader within "
            + START_TIMEOUT
            + ": "
            + lastProblem
            + "; logs in "
            + logs);
  }

  private static String firstLine(String text) {
    int end = text.indexOf('\n');
    return (end < 0 ? text : text.substring(0, end)).strip();
  }

  private static String fourLetterWord(String host, int port, String word) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 2000);
      socket.setSoTimeout(2000);
      OutputStream out = socket.getOutputStream();
      out.write(word.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
    }
  }
}
