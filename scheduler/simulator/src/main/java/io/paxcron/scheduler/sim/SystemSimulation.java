package io.paxcron.scheduler.sim;

import io.paxcron.agent.core.AgentEffect;
import io.paxcron.agent.core.AgentFence;
import io.paxcron.agent.core.AgentLimits;
import io.paxcron.agent.core.FenceBallot;
import io.paxcron.agent.core.JournalCodec;
import io.paxcron.agent.core.JournalRecord;
import io.paxcron.agent.core.LaunchKey;
import io.paxcron.agent.core.LeaderReply;
import io.paxcron.agent.core.RunPhase;
import io.paxcron.agent.core.RunView;
import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.ClockBound;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.PaxosReplica;
import io.paxcron.paxos.PlantedBug;
import io.paxcron.paxos.Ready;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.StateMachine;
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.AgentInfo;
import io.paxcron.scheduler.AgentRunState;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.ConcurrencyPolicy;
import io.paxcron.scheduler.CronCodec;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.DispatchEffect;
import io.paxcron.scheduler.Dispatcher;
import io.paxcron.scheduler.DispatcherConfig;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.JobView;
import io.paxcron.scheduler.LeaderDriver;
import io.paxcron.scheduler.MalformedCommandException;
import io.paxcron.scheduler.MisfirePolicy;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RetryPolicy;
import io.paxcron.scheduler.Run;
import io.paxcron.scheduler.RunId;
import io.paxcron.scheduler.Semantics;
import io.paxcron.scheduler.StateChange;
import io.paxcron.simkit.EventLoop;
import io.paxcron.simkit.FaultPicker;
import io.paxcron.simkit.Invariants;
import io.paxcron.simkit.Network;
import io.paxcron.simkit.Partitions;
import io.paxcron.simkit.ReadyDriver;
import io.paxcron.simkit.SimClock;
import io.paxcron.simkit.SimDisk;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

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
 * whether its lease holds at every tick, every drained batch of state changes and every agent
 * answer; its proposals go through the replica as a client session of its own (one per term).
 */
public final class SystemSimulation {

  /** What to run. */
  public record Options(
      long seed,
      long faultMillis,
      long quietMillis,
      SystemBug bug,
      boolean intentCheck,
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
          seed, DEFAULT_FAULT_MILLIS, DEFAULT_QUIET_MILLIS, SystemBug.NONE, true, null);
    }

    public Options withSeed(long newSeed) {
      return new Options(newSeed, faultMillis, quietMillis, bug, intentCheck, trace);
    }

    public Options withBug(SystemBug newBug) {
      return new Options(seed, faultMillis, quietMillis, newBug, intentCheck, trace);
    }

    public Options withFaultMillis(long millis) {
      return new Options(seed, millis, quietMillis, bug, intentCheck, trace);
    }

    public Options withTrace(PrintStream out) {
      return new Options(seed, faultMillis, quietMillis, bug, intentCheck, out);
    }

    /**
     * Without the intent-before-launch check, so that a test can show that the at-most-once checker
     * alone catches a variant (both checks catch some variants; the first one wins).
     */
    public Options withoutIntentCheck() {
      return new Options(seed, faultMillis, quietMillis, bug, false, trace);
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

  /** The wall-clock origin of every run (a minute boundary, so second-level schedules line up). */
  static final Instant BASE = Instant.parse("2024-01-01T00:00:00Z");

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

  private final Options options;
  private final SystemFaultPlan plan;
  private final SplittableRandom random;
  private final PaxosConfig baseConfig;
  private final EventLoop loop = new EventLoop();
  private final Network network;
  private final FaultPicker faults;
  private final List<Node> nodes = new ArrayList<>();
  private final List<Agent> agents = new ArrayList<>();
  private final List<Client> clients = new ArrayList<>();
  private final Invariants invariants;
  private final SystemChecker checker;
  private boolean[][] link;
  private boolean[][] agentLink;
  private final int[] agentPartitionGeneration;
  private boolean healed;
  private long healedAtMillis;
  private int leaderChanges;
  private int lastLeaseHolder = -1;
  private long nextClientId = 1_000;

  public SystemSimulation(Options options) {
    this.options = options;
    this.random = new SplittableRandom(options.seed());
    ClockBound bound = new ClockBound(100_000, 25);
    this.plan = SystemFaultPlan.forSeed(options.seed(), bound.driftPpm());
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < plan.cluster().replicas(); i++) {
      ids.add(i);
    }
    this.baseConfig =
        new PaxosConfig(
            0, ids, 40, 500, 400, bound, 8, 64, 256 << 10, 2_000, 100, 64, 50, PlantedBug.NONE);
    this.invariants = new Invariants(plan.cluster().replicas());
    this.checker = new SystemChecker(BASE, plan.agents(), options.intentCheck());
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
        for (Node node : nodes) {
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
      Node node =
          new Node(
              i,
              new SimClock(random.nextLong(1_000_000), drift),
              new SimClock(random.nextLong(20), wallDrift),
              random.split());
      nodes.add(node);
    }
    for (int a = 0; a < plan.agents(); a++) {
      agents.add(new Agent(a, random.split()));
    }
    for (int c = 0; c < plan.clients(); c++) {
      clients.add(new Client(c, nextClientId++, random.split()));
    }
    for (Node node : nodes) {
      node.start();
    }
    for (Agent agent : agents) {
      agent.start();
    }
    for (Client client : clients) {
      schedule(random.nextLong(300, 1_500), () -> client.onWake(0, false));
    }
    schedule(options.faultMillis(), this::heal);
    scheduleNextFault();
    trace("plan " + plan);
  }

  // ------------------------------------------------------------------------------------------
  // events

  private void schedule(long delayMillis, Runnable action) {
    loop.schedule(delayMillis, action);
  }

  private long now() {
    return loop.now();
  }

  private void trace(String line) {
    if (options.trace() != null) {
      options.trace().println(String.format("%8d ms  %s", now(), line));
    }
  }

  // ------------------------------------------------------------------------------------------
  // network

  private void sendLossy(Runnable delivery) {
    network.send(delivery);
  }

  private void sendPeer(Envelope envelope) {
    sendLossy(
        () -> {
          Node node = nodes.get(envelope.to());
          if (!node.alive || !link[envelope.from()][envelope.to()]) {
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
  private void toAgent(int from, int agentIndex, AgentMessage message) {
    Runnable delivery =
        () -> {
          Agent agent = agents.get(agentIndex);
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

  private void toReplicaFromAgent(int agentIndex, int replica, AgentToReplica message) {
    sendLossy(
        () -> {
          Node node = nodes.get(replica);
          if (node.alive && agentLink[agentIndex][replica]) {
            node.whenAwake(() -> node.onAgentMessage(agentIndex, message));
          }
        });
  }

  private void toReplicaFromClient(int replica, ClientRequest request) {
    sendLossy(
        () -> {
          Node node = nodes.get(replica);
          if (node.alive) {
            node.whenAwake(() -> node.onClientRequest(request));
          }
        });
  }

  private void toClient(int client, ClientReply reply) {
    sendLossy(() -> clients.get(client).onReply(reply));
  }

  private void traceApplied(int replica, List<SystemChecker.AppliedCommand> commands) {
    for (SystemChecker.AppliedCommand applied : commands) {
      if (applied.command() instanceof CronCommand.Tick && applied.changes().changes().isEmpty()) {
        continue;
      }
      StringBuilder line =
          new StringBuilder("slot ")
              .append(applied.slot())
              .append(" (first applied by ")
              .append(replica)
              .append("): ")
              .append(describe(applied.command()))
              .append(" -> ")
              .append(applied.result().status());
      if (!applied.result().message().isEmpty()) {
        line.append(" (").append(applied.result().message()).append(')');
      }
      for (StateChange change : applied.changes().changes()) {
        line.append("\n                 ").append(describe(change));
      }
      trace(line.toString());
    }
  }

  private static String describe(CronCommand command) {
    return switch (command) {
      case null -> "malformed";
      case CronCommand.PutJob put ->
          "PutJob "
              + put.spec().name()
              + " '"
              + put.spec().schedule()
              + "' "
              + put.spec().concurrency()
              + " "
              + put.spec().misfire().mode()
              + " expected "
              + put.expected()
              + " change "
              + put.spec().env().get("SIM_CHANGE")
              + " @"
              + put.stampedAt();
      case CronCommand.RunIntent intent ->
          "RunIntent "
              + intent.runId()
              + " #"
              + intent.attempt()
              + " on "
              + intent.agentId()
              + " ballot "
              + intent.ballot()
              + " @"
              + intent.stampedAt();
      default -> command.toString();
    };
  }

  private static String describe(StateChange change) {
    return switch (change) {
      case StateChange.RunEnded ended -> "ledger: " + ended.record();
      case StateChange.RunDue due ->
          "due: " + due.run().id() + (due.run().catchUp() ? " (catch-up)" : "");
      case StateChange.LaunchChosen chosen ->
          "launch chosen: "
              + chosen.run().id()
              + " #"
              + chosen.run().attempt()
              + " on "
              + chosen.run().agentId();
      case StateChange.JobScheduled scheduled ->
          "next: " + scheduled.job() + "@" + scheduled.nextDue();
      default -> change.toString();
    };
  }

  /** What a replica sends an agent. */
  private sealed interface AgentMessage {}

  private record LaunchMessage(RunId runId, int attempt, Ballot ballot, JobSpec spec)
      implements AgentMessage {}

  private record GetRunMessage(RunId runId, int attempt, Ballot ballot) implements AgentMessage {}

  private record CancelMessage(RunId runId, int attempt, Ballot ballot) implements AgentMessage {}

  /** The leader's log holds the agent's report: stop re-sending it. */
  private record AckMessage(RunId runId, int attempt, boolean finish) implements AgentMessage {}

  /**
   * The leader (at {@code ballot}) heard the heartbeat sent at {@code sentAtMillis}: the agent's
   * lease.
   */
  private record HeartbeatAckMessage(long sentAtMillis, Ballot ballot) implements AgentMessage {}

  /** What an agent sends a replica: a heartbeat, or an answer or report for the dispatcher. */
  private sealed interface AgentToReplica {}

  /**
   * {@code sentAtMillis}: the agent's clock when it sent the heartbeat, echoed in the
   * acknowledgement.
   */
  private record Heartbeat(long sentAtMillis) implements AgentToReplica {}

  private record Report(AgentAnswer answer) implements AgentToReplica {}

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
        Node victim = pickReplica();
        if (victim.alive) {
          victim.crash(random.nextDouble() < plan.cluster().tornWriteOnCrash(), "crashes");
          schedule(random.nextLong(200, 2_500), victim::restart);
        }
      }
      case 2 -> {
        Node victim = pickReplica();
        if (victim.alive && victim.pausedUntil <= now()) {
          victim.pausedUntil = now() + random.nextLong(100, 1_500);
          trace("replica " + victim.id + " paused until t=" + victim.pausedUntil);
        }
      }
      case 3 -> {
        Node victim = nodes.get(random.nextInt(nodes.size()));
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
        Agent victim = agents.get(random.nextInt(agents.size()));
        if (victim.alive) {
          victim.crash(random.nextDouble() < plan.cluster().tornWriteOnCrash());
          schedule(random.nextLong(300, 4_000), victim::restart);
        }
      }
      default -> partitionAgent();
    }
  }

  private Node pickReplica() {
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
    network.heal();
    healedAtMillis = now();
    link = Partitions.fullyConnected(nodes.size(), nodes.size());
    agentLink = Partitions.fullyConnected(agents.size(), nodes.size());
    for (Node node : nodes) {
      node.pausedUntil = Math.min(node.pausedUntil, now());
      if (!node.alive) {
        node.restart();
      }
    }
    for (Agent agent : agents) {
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
    for (Node node : nodes) {
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
    for (Node node : nodes) {
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
    for (Client client : clients) {
      operations.addAll(client.history);
      if (client.operation != null) {
        stuck
            .append(" client ")
            .append(client.clientId)
            .append(" still waits for ")
            .append(client.operation.kind)
            .append(' ')
            .append(client.operation.job)
            .append(';');
        operations.add(client.operation.asHistory(null));
      }
    }
    Node mostApplied = null;
    for (Node node : nodes) {
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

  /**
   * The cron state machine as the log drives it, with each command's decoded form, result and
   * changes kept.
   */
  private static final class ObservedCronMachine implements StateMachine {
    final CronStateMachine cron;
    final List<SystemChecker.AppliedCommand> applied = new ArrayList<>();

    ObservedCronMachine(CronStateMachine cron) {
      this.cron = cron;
    }

    @Override
    public byte[] apply(long slot, byte[] bytes) {
      CronCommand decoded = null;
      CommandResult result;
      try {
        decoded = CronCodec.decode(bytes);
        result = cron.apply(slot, decoded);
      } catch (MalformedCommandException e) {
        result = cron.applyEncoded(slot, bytes);
      }
      applied.add(
          new SystemChecker.AppliedCommand(
              slot, decoded, result, cron.clock(), cron.drainChanges()));
      return CronCodec.encodeResult(result);
    }

    @Override
    public byte[] snapshot() {
      return cron.snapshot();
    }

    @Override
    public void restore(byte[] snapshot) {
      cron.restore(snapshot);
      applied.clear();
    }

    List<SystemChecker.AppliedCommand> take() {
      List<SystemChecker.AppliedCommand> taken = List.copyOf(applied);
      applied.clear();
      return taken;
    }
  }

  private record PendingClient(int client, long sequence) {}

  /** One replica's process: core, disk and driver, state machine, leader driver and two clocks. */
  private final class Node implements ReadyDriver.Host {
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

    Node(int id, SimClock paxosClock, SimClock wallClock, SplittableRandom nodeRandom) {
      this.id = id;
      this.paxosClock = paxosClock;
      this.wallClock = wallClock;
      this.nodeRandom = nodeRandom;
      this.agentHeardWallMillis = new long[plan.agents()];
      this.driver =
          new ReadyDriver(
              loop,
              disk,
              nodeRandom,
              new ReadyDriver.DiskFaults(plan.crashDuringSync(), plan.fsyncErrorPerSync()),
              () -> !healed,
              ReadyDriver.Variant.PRODUCTION,
              this);
    }

    @Override
    public boolean alive() {
      return alive;
    }

    long paxosNow() {
      return paxosClock.read(now());
    }

    long wallMillis() {
      return wallClock.read(now());
    }

    Instant wallNow() {
      return BASE.plusMillis(wallMillis());
    }

    boolean leaseValid() {
      return replica.holdsLease(paxosNow());
    }

    /**
     * Runs {@code action} now, or when the pause ends (the process is frozen; its clocks are not).
     */
    void whenAwake(Runnable action) {
      if (pausedUntil > now()) {
        int at = incarnation;
        schedule(
            pausedUntil - now(),
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
      observed = new ObservedCronMachine(cron);
      sessions = new SessionStateMachine(observed, MAX_SESSIONS);
      sessions.restore(durable.snapshot());
      appliedSinceSnapshot = 0;
      replica =
          new PaxosReplica(
              baseConfig.withReplicaId(id), nodeRandom.split(), durable, durable.snapshot().slot());
      leader = new LeaderDriver(cron, DispatcherConfig.DEFAULT, nodeRandom.split());
      Arrays.fill(agentHeardWallMillis, wallMillis());
      trace(
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
      schedule(1 + nodeRandom.nextLong(TICK_MILLIS), () -> onTick(at));
    }

    void restart() {
      if (!alive) {
        start();
      }
    }

    void crash(boolean tear, String why) {
      alive = false;
      disk.crash(tear);
      trace("replica " + id + " " + why + (tear ? " (last write torn)" : ""));
    }

    void onTick(int at) {
      if (!alive || incarnation != at) {
        return;
      }
      if (pausedUntil > now()) {
        schedule(pausedUntil - now(), () -> onTick(at));
        return;
      }
      process(replica.tick(paxosNow()));
      updateLeadership();
      if (leader.ballot() != null) {
        carryOut(leader.onTick(wallNow(), leaseValid(), directory()));
      }
      schedule(TICK_MILLIS, () -> onTick(at));
    }

    /**
     * Tells the leader driver this replica's leadership; it starts the dispatcher only once the
     * replica leads with a lease and has applied every entry it knows chosen (the production rule,
     * shared with the replica's shell).
     */
    void updateLeadership() {
      if (!alive || pausedUntil > now()) {
        return;
      }
      boolean caughtUp =
          driver.idle() && sessions.appliedThroughSlot() == replica.firstUnchosenSlot() - 1;
      LeaderDriver.Transition transition =
          leader.onLeadership(
              wallNow(),
              new LeaderDriver.Leadership(
                  replica.role() == PaxosReplica.Role.LEADER,
                  replica.ballot(),
                  leaseValid(),
                  caughtUp),
              () -> {
                // A new leader gives every agent a full lease before its first tick: a directory
                // left from an earlier term would make every agent look unreachable.
                leaderSinceWallMillis = wallMillis();
                return directory();
              });
      transition
          .stopped()
          .ifPresent(
              ballot -> trace("replica " + id + " dispatcher stops (ballot " + ballot + ")"));
      if (transition.started().isPresent()) {
        trace(
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
     * Agents as this replica knows them from heartbeats; a new leader gives each a full lease
     * first.
     */
    List<AgentInfo> directory() {
      List<AgentInfo> directory = new ArrayList<>(agents.size());
      for (Agent agent : agents) {
        long heard = Math.max(agentHeardWallMillis[agent.index], leaderSinceWallMillis);
        directory.add(
            new AgentInfo(
                agent.name, Map.of(), AGENT_CAPACITY, BASE.plusMillis(heard + AGENT_LEASE_MILLIS)));
      }
      return directory;
    }

    void process(Ready ready) {
      driver.process(ready);
    }

    @Override
    public void onPowerLossDuringSync() {
      crash(
          nodeRandom.nextDouble() < plan.cluster().tornWriteOnCrash(), "loses power during a sync");
      schedule(nodeRandom.nextLong(200, 2_000), this::restart);
    }

    @Override
    public void onFsyncError() {
      crash(nodeRandom.nextBoolean(), "stops on an fsync error");
      schedule(nodeRandom.nextLong(200, 1_500), this::restart);
    }

    @Override
    public void send(Ready ready) {
      invariants.onSending(now(), id, ready);
      for (Envelope envelope : ready.messages()) {
        sendPeer(envelope);
      }
    }

    @Override
    public void apply(Ready ready) {
      if (ready.restore() != null) {
        sessions.restore(ready.restore());
        appliedSinceSnapshot = 0;
        leader.stop();
        trace("replica " + id + " restores snapshot@" + ready.restore().slot());
      }
      List<StateChange> changes = new ArrayList<>();
      boolean overflowed = false;
      for (LogEntry entry : ready.toApply()) {
        invariants.onApply(now(), id, entry);
        List<SessionStateMachine.Applied> results = sessions.apply(entry);
        List<SystemChecker.AppliedCommand> commands = observed.take();
        if (options.trace() != null && entry.slot() > checker.streamSlot()) {
          traceApplied(id, commands);
        }
        checker.onSlotApplied(now(), entry.slot(), commands);
        for (SystemChecker.AppliedCommand command : commands) {
          changes.addAll(command.changes().changes());
          overflowed |= command.changes().overflowed();
        }
        for (SessionStateMachine.Applied applied : results) {
          Command command = applied.command();
          if (!applied.duplicate()) {
            invariants.onTookEffect(now(), id, command, applied.slot());
            checker.onResult(now(), id, applied.slot(), command, applied.result());
          }
          PendingClient pending = pendingClients.get(command.clientId());
          if (pending != null && pending.sequence() == command.sequence()) {
            pendingClients.remove(command.clientId());
            toClient(
                pending.client(),
                new Answer(command.sequence(), CronCodec.decodeResult(applied.result())));
          }
        }
        appliedSinceSnapshot++;
      }
      carryOut(
          leader.onApplied(
              wallNow(), leaseValid(), new CronStateMachine.ChangeBatch(changes, overflowed)));
      for (Ready.ProposalRejected rejected : ready.rejected()) {
        PendingClient pending = pendingClients.get(rejected.command().clientId());
        if (pending != null && pending.sequence() == rejected.command().sequence()) {
          pendingClients.remove(rejected.command().clientId());
          toClient(pending.client(), new Redirect(pending.sequence(), rejected.leaderHint()));
        }
      }
      if (appliedSinceSnapshot
              >= Math.max(MIN_SNAPSHOT_EVERY_SLOTS, plan.cluster().snapshotEverySlots())
          && sessions.appliedThroughSlot() > replica.snapshot().slot()) {
        Snapshot snapshot = sessions.snapshot();
        invariants.onSnapshot(now(), id, snapshot);
        appliedSinceSnapshot = 0;
        process(replica.onSnapshotTaken(paxosNow(), snapshot));
      }
    }

    /** The dispatcher's effects: proposals through this replica, messages to agents. */
    void carryOut(List<DispatchEffect> effects) {
      for (DispatchEffect effect : effects) {
        switch (effect) {
          case DispatchEffect.Propose propose -> {
            for (CronCommand command : propose.commands()) {
              proposeFromDispatcher(command);
            }
          }
          case DispatchEffect.Launch launch ->
              toAgent(
                  id,
                  agentIndex(launch.agentId()),
                  new LaunchMessage(
                      launch.runId(), launch.attempt(), launch.ballot(), launch.spec()));
          case DispatchEffect.Cancel cancel ->
              toAgent(
                  id,
                  agentIndex(cancel.agentId()),
                  new CancelMessage(cancel.runId(), cancel.attempt(), cancel.ballot()));
          case DispatchEffect.GetRun getRun -> {
            if (options.bug() == SystemBug.RECONCILE_ALWAYS_RESENDS) {
              Optional<JobView> job = cron.job(getRun.runId().job());
              if (job.isPresent()) {
                toAgent(
                    id,
                    agentIndex(getRun.agentId()),
                    new LaunchMessage(
                        getRun.runId(), getRun.attempt(), getRun.ballot(), job.get().spec()));
              }
            } else {
              toAgent(
                  id,
                  agentIndex(getRun.agentId()),
                  new GetRunMessage(getRun.runId(), getRun.attempt(), getRun.ballot()));
            }
          }
        }
      }
    }

    private void proposeFromDispatcher(CronCommand command) {
      if (options.bug() == SystemBug.DISPATCH_BEFORE_CHOSEN
          && command instanceof CronCommand.RunIntent intent
          && intent.ballot().equals(leader.ballot())) {
        Optional<JobView> job = cron.job(intent.runId().job());
        if (job.isPresent()) {
          toAgent(
              id,
              agentIndex(intent.agentId()),
              new LaunchMessage(
                  intent.runId(), intent.attempt(), intent.ballot(), job.get().spec()));
        }
      }
      if (options.bug() == SystemBug.RECONCILE_ALWAYS_RESENDS
          && command instanceof CronCommand.RecordLost lost) {
        Optional<Run> run = cron.run(lost.runId());
        Optional<JobView> job = cron.job(lost.runId().job());
        Agent other = otherLiveAgent(run.map(Run::agentId).orElse(""));
        if (run.isPresent() && job.isPresent() && other != null) {
          toAgent(
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

    private Agent otherLiveAgent(String avoid) {
      for (Agent agent : agents) {
        if (!agent.name.equals(avoid)
            && agentHeardWallMillis[agent.index] + AGENT_LEASE_MILLIS > wallMillis()) {
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
            toAgent(id, agent, new HeartbeatAckMessage(sentAtMillis, leader.ballot()));
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
      if (decided.acknowledge()) {
        toAgent(id, agent, acknowledgement);
      }
      carryOut(decided.effects());
    }

    /**
     * An API call: the leader stamps it, proposes it in the client's session and answers once
     * applied.
     */
    void onClientRequest(ClientRequest request) {
      if (replica.role() != PaxosReplica.Role.LEADER || leader.ballot() == null || !leaseValid()) {
        int hint = replica.role() == PaxosReplica.Role.LEADER ? id : replica.knownLeader();
        toClient(request.client(), new Redirect(request.sequence(), hint));
        return;
      }
      pendingClients.put(
          request.clientId(), new PendingClient(request.client(), request.sequence()));
      CronCommand command = request.operation().toCommand(wallNow());
      process(
          replica.propose(
              paxosNow(),
              new Command(request.clientId(), request.sequence(), CronCodec.encode(command))));
    }
  }

  private int agentIndex(String agentId) {
    return Integer.parseInt(agentId.substring("agent-".length()));
  }

  // ------------------------------------------------------------------------------------------
  // agents

  private record HeldAction(
      long writeCount, Ballot fence, List<LaunchKey> launchesMadeDurable, Runnable action) {}

  /**
   * A simulated worker agent: the real agent core ({@link AgentFence}) driven as the real shell
   * drives it — its journal records appended to a simulated disk and made durable by a group commit
   * before any reply, start or report; processes that run for a random virtual time and die with
   * the agent; heartbeats to every replica, the leader's acknowledgements giving the agent its
   * lease; reports re-sent until the leader acknowledges them.
   */
  private final class Agent {
    final int index;
    final String name;
    final SplittableRandom agentRandom;
    final AgentDisk disk = new AgentDisk();
    AgentFence fence;
    final ArrayDeque<HeldAction> held = new ArrayDeque<>();
    final HashMap<LaunchKey, Integer> replyTo = new HashMap<>();
    boolean alive;
    boolean syncing;
    int incarnation;
    long wakes;

    Agent(int index, SplittableRandom agentRandom) {
      this.index = index;
      this.name = "agent-" + index;
      this.agentRandom = agentRandom;
    }

    Instant clock() {
      return BASE.plusMillis(now());
    }

    void start() {
      incarnation++;
      alive = true;
      syncing = false;
      held.clear();
      replyTo.clear();
      AgentLimits limits =
          new AgentLimits(
              64, AgentLimits.DEFAULT_MAX_LAUNCHES, Duration.ofMillis(AGENT_GIVE_UP_MILLIS));
      fence = AgentFence.recover(limits, disk.recover());
      for (LaunchKey running : fence.running()) {
        // The process died with the agent: it may have run partly, so it failed (128 + SIGKILL).
        execute(
            fence.onFinished(
                running,
                Outcome.failed(137),
                "the process died with its agent",
                clock(),
                new byte[0]),
            -1);
      }
      trace(
          name
              + " starts (incarnation "
              + incarnation
              + ", fence "
              + fence.highestSeen()
              + ", "
              + fence.size()
              + " launches remembered)");
      int at = incarnation;
      schedule(agentRandom.nextLong(1, AGENT_WAKE_MILLIS), () -> onWake(at));
    }

    void restart() {
      if (!alive) {
        start();
      }
    }

    void crash(boolean tear) {
      alive = false;
      disk.crash(tear);
      held.clear();
      checker.onAgentCrash(index);
      trace(name + " crashes" + (tear ? " (last write torn)" : ""));
    }

    /**
     * Carries out one {@link io.paxcron.agent.core.Ready}: its records are appended now and its
     * effects run once they are durable (group commit, like the replicas). Effects of a Ready with
     * nothing to write still wait behind earlier writes: a start may depend on an accept not yet
     * synced.
     */
    void execute(io.paxcron.agent.core.Ready ready, int from) {
      if (ready.isEmpty()) {
        return;
      }
      Runnable effects = () -> ready.effects().forEach(effect -> carryOut(effect, from));
      if (options.bug() == SystemBug.AGENT_STARTS_BEFORE_PERSIST) {
        List<AgentEffect> starts =
            ready.effects().stream().filter(AgentEffect.Start.class::isInstance).toList();
        starts.forEach(effect -> carryOut(effect, from));
        List<AgentEffect> rest =
            ready.effects().stream().filter(e -> !(e instanceof AgentEffect.Start)).toList();
        effects = () -> rest.forEach(effect -> carryOut(effect, from));
      }
      if (ready.persist().isEmpty() && held.isEmpty()) {
        effects.run();
        return;
      }
      long count =
          ready.persist().isEmpty()
              ? disk.writtenCount()
              : disk.append(JournalCodec.encode(ready.persist()));
      List<LaunchKey> accepted =
          ready.persist().stream()
              .filter(JournalRecord.Accepted.class::isInstance)
              .map(record -> ((JournalRecord.Accepted) record).key())
              .toList();
      held.add(new HeldAction(count, paxosBallot(fence.highestSeen()), accepted, effects));
      if (fence.needsCompaction()) {
        disk.replace(JournalCodec.encode(fence.snapshot()));
        fence.onCompacted();
      }
      startSync();
    }

    private void startSync() {
      if (!alive || syncing || disk.durableCount() >= disk.writtenCount()) {
        return;
      }
      syncing = true;
      int at = incarnation;
      long through = disk.writtenCount();
      schedule(
          agentRandom.nextLong(1, 6),
          () -> {
            if (!alive || incarnation != at) {
              return;
            }
            syncing = false;
            disk.syncThrough(through);
            while (alive && !held.isEmpty() && held.peek().writeCount() <= disk.durableCount()) {
              HeldAction done = held.poll();
              checker.onAgentDurable(index, done.fence());
              for (LaunchKey key : done.launchesMadeDurable()) {
                checker.onAgentLaunchDurable(index, key.runId(), key.attempt());
              }
              done.action().run();
            }
            startSync();
          });
    }

    private void carryOut(AgentEffect effect, int from) {
      switch (effect) {
        case AgentEffect.Reply reply -> onReply(reply.reply(), from);
        case AgentEffect.Start start -> startProcess(start.key(), start.payload());
        case AgentEffect.Stop stop -> {
          int at = incarnation;
          // SIGTERM to the group; the simulated process exits at once with 128 + SIGTERM.
          schedule(
              1,
              () -> {
                if (alive
                    && incarnation == at
                    && fence.view(stop.key()).phase() == RunPhase.RUNNING) {
                  finish(stop.key(), Outcome.failed(143));
                }
              });
        }
        case AgentEffect.Report report -> report(report);
      }
    }

    void onMessage(int from, AgentMessage message) {
      switch (message) {
        case LaunchMessage launch -> onLaunch(from, launch);
        case GetRunMessage getRun -> {
          noteBallot(getRun.ballot());
          execute(
              fence.onGetRun(
                  clock(),
                  new LaunchKey(getRun.runId(), getRun.attempt()),
                  fenceBallot(getRun.ballot())),
              from);
        }
        case CancelMessage cancel -> {
          noteBallot(cancel.ballot());
          execute(
              fence.onCancel(
                  clock(),
                  new LaunchKey(cancel.runId(), cancel.attempt()),
                  fenceBallot(cancel.ballot())),
              from);
        }
        case AckMessage ack ->
            execute(
                fence.onReportAcknowledged(
                    new LaunchKey(ack.runId(), ack.attempt()),
                    ack.finish()
                        ? AgentEffect.ReportKind.FINISHED
                        : AgentEffect.ReportKind.STARTED),
                from);
        case HeartbeatAckMessage ack -> {
          FenceBallot ballot = fenceBallot(ack.ballot());
          noteBallot(ack.ballot());
          execute(
              fence.onHeartbeatAcknowledged(
                  clock(),
                  BASE.plusMillis(ack.sentAtMillis()),
                  Duration.ofMillis(AGENT_START_LEASE_MILLIS),
                  ballot),
              from);
        }
      }
    }

    /** Tells the checker of a ballot the agent is about to take in (not one below its fence). */
    private void noteBallot(Ballot ballot) {
      if (!fenceBallot(ballot).isBelow(fence.highestSeen())) {
        checker.onAgentBallot(index, ballot);
      }
    }

    private void onLaunch(int from, LaunchMessage launch) {
      FenceBallot asked =
          options.bug() == SystemBug.NO_AGENT_FENCING
              ? FenceBallot.max(fenceBallot(launch.ballot()), fence.highestSeen())
              : fenceBallot(launch.ballot());
      LaunchKey key = new LaunchKey(launch.runId(), launch.attempt());
      boolean isNew = fence.view(key).phase() == RunPhase.UNKNOWN;
      io.paxcron.agent.core.Ready ready =
          fence.onLaunch(clock(), key, asked, null, encodeTimeout(launch.spec().timeout()));
      boolean accepted =
          ready.persist().stream().anyMatch(JournalRecord.Accepted.class::isInstance);
      if (accepted) {
        checker.onLaunchAccepted(
            now(), index, name, launch.runId(), launch.attempt(), launch.ballot());
        trace(
            name
                + " accepts "
                + launch.runId()
                + " #"
                + launch.attempt()
                + " ballot "
                + launch.ballot()
                + " from replica "
                + from);
      } else if (!isNew || !ready.persist().isEmpty()) {
        checker.onAgentBallot(index, launch.ballot());
      }
      execute(ready, from);
    }

    private void onReply(LeaderReply reply, int from) {
      LaunchKey key = reply.key();
      Ballot ballot = paxosBallot(reply.ballot());
      AgentAnswer answer =
          switch (reply) {
            case LeaderReply.LaunchAnswer launch ->
                switch (launch.status()) {
                  // An accepted launch answers with its start report, as the simulated leader
                  // expects.
                  case ACCEPTED, CAPACITY -> null;
                  case REPEAT -> known(launch.run(), ballot);
                  case FENCED -> new AgentAnswer.Fenced(name, paxosBallot(launch.highestSeen()));
                };
            case LeaderReply.RunAnswer run ->
                switch (run.run().phase()) {
                  case UNKNOWN -> new AgentAnswer.Unknown(name, key.runId(), key.attempt(), ballot);
                  case FENCED -> new AgentAnswer.Fenced(name, paxosBallot(run.run().highestSeen()));
                  default -> known(run.run(), ballot);
                };
            case LeaderReply.CancelAnswer cancel -> null;
          };
      if (answer != null) {
        answer(from, answer);
      }
    }

    private AgentAnswer known(RunView run, Ballot ballot) {
      AgentRunState state =
          switch (run.phase()) {
            case RUNNING -> AgentRunState.RUNNING;
            case FINISHED, NEVER_STARTED -> AgentRunState.FINISHED;
            default -> AgentRunState.ACCEPTED;
          };
      // As in report(): the simulated leader hears NEVER_STARTED as FAILED(143).
      Outcome outcome = run.phase() == RunPhase.NEVER_STARTED ? Outcome.failed(143) : run.outcome();
      return new AgentAnswer.Known(
          name, run.key().runId(), run.key().attempt(), ballot, state, outcome);
    }

    /**
     * The launch is durable: the process starts now and runs for a random time (or until its
     * timeout).
     */
    private void startProcess(LaunchKey key, byte[] payload) {
      checker.onRunStarted(now(), index, name, key.runId(), key.attempt());
      long duration = agentRandom.nextLong(50, MAX_RUN_MILLIS + 1);
      long timeout = decodeTimeout(payload);
      Outcome outcome =
          duration > timeout
              ? Outcome.TIMED_OUT
              : agentRandom.nextInt(100) < 85 ? Outcome.SUCCEEDED : Outcome.failed(1);
      execute(fence.onStarted(key, clock()), -1);
      int at = incarnation;
      schedule(
          Math.min(duration, timeout),
          () -> {
            if (alive && incarnation == at && fence.view(key).phase() == RunPhase.RUNNING) {
              finish(key, outcome);
            }
          });
    }

    private void finish(LaunchKey key, Outcome outcome) {
      trace(name + " finishes " + key.runId() + " #" + key.attempt() + " " + outcome);
      execute(fence.onFinished(key, outcome, "", clock(), new byte[0]), -1);
    }

    /**
     * Heartbeats, gives time to the core, and re-sends every report the leader has not
     * acknowledged.
     */
    void onWake(int at) {
      if (!alive || incarnation != at) {
        return;
      }
      wakes++;
      for (int replica = 0; replica < nodes.size(); replica++) {
        toReplicaFromAgent(index, replica, new Heartbeat(now()));
      }
      execute(fence.onTick(clock()), -1);
      for (AgentEffect.Report report : fence.pendingReports()) {
        report(report);
      }
      schedule(AGENT_WAKE_MILLIS, () -> onWake(at));
    }

    private void report(AgentEffect.Report report) {
      RunView run = report.run();
      LaunchKey key = run.key();
      AgentAnswer answer =
          switch (run.phase()) {
            case RUNNING -> new AgentAnswer.Started(name, key.runId(), key.attempt());
            case FINISHED ->
                new AgentAnswer.Finished(name, key.runId(), key.attempt(), run.outcome());
            // The simulated leader has no NEVER_STARTED record: it hears a launch cancelled (or
            // given
            // up) before it started as what a SIGTERM at its start would have given, FAILED(128 +
            // 15).
            case NEVER_STARTED ->
                new AgentAnswer.Finished(name, key.runId(), key.attempt(), Outcome.failed(143));
            default -> null;
          };
      if (answer == null) {
        return;
      }
      FenceBallot highest = fence.highestSeen();
      int target =
          highest.equals(FenceBallot.ZERO) || wakes % 3 == 0
              ? agentRandom.nextInt(nodes.size())
              : highest.replicaId();
      toReplicaFromAgent(index, target, new Report(answer));
    }

    private void answer(int replica, AgentAnswer answer) {
      if (replica >= 0) {
        toReplicaFromAgent(index, replica, new Report(answer));
      }
    }
  }

  private static FenceBallot fenceBallot(Ballot ballot) {
    return FenceBallot.of(0, ballot);
  }

  private static Ballot paxosBallot(FenceBallot ballot) {
    return new Ballot(ballot.round(), ballot.replicaId());
  }

  /**
   * The simulated launch spec the agent persists: only the timeout matters to a simulated process.
   */
  private static byte[] encodeTimeout(Duration timeout) {
    return ByteBuffer.allocate(8).putLong(timeout.toMillis()).array();
  }

  private static long decodeTimeout(byte[] payload) {
    return ByteBuffer.wrap(payload).getLong();
  }

  // ------------------------------------------------------------------------------------------
  // clients

  /** An API call before the leader stamps it. */
  private sealed interface ApiOperation {
    CronCommand toCommand(Instant stamp);
  }

  private record PutOperation(JobSpec spec, ExpectedVersion expected) implements ApiOperation {
    @Override
    public CronCommand toCommand(Instant stamp) {
      return new CronCommand.PutJob(spec, expected, Map.of(), stamp);
    }
  }

  private record DeleteOperation(String job, ExpectedVersion expected) implements ApiOperation {
    @Override
    public CronCommand toCommand(Instant stamp) {
      return new CronCommand.DeleteJob(job, expected, stamp);
    }
  }

  private record PauseOperation(String job, boolean pause) implements ApiOperation {
    @Override
    public CronCommand toCommand(Instant stamp) {
      return pause ? new CronCommand.PauseJob(job, stamp) : new CronCommand.ResumeJob(job, stamp);
    }
  }

  private record TriggerOperation(String job) implements ApiOperation {
    @Override
    public CronCommand toCommand(Instant stamp) {
      return new CronCommand.TriggerJob(job, stamp);
    }
  }

  private record ClientRequest(int client, long clientId, long sequence, ApiOperation operation) {}

  private sealed interface ClientReply {}

  private record Answer(long sequence, CommandResult result) implements ClientReply {}

  private record Redirect(long sequence, int leaderHint) implements ClientReply {}

  /**
   * A closed-loop API client: one operation at a time, retried (same session sequence) until
   * answered.
   */
  private final class Client {
    final int index;
    final long clientId;
    final SplittableRandom clientRandom;
    long nextSequence = 1;
    Pending operation;
    long attempt;
    int target;
    final TreeMap<String, Long> versions = new TreeMap<>();
    final TreeSet<String> existing = new TreeSet<>();
    final List<SystemChecker.ClientOperation> history = new ArrayList<>();

    final class Pending {
      final long sequence;
      final String kind;
      final String job;
      final String token;
      final ApiOperation api;
      int timeouts;

      Pending(long sequence, String kind, String job, String token, ApiOperation api) {
        this.sequence = sequence;
        this.kind = kind;
        this.job = job;
        this.token = token;
        this.api = api;
      }

      SystemChecker.ClientOperation asHistory(CommandResult result) {
        return new SystemChecker.ClientOperation(
            index, clientId, sequence, kind, job, token, timeouts, result);
      }
    }

    Client(int index, long clientId, SplittableRandom clientRandom) {
      this.index = index;
      this.clientId = clientId;
      this.clientRandom = clientRandom;
      this.target = clientRandom.nextInt(nodes.size());
    }

    void onWake(long wakeAttempt, boolean redirected) {
      if (operation == null) {
        // A timeout armed for an operation that has since been answered is not a cue to start one.
        if (healed || wakeAttempt != attempt) {
          return;
        }
        operation = nextOperation();
        send();
      } else if (wakeAttempt == attempt) {
        if (!redirected) {
          operation.timeouts++;
          target = clientRandom.nextInt(nodes.size());
        }
        send();
      }
    }

    private void send() {
      attempt++;
      toReplicaFromClient(
          target, new ClientRequest(index, clientId, operation.sequence, operation.api));
      long sent = attempt;
      schedule(CLIENT_TIMEOUT_MILLIS, () -> onWake(sent, false));
    }

    private Pending nextOperation() {
      long sequence = nextSequence++;
      String job = "j" + clientRandom.nextInt(JOB_NAMES);
      String token = "c" + clientId + "-" + sequence;
      int pick = clientRandom.nextInt(100);
      Long version = versions.get(job);
      if (!existing.contains(job) || pick < 15) {
        ExpectedVersion expected =
            existing.contains(job) && version != null && version > 0
                ? ExpectedVersion.exactly(version)
                : ExpectedVersion.ABSENT;
        return new Pending(
            sequence, "create", job, token, new PutOperation(spec(job, token), expected));
      }
      if (pick < 50) {
        ExpectedVersion expected =
            version != null && version > 0 && clientRandom.nextInt(5) > 0
                ? ExpectedVersion.exactly(version)
                : ExpectedVersion.ANY;
        return new Pending(
            sequence, "change", job, token, new PutOperation(spec(job, token), expected));
      }
      if (pick < 60) {
        return new Pending(sequence, "pause", job, null, new PauseOperation(job, true));
      }
      if (pick < 72) {
        return new Pending(sequence, "resume", job, null, new PauseOperation(job, false));
      }
      if (pick < 78) {
        ExpectedVersion expected =
            version != null && version > 0 ? ExpectedVersion.exactly(version) : ExpectedVersion.ANY;
        return new Pending(sequence, "delete", job, null, new DeleteOperation(job, expected));
      }
      return new Pending(sequence, "trigger", job, null, new TriggerOperation(job));
    }

    private JobSpec spec(String job, String token) {
      boolean once = SystemChecker.atMostOnce(job);
      SimSchedule[] schedules = SimSchedule.values();
      SimSchedule schedule = schedules[clientRandom.nextInt(schedules.length)];
      ConcurrencyPolicy[] policies = ConcurrencyPolicy.values();
      MisfirePolicy.Mode[] modes = MisfirePolicy.Mode.values();
      return JobSpec.builder(job, schedule.text, new JobCommand.Argv(List.of("/bin/true")))
          .env(Map.of("SIM_CHANGE", token))
          .timeout(Duration.ofSeconds(1 + clientRandom.nextInt(3)))
          .concurrency(policies[clientRandom.nextInt(policies.length)])
          .misfire(
              new MisfirePolicy(
                  modes[clientRandom.nextInt(modes.length)],
                  Duration.ofSeconds(5 + clientRandom.nextInt(16)),
                  3))
          .semantics(once ? Semantics.AT_MOST_ONCE : Semantics.AT_LEAST_ONCE)
          .retries(
              once
                  ? RetryPolicy.NONE
                  : new RetryPolicy(
                      1 + clientRandom.nextInt(3),
                      Duration.ofSeconds(1),
                      Duration.ofSeconds(2),
                      20))
          .historyRetention(1_000)
          .build();
    }

    void onReply(ClientReply reply) {
      if (operation == null) {
        return;
      }
      switch (reply) {
        case Answer answer -> {
          if (answer.sequence() != operation.sequence) {
            return;
          }
          invariants.onAcknowledged(now(), clientId, operation.sequence);
          CommandResult result = answer.result();
          learn(operation, result);
          history.add(operation.asHistory(result));
          operation = null;
          attempt++;
          long next = attempt;
          schedule(
              clientRandom.nextLong(CLIENT_THINK_MILLIS / 4, CLIENT_THINK_MILLIS * 7 / 4),
              () -> onWake(next, false));
        }
        case Redirect redirect -> {
          if (redirect.sequence() != operation.sequence) {
            return;
          }
          target =
              redirect.leaderHint() >= 0
                  ? redirect.leaderHint()
                  : clientRandom.nextInt(nodes.size());
          attempt++;
          long next = attempt;
          schedule(clientRandom.nextLong(20, 120), () -> onWake(next, true));
        }
      }
    }

    private void learn(Pending done, CommandResult result) {
      switch (result.status()) {
        case APPLIED -> {
          if (done.kind.equals("delete")) {
            existing.remove(done.job);
            versions.remove(done.job);
          } else if (!done.kind.equals("trigger")) {
            existing.add(done.job);
            versions.put(done.job, result.version());
          }
        }
        case CONFLICT -> {
          if (result.version() > 0) {
            existing.add(done.job);
            versions.put(done.job, result.version());
          } else {
            existing.remove(done.job);
            versions.remove(done.job);
          }
        }
        case NOT_FOUND -> {
          existing.remove(done.job);
          versions.remove(done.job);
        }
        default -> {}
      }
    }
  }
}
