package io.paxcron.sim;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.ClockBound;
import io.paxcron.paxos.Command;
import io.paxcron.paxos.Configuration;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.KeyValueStateMachine;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.PaxosReplica;
import io.paxcron.paxos.Persist;
import io.paxcron.paxos.ProposalFanout;
import io.paxcron.paxos.Ready;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Snapshot;
import io.paxcron.sim.linearizability.CheckResult;
import io.paxcron.sim.linearizability.KeyValueModel;
import io.paxcron.sim.linearizability.LinearizabilityChecker;
import io.paxcron.sim.linearizability.Operation;
import io.paxcron.simkit.EventLoop;
import io.paxcron.simkit.FaultPicker;
import io.paxcron.simkit.FaultPlan;
import io.paxcron.simkit.Invariants;
import io.paxcron.simkit.Network;
import io.paxcron.simkit.Partitions;
import io.paxcron.simkit.PlantedBug;
import io.paxcron.simkit.ReadyDriver;
import io.paxcron.simkit.SimClock;
import io.paxcron.simkit.SimDisk;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A whole Multi-Paxos cluster — the real {@link PaxosReplica} cores, simulated disks, a simulated
 * network and closed-loop clients — run in one thread under virtual time, every choice derived from
 * one seed. The same seed always replays the same run, event for event.
 *
 * <p>A run has a fault phase of {@code faultEvents} events, during which the seed's {@link
 * FaultPlan} injects message loss, duplication, delay and reordering, partitions, crashes with loss
 * of unsynced writes and torn last writes, fsync errors, pauses, clock drift and jumps. Then every
 * fault heals (and clients stop starting new operations); the cluster must elect a leader and
 * finish every pending client operation within {@link Options#livenessMillis()}. Safety invariants
 * are checked as every event happens ({@link Invariants}); the lease-exclusivity check after every
 * event while clocks stay within the bound; linearizability of the client history at the end.
 */
public final class Simulation {

  /** Driver-level planted bugs (the core's own are in {@link PlantedBug}). */
  public enum DriverBug {
    NONE,
    /** Sends a Ready's messages before its writes are durable. */
    REPLY_BEFORE_PERSIST,
    /** Takes a write of accepted entries for a learned-only one: neither waits for nor syncs it. */
    ACCEPTS_AS_LEARNED
  }

  /**
   * What to run. {@code trace} receives a narrative of the run (faults, leaders, progress) and,
   * with {@code traceMessages}, every delivered message; {@code plan} overrides the seed's fault
   * mix when not null.
   */
  public record Options(
      long seed,
      int faultEvents,
      long livenessMillis,
      PlantedBug plantedBug,
      DriverBug driverBug,
      PrintStream trace,
      boolean traceMessages,
      FaultPlan plan,
      boolean membershipChanges) {
    public Options {
      if (faultEvents < 1) {
        throw new IllegalArgumentException("faultEvents must be >= 1, got " + faultEvents);
      }
      if (livenessMillis < 1) {
        throw new IllegalArgumentException("livenessMillis must be >= 1, got " + livenessMillis);
      }
    }

    public static Options of(long seed) {
      return new Options(
          seed,
          DEFAULT_FAULT_EVENTS,
          DEFAULT_LIVENESS_MILLIS,
          PlantedBug.NONE,
          DriverBug.NONE,
          null,
          false,
          null,
          false);
    }

    public Options withSeed(long newSeed) {
      return new Options(
          newSeed,
          faultEvents,
          livenessMillis,
          plantedBug,
          driverBug,
          trace,
          traceMessages,
          plan,
          membershipChanges);
    }

    public Options withFaultEvents(int events) {
      return new Options(
          seed,
          events,
          livenessMillis,
          plantedBug,
          driverBug,
          trace,
          traceMessages,
          plan,
          membershipChanges);
    }

    public Options withPlantedBug(PlantedBug bug) {
      return new Options(
          seed,
          faultEvents,
          livenessMillis,
          bug,
          driverBug,
          trace,
          traceMessages,
          plan,
          membershipChanges);
    }

    public Options withDriverBug(DriverBug bug) {
      return new Options(
          seed,
          faultEvents,
          livenessMillis,
          plantedBug,
          bug,
          trace,
          traceMessages,
          plan,
          membershipChanges);
    }

    public Options withTrace(PrintStream out, boolean messages) {
      return new Options(
          seed,
          faultEvents,
          livenessMillis,
          plantedBug,
          driverBug,
          out,
          messages,
          plan,
          membershipChanges);
    }

    /**
     * With {@code on}, two spare replicas start outside the cluster and an operator proposes
     * membership changes (adds, promotions, removals — the leader's too) throughout the fault
     * phase.
     */
    public Options withMembershipChanges(boolean on) {
      return new Options(
          seed, faultEvents, livenessMillis, plantedBug, driverBug, trace, traceMessages, plan, on);
    }

    Options withPlan(FaultPlan fixed) {
      return new Options(
          seed,
          faultEvents,
          livenessMillis,
          plantedBug,
          driverBug,
          trace,
          traceMessages,
          fixed,
          membershipChanges);
    }

    /** The command that replays this run (runs with an overridden plan replay via the demo). */
    public String replayCommand() {
      StringBuilder command =
          new StringBuilder("ops/soak --scope core --seeds 1 --first ").append(seed);
      if (faultEvents != DEFAULT_FAULT_EVENTS) {
        command.append(" --events ").append(faultEvents);
      }
      if (plantedBug != PlantedBug.NONE) {
        command.append(" --bug ").append(plantedBug);
      }
      if (driverBug != DriverBug.NONE) {
        command.append(" --bug ").append(driverBug);
      }
      if (membershipChanges) {
        command.append(" --membership");
      }
      return command.append(" --trace").toString();
    }
  }

  /** What a run found. */
  public record Result(
      long seed,
      FaultPlanView plan,
      long events,
      long virtualMillis,
      String violation,
      int acknowledgedWrites,
      int pendingWritesAtEnd,
      int reads,
      long chosenSlots,
      int leaderChanges,
      int needlessElections,
      long invariantChecks,
      int membershipChanges,
      String replayCommand) {
    public boolean ok() {
      return violation == null;
    }
  }

  /** The fault mix, for reports. */
  public record FaultPlanView(String description, int replicas, boolean clockBeyondBound) {}

  public static final int DEFAULT_FAULT_EVENTS = 4_000;
  public static final long DEFAULT_LIVENESS_MILLIS = 20_000;
  static final long TICK_MILLIS = 5;
  static final long CLIENT_TIMEOUT_MILLIS = 400;
  static final long MAX_VIRTUAL_MILLIS = 600_000;
  static final int KEYS = 4;

  private final Options options;
  private final FaultPlan plan;
  private final SplittableRandom random;
  private final PaxosConfig baseConfig;

  /** Replicas in the run: the plan's, plus the spares membership changes may add. */
  private final int nodeCount;

  /** Membership changes draw from their own stream, so they leave the other choices alone. */
  private final SplittableRandom operatorRandom;

  static final int SPARE_REPLICAS = 2;
  private final EventLoop loop = new EventLoop();
  private final Network network;
  private final FaultPicker faults;
  private final List<Node> nodes = new ArrayList<>();
  private final List<Client> clients = new ArrayList<>();
  private final Invariants invariants;
  private final List<Operation<KeyValueModel.Input, KeyValueModel.Output>> history =
      new ArrayList<>();
  private boolean[][] link;
  private boolean healed;
  private long healedAtMillis;

  /** The highest slot in which a command some client saw acknowledged took effect. */
  private long highestAcknowledgedSlot = -1;

  private long nextReadId = 1;
  private int leaderChanges;
  private int lastLeader = -1;

  /** After every fault healed: the ballot holding the lease, since when, and once it settled. */
  private Ballot holderBallot;

  private long holderSinceMillis;
  private Ballot settledBallot;
  private Returning returning = Returning.NOT_STARTED;
  private int returningNode = -1;
  private long returningSinceMillis;

  /**
   * Leases taken under a new ballot after the cluster had settled on a leader with every fault
   * healed: elections nothing called for (a returning replica deposing a healthy leader).
   */
  private int needlessElections;

  private int reads;
  private long nextProgressMillis;
  static final long PROGRESS_EVERY_MILLIS = 500;

  public Simulation(Options options) {
    this.options = options;
    this.random = new SplittableRandom(options.seed());
    ClockBound bound = new ClockBound(200_000, 25);
    this.plan =
        options.plan() != null
            ? options.plan()
            : FaultPlan.forSeed(options.seed(), bound.driftPpm());
    List<ReplicaId> ids = new ArrayList<>();
    for (int i = 0; i < plan.replicas(); i++) {
      ids.add(ReplicaId.of(i));
    }
    this.baseConfig =
        new PaxosConfig(
            ReplicaId.of(0),
            ids,
            25,
            400,
            400,
            bound,
            8,
            16,
            64 << 10,
            2_000,
            1_000,
            64,
            50,
            // One seed in four runs every member on every proposal; the rest run the production
            // default, the quorum's followers only (ProposalFanout).
            (options.seed() & 3) == 3 ? ProposalFanout.ALL : ProposalFanout.QUORUM,
            options.plantedBug().rules());
    this.invariants = new Invariants(plan.replicas());
    this.nodeCount =
        plan.replicas()
            + (options.membershipChanges() && plan.replicas() >= 3 ? SPARE_REPLICAS : 0);
    this.operatorRandom = new SplittableRandom(options.seed() * 31 + 7);
    this.link = Partitions.fullyConnected(nodeCount, nodeCount);
    this.network =
        new Network(
            loop,
            random,
            new Network.Faults(
                plan.messageLoss(), plan.messageDuplication(), plan.maxExtraDelayMillis()));
    this.faults =
        new FaultPicker(
            plan.partitionsPerSecond(),
            plan.crashesPerSecond(),
            plan.pausesPerSecond(),
            plan.clockJumpsPerSecond());
  }

  /** Runs the seed to the end and reports; never throws for a protocol failure. */
  public Result run() {
    for (int i = 0; i < nodeCount; i++) {
      // Clocks at the edges of the bound are the interesting ones: most replicas get one.
      long drift =
          switch (random.nextInt(4)) {
            case 0, 1 -> plan.maxDriftPpm();
            case 2 -> -plan.maxDriftPpm();
            default -> random.nextLong(-plan.maxDriftPpm(), plan.maxDriftPpm() + 1);
          };
      Node node = new Node(i, new SimClock(random.nextLong(1_000_000), drift), random.split());
      nodes.add(node);
      node.start();
    }
    for (int c = 0; c < plan.clients(); c++) {
      Client client = new Client(c, 1_000 + c);
      clients.add(client);
      loop.schedule(random.nextLong(50, 400), () -> client.onWake(0, false));
    }
    scheduleNextFault();
    if (nodeCount > plan.replicas()) {
      loop.schedule(operatorRandom.nextLong(100, 600), this::onMembershipStep);
    }
    trace("plan " + plan);
    try {
      while (invariants.violation() == null && loop.runNext(Long.MAX_VALUE)) {
        checkLeases();
        if (options.trace() != null && now() >= nextProgressMillis) {
          nextProgressMillis = now() + PROGRESS_EVERY_MILLIS;
          trace(progress());
        }
        if (!healed && loop.events() >= options.faultEvents()) {
          heal();
        }
        // The returning-replica stretch starts once the cluster settled and then runs its course
        // whatever is chosen meanwhile: the replica it cuts off cannot apply what is chosen while
        // it is away, so the run could not settle again before it returns.
        if (healed
            && (returning != Returning.NOT_STARTED || settled())
            && returningReplicaLeftTheLeaderAlone()
            && settled()) {
          break;
        }
        if (healed && now() - healedAtMillis > options.livenessMillis()) {
          invariants.fail(
              now(),
              "liveness: "
                  + options.livenessMillis()
                  + " ms after every fault healed, "
                  + stuckDescription());
          break;
        }
        if (now() > MAX_VIRTUAL_MILLIS) {
          invariants.fail(now(), "the run exceeded " + MAX_VIRTUAL_MILLIS + " ms of virtual time");
          break;
        }
      }
      if (invariants.violation() == null) {
        finalChecks();
      }
    } catch (RuntimeException e) {
      invariants.fail(loop.now(), "a core threw " + e);
    }
    int acknowledged = 0;
    int pending = 0;
    for (Client client : clients) {
      acknowledged += client.acknowledged;
      pending += client.operation != null && client.operation.write ? 1 : 0;
    }
    long chosenSlots = invariants.chosenValues().size();
    return new Result(
        options.seed(),
        new FaultPlanView(plan.toString(), plan.replicas(), plan.clockBeyondBound()),
        loop.events(),
        loop.now(),
        invariants.violation(),
        acknowledged,
        pending,
        reads,
        chosenSlots,
        leaderChanges,
        needlessElections,
        invariants.checks(),
        invariants.configurationChanges().size(),
        options.replayCommand());
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  private sealed interface ClientRequest {}

  private record WriteRequest(int client, Command command) implements ClientRequest {}

  private record ReadRequest(int client, long readId, String key) implements ClientRequest {}

  private sealed interface ClientReply {}

  private record WriteAck(long sequence) implements ClientReply {}

  private record ReadValue(long readId, String value) implements ClientReply {}

  /** {@code leaderHint} is null when the replica knew no leader. */
  private record Redirect(long attempt, ReplicaId leaderHint) implements ClientReply {}

  /**
   * A replica's tick, as the production driver (ReplicaNode's ticker) gives it: once {@link
   * #TICK_MILLIS} passed since the last and the core's tick is due ({@link
   * PaxosReplica#tickDueAtMillis}), so a core that left out a deadline from its due time misses it
   * here too. A tick superseded by an earlier one does nothing; a paused replica's waits.
   */
  private void onTick(Node node, int incarnation, int generation) {
    if (!node.alive || node.incarnation != incarnation || node.tickGeneration != generation) {
      return;
    }
    if (node.pausedUntil > now()) {
      loop.schedule(node.pausedUntil - now(), () -> onTick(node, incarnation, generation));
      return;
    }
    node.tickAt = Long.MAX_VALUE;
    long local = node.clock.read(now());
    if (now() >= node.lastTickAt + TICK_MILLIS && local >= node.replica.tickDueAtMillis()) {
      node.lastTickAt = now();
      node.process(node.replica.tick(local));
    }
    node.scheduleTick();
  }

  private void restart(Node node) {
    if (!node.alive) {
      node.start();
    }
  }

  private void onClientRequest(Node node, ClientRequest request) {
    if (!node.alive) {
      return;
    }
    if (node.pausedUntil > now()) {
      loop.schedule(node.pausedUntil - now(), () -> onClientRequest(node, request));
      return;
    }
    node.onClientRequest(request);
  }

  // ---------------------------------------------------------------------------------------------
  // Network

  private void sendPeer(Envelope envelope) {
    network.send(() -> deliver(envelope));
  }

  private void deliver(Envelope envelope) {
    int from = envelope.from().value();
    int to = envelope.to().value();
    Node node = nodes.get(to);
    if (!node.alive || !link[from][to]) {
      return;
    }
    if (node.pausedUntil > now()) {
      loop.schedule(node.pausedUntil - now(), () -> deliver(envelope));
      return;
    }
    if (options.trace() != null && options.traceMessages()) {
      trace(envelope.from() + "->" + envelope.to() + " " + describe(envelope.message()));
    }
    node.process(
        node.replica.onMessage(node.clock.read(now()), envelope.from(), envelope.message()));
  }

  private void toClient(int client, ClientReply reply) {
    network.sendOnce(() -> clients.get(client).onReply(reply));
  }

  private void toReplica(int node, ClientRequest request) {
    network.sendOnce(() -> onClientRequest(nodes.get(node), request));
  }

  // ---------------------------------------------------------------------------------------------
  // Faults

  private void scheduleNextFault() {
    if (faults.any()) {
      loop.schedule(faults.nextDelayMillis(random), this::onNextFault);
    }
  }

  private void onNextFault() {
    if (!healed) {
      injectFault();
      scheduleNextFault();
    }
  }

  private void injectFault() {
    switch (faults.pick(random)) {
      case 0 -> partition();
      case 1 -> {
        Node victim = pickVictim();
        if (victim.alive) {
          victim.crash(random.nextDouble() < plan.tornWriteOnCrash(), "crash");
          loop.schedule(random.nextLong(20, 1_500), () -> restart(victim));
        }
      }
      case 2 -> {
        Node victim = pickVictim();
        if (victim.alive && victim.pausedUntil <= now()) {
          victim.pausedUntil = now() + random.nextLong(20, 800);
          trace("replica " + victim.id + " paused until t=" + victim.pausedUntil);
          loop.schedule(
              victim.pausedUntil - now(), () -> trace("replica " + victim.id + " resumes"));
        }
      }
      default -> {
        Node victim = nodes.get(random.nextInt(nodes.size()));
        long bound = plan.clockBeyondBound() ? 2_000 : baseConfig.clockBound().maxJumpMillis();
        if (!plan.clockBeyondBound() && victim.jumpedMillis >= bound) {
          return;
        }
        long jump =
            random.nextLong(-(bound - victim.jumpedMillis), bound - victim.jumpedMillis + 1);
        victim.jumpedMillis += Math.abs(jump);
        victim.clock.jump(now(), jump);
        trace("replica " + victim.id + " clock jumps " + jump + " ms");
      }
    }
  }

  /**
   * The operator: asks the leader for one membership change — add a spare as a learner, promote a
   * learner, remove a learner or a voter (sometimes the leader itself) — keeping three to five
   * voters; sometimes crashes the leader right after it accepted the change. Runs through the fault
   * phase only; a change in progress when faults heal completes by itself.
   */
  private void onMembershipStep() {
    if (healed) {
      return;
    }
    loop.schedule(operatorRandom.nextLong(20, 300), this::onMembershipStep);
    int leader = currentLeader();
    if (leader < 0 || nodes.get(leader).pausedUntil > now()) {
      return;
    }
    Node node = nodes.get(leader);
    Configuration latest = node.replica.membership().latest();
    Configuration.Change change = pickChange(latest, leader);
    if (change == null) {
      return;
    }
    PaxosReplica.Reconfiguration outcome = node.replica.reconfigure(node.clock.read(now()), change);
    trace(
        "operator asks leader "
            + leader
            + " to "
            + change
            + ": "
            + (outcome.accepted() ? "accepted" : "refused, " + outcome.refusal()));
    node.process(outcome.ready());
    if (outcome.accepted() && operatorRandom.nextInt(5) == 0) {
      long delay = operatorRandom.nextLong(0, 40);
      loop.schedule(
          delay,
          () -> {
            if (node.alive && !healed) {
              node.crash(operatorRandom.nextBoolean(), "crashes during a membership change");
              loop.schedule(operatorRandom.nextLong(20, 1_500), () -> restart(node));
            }
          });
    }
  }

  private Configuration.Change pickChange(Configuration latest, int leader) {
    List<ReplicaId> outside = new ArrayList<>();
    for (int id = 0; id < nodeCount; id++) {
      if (!latest.isMember(ReplicaId.of(id))) {
        outside.add(ReplicaId.of(id));
      }
    }
    List<ReplicaId> learners = List.copyOf(latest.learners().keySet());
    List<ReplicaId> voters = List.copyOf(latest.voters().keySet());
    if (!learners.isEmpty()) {
      ReplicaId learner = learners.get(operatorRandom.nextInt(learners.size()));
      if (voters.size() < 5 && operatorRandom.nextInt(4) != 0) {
        return new Configuration.Change.Promote(learner);
      }
      return new Configuration.Change.Remove(learner);
    }
    boolean canAdd = !outside.isEmpty();
    boolean canRemove = voters.size() > 3;
    if (canAdd && (!canRemove || operatorRandom.nextBoolean())) {
      ReplicaId id = outside.get(operatorRandom.nextInt(outside.size()));
      return new Configuration.Change.AddLearner(id, "sim-" + id);
    }
    if (canRemove) {
      ReplicaId victim =
          operatorRandom.nextInt(3) == 0
              ? ReplicaId.of(leader)
              : voters.get(operatorRandom.nextInt(voters.size()));
      return new Configuration.Change.Remove(victim);
    }
    return null;
  }

  /** Whether {@code id} is a member (voter or learner) of the newest chosen configuration. */
  private boolean finalMember(int id) {
    return invariants.membership().latest().isMember(ReplicaId.of(id));
  }

  private Node pickVictim() {
    int leader = currentLeader();
    if (leader >= 0 && random.nextInt(3) == 0) {
      return nodes.get(leader);
    }
    return nodes.get(random.nextInt(nodes.size()));
  }

  private void partition() {
    int leader = currentLeader();
    Partitions.Cut cut = Partitions.pick(random, nodeCount, leader);
    String kind = cut.kind();
    if (cut.isolated() >= 0 && cut.isolated() == leader && random.nextBoolean()) {
      // The worst clocks the bound allows: the cut-off leader's runs slow, so it believes in its
      // lease longest, and everyone else's runs fast, so they elect a successor soonest.
      for (Node node : nodes) {
        node.clock.setDrift(
            loop.now(), node.id == leader ? -plan.maxDriftPpm() : plan.maxDriftPpm());
      }
      kind += " with adversarial clock rates";
    }
    link = cut.links();
    trace("partition: " + kind);
    loop.schedule(
        random.nextLong(50, 2_000),
        () -> {
          if (!healed) {
            link = Partitions.fullyConnected(nodeCount, nodeCount);
            trace("partition healed");
          }
        });
  }

  private void heal() {
    healed = true;
    network.heal();
    healedAtMillis = now();
    link = Partitions.fullyConnected(nodeCount, nodeCount);
    for (Node node : nodes) {
      node.pausedUntil = Math.min(node.pausedUntil, now());
      if (!node.alive) {
        node.start();
      }
    }
    trace("every fault healed at t=" + now() + "; clients finish what they started");
  }

  // ---------------------------------------------------------------------------------------------
  // Checks

  private int currentLeader() {
    int leader = -1;
    for (Node node : nodes) {
      if (node.alive && node.replica.role() == PaxosReplica.Role.LEADER) {
        if (leader < 0 || node.replica.ballot().isAbove(nodes.get(leader).replica.ballot())) {
          leader = node.id;
        }
      }
    }
    return leader;
  }

  private void checkLeases() {
    List<Integer> holders = new ArrayList<>(1);
    for (Node node : nodes) {
      if (node.alive && node.replica.holdsLease(node.clock.read(now()))) {
        holders.add(node.id);
      }
    }
    if (healed && holders.size() == 1) {
      Ballot ballot = nodes.get(holders.get(0)).replica.ballot();
      if (!ballot.equals(holderBallot)) {
        if (settledBallot != null) {
          needlessElections++;
          trace(
              "needless election: ballot "
                  + ballot
                  + " after the cluster settled on "
                  + settledBallot);
          if (!plan.clockBeyondBound()) {
            invariants.fail(
                now(),
                "needless election: ballot "
                    + ballot
                    + " took the lease from "
                    + settledBallot
                    + " with every fault healed");
          }
          settledBallot = null;
        }
        holderBallot = ballot;
        holderSinceMillis = now();
      } else if (settledBallot == null
          && now() - holderSinceMillis >= 2 * baseConfig.electionTimeoutMillis()) {
        // Two election timeouts under one ballot: any election still in flight has ended.
        settledBallot = ballot;
      }
    }
    if (holders.size() == 1 && holders.get(0) != lastLeader) {
      lastLeader = holders.get(0);
      leaderChanges++;
      trace(
          "replica "
              + lastLeader
              + " holds the lease in ballot "
              + nodes.get(lastLeader).replica.ballot());
    }
    if (!plan.clockBeyondBound()) {
      invariants.onLeaseHolders(now(), holders);
    }
  }

  /**
   * The returning-replica stretch (Raft thesis §9.6): once every fault healed and one ballot has
   * held the lease for two election timeouts, one follower is cut off for three election timeouts
   * and reconnected. Nothing else is faulted, so the leader must keep its ballot throughout; any
   * new ballot is a needless election, which {@link #checkLeases} counts and, with clocks within
   * their bound, reports as a violation. True once the stretch is over (or cannot run).
   */
  private boolean returningReplicaLeftTheLeaderAlone() {
    long stretch = 3 * baseConfig.electionTimeoutMillis();
    switch (returning) {
      case NOT_STARTED -> {
        int leader = currentLeader();
        if (plan.clockBeyondBound() || plan.replicas() < 3) {
          return true;
        }
        if (settledBallot == null || leader < 0) {
          return false;
        }
        List<Integer> followers = new ArrayList<>();
        for (Node node : nodes) {
          if (node.alive
              && node.id != leader
              && invariants.membership().latest().isVoter(ReplicaId.of(node.id))) {
            followers.add(node.id);
          }
        }
        if (followers.isEmpty()) {
          return true;
        }
        returningNode = followers.get(random.nextInt(followers.size()));
        Partitions.cutOff(link, returningNode);
        returning = Returning.CUT_OFF;
        returningSinceMillis = now();
        trace("replica " + returningNode + " is cut off while leader " + leader + " is healthy");
        return false;
      }
      case CUT_OFF -> {
        if (now() - returningSinceMillis >= stretch) {
          link = Partitions.fullyConnected(nodeCount, nodeCount);
          returning = Returning.RETURNED;
          returningSinceMillis = now();
          trace("replica " + returningNode + " returns");
        }
        return false;
      }
      case RETURNED -> {
        return now() - returningSinceMillis >= stretch;
      }
    }
    throw new IllegalStateException("unknown stretch state " + returning);
  }

  private enum Returning {
    NOT_STARTED,
    CUT_OFF,
    RETURNED
  }

  private boolean settled() {
    for (Client client : clients) {
      if (client.operation != null) {
        return false;
      }
    }
    // An acknowledged command's slot counts even when no replica remembers it chosen: a replica
    // may forget a chosen mark it never synced (Persist#learnedOnly) and re-learn it later.
    long lastChosen = highestAcknowledgedSlot;
    for (Node node : nodes) {
      lastChosen = Math.max(lastChosen, node.replica.firstUnchosenSlot() - 1);
    }
    // Replicas outside the newest configuration (removed, or never added) no longer follow.
    for (Node node : nodes) {
      if (finalMember(node.id)
          && (!node.alive || node.sessions.appliedThroughSlot() != lastChosen)) {
        return false;
      }
    }
    int leader = currentLeader();
    if (leader < 0) {
      return false;
    }
    // A change the leader knows is chosen must be in effect: the run ends in one configuration.
    PaxosReplica leading = nodes.get(leader).replica;
    return leading.membership().latestFromSlot() <= leading.firstUnchosenSlot();
  }

  private String stuckDescription() {
    StringBuilder out = new StringBuilder();
    for (Client client : clients) {
      if (client.operation != null) {
        out.append("client ")
            .append(client.clientId)
            .append(" still waits for ")
            .append(client.operation)
            .append("; ");
      }
    }
    for (Node node : nodes) {
      out.append("replica ")
          .append(node.id)
          .append(' ')
          .append(node.alive ? node.replica.role() : "DOWN")
          .append(" ballot ")
          .append(node.alive ? node.replica.ballot() : "-")
          .append(" applied ")
          .append(node.alive ? node.sessions.appliedThroughSlot() : -1)
          .append(
              node.alive
                  ? " firstUnchosen "
                      + node.replica.firstUnchosenSlot()
                      + " "
                      + node.driver
                      + " disk "
                      + node.disk.durableCount()
                      + "/"
                      + node.disk.writtenCount()
                  : "")
          .append("; ");
    }
    return out.toString();
  }

  private void finalChecks() {
    for (Client client : clients) {
      for (long sequence : client.acknowledgedSequences) {
        Long slot = invariants.tookEffectIn(client.clientId, sequence);
        for (Node node : nodes) {
          if (!finalMember(node.id)) {
            continue;
          }
          if (slot == null || node.sessions.appliedThroughSlot() < slot) {
            invariants.fail(
                now(),
                "acknowledged command "
                    + client.clientId
                    + "#"
                    + sequence
                    + " is not applied at replica "
                    + node.id);
            return;
          }
        }
      }
    }
    Map<String, String> reference = null;
    for (Node node : nodes) {
      if (!finalMember(node.id)) {
        continue;
      }
      Map<String, String> state = node.keyValue.view();
      if (reference == null) {
        reference = Map.copyOf(state);
      } else if (!reference.equals(state)) {
        invariants.fail(
            now(),
            "replica "
                + node.id
                + " ends with state "
                + state
                + " but the first member with "
                + reference);
        return;
      }
    }
    addUnfinishedWrites();
    CheckResult linearizable =
        new LinearizabilityChecker(2_000_000).check(new KeyValueModel(), history);
    switch (linearizable) {
      case CheckResult.Linearizable ok -> {}
      case CheckResult.NotLinearizable bad ->
          invariants.fail(now(), "client history is not linearizable: " + bad.explanation());
      case CheckResult.Unknown unknown ->
          invariants.fail(now(), "linearizability undecided: " + unknown.reason());
    }
  }

  private String progress() {
    int leader = currentLeader();
    long chosenThrough = 0;
    StringBuilder applied = new StringBuilder();
    for (Node node : nodes) {
      chosenThrough =
          Math.max(chosenThrough, node.alive ? node.replica.firstUnchosenSlot() - 1 : 0);
      applied
          .append(node.alive ? String.valueOf(node.sessions.appliedThroughSlot()) : "down")
          .append(node.id == nodes.size() - 1 ? "" : "/");
    }
    int acknowledged = 0;
    for (Client client : clients) {
      acknowledged += client.acknowledged;
    }
    return "progress: leader "
        + (leader < 0 ? "none" : leader)
        + ", chosen through slot "
        + chosenThrough
        + ", applied per replica "
        + applied
        + ", "
        + acknowledged
        + " writes acknowledged, "
        + reads
        + " lease reads served";
  }

  private long now() {
    return loop.now();
  }

  private void trace(String line) {
    if (options.trace() != null) {
      options.trace().println(String.format("%8d ms  %s", now(), line));
    }
  }

  private static String describe(Message message) {
    return switch (message) {
      case Message.PreVote p -> "PreVote b=" + p.ballot();
      case Message.PreVoteGranted g -> "PreVoteGranted b=" + g.ballot();
      case Message.Prepare p -> "Prepare b=" + p.ballot() + " from slot " + p.fromSlot();
      case Message.Promise p ->
          "Promise b="
              + p.ballot()
              + " accepted="
              + p.accepted().size()
              + (p.complete() ? "" : " incomplete");
      case Message.Accept a ->
          (a.entries().isEmpty() ? "Heartbeat" : "Accept")
              + " b="
              + a.ballot()
              + " slots="
              + slots(a.entries())
              + " chosenBelow="
              + a.chosenBelowSlot();
      case Message.Accepted a -> "Accepted b=" + a.ballot() + " slots=" + a.slots();
      case Message.Rejected r ->
          "Rejected b="
              + r.ballot()
              + " promised="
              + r.promised()
              + (r.leaderAlive()
                  ? " (leader "
                      + (r.knownLeader() == null ? -1 : r.knownLeader().value())
                      + " alive)"
                  : "");
      case Message.CatchUpRequest c -> "CatchUpRequest from slot " + c.fromSlot();
      case Message.CatchUpReply c ->
          "CatchUpReply "
              + (c.snapshot() == null ? "" : "snapshot@" + c.snapshot().slot() + " ")
              + "entries="
              + c.chosen().size();
    };
  }

  private static String slots(List<LogEntry> entries) {
    if (entries.isEmpty()) {
      return "[]";
    }
    return "["
        + entries.get(0).slot()
        + (entries.size() > 1 ? ".." + entries.get(entries.size() - 1).slot() : "")
        + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Replicas

  /** One replica's process: the core, its disk and driver, its state machine and its clock. */
  private final class Node implements ReadyDriver.Host {
    final int id;
    final SimClock clock;
    final SplittableRandom nodeRandom;
    final SimDisk disk = new SimDisk();
    PaxosReplica replica;
    KeyValueStateMachine keyValue;
    SessionStateMachine sessions;
    boolean alive;
    int incarnation;
    long pausedUntil;
    long jumpedMillis;

    /** When this replica's ticker last ticked its core, and when it will next look (true time). */
    long lastTickAt;

    long tickAt = Long.MAX_VALUE;

    /** Bumped when a tick is scheduled; a tick of an older generation was superseded. */
    int tickGeneration;

    long appliedSinceSnapshot;
    final ReadyDriver driver;
    final Map<Long, Long> pendingWrites = new HashMap<>();
    final Map<Long, PendingRead> pendingReads = new HashMap<>();
    final List<PendingRead> readyReads = new ArrayList<>();

    record PendingRead(int client, long readId, String key, long slot) {}

    Node(int id, SimClock clock, SplittableRandom nodeRandom) {
      this.id = id;
      this.clock = clock;
      this.nodeRandom = nodeRandom;
      this.driver =
          new ReadyDriver(
              loop,
              disk,
              nodeRandom,
              new ReadyDriver.DiskFaults(plan.crashDuringSync(), plan.fsyncErrorPerSync()),
              () -> !healed,
              switch (options.driverBug()) {
                case NONE -> ReadyDriver.Variant.PRODUCTION;
                case REPLY_BEFORE_PERSIST -> ReadyDriver.Variant.SEND_BEFORE_PERSIST;
                case ACCEPTS_AS_LEARNED -> ReadyDriver.Variant.ACCEPTS_AS_LEARNED;
              },
              this);
    }

    @Override
    public boolean alive() {
      return alive;
    }

    void start() {
      incarnation++;
      alive = true;
      driver.reset();
      pendingWrites.clear();
      pendingReads.clear();
      readyReads.clear();
      DurableState durable = disk.recover();
      keyValue = new KeyValueStateMachine();
      sessions = new SessionStateMachine(keyValue, 10_000);
      sessions.restore(durable.snapshot());
      appliedSinceSnapshot = 0;
      replica =
          new PaxosReplica(
              baseConfig.withReplicaId(ReplicaId.of(id)),
              nodeRandom.split(),
              durable,
              durable.snapshot().slot(),
              PaxosReplica.LeaderWrites.IN_PARALLEL);
      trace(
          "replica "
              + id
              + " starts (incarnation "
              + incarnation
              + ", promised "
              + durable.promised()
              + ", snapshot@"
              + durable.snapshot().slot()
              + ", "
              + durable.log().size()
              + " log entries)");
      // A random phase for the ticker, as processes start at random instants.
      lastTickAt = now() + 1 + nodeRandom.nextLong(TICK_MILLIS) - TICK_MILLIS;
      tickAt = Long.MAX_VALUE;
      process(replica.start(clock.read(now())));
    }

    /**
     * Schedules this replica's next tick for when the production driver would give it: {@link
     * #TICK_MILLIS} after the last, or later at the core's due time, read on this replica's clock
     * (a drifting clock's due time comes a little early or late in true time, and is checked
     * again). Called after every step, so a step that makes the tick due earlier brings it forward.
     */
    void scheduleTick() {
      if (!alive) {
        return;
      }
      long untilDue = Math.max(0, replica.tickDueAtMillis() - clock.read(now()));
      long at = Math.max(lastTickAt + TICK_MILLIS, now() + untilDue);
      if (at >= tickAt) {
        return;
      }
      tickAt = at;
      int generation = ++tickGeneration;
      int current = incarnation;
      loop.schedule(at - now(), () -> onTick(this, current, generation));
    }

    void crash(boolean tear, String why) {
      alive = false;
      disk.crash(tear);
      trace("replica " + id + " " + why + (tear ? " (last write torn)" : ""));
    }

    void process(Ready ready) {
      driver.process(ready);
      scheduleTick();
    }

    @Override
    public void onPowerLossDuringSync() {
      crash(random.nextDouble() < plan.tornWriteOnCrash(), "loses power during a sync");
      loop.schedule(random.nextLong(20, 1_500), () -> restart(this));
    }

    @Override
    public void onFsyncError() {
      // A failed fsync leaves the page cache in an unknown state: the replica must stop.
      crash(nodeRandom.nextBoolean(), "stops on an fsync error");
      loop.schedule(nodeRandom.nextLong(20, 1_000), () -> restart(this));
    }

    /** Sends a Ready's messages, telling the checkers about every proposal and vote in them. */
    @Override
    public void send(Ready ready, List<Envelope> messages) {
      invariants.onSending(now(), id, ready);
      for (Envelope envelope : messages) {
        sendPeer(envelope);
      }
    }

    /**
     * The leader's Accepts leave while its own write syncs (Raft thesis §10.2.1); its own
     * acceptance counts, for the checkers and for the core, once the write is durable.
     */
    @Override
    public void sendBeforePersist(Ready ready) {
      invariants.onProposing(now(), id, ready.messagesBeforePersist());
      for (Envelope envelope : ready.messagesBeforePersist()) {
        sendPeer(envelope);
      }
    }

    @Override
    public void onPersisted(Persist persist) {
      process(replica.onPersisted(clock.read(now()), persist));
    }

    @Override
    public void apply(Ready ready) {
      if (ready.restore() != null) {
        sessions.restore(ready.restore());
        appliedSinceSnapshot = 0;
        trace("replica " + id + " restores snapshot@" + ready.restore().slot());
      }
      for (LogEntry entry : ready.toApply()) {
        invariants.onApply(now(), id, entry);
        for (SessionStateMachine.Applied applied : sessions.apply(entry)) {
          if (!applied.duplicate()) {
            invariants.onTookEffect(now(), id, applied.command(), applied.slot());
          }
          Long waiting = pendingWrites.get(applied.command().clientId());
          if (waiting != null && waiting == applied.command().sequence()) {
            pendingWrites.remove(applied.command().clientId());
            int client = (int) (applied.command().clientId() - 1_000);
            toClient(client, new WriteAck(applied.command().sequence()));
          }
        }
        appliedSinceSnapshot++;
      }
      for (Ready.ReadOutcome outcome : ready.reads()) {
        PendingRead read = pendingReads.remove(outcome.readId());
        if (read == null) {
          continue;
        }
        switch (outcome) {
          case Ready.ReadReady readyRead ->
              readyReads.add(new PendingRead(read.client, read.readId, read.key, readyRead.slot()));
          case Ready.ReadRejected rejected ->
              toClient(read.client, new Redirect(read.readId, rejected.leaderHint()));
        }
      }
      for (var iterator = readyReads.iterator(); iterator.hasNext(); ) {
        PendingRead read = iterator.next();
        if (sessions.appliedThroughSlot() >= read.slot) {
          iterator.remove();
          toClient(read.client, new ReadValue(read.readId, keyValue.get(read.key)));
        }
      }
      for (Ready.ProposalRejected rejected : ready.rejected()) {
        long clientId = rejected.command().clientId();
        Long waiting = pendingWrites.get(clientId);
        if (waiting != null && waiting == rejected.command().sequence()) {
          pendingWrites.remove(clientId);
          toClient(
              (int) (clientId - 1_000),
              new Redirect(rejected.command().sequence(), rejected.leaderHint()));
        }
      }
      if (appliedSinceSnapshot >= plan.snapshotEverySlots()
          && sessions.appliedThroughSlot() > replica.snapshot().slot()) {
        Snapshot snapshot = sessions.snapshot();
        invariants.onSnapshot(now(), id, snapshot);
        appliedSinceSnapshot = 0;
        process(replica.onSnapshotTaken(clock.read(now()), snapshot));
      }
    }

    void onClientRequest(ClientRequest request) {
      switch (request) {
        case WriteRequest write -> {
          pendingWrites.put(write.command().clientId(), write.command().sequence());
          process(replica.propose(clock.read(now()), write.command()));
        }
        case ReadRequest read -> {
          pendingReads.put(
              read.readId(), new PendingRead(read.client(), read.readId(), read.key(), -1));
          process(replica.read(clock.read(now()), read.readId()));
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Clients

  /** A closed-loop client: one operation at a time, retried until answered. */
  private final class Client {
    final int index;
    final long clientId;
    long nextSequence = 1;
    Pending operation;
    long attempt;
    int target;
    int acknowledged;
    final List<Long> acknowledgedSequences = new ArrayList<>();

    record Pending(
        boolean write, String key, String value, long sequence, long readId, long callTime) {}

    Client(int index, long clientId) {
      this.index = index;
      this.clientId = clientId;
      this.target = random.nextInt(nodeCount);
    }

    void onWake(long wakeAttempt, boolean redirected) {
      if (operation == null) {
        if (healed) {
          return;
        }
        String key = "k" + random.nextInt(KEYS);
        if (random.nextInt(10) < 7) {
          long sequence = nextSequence++;
          operation = new Pending(true, key, clientId + "-" + sequence, sequence, 0, now());
        } else {
          operation = new Pending(false, key, null, 0, nextReadId++, now());
        }
        sendAttempt();
      } else if (wakeAttempt == attempt) {
        if (!redirected) {
          // No answer in time: try another replica with the same command.
          target = random.nextInt(nodeCount);
        }
        retry();
      }
    }

    private void retry() {
      if (!operation.write) {
        operation = new Pending(false, operation.key, null, 0, nextReadId++, now());
      }
      sendAttempt();
    }

    private void sendAttempt() {
      attempt++;
      if (operation.write) {
        byte[] payload = KeyValueStateMachine.put(operation.key, operation.value);
        toReplica(
            target, new WriteRequest(index, new Command(clientId, operation.sequence, payload)));
      } else {
        toReplica(target, new ReadRequest(index, operation.readId, operation.key));
      }
      long sent = attempt;
      loop.schedule(CLIENT_TIMEOUT_MILLIS, () -> onWake(sent, false));
    }

    void onReply(ClientReply reply) {
      if (operation == null) {
        return;
      }
      switch (reply) {
        case WriteAck ack -> {
          if (operation.write && ack.sequence() == operation.sequence) {
            invariants.onAcknowledged(now(), clientId, operation.sequence);
            history.add(
                new Operation<>(
                    index,
                    operation.callTime,
                    now(),
                    new KeyValueModel.Put(operation.key, operation.value),
                    new KeyValueModel.PutOk()));
            acknowledged++;
            acknowledgedSequences.add(operation.sequence);
            Long slot = invariants.tookEffectIn(clientId, operation.sequence);
            if (slot != null) {
              highestAcknowledgedSlot = Math.max(highestAcknowledgedSlot, slot);
            }
            finish();
          }
        }
        case ReadValue value -> {
          if (!operation.write && value.readId() == operation.readId) {
            reads++;
            history.add(
                new Operation<>(
                    index,
                    operation.callTime,
                    now(),
                    new KeyValueModel.Get(operation.key),
                    new KeyValueModel.GetResult(value.value())));
            finish();
          }
        }
        case Redirect redirect -> {
          boolean current =
              operation.write
                  ? redirect.attempt() == operation.sequence
                  : redirect.attempt() == operation.readId;
          if (current) {
            target =
                redirect.leaderHint() != null
                    ? redirect.leaderHint().value()
                    : random.nextInt(nodeCount);
            long backoff = random.nextLong(5, 40);
            attempt++;
            long next = attempt;
            loop.schedule(backoff, () -> onWake(next, true));
          }
        }
      }
    }

    private void finish() {
      operation = null;
      attempt++;
      long next = attempt;
      loop.schedule(random.nextLong(0, 30), () -> onWake(next, false));
    }
  }

  /** Adds the unfinished writes as operations of unknown outcome; used before the final check. */
  private void addUnfinishedWrites() {
    for (Client client : clients) {
      if (client.operation != null && client.operation.write) {
        history.add(
            Operation.pending(
                client.index,
                client.operation.callTime,
                new KeyValueModel.Put(client.operation.key, client.operation.value)));
      }
    }
  }
}
