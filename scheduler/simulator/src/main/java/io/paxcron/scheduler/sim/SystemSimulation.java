package io.paxcron.scheduler.sim;

import io.paxcron.agent.core.AgentFence;
import io.paxcron.paxos.ClockBound;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.PaxosReplica;
import io.paxcron.paxos.PaxosRules;
import io.paxcron.paxos.ProposalFanout;
import io.paxcron.paxos.Ready;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.scheduler.AgentId;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.Dispatcher;
import io.paxcron.scheduler.LedgerRecord;
import io.paxcron.scheduler.sim.SystemMessages.AgentMessage;
import io.paxcron.scheduler.sim.SystemMessages.AgentToReplica;
import io.paxcron.scheduler.sim.SystemMessages.ClientReply;
import io.paxcron.scheduler.sim.SystemMessages.ClientRequest;
import io.paxcron.scheduler.sim.SystemMessages.LaunchMessage;
import io.paxcron.simkit.EventLoop;
import io.paxcron.simkit.FaultPicker;
import io.paxcron.simkit.Invariants;
import io.paxcron.simkit.Network;
import io.paxcron.simkit.Partitions;
import io.paxcron.simkit.SimClock;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The whole Paxcron system in one thread under virtual time: 3 or 5 replicas, each the real {@link
 * PaxosReplica} on a simulated disk with a {@link SessionStateMachine} over the real {@link
 * CronStateMachine} and the real leader {@link Dispatcher}; 2–4 simulated worker agents, each the
 * real {@link AgentFence} persisted on its own simulated disk; 1–3 API clients creating, changing,
 * pausing, resuming, deleting and triggering jobs with second-level schedules. Every choice derives
 * from one seed: the same seed replays the same run, event for event.
 *
 * <p>A run has a fault phase ({@link Options#faultMillis()} of virtual time) in which the seed's
 * {@link SystemFaultPlan} injects every fault of the log simulator plus agent crashes, agent
 * partitions and delayed or duplicated launches; then every fault heals, clients stop starting
 * operations, and a quiet period ({@link Options#quietMillis()}) follows. The Paxos invariants of
 * the log simulator ({@link Invariants}) and the scheduler's ({@link SystemChecker}) are checked as
 * events happen; ledger completeness, Jepsen counts and liveness at the end.
 *
 * <p>The driver of each replica follows the production contract: persist a {@link Ready}'s writes,
 * then send its messages and apply its entries; the dispatcher is told of leadership only once the
 * replica leads and has applied every entry it knows chosen, gets the leader's wall clock and
 * whether its lease holds at every tick, after every applied batch (it then reads what changed from
 * the state machine) and at every agent answer; its proposals go through the replica as a client
 * session of its own (one per term).
 */
public final class SystemSimulation {

  /** What to run. */
  public record Options(
      long seed,
      long faultMillis,
      long quietMillis,
      SystemBug bug,
      boolean intentCheck,
      boolean calm,
      PrintStream trace) {
    public Options {
      if (faultMillis < 1_000) {
        throw new IllegalArgumentException("faultMillis must be >= 1000, got " + faultMillis);
      }
      if (quietMillis < SystemChecker.LEDGER_BOUND_MILLIS + 5_000) {
        throw new IllegalArgumentException(
            "quietMillis must be >= "
                + (SystemChecker.LEDGER_BOUND_MILLIS + 5_000)
                + " (the ledger bound plus 5 s), got "
                + quietMillis);
      }
      if (bug == null) {
        throw new IllegalArgumentException("bug must be set (NONE for the real protocol)");
      }
    }

    public static Options of(long seed) {
      return new Options(
          seed, DEFAULT_FAULT_MILLIS, DEFAULT_QUIET_MILLIS, SystemBug.NONE, true, false, null);
    }

    public Options withSeed(long newSeed) {
      return new Options(newSeed, faultMillis, quietMillis, bug, intentCheck, calm, trace);
    }

    public Options withBug(SystemBug newBug) {
      return new Options(seed, faultMillis, quietMillis, newBug, intentCheck, calm, trace);
    }

    public Options withFaultMillis(long millis) {
      return new Options(seed, millis, quietMillis, bug, intentCheck, calm, trace);
    }

    public Options withTrace(PrintStream out) {
      return new Options(seed, faultMillis, quietMillis, bug, intentCheck, calm, out);
    }

    /**
     * Without the intent-before-launch check, so that a test can show that the at-most-once checker
     * alone catches a variant (both checks catch some variants; the first one wins).
     */
    public Options withoutIntentCheck() {
      return new Options(seed, faultMillis, quietMillis, bug, false, calm, trace);
    }

    /**
     * Without any fault: the seed's cluster, agents, clients, clocks and calendar, but no message
     * loss, partition, crash, pause, clock jump, disk fault or leaderless gap. The whole run is a
     * stretch without faults, for checks that hold only there.
     */
    public Options withoutFaults() {
      return new Options(seed, faultMillis, quietMillis, bug, intentCheck, true, trace);
    }

    /** The command that replays this run with a narrative trace. */
    public String replayCommand() {
      StringBuilder command =
          new StringBuilder("ops/soak --scope system --seeds 1 --first ").append(seed);
      if (faultMillis != DEFAULT_FAULT_MILLIS) {
        command.append(" --fault-millis ").append(faultMillis);
      }
      if (bug != SystemBug.NONE) {
        command.append(" --bug ").append(bug);
      }
      if (!intentCheck) {
        command.append(" --no-intent-check");
      }
      if (calm) {
        command.append(" --calm");
      }
      return command.append(" --trace").toString();
    }
  }

  /** What a run found. */
  public record Result(
      long seed,
      String plan,
      long events,
      long virtualMillis,
      String violation,
      SystemChecker.Counts counts,
      int leaderChanges,
      long invariantChecks,
      String replayCommand) {
    public boolean ok() {
      return violation == null;
    }
  }

  public static final long DEFAULT_FAULT_MILLIS = 20_000;
  public static final long DEFAULT_QUIET_MILLIS = 30_000;

  /**
   * The wall-clock origin of this run, a whole second: virtual time 0 ({@link
   * SystemFaultPlan#calendarStart()}).
   */
  final Instant base;

  static final long TICK_MILLIS = 20;
  static final long AGENT_WAKE_MILLIS = 400;

  /** An agent not heard from for this long counts as unreachable past its lease. */
  static final long AGENT_LEASE_MILLIS = 2_000;

  /**
   * The lease a leader grants an agent from the moment it sent an acknowledged heartbeat: shorter
   * than {@link #AGENT_LEASE_MILLIS}, so the agent stops starting processes before a leader gives
   * it up.
   */
  static final long AGENT_START_LEASE_MILLIS = 1_000;

  /**
   * An accepted launch unconfirmed for this long after a lease lapse is given up (NEVER_STARTED).
   */
  static final long AGENT_GIVE_UP_MILLIS = 10_000;

  static final int AGENT_CAPACITY = 6;
  static final long CLIENT_TIMEOUT_MILLIS = 1_500;

  /** Mean pause between one client's operations. */
  static final long CLIENT_THINK_MILLIS = 600;

  /**
   * Fewest slots between snapshots (the log simulator's every-8 is too costly with a cron state).
   */
  static final int MIN_SNAPSHOT_EVERY_SLOTS = 16;

  static final int JOB_NAMES = 6;
  static final long MAX_RUN_MILLIS = 2_500;
  static final int MAX_SESSIONS = 10_000;

  final Options options;
  final SystemFaultPlan plan;
  private final SplittableRandom random;
  final PaxosConfig baseConfig;
  final EventLoop loop = new EventLoop();
  private final Network network;
  private final FaultPicker faults;
  final List<SimReplica> nodes = new ArrayList<>();
  final List<SimAgent> agents = new ArrayList<>();
  final List<SimClient> clients = new ArrayList<>();
  final Invariants invariants;
  final SystemChecker checker;
  private boolean[][] link;
  private boolean[][] agentLink;
  private final int[] agentPartitionGeneration;
  boolean healed;

  /** During the plan's leaderless gap: no message between replicas gets through. */
  private boolean quorumLost;

  private long healedAtMillis;
  private int leaderChanges;
  private int lastLeaseHolder = -1;
  private long nextClientId = 1_000;

  public SystemSimulation(Options options) {
    this.options = options;
    this.random = new SplittableRandom(options.seed());
    ClockBound bound = new ClockBound(100_000, 25);
    SystemFaultPlan seedPlan = SystemFaultPlan.forSeed(options.seed(), bound.driftPpm());
    this.plan = options.calm() ? seedPlan.calm() : seedPlan;
    this.base = plan.calendarStart();
    List<ReplicaId> ids = new ArrayList<>();
    for (int i = 0; i < plan.cluster().replicas(); i++) {
      ids.add(ReplicaId.of(i));
    }
    this.baseConfig =
        new PaxosConfig(
            ReplicaId.of(0),
            ids,
            40,
            500,
            400,
            bound,
            8,
            64,
            256 << 10,
            2_000,
            100,
            64,
            50,
            // One seed in four runs every member on every proposal; the rest run the production
            // default, the quorum's followers only (ProposalFanout).
            (options.seed() & 3) == 3 ? ProposalFanout.ALL : ProposalFanout.QUORUM,
            PaxosRules.STANDARD);
    this.invariants = new Invariants(plan.cluster().replicas());
    this.checker = new SystemChecker(base, plan.agents(), options.intentCheck());
    this.link = Partitions.fullyConnected(plan.cluster().replicas(), plan.cluster().replicas());
    this.agentLink = Partitions.fullyConnected(plan.agents(), plan.cluster().replicas());
    this.agentPartitionGeneration = new int[plan.agents()];
    this.network =
        new Network(
            loop,
            random,
            new Network.Faults(
                plan.cluster().messageLoss(),
                plan.cluster().messageDuplication(),
                plan.cluster().maxExtraDelayMillis()));
    this.faults =
        new FaultPicker(
            plan.partitionsPerSecond(),
            plan.crashesPerSecond(),
            plan.pausesPerSecond(),
            plan.clockJumpsPerSecond(),
            plan.agentCrashesPerSecond(),
            plan.agentPartitionsPerSecond());
  }

  /** Runs the seed to the end and reports; never throws for a protocol failure. */
  public Result run() {
    long end = options.faultMillis() + options.quietMillis();
    try {
      setUp();
      while (violation() == null && loop.runNext(end)) {
        for (SimReplica node : nodes) {
          node.updateLeadership();
        }
        checkLeases();
      }
      loop.advanceTo(end);
      if (violation() == null) {
        finalChecks();
      }
    } catch (RuntimeException e) {
      StringBuilder where = new StringBuilder();
      StackTraceElement[] stack = e.getStackTrace();
      for (int i = 0; i < Math.min(6, stack.length); i++) {
        where.append("\n      at ").append(stack[i]);
      }
      checker.fail(now(), "a core threw " + e + where);
    }
    String violation = violation();
    return new Result(
        options.seed(),
        plan.toString(),
        loop.events(),
        loop.now(),
        violation,
        checker.counts(),
        leaderChanges,
        invariants.checks(),
        options.replayCommand());
  }

  /** Whether no fault can strike from now on: a calm run, or every fault has healed. */
  boolean faultFree() {
    return options.calm() || healed;
  }

  private String violation() {
    return invariants.violation() != null ? invariants.violation() : checker.violation();
  }

  private void setUp() {
    long maxDrift = plan.cluster().maxDriftPpm();
    for (int i = 0; i < plan.cluster().replicas(); i++) {
      long drift =
          switch (random.nextInt(4)) {
            case 0, 1 -> maxDrift;
            case 2 -> -maxDrift;
            default -> random.nextLong(-maxDrift, maxDrift + 1);
          };
      long wallDrift =
          plan.wallDriftPpm() == 0
              ? 0
              : random.nextLong(-plan.wallDriftPpm(), plan.wallDriftPpm() + 1);
      SimReplica node =
          new SimReplica(
              this,
              i,
              new SimClock(random.nextLong(1_000_000), drift),
              new SimClock(random.nextLong(20), wallDrift),
              random.split());
      nodes.add(node);
    }
    for (int a = 0; a < plan.agents(); a++) {
      agents.add(new SimAgent(this, a, random.split()));
    }
    for (int c = 0; c < plan.clients(); c++) {
      clients.add(new SimClient(this, c, nextClientId++, random.split()));
    }
    for (SimReplica node : nodes) {
      node.start();
    }
    for (SimAgent agent : agents) {
      agent.start();
    }
    for (SimClient client : clients) {
      schedule(random.nextLong(300, 1_500), () -> client.onWake(0, false));
    }
    schedule(options.faultMillis(), this::heal);
    if (plan.leaderlessGapMillis() > 0
        && options.faultMillis() > plan.leaderlessGapMillis() + 2_000) {
      // A loss of quorum as long as a misfire window: drawn from its own stream so that seeds
      // without one keep their schedules.
      SplittableRandom gapRandom = new SplittableRandom(options.seed() ^ 0x6A09E667F3BCC909L);
      long from = gapRandom.nextLong(1_000, options.faultMillis() - plan.leaderlessGapMillis());
      schedule(
          from,
          () -> {
            if (!healed) {
              quorumLost = true;
              trace(
                  "leaderless gap: no replica hears another for "
                      + plan.leaderlessGapMillis()
                      + " ms");
            }
          });
      schedule(
          from + plan.leaderlessGapMillis(),
          () -> {
            if (quorumLost) {
              quorumLost = false;
              trace("leaderless gap over");
            }
          });
    }
    scheduleNextFault();
    trace("plan " + plan);
  }

  // ------------------------------------------------------------------------------------------
  // events

  void schedule(long delayMillis, Runnable action) {
    loop.schedule(delayMillis, action);
  }

  long now() {
    return loop.now();
  }

  void trace(String line) {
    if (options.trace() != null) {
      options.trace().println(String.format("%8d ms  %s", now(), line));
    }
  }

  // ------------------------------------------------------------------------------------------
  // network

  private void sendLossy(Runnable delivery) {
    network.send(delivery);
  }

  void sendPeer(Envelope envelope) {
    sendLossy(
        () -> {
          int from = envelope.from().value();
          int to = envelope.to().value();
          SimReplica node = nodes.get(to);
          if (!node.alive || quorumLost || !link[from][to]) {
            return;
          }
          node.whenAwake(
              () ->
                  node.process(
                      node.replica.onMessage(
                          node.paxosNow(), envelope.from(), envelope.message())));
        });
  }

  /**
   * Replica to agent. Launches may also be held back or duplicated late (the agent-world faults).
   */
  void toAgent(int from, int agentIndex, AgentMessage message) {
    Runnable delivery =
        () -> {
          SimAgent agent = agents.get(agentIndex);
          if (agent.alive && agentLink[agentIndex][from]) {
            agent.onMessage(from, message);
          }
        };
    if (message instanceof LaunchMessage && !healed) {
      if (random.nextDouble() < plan.launchDelay()) {
        long delay = network.delay() + random.nextLong(plan.maxLaunchDelayMillis() + 1);
        schedule(delay, delivery);
        return;
      }
      if (random.nextDouble() < plan.launchDuplicate()) {
        schedule(network.delay() + random.nextLong(plan.maxLaunchDelayMillis() + 1), delivery);
      }
    }
    sendLossy(delivery);
  }

  void toReplicaFromAgent(int agentIndex, int replica, AgentToReplica message) {
    sendLossy(
        () -> {
          SimReplica node = nodes.get(replica);
          if (node.alive && agentLink[agentIndex][replica]) {
            node.whenAwake(() -> node.onAgentMessage(agentIndex, message));
          }
        });
  }

  void toReplicaFromClient(int replica, ClientRequest request) {
    sendLossy(
        () -> {
          SimReplica node = nodes.get(replica);
          if (node.alive) {
            node.whenAwake(() -> node.onClientRequest(request));
          }
        });
  }

  void toClient(int client, ClientReply reply) {
    sendLossy(() -> clients.get(client).onReply(reply));
  }

  void traceApplied(int replica, List<SystemChecker.AppliedCommand> commands) {
    for (SystemChecker.AppliedCommand applied : commands) {
      if (applied.command() instanceof CronCommand.Tick && applied.ledger().isEmpty()) {
        continue;
      }
      StringBuilder line =
          new StringBuilder("slot ")
              .append(applied.slot())
              .append(" (first applied by ")
              .append(replica)
              .append("): ")
              .append(SystemTrace.describe(applied.command()))
              .append(" -> ")
              .append(applied.result().status());
      if (!applied.result().message().isEmpty()) {
        line.append(" (").append(applied.result().message()).append(')');
      }
      for (LedgerRecord record : applied.ledger()) {
        line.append("\n                 ledger: ").append(record);
      }
      trace(line.toString());
    }
  }

  // ------------------------------------------------------------------------------------------
  // faults

  private void scheduleNextFault() {
    if (!faults.any()) {
      return;
    }
    schedule(
        faults.nextDelayMillis(random),
        () -> {
          if (!healed) {
            injectFault();
            scheduleNextFault();
          }
        });
  }

  private void injectFault() {
    switch (faults.pick(random)) {
      case 0 -> partitionReplicas();
      case 1 -> {
        SimReplica victim = pickReplica();
        if (victim.alive) {
          victim.crash(random.nextDouble() < plan.cluster().tornWriteOnCrash(), "crashes");
          schedule(random.nextLong(200, 2_500), victim::restart);
        }
      }
      case 2 -> {
        SimReplica victim = pickReplica();
        if (victim.alive && victim.pausedUntil <= now()) {
          victim.pausedUntil = now() + random.nextLong(100, 1_500);
          trace("replica " + victim.id + " paused until t=" + victim.pausedUntil);
        }
      }
      case 3 -> {
        SimReplica victim = nodes.get(random.nextInt(nodes.size()));
        long bound =
            plan.cluster().clockBeyondBound() ? 2_000 : baseConfig.clockBound().maxJumpMillis();
        if (plan.cluster().clockBeyondBound() || victim.jumpedMillis < bound) {
          long left = plan.cluster().clockBeyondBound() ? bound : bound - victim.jumpedMillis;
          long jump = random.nextLong(-left, left + 1);
          victim.jumpedMillis += Math.abs(jump);
          victim.paxosClock.jump(now(), jump);
        }
        if (plan.wallJumpMaxMillis() > 0) {
          long wallJump = random.nextLong(-plan.wallJumpMaxMillis(), plan.wallJumpMaxMillis() + 1);
          victim.wallClock.jump(now(), wallJump);
          trace("replica " + victim.id + " wall clock jumps " + wallJump + " ms");
        }
      }
      case 4 -> {
        SimAgent victim = agents.get(random.nextInt(agents.size()));
        if (victim.alive) {
          victim.crash(random.nextDouble() < plan.cluster().tornWriteOnCrash());
          schedule(random.nextLong(300, 4_000), victim::restart);
        }
      }
      default -> partitionAgent();
    }
  }

  private SimReplica pickReplica() {
    int leader = currentLeader();
    if (leader >= 0 && random.nextInt(3) == 0) {
      return nodes.get(leader);
    }
    return nodes.get(random.nextInt(nodes.size()));
  }

  /**
   * Halves, one replica (often the leader) isolated, a bridge, or a majorities ring (Jepsen's
   * grudges).
   */
  private void partitionReplicas() {
    int n = nodes.size();
    Partitions.Cut cut = Partitions.pick(random, n, currentLeader());
    link = cut.links();
    trace("partition: " + cut.kind());
    schedule(
        random.nextLong(200, 3_000),
        () -> {
          if (!healed) {
            link = Partitions.fullyConnected(n, n);
            trace("replica partition healed");
          }
        });
  }

  /** Cuts one agent off from the leader, from a random set of replicas, or from every replica. */
  private void partitionAgent() {
    int agent = random.nextInt(agents.size());
    int leader = currentLeader();
    String kind;
    boolean[] row = new boolean[nodes.size()];
    switch (random.nextInt(3)) {
      case 0 -> {
        kind = leader >= 0 ? "from the leader " + leader : "from every replica (no leader)";
        for (int r = 0; r < row.length; r++) {
          row[r] = leader >= 0 && r != leader;
        }
      }
      case 1 -> {
        kind = "from a random set of replicas";
        for (int r = 0; r < row.length; r++) {
          row[r] = random.nextBoolean();
        }
      }
      default -> kind = "from every replica";
    }
    agentLink[agent] = row;
    int generation = ++agentPartitionGeneration[agent];
    trace("agent-" + agent + " partitioned " + kind);
    schedule(
        random.nextLong(300, 5_000),
        () -> {
          if (!healed && agentPartitionGeneration[agent] == generation) {
            Arrays.fill(agentLink[agent], true);
            trace("agent-" + agent + " partition healed");
          }
        });
  }

  private void heal() {
    healed = true;
    quorumLost = false;
    network.heal();
    healedAtMillis = now();
    link = Partitions.fullyConnected(nodes.size(), nodes.size());
    agentLink = Partitions.fullyConnected(agents.size(), nodes.size());
    for (SimReplica node : nodes) {
      node.pausedUntil = Math.min(node.pausedUntil, now());
      if (!node.alive) {
        node.restart();
      }
    }
    for (SimAgent agent : agents) {
      if (!agent.alive) {
        agent.restart();
      }
    }
    trace("every fault healed; clients finish what they started and start nothing new");
  }

  // ------------------------------------------------------------------------------------------
  // checks

  private int currentLeader() {
    int leader = -1;
    for (SimReplica node : nodes) {
      if (node.alive
          && node.replica.role() == PaxosReplica.Role.LEADER
          && (leader < 0 || node.replica.ballot().isAbove(nodes.get(leader).replica.ballot()))) {
        leader = node.id;
      }
    }
    return leader;
  }

  private void checkLeases() {
    List<Integer> holders = new ArrayList<>(1);
    for (SimReplica node : nodes) {
      if (node.alive && node.leaseValid()) {
        holders.add(node.id);
      }
    }
    if (holders.size() == 1 && holders.get(0) != lastLeaseHolder) {
      lastLeaseHolder = holders.get(0);
      leaderChanges++;
      trace(
          "replica "
              + lastLeaseHolder
              + " holds the lease in ballot "
              + nodes.get(lastLeaseHolder).replica.ballot());
    }
    if (!plan.cluster().clockBeyondBound()) {
      invariants.onLeaseHolders(now(), holders);
    }
  }

  private void finalChecks() {
    StringBuilder stuck = new StringBuilder();
    List<SystemChecker.ClientOperation> operations = new ArrayList<>();
    for (SimClient client : clients) {
      operations.addAll(client.history);
      if (client.operation != null) {
        for (SimClient.Part part : client.operation.parts) {
          stuck
              .append(" client ")
              .append(client.clientId)
              .append(" still waits for ")
              .append(part.kind())
              .append(' ')
              .append(part.job())
              .append(';');
          operations.add(client.operation.asHistory(part, null));
        }
      }
    }
    SimReplica mostApplied = null;
    for (SimReplica node : nodes) {
      if (!node.alive) {
        stuck.append(" replica ").append(node.id).append(" is down;");
      } else if (mostApplied == null
          || node.sessions.appliedThroughSlot() > mostApplied.sessions.appliedThroughSlot()) {
        mostApplied = node;
      }
    }
    if (currentLeader() < 0) {
      stuck.append(" no leader;");
    }
    if (stuck.length() > 0) {
      checker.fail(
          now(), "liveness: " + options.quietMillis() + " ms after every fault healed:" + stuck);
      return;
    }
    checker.finish(now(), healedAtMillis, mostApplied.cron, operations, invariants::tookEffectIn);
  }

  // ------------------------------------------------------------------------------------------
  // replicas

  int agentIndex(AgentId agentId) {
    return Integer.parseInt(agentId.value().substring("agent-".length()));
  }

  // ------------------------------------------------------------------------------------------
  // agents

}
