package io.paxcron.server;

import io.paxcron.http.DashboardServer;
import io.paxcron.http.HttpGate;
import io.paxcron.http.HttpSettings;
import io.paxcron.http.PaxcronMetrics;
import io.paxcron.http.ReplicaProbe;
import io.paxcron.paxos.replica.ReplicaNode;
import io.paxcron.paxos.storage.LogStore;
import io.paxcron.scheduler.CronStateMachine;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
      ReplicaSecurity security,
      CronStateMachine cron) {
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
            probe(node, members, cron),
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

  /** How long a scrape waits for the loop to read the job totals before it reports the last. */
  private static final long TOTALS_WAIT_MILLIS = 1_000;

  private static ReplicaProbe probe(
      ReplicaNode node, Map<Integer, String> startUp, CronStateMachine cron) {
    return new ReplicaProbe() {
      @Override
      public Optional<JobTotals> jobTotals() {
        if (cron == null) {
          return Optional.empty();
        }
        CompletableFuture<JobTotals> read = new CompletableFuture<>();
        if (!node.runOnLoop(
            "job totals",
            () -> {
              CronStateMachine.JobTotals t = cron.totals();
              read.complete(
                  new JobTotals(t.jobs(), t.paused(), t.questionMarksResolved(), t.openRuns()));
            })) {
          return Optional.empty();
        }
        try {
          return Optional.of(read.get(TOTALS_WAIT_MILLIS, TimeUnit.MILLISECONDS));
        } catch (ExecutionException | TimeoutException e) {
          return Optional.empty();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Optional.empty();
        }
      }

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
