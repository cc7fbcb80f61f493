package io.paxcron.server;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.paxcron.api.BackupControl;
import io.paxcron.api.ClusterServiceImpl;
import io.paxcron.api.JobBatchStateMachine;
import io.paxcron.api.JobServiceImpl;
import io.paxcron.api.auth.AccessServiceImpl;
import io.paxcron.api.auth.SecuredStateMachine;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.KeyValueStateMachine;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.replica.BackupSink;
import io.paxcron.paxos.replica.CommandSocket;
import io.paxcron.paxos.replica.Durability;
import io.paxcron.paxos.replica.LogService;
import io.paxcron.paxos.replica.PeerNetwork;
import io.paxcron.paxos.replica.ReplicaNode;
import io.paxcron.paxos.replica.ReplicaSettings;
import io.paxcron.paxos.storage.LogStore;
import io.paxcron.paxos.storage.Restore;
import io.paxcron.paxos.storage.StoreException;
import io.paxcron.paxos.storage.StoreOptions;
import io.paxcron.paxos.transport.PeerAddress;
import io.paxcron.paxos.transport.PeerTransport;
import io.paxcron.paxos.transport.TransportListener;
import io.paxcron.paxos.transport.TransportOptions;
import io.paxcron.scheduler.CronStateMachine;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * One replica process: RocksDB storage, the gRPC peer transport, the replica's event loop and the
 * log's client API, wired with {@code new}. The state machine is the key-value store of the
 * replicated log, or with {@code --state-machine cron} the cron state machine behind the job API,
 * whose leader dispatches due runs to the worker agents connected to it ({@link LeaderDispatch}).
 */
public final class ReplicaServer implements AutoCloseable {

  private final ServerConfig config;
  private final PrintStream log;
  private final java.util.concurrent.ScheduledExecutorService reporter =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "report");
            thread.setDaemon(true);
            return thread;
          });

  /**
   * Where the client API's answers complete, off the replica's loop (ReplicaCronCluster): two
   * threads, so that one large answer does not hold back the others.
   */
  private final java.util.concurrent.ExecutorService answers =
      Executors.newFixedThreadPool(
          2,
          r -> {
            Thread thread = new Thread(r, "answers");
            thread.setDaemon(true);
            return thread;
          });

  private LogStore store;
  private PeerTransport transport;
  private ReplicaNode node;
  private LoopWatch loopWatch;
  private Server clientServer;
  private CommandSocket commandSocket;

  /**
   * Replies that may wait unsent for one client of the command socket before it is cut off: far
   * more than one client keeps in flight (LogClient: one), few enough to bound a stalled reader.
   */
  private static final int MAX_QUEUED_COMMAND_REPLIES = 10_000;

  private LeaderDispatch dispatch;
  private ReplicaHttp http;
  private BackupShipper backups;
  private ReplicaSecurity security;
  private long restoreGeneration;
  private final CompletableFuture<Throwable> stopped = new CompletableFuture<>();

  public ReplicaServer(ServerConfig config, PrintStream log) {
    this.config = config;
    this.log = log;
  }

  /** Opens the store (refusing a corrupt or foreign one), then starts serving. */
  public void start() throws StoreException, IOException {
    store = LogStore.open(config.dataDir(), StoreOptions.defaults(config.clusterId(), config.id()));
    if (store.orphanChunksRemovedAtOpen() > 0) {
      log.println(
          "replica "
              + config.id()
              + ": removed "
              + store.orphanChunksRemovedAtOpen()
              + " chunks of a snapshot written ahead and never installed (stopped mid-snapshot)");
    }
    restoreGeneration = Restore.generationOf(config.dataDir());
    Map<Integer, PeerAddress> others = new TreeMap<>();
    Map<Integer, String> clientAddresses = new TreeMap<>();
    for (ServerConfig.Peer peer : config.peers().values()) {
      clientAddresses.put(peer.id(), peer.clientAddress());
      if (peer.id() != config.id()) {
        others.put(peer.id(), new PeerAddress(peer.host(), peer.peerPort()));
      }
    }
    ServerConfig.Peer self = config.peers().get(config.id());
    transport =
        new PeerTransport(
            config.id(),
            config.clusterId(),
            others,
            self.peerPort(),
            config.tls(),
            transportOptions(),
            new SplittableRandom(new SecureRandom().nextLong()),
            TransportListener.NONE);
    transport.useAcceptSocket(config.acceptPort());
    // The start-up voters: the peers list, except that a joining replica is none of them and
    // learns the real configuration from a snapshot (docs/membership.md).
    ReplicaId selfId = ReplicaId.of(config.id());
    List<ReplicaId> startUpVoters = new ArrayList<>();
    for (int peer : config.peers().keySet()) {
      startUpVoters.add(ReplicaId.of(peer));
    }
    if (config.join()) {
      startUpVoters.remove(selfId);
    }
    PaxosConfig paxos =
        PaxosConfig.defaults(selfId, startUpVoters).withProposalFanout(config.proposalFanout());
    ReplicaSettings settings =
        new ReplicaSettings(paxos, 5, config.snapshotEveryEntries(), 64L << 20, 100_000);
    KeyValueStateMachine keyValue = new KeyValueStateMachine();
    CronStateMachine cron = new CronStateMachine(config.limits());
    // Tokens and the audit trail are their own command family beside the job state machine.
    SecuredStateMachine secured = new SecuredStateMachine(new JobBatchStateMachine(cron));
    boolean cronMode = config.stateMachine() == ServerConfig.StateMachineKind.CRON;
    // Backups follow their own cadence (BackupShipper), not the snapshot cadence.
    node =
        new ReplicaNode(
            settings,
            durability(store),
            network(transport, others, log, config.id()),
            BackupSink.NONE,
            cronMode ? secured : keyValue,
            key -> {
              String value =
                  cronMode ? null : keyValue.get(new String(key, StandardCharsets.UTF_8));
              return value == null ? null : value.getBytes(StandardCharsets.UTF_8);
            },
            error -> {
              log.println("replica " + config.id() + " stops: " + error);
              stopped.complete(error);
            });
    loopWatch = new LoopWatch(config.id(), log);
    node.observe(loopWatch);
    security = new ReplicaSecurity(config, secured.access());
    security
        .dashboardWeakness(config.peers().size())
        .ifPresent(why -> log.println("WARNING: replica " + config.id() + ": " + why));
    // HTTP: dashboard, /metrics, /healthz, /readyz (ReplicaHttp; observes the node from its start).
    http =
        new ReplicaHttp(
            config, node, store, clientAddresses, log, security, cronMode ? cron : null);
    node.start();
    BackupControl backupControl = BackupControl.NONE;
    if (config.backup().target().isPresent()) {
      backups =
          new BackupShipper(
              config.backup(),
              config.clusterId(),
              config.id(),
              restoreGeneration,
              node,
              clientAddresses,
              java.time.InstantSource.system(),
              log);
      backups.onSuccess(http::onBackupSucceeded);
      backups.start();
      backupControl = backups;
    }
    LogService logService = new LogService(node, clientAddresses);
    NettyServerBuilder api =
        security
            .serverBuilder(self)
            .addService(logService)
            .intercept(security.interceptor())
            .callExecutor(ReplicaServer::logCallsOnTheEventLoop);
    if (cronMode) {
      // The leader's clock stamps job changes; the cron state machine only sees the stamps.
      ReplicaCronCluster cluster =
          new ReplicaCronCluster(
              node, secured, clientAddresses, java.time.InstantSource.system(), answers);
      api.addService(new JobServiceImpl(cluster, config.maxApplyJobs()))
          .addService(new ClusterServiceImpl(cluster, backupControl))
          .addService(
              new AccessServiceImpl(
                  cluster,
                  new SecureRandom(),
                  config.security().authOn(),
                  config.insecureReason().isPresent()));
      // While this replica leads, its dispatcher launches due runs on the agents connected to it;
      // every replica serves AgentService so an agent may dial any of them (followers redirect).
      // Fence ballots lead with the restore generation, so a restored cluster outranks the old one.
      dispatch =
          new LeaderDispatch(
              node,
              cron,
              java.time.InstantSource.system(),
              config.id(),
              clientAddresses,
              restoreGeneration,
              log);
      api.addService(new AgentStreamService(dispatch));
      cluster.attach(dispatch);
      dispatch.start();
    }
    clientServer = api.build().start();
    String commands = "";
    if (config.commandPort() == ServerConfig.COMMAND_PORT_OFF) {
      commands = " (commands on gRPC only: command-port = off)";
    } else if (config.security().authOn() || config.security().apiCert().isPresent()) {
      // The command socket is plaintext and carries no token: with TLS or auth on the client
      // port, the log's commands stay on the authenticated gRPC stream.
      commands = " (commands on gRPC only: the client port uses TLS or tokens)";
    } else {
      commandSocket =
          new CommandSocket(
              ReplicaSecurity.clientFacing(self, config.commandPort()),
              logService,
              security.interceptor()::refuseWriteFrom,
              MAX_QUEUED_COMMAND_REPLIES,
              "paxcron-replica-" + config.id() + "-commands");
      commands = " (commands on port " + commandSocket.port() + ")";
    }
    http.start();
    reporter.scheduleAtFixedRate(this::report, 10, 10, TimeUnit.SECONDS);
    log.println(
        "replica "
            + config.id()
            + " of cluster "
            + config.clusterId()
            + " serving: peers on "
            + self.peerAddress()
            + (transport.acceptSocketPort() == 0
                ? " (Accepts too)"
                : " (Accepts on port " + transport.acceptSocketPort() + ")")
            + ", clients on "
            + self.clientAddress()
            + commands
            + ", data in "
            + config.dataDir()
            + config.backup().target().map(t -> ", backups to " + t.text()).orElse("")
            + (restoreGeneration == 0 ? "" : ", restore generation " + restoreGeneration)
            + ", state machine "
            + config.stateMachine().name().toLowerCase(java.util.Locale.ROOT)
            + http.describe(config)
            + ", "
            + security.describe());
    config
        .insecureReason()
        .ifPresent(
            reason ->
                log.println(
                    "replica "
                        + config.id()
                        + ": WARNING: started with --insecure: "
                        + reason
                        + "; anyone who reaches its ports may run commands on its agents"));
  }

  /**
   * The log's calls never block — they hand the request to the replica's loop and answer from a
   * future — so they run on the Netty event loop that read them, saving a thread hand-off on every
   * call and on every answer (docs/performance.md); the other services may wait and keep gRPC's
   * default executor (null).
   */
  private static <ReqT, RespT> java.util.concurrent.Executor logCallsOnTheEventLoop(
      io.grpc.ServerCall<ReqT, RespT> call, io.grpc.Metadata headers) {
    return io.paxcron.proto.v1.ReplicatedLogGrpc.SERVICE_NAME.equals(
            call.getMethodDescriptor().getServiceName())
        ? Runnable::run
        : null;
  }

  /**
   * Reconnects are capped below the election timeout: a restarted replica must hear the leader
   * before its own election timer fires, or it campaigns and interrupts the leader for a round.
   */
  static TransportOptions transportOptions() {
    return TransportOptions.defaults()
        .withBackoff(java.time.Duration.ofMillis(20), java.time.Duration.ofMillis(200), 0.5);
  }

  /** One line every 10 s for operators: role, slots, transport and storage counters. */
  private void report() {
    ReplicaNode.Status status = node.status();
    log.println(
        "replica "
            + config.id()
            + ": "
            + status.role()
            + " applied "
            + status.appliedSlot()
            + " snapshot "
            + status.snapshotSlot()
            + "; transport sent "
            + transport.sentCount()
            + " received "
            + transport.receivedCount()
            + " (on the Accept socket "
            + transport.acceptSocketReceivedCount()
            + ") dropped "
            + transport.droppedCount()
            + " unmatched "
            + transport.unmatchedCount()
            + " reconnects "
            + transport.reconnectCount()
            + " failed calls "
            + transport.failedCallCount()
            + "; store "
            + store.stats()
            + "; "
            + loopWatch.summary()
            + (dispatch == null ? "" : dispatch.heartbeatSummary()));
  }

  /** Completes with the cause when the replica stops by itself (a storage failure). */
  public CompletableFuture<Throwable> stopped() {
    return stopped;
  }

  /** Tests: the replica's node, to hold its loop. */
  ReplicaNode nodeForTests() {
    return node;
  }

  @Override
  public void close() {
    reporter.shutdownNow();
    if (http != null) {
      http.close();
    }
    if (commandSocket != null) {
      commandSocket.close();
    }
    if (clientServer != null) {
      // Answers already on their way leave first (a removed replica's last answer is the one
      // that removed it), for at most a second.
      clientServer.shutdown();
      try {
        clientServer.awaitTermination(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      clientServer.shutdownNow();
    }
    if (dispatch != null) {
      dispatch.close();
    }
    if (backups != null) {
      backups.close();
    }
    if (node != null) {
      node.close();
    }
    answers.shutdownNow();
  }

  /**
   * The restore generation this replica runs as: 0, or one more than the generation in the manifest
   * of the backup its data dir was restored from ({@link Restore#generationOf}). Fencing tokens
   * handed to agents must lead with it, so a restored cluster outranks the one it replaces.
   */
  public long restoreGeneration() {
    return restoreGeneration;
  }

  private static Durability durability(LogStore store) {
    return new Durability() {
      @Override
      public DurableState load() {
        try {
          return store.load();
        } catch (StoreException e) {
          throw new IllegalStateException(e.getMessage(), e);
        }
      }

      @Override
      public CompletableFuture<Void> write(Persist persist) {
        return store.write(persist);
      }

      @Override
      public CompletableFuture<Void> writeHere(Persist persist) {
        return store.writeHere(persist);
      }

      @Override
      public void stage(io.paxcron.paxos.Snapshot snapshot) {
        try {
          store.stageSnapshot(snapshot);
        } catch (StoreException e) {
          throw new IllegalStateException(e.getMessage(), e);
        }
      }

      @Override
      public void close() {
        try {
          store.close();
        } catch (StoreException e) {
          throw new IllegalStateException(e.getMessage(), e);
        }
      }
    };
  }

  private static PeerNetwork network(
      PeerTransport transport, Map<Integer, PeerAddress> startUp, PrintStream log, int self) {
    return new PeerNetwork() {
      @Override
      public void updatePeers(Map<Integer, String> members) {
        Map<Integer, PeerAddress> addresses = new TreeMap<>();
        for (Map.Entry<Integer, String> member : members.entrySet()) {
          PeerAddress address = peerAddress(member.getValue());
          if (address == null) {
            address = startUp.get(member.getKey());
          }
          if (address == null) {
            log.println(
                "replica "
                    + self
                    + ": member "
                    + member.getKey()
                    + " has no address in the log or the peers list; it is unreachable from here");
          } else {
            addresses.put(member.getKey(), address);
          }
        }
        transport.updatePeers(addresses);
      }

      @Override
      public void start(PeerNetwork.Inbound inbound) {
        try {
          transport.start(inbound::onMessage);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public void send(Envelope envelope) {
        transport.send(envelope);
      }

      @Override
      public void close() {
        transport.close();
      }
    };
  }

  /**
   * The peer address in a member's log address {@code host:peer-port:client-port}, or null when the
   * log gives none ("" for a start-up member).
   */
  static PeerAddress peerAddress(String logAddress) {
    String[] parts = logAddress.split(":");
    if (parts.length != 3) {
      return null;
    }
    try {
      return new PeerAddress(parts[0], Integer.parseInt(parts[1]));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Convenience for tests and the demo: the client addresses of every replica. */
  public static List<String> clientAddresses(ServerConfig config) {
    return config.peers().values().stream().map(ServerConfig.Peer::clientAddress).toList();
  }

  static Optional<String> describe(Throwable error) {
    return Optional.ofNullable(error).map(Throwable::getMessage);
  }
}
