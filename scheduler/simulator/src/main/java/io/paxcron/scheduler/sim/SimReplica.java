package io.paxcron.scheduler.sim;

import io.paxcron.api.JobBatchStateMachine;
import io.paxcron.api.LeaderStamper;
import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.PaxosReplica;
import io.paxcron.paxos.Ready;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Snapshot;
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.AgentId;
import io.paxcron.scheduler.AgentInfo;
import io.paxcron.scheduler.CronCodec;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.DispatchEffect;
import io.paxcron.scheduler.DispatcherConfig;
import io.paxcron.scheduler.JobView;
import io.paxcron.scheduler.LeaderDriver;
import io.paxcron.scheduler.Run;
import io.paxcron.scheduler.sim.SystemMessages.AckMessage;
import io.paxcron.scheduler.sim.SystemMessages.AgentToReplica;
import io.paxcron.scheduler.sim.SystemMessages.Answer;
import io.paxcron.scheduler.sim.SystemMessages.CancelMessage;
import io.paxcron.scheduler.sim.SystemMessages.ClientRequest;
import io.paxcron.scheduler.sim.SystemMessages.GetRunMessage;
import io.paxcron.scheduler.sim.SystemMessages.Heartbeat;
import io.paxcron.scheduler.sim.SystemMessages.HeartbeatAckMessage;
import io.paxcron.scheduler.sim.SystemMessages.LaunchMessage;
import io.paxcron.scheduler.sim.SystemMessages.Redirect;
import io.paxcron.scheduler.sim.SystemMessages.Report;
import io.paxcron.simkit.ReadyDriver;
import io.paxcron.simkit.SimClock;
import io.paxcron.simkit.SimDisk;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/** One replica's process: core, disk and driver, state machine, leader driver and two clocks. */
final class SimReplica implements ReadyDriver.Host {
  private record PendingClient(int client, long sequence) {}

  private final SystemSimulation sim;
  final int id;

  /** The monotonic clock the Paxos lease runs on. */
  final SimClock paxosClock;

  /** The wall clock the leader stamps commands with and schedules by. */
  final SimClock wallClock;

  final SplittableRandom nodeRandom;
  final SimDisk disk = new SimDisk();
  PaxosReplica replica;
  CronStateMachine cron;
  ObservedCronMachine observed;
  SessionStateMachine sessions;
  LeaderDriver leader;
  boolean alive;
  int incarnation;
  long pausedUntil;
  long jumpedMillis;
  final ReadyDriver driver;
  long appliedSinceSnapshot;
  long leaderSinceWallMillis;
  final long[] agentHeardWallMillis;
  final Map<Long, PendingClient> pendingClients = new HashMap<>();

  SimReplica(
      SystemSimulation sim,
      int id,
      SimClock paxosClock,
      SimClock wallClock,
      SplittableRandom nodeRandom) {
    this.sim = sim;
    this.id = id;
    this.paxosClock = paxosClock;
    this.wallClock = wallClock;
    this.nodeRandom = nodeRandom;
    this.agentHeardWallMillis = new long[sim.plan.agents()];
    this.driver =
        new ReadyDriver(
            sim.loop,
            disk,
            nodeRandom,
            new ReadyDriver.DiskFaults(sim.plan.crashDuringSync(), sim.plan.fsyncErrorPerSync()),
            () -> !sim.healed,
            ReadyDriver.Variant.PRODUCTION,
            this);
  }

  @Override
  public boolean alive() {
    return alive;
  }

  long paxosNow() {
    return paxosClock.read(sim.now());
  }

  long wallMillis() {
    return wallClock.read(sim.now());
  }

  Instant wallNow() {
    return sim.base.plusMillis(wallMillis());
  }

  boolean leaseValid() {
    return replica.holdsLease(paxosNow());
  }

  /**
   * Runs {@code action} now, or when the pause ends (the process is frozen; its clocks are not).
   */
  void whenAwake(Runnable action) {
    if (pausedUntil > sim.now()) {
      int at = incarnation;
      sim.schedule(
          pausedUntil - sim.now(),
          () -> {
            if (alive && incarnation == at) {
              whenAwake(action);
            }
          });
      return;
    }
    action.run();
  }

  void start() {
    incarnation++;
    alive = true;
    driver.reset();
    pendingClients.clear();
    DurableState durable = disk.recover();
    cron = new CronStateMachine();
    observed =
        new ObservedCronMachine(
            cron,
            sim.options.bug(),
            // Only the planted per-replica ? bug draws from it; fixed per replica, not per run.
            new SplittableRandom(id));
    sessions = new SessionStateMachine(observed, SystemSimulation.MAX_SESSIONS);
    sessions.restore(durable.snapshot());
    appliedSinceSnapshot = 0;
    replica =
        new PaxosReplica(
            sim.baseConfig.withReplicaId(ReplicaId.of(id)),
            nodeRandom.split(),
            durable,
            durable.snapshot().slot());
    leader = new LeaderDriver(cron, DispatcherConfig.DEFAULT, nodeRandom.split());
    Arrays.fill(agentHeardWallMillis, wallMillis());
    sim.trace(
        "replica "
            + id
            + " starts (incarnation "
            + incarnation
            + ", snapshot@"
            + durable.snapshot().slot()
            + ", "
            + durable.log().size()
            + " log entries)");
    process(replica.start(paxosNow()));
    int at = incarnation;
    sim.schedule(1 + nodeRandom.nextLong(SystemSimulation.TICK_MILLIS), () -> onTick(at));
  }

  void restart() {
    if (!alive) {
      start();
    }
  }

  void crash(boolean tear, String why) {
    alive = false;
    disk.crash(tear);
    sim.trace("replica " + id + " " + why + (tear ? " (last write torn)" : ""));
  }

  void onTick(int at) {
    if (!alive || incarnation != at) {
      return;
    }
    if (pausedUntil > sim.now()) {
      sim.schedule(pausedUntil - sim.now(), () -> onTick(at));
      return;
    }
    process(replica.tick(paxosNow()));
    updateLeadership();
    if (leader.ballot() != null) {
      carryOut(leader.onTick(wallNow(), leaseValid(), directory()));
    }
    sim.schedule(SystemSimulation.TICK_MILLIS, () -> onTick(at));
  }

  /**
   * Tells the leader driver this replica's leadership; it starts the dispatcher only once the
   * replica leads with a lease and has applied every entry it knows chosen (the production rule,
   * shared with the replica's shell).
   */
  void updateLeadership() {
    if (!alive || pausedUntil > sim.now()) {
      return;
    }
    // This runs after every event for every replica: skip reading the clocks and the lease when
    // the driver's rules cannot change anything (a follower that does not dispatch, or a leader
    // that already dispatches under its ballot).
    boolean isLeader = replica.role() == PaxosReplica.Role.LEADER;
    Ballot leading = leader.ballot();
    if (leading == null ? !isLeader : isLeader && leading.equals(replica.ballot())) {
      return;
    }
    boolean caughtUp =
        driver.idle() && sessions.appliedThroughSlot() == replica.firstUnchosenSlot() - 1;
    LeaderDriver.Transition transition =
        leader.onLeadership(
            wallNow(),
            new LeaderDriver.Leadership(isLeader, replica.ballot(), leaseValid(), caughtUp),
            () -> {
              // A new leader gives every agent a full lease before its first tick: a directory
              // left from an earlier term would make every agent look unreachable.
              leaderSinceWallMillis = wallMillis();
              return directory();
            });
    transition
        .stopped()
        .ifPresent(
            ballot -> sim.trace("replica " + id + " dispatcher stops (ballot " + ballot + ")"));
    if (transition.started().isPresent()) {
      sim.trace(
          "replica "
              + id
              + " dispatcher starts under ballot "
              + transition.started().get()
              + " at slot "
              + sessions.appliedThroughSlot());
      carryOut(transition.effects());
    }
  }

  /**
   * Agents as this replica knows them from heartbeats; a new leader gives each a full lease first.
   */
  List<AgentInfo> directory() {
    List<AgentInfo> directory = new ArrayList<>(sim.agents.size());
    for (SimAgent agent : sim.agents) {
      long heard = Math.max(agentHeardWallMillis[agent.index], leaderSinceWallMillis);
      directory.add(
          new AgentInfo(
              agent.id,
              Map.of(),
              SystemSimulation.AGENT_CAPACITY,
              sim.base.plusMillis(heard + SystemSimulation.AGENT_LEASE_MILLIS)));
    }
    return directory;
  }

  void process(Ready ready) {
    driver.process(ready);
  }

  @Override
  public void onPowerLossDuringSync() {
    crash(
        nodeRandom.nextDouble() < sim.plan.cluster().tornWriteOnCrash(),
        "loses power during a sync");
    sim.schedule(nodeRandom.nextLong(200, 2_000), this::restart);
  }

  @Override
  public void onFsyncError() {
    crash(nodeRandom.nextBoolean(), "stops on an fsync error");
    sim.schedule(nodeRandom.nextLong(200, 1_500), this::restart);
  }

  @Override
  public void send(Ready ready, List<Envelope> messages) {
    sim.invariants.onSending(sim.now(), id, ready);
    for (Envelope envelope : messages) {
      sim.sendPeer(envelope);
    }
  }

  /**
   * Applies one entry step by step as a real replica does ({@code ReplicaNode}), so that the
   * checkers watch the stepped path (a {@code Tick} accounted for a few jobs at a time, a batch a
   * few commands at a time); nothing runs between the steps here.
   */
  private List<SessionStateMachine.Applied> applyInSteps(LogEntry entry) {
    List<SessionStateMachine.Applied> results = new ArrayList<>();
    do {
      results.addAll(sessions.applyStep(entry));
    } while (sessions.appliedThroughSlot() < entry.slot());
    return results;
  }

  @Override
  public void apply(Ready ready) {
    if (ready.restore() != null) {
      sessions.restore(ready.restore());
      appliedSinceSnapshot = 0;
      leader.stop();
      sim.trace("replica " + id + " restores snapshot@" + ready.restore().slot());
    }
    for (LogEntry entry : ready.toApply()) {
      sim.invariants.onApply(sim.now(), id, entry);
      List<SessionStateMachine.Applied> results = applyInSteps(entry);
      List<SystemChecker.AppliedCommand> commands = observed.take();
      if (sim.options.trace() != null && entry.slot() > sim.checker.streamSlot()) {
        sim.traceApplied(id, commands);
      }
      sim.checker.onAppliedBy(sim.now(), id, entry.slot(), commands);
      sim.checker.onSlotApplied(sim.now(), entry.slot(), commands);
      for (SessionStateMachine.Applied applied : results) {
        Command command = applied.command();
        if (!applied.duplicate()) {
          sim.invariants.onTookEffect(sim.now(), id, command, applied.slot());
          sim.checker.onResult(sim.now(), id, applied.slot(), command, applied.result());
        }
        PendingClient pending = pendingClients.get(command.clientId());
        if (pending != null && pending.sequence() == command.sequence()) {
          pendingClients.remove(command.clientId());
          sim.toClient(
              pending.client(),
              new Answer(
                  command.sequence(),
                  JobBatchStateMachine.decodeAnswer(applied.result()).results()));
        }
      }
      appliedSinceSnapshot++;
    }
    if (!ready.toApply().isEmpty()) {
      cron.checkTotals();
      carryOut(leader.onApplied(wallNow(), leaseValid()));
    }
    for (Ready.ProposalRejected rejected : ready.rejected()) {
      PendingClient pending = pendingClients.get(rejected.command().clientId());
      if (pending != null && pending.sequence() == rejected.command().sequence()) {
        pendingClients.remove(rejected.command().clientId());
        sim.toClient(
            pending.client(), new Redirect(pending.sequence(), number(rejected.leaderHint())));
      }
    }
    if (appliedSinceSnapshot
            >= Math.max(
                SystemSimulation.MIN_SNAPSHOT_EVERY_SLOTS, sim.plan.cluster().snapshotEverySlots())
        && sessions.appliedThroughSlot() > replica.snapshot().slot()) {
      Snapshot snapshot = sessions.snapshot();
      sim.invariants.onSnapshot(sim.now(), id, snapshot);
      appliedSinceSnapshot = 0;
      process(replica.onSnapshotTaken(paxosNow(), snapshot));
    }
  }

  /** The dispatcher's effects: proposals through this replica, messages to agents. */
  void carryOut(List<DispatchEffect> effects) {
    leader.checkTrackedCounts();
    for (DispatchEffect effect : effects) {
      switch (effect) {
        case DispatchEffect.Propose propose -> {
          for (CronCommand command : propose.commands()) {
            proposeFromDispatcher(command);
          }
        }
        case DispatchEffect.Launch launch ->
            sim.toAgent(
                id,
                sim.agentIndex(launch.agentId()),
                new LaunchMessage(
                    launch.runId(), launch.attempt(), launch.ballot(), launch.spec()));
        case DispatchEffect.Cancel cancel ->
            sim.toAgent(
                id,
                sim.agentIndex(cancel.agentId()),
                new CancelMessage(cancel.runId(), cancel.attempt(), cancel.ballot()));
        case DispatchEffect.AcknowledgeReport acknowledged -> {
          AgentAnswer report = acknowledged.report();
          AckMessage ack =
              switch (report) {
                case AgentAnswer.Started started ->
                    new AckMessage(started.runId(), started.attempt(), false);
                case AgentAnswer.Finished finished ->
                    new AckMessage(finished.runId(), finished.attempt(), true);
                case AgentAnswer.NeverStarted never ->
                    new AckMessage(never.runId(), never.attempt(), true);
                default -> throw new IllegalStateException("not a report: " + report);
              };
          sim.toAgent(id, sim.agentIndex(acknowledged.agentId()), ack);
        }
        case DispatchEffect.GetRun getRun -> {
          if (sim.options.bug() == SystemBug.RECONCILE_ALWAYS_RESENDS) {
            Optional<JobView> job = cron.job(getRun.runId().job());
            if (job.isPresent()) {
              sim.toAgent(
                  id,
                  sim.agentIndex(getRun.agentId()),
                  new LaunchMessage(
                      getRun.runId(), getRun.attempt(), getRun.ballot(), job.get().spec()));
            }
          } else {
            sim.toAgent(
                id,
                sim.agentIndex(getRun.agentId()),
                new GetRunMessage(getRun.runId(), getRun.attempt(), getRun.ballot()));
          }
        }
      }
    }
  }

  private void proposeFromDispatcher(CronCommand command) {
    if (command instanceof CronCommand.RunIntent intent && sim.faultFree()) {
      sim.checker.onIntentProposed(intent, sessions.appliedThroughSlot());
    }
    if (sim.options.bug() == SystemBug.DISPATCH_BEFORE_CHOSEN
        && command instanceof CronCommand.RunIntent intent
        && intent.ballot().equals(leader.ballot())) {
      Optional<JobView> job = cron.job(intent.runId().job());
      if (job.isPresent()) {
        sim.toAgent(
            id,
            sim.agentIndex(intent.agentId()),
            new LaunchMessage(intent.runId(), intent.attempt(), intent.ballot(), job.get().spec()));
      }
    }
    if (sim.options.bug() == SystemBug.RECONCILE_ALWAYS_RESENDS
        && command instanceof CronCommand.RecordLost lost) {
      Optional<Run> run = cron.run(lost.runId());
      Optional<JobView> job = cron.job(lost.runId().job());
      SimAgent other = otherLiveAgent(run.map(Run::agentId).orElse(null));
      if (run.isPresent() && job.isPresent() && other != null) {
        sim.toAgent(
            id,
            other.index,
            new LaunchMessage(lost.runId(), lost.attempt(), leader.ballot(), job.get().spec()));
        return;
      }
    }
    process(
        replica.propose(
            paxosNow(),
            new Command(leader.sessionId(), leader.nextSequence(), CronCodec.encode(command))));
  }

  private SimAgent otherLiveAgent(AgentId avoid) {
    for (SimAgent agent : sim.agents) {
      if (!agent.id.equals(avoid)
          && agentHeardWallMillis[agent.index] + SystemSimulation.AGENT_LEASE_MILLIS
              > wallMillis()) {
        return agent;
      }
    }
    return null;
  }

  /** An agent's heartbeat, answer or report. */
  void onAgentMessage(int agent, AgentToReplica message) {
    agentHeardWallMillis[agent] = Math.max(agentHeardWallMillis[agent], wallMillis());
    switch (message) {
      case Heartbeat(long sentAtMillis) -> {
        if (leader.mayGrantAgentLease(leaseValid())) {
          sim.toAgent(id, agent, new HeartbeatAckMessage(sentAtMillis, leader.ballot()));
        }
      }
      case Report(AgentAnswer.Started started) ->
          onReport(agent, started, new AckMessage(started.runId(), started.attempt(), false));
      case Report(AgentAnswer.Finished finished) ->
          onReport(agent, finished, new AckMessage(finished.runId(), finished.attempt(), true));
      case Report(AgentAnswer.NeverStarted never) ->
          onReport(agent, never, new AckMessage(never.runId(), never.attempt(), true));
      case Report(AgentAnswer answer) ->
          carryOut(leader.onAgentAnswer(wallNow(), leaseValid(), answer));
    }
  }

  /** A start or finish report: acknowledged once the applied log holds it (the shared rule). */
  private void onReport(int agent, AgentAnswer report, AckMessage acknowledgement) {
    LeaderDriver.ReportStep decided = leader.onReport(wallNow(), leaseValid(), report);
    if (decided.acknowledge()
        || sim.options.bug() == SystemBug.REPORT_ACKNOWLEDGED_BEFORE_CHOSEN
            && leader.ballot() != null) {
      sim.toAgent(id, agent, acknowledgement);
    }
    carryOut(decided.effects());
  }

  /**
   * An API call: the leader stamps it, proposes it in the client's session and answers once
   * applied.
   */
  void onClientRequest(ClientRequest request) {
    if (replica.role() != PaxosReplica.Role.LEADER || leader.ballot() == null || !leaseValid()) {
      int hint = replica.role() == PaxosReplica.Role.LEADER ? id : number(replica.knownLeader());
      sim.toClient(request.client(), new Redirect(request.sequence(), hint));
      return;
    }
    pendingClients.put(request.clientId(), new PendingClient(request.client(), request.sequence()));
    // What the server's CronCluster does: the leader stamps the changes with its clock, chooses
    // the values of every ? from the applied launch density, and proposes them as one batch.
    Instant stamp = wallNow();
    List<CronCommand> commands =
        LeaderStamper.stamp(request.changes(), stamp, cron, cron::launchDensity);
    process(
        replica.propose(
            paxosNow(),
            new Command(
                request.clientId(), request.sequence(), JobBatchStateMachine.encode(commands))));
  }

  /** A leader as the simulated client protocol carries it: its number, or -1 when unknown. */
  private static int number(ReplicaId leader) {
    return leader == null ? -1 : leader.value();
  }
}
