package io.paxcron.server;

import io.paxcron.http.DashboardServer;
import io.paxcron.http.HttpGate;
import io.paxcron.http.HttpSettings;
import io.paxcron.http.PaxcronMetrics;
import io.paxcron.http.ReplicaProbe;
import io.paxcron.paxos.replica.ReplicaNode;
import io.paxcron.paxos.storage.LogStore;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Map;

/**
 * A replica's HTTP side, wired in one place so {@link ReplicaServer} only creates, starts and
 * closes it: the metrics observe the replica and its store from before the replica starts (so no
 * leader change or fsync is missed), and the dashboard server starts once the gRPC API it reads is
 * up. With {@code http-port = 0} nothing is observed or served.
 */
final class ReplicaHttp implements AutoCloseable {

  private final PaxcronMetrics metrics;
  private final DashboardServer server;

  ReplicaHttp(
      ServerConfig config,
      ReplicaNode node,
      LogStore store,
      Map<Integer, String> members,
      PrintStream log,
      ReplicaSecurity security) {
    if (config.httpPort() == 0) {
      metrics = null;
      server = null;
      return;
    }
    metrics = new PaxcronMetrics(config.metricsPerJob());
    node.observe(metrics);
    store.observeSyncs(metrics::onSync);
    ServerConfig.Peer self = config.peers().get(config.id());
    HttpSettings settings =
        HttpSettings.defaults(self.host(), config.httpPort())
            .withPerJobMetrics(config.metricsPerJob());
    server =
        new DashboardServer(
            settings,
            probe(node, members),
            metrics,
            config.id(),
            members,
            log,
            new HttpGate(
                security.settings().authOn(),
                config.insecureReason(),
                security.access()::view,
                person -> security.dashboardClient(person)::channel,
                PemKeys.sslContext(security.settings())));
  }

  void start() throws IOException {
    if (server != null) {
      server.start();
    }
  }

  /** "dashboard on http://host:port/" for the start-up line, or empty when off. */
  String describe(ServerConfig config) {
    return server == null
        ? ""
        : ", dashboard on "
            + (config.security().tlsOn() ? "https" : "http")
            + "://"
            + config.peers().get(config.id()).host()
            + ":"
            + server.port()
            + "/";
  }

  void onBackupSucceeded(Instant at) {
    if (metrics != null) {
      metrics.onBackupSucceeded(at);
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
  }

  private static ReplicaProbe probe(ReplicaNode node, Map<Integer, String> startUp) {
    return new ReplicaProbe() {
      @Override
      public java.util.Optional<Members> members() {
        return MemberView.of(node, startUp);
      }

      @Override
      public boolean runOnLoop(Runnable task) {
        return node.runOnLoop(task);
      }

      @Override
      public View view() {
        ReplicaNode.Status status = node.status();
        return new View(
            status.replicaId(),
            status.role().name(),
            status.leaderId(),
            status.firstUnchosenSlot(),
            status.appliedSlot(),
            status.snapshotSlot(),
            node.stopped());
      }
    };
  }
}
