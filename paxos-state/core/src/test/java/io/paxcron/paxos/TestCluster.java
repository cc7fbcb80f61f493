package io.paxcron.paxos;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * A deterministic, single-threaded cluster of real {@link PaxosReplica}s for unit tests: the test
 * is the network and the clock.
 *
 * <p>Messages wait in one explicit queue until the test delivers them — in FIFO order, by choice,
 * or drops them. Time is a long the test advances; nothing here sleeps or reads a clock. Each
 * replica has a seeded {@link SplittableRandom}, an in-memory disk built only from the {@link
 * Persist} records of its {@link Ready}s (applied before the Ready's messages are queued, as the
 * contract requires), and a {@link SessionStateMachine} over a {@link KeyValueStateMachine} fed
 * from {@code restore} and {@code toApply}. A crash discards everything but the disk.
 *
 * <p>Every delivered or dropped message and every driver input that had an effect is written to a
 * human-readable trace (the golden files are such traces). Always-on checks throw {@link
 * AssertionError} naming the seed: a Promise, Accepted or self-accepted Accept that is not yet
 * durable, a chosen slot whose value changes on disk, a promise that goes backwards on disk, and
 * two replicas applying different values in one slot.
 */
final class TestCluster {

  static final int MAX_SESSIONS = 1_000;
  private static final int MAX_DELIVERIES = 100_000;

  /** What one replica has on its disk: only {@link Persist} records change it. */
  static final class Disk {
    Ballot promised = Ballot.ZERO;
    Snapshot snapshot = Snapshot.EMPTY;
    final TreeMap<Long, LogEntry> log = new TreeMap<>();

    void write(int replicaId, Persist persist) {
      if (persist.snapshot() != null) {
        if (persist.snapshot().slot() < snapshot.slot()) {
          throw new AssertionError(
              "replica "
                  + replicaId
                  + " installs snapshot@"
                  + persist.snapshot().slot()
                  + " below its snapshot@"
                  + snapshot.slot());
        }
        snapshot = persist.snapshot();
        log.headMap(snapshot.slot(), true).clear();
      }
      for (LogEntry entry : persist.entries()) {
        LogEntry existing = log.get(entry.slot());
        if (existing != null
            && existing.chosen()
            && (!entry.chosen() || !existing.value().equals(entry.value()))) {
          throw new AssertionError(
              "replica " + replicaId + " overwrites chosen " + existing + " with " + entry);
        }
        log.put(entry.slot(), entry);
      }
      if (persist.promised() != null) {
        if (persist.promised().isBelow(promised)) {
          throw new AssertionError(
              "replica "
                  + replicaId
                  + " persists promise "
                  + persist.promised()
                  + " below its durable promise "
                  + promised);
        }
        promised = persist.promised();
      }
    }

    DurableState toDurableState() {
      return new DurableState(promised, snapshot, List.copyOf(log.values()));
    }

    /** Whether this disk holds {@code slot} accepted in {@code ballot}, chosen, or snapshotted. */
    boolean holds(long slot, Ballot ballot) {
      if (slot <= snapshot.slot()) {
        return true;
      }
      LogEntry entry = log.get(slot);
      return entry != null && (entry.chosen() || entry.ballot().equals(ballot));
    }
  }

  /** One replica with its disk and state machine, across crashes and restarts. */
  static final class Node {
    final int id;
    final PaxosConfig config;
    final SplittableRandom random;
    final Disk disk = new Disk();
    PaxosReplica replica;
    KeyValueStateMachine keyValue;
    SessionStateMachine sessions;

    /** Entries applied by the current incarnation, in apply order. */
    final List<LogEntry> applied = new ArrayList<>();

    final List<SessionStateMachine.Applied> results = new ArrayList<>();
    final List<Ready.ReadOutcome> reads = new ArrayList<>();
    final List<Ready.ProposalRejected> rejected = new ArrayList<>();

    /** Every Ready every incarnation produced, in order. */
    final List<Ready> readies = new ArrayList<>();

    boolean crashed;
    boolean isolated;

    Node(int id, PaxosConfig config, SplittableRandom random) {
      this.id = id;
      this.config = config;
      this.random = random;
    }
  }

  private final long seed;
  private final TreeMap<Integer, Node> nodes = new TreeMap<>();
  private final List<Envelope> network = new ArrayList<>();
  private final List<String> trace = new ArrayList<>();
  private final TreeMap<Long, Value> appliedValues = new TreeMap<>();
  private long nowMillis;
  private boolean started;

  private TestCluster(long seed, int size, UnaryOperator<TestConfig> tweak) {
    this(seed, size, 0, tweak);
  }

  private TestCluster(long seed, int size, int spares, UnaryOperator<TestConfig> tweak) {
    this.seed = seed;
    List<ReplicaId> ids = new ArrayList<>();
    for (int id = 1; id <= size; id++) {
      ids.add(ReplicaId.of(id));
    }
    for (int id = 1; id <= size + spares; id++) {
      TestConfig config = TestConfig.defaults();
      config.replicaIds = ids;
      config.replicaId = ReplicaId.of(id);
      nodes.put(
          id,
          new Node(id, tweak.apply(config).build(), new SplittableRandom(seed * 1_000_003L + id)));
    }
  }

  /** A cluster of replicas 1..size with default settings, not started; the clock reads 0. */
  static TestCluster create(long seed, int size) {
    return new TestCluster(seed, size, UnaryOperator.identity());
  }

  /** As {@link #create(long, int)}, with {@code tweak} applied to every replica's settings. */
  static TestCluster create(long seed, int size, UnaryOperator<TestConfig> tweak) {
    return new TestCluster(seed, size, tweak);
  }

  /**
   * A started cluster whose configuration is replicas 1..size, plus replicas size+1..size+spares
   * that run outside it, waiting to be added.
   */
  static TestCluster startedWithSpares(long seed, int size, int spares) {
    TestCluster cluster = new TestCluster(seed, size, spares, UnaryOperator.identity());
    cluster.startAll();
    return cluster;
  }

  /** A started cluster of replicas 1..size with default settings. */
  static TestCluster started(long seed, int size) {
    TestCluster cluster = create(seed, size);
    cluster.startAll();
    return cluster;
  }

  /**
   * A started cluster of replicas 1..size whose leaders send every proposal to every member: the
   * scenarios of the classic message flow (catch-up of a lagging follower, the golden traces).
   */
  static TestCluster startedAskingAll(long seed, int size) {
    TestCluster cluster =
        create(
            seed,
            size,
            config -> {
              config.proposalFanout = ProposalFanout.ALL;
              return config;
            });
    cluster.startAll();
    return cluster;
  }

  // ---------------------------------------------------------------------------------------------
  // Setup and faults

  /** Puts {@code durable} on replica {@code id}'s disk; only before {@link #startAll}. */
  void seedDisk(int id, DurableState durable) {
    if (started) {
      throw new IllegalStateException("seed disks before starting the cluster");
    }
    Disk disk = node(id).disk;
    disk.promised = durable.promised();
    disk.snapshot = durable.snapshot();
    disk.log.clear();
    for (LogEntry entry : durable.log()) {
      disk.log.put(entry.slot(), entry);
    }
  }

  void startAll() {
    started = true;
    trace.add("@" + nowMillis + " start " + joinIds(nodes.keySet()));
    for (Node node : nodes.values()) {
      boot(node);
    }
  }

  /** The replica stops; its in-memory state is gone, its disk stays. */
  void crash(int id) {
    Node node = node(id);
    node.crashed = true;
    node.replica = null;
    trace.add("@" + nowMillis + " crash " + id);
  }

  /** The replica starts again from its disk, with an empty state machine restored from it. */
  void restart(int id) {
    Node node = node(id);
    if (!node.crashed) {
      throw new IllegalStateException("replica " + id + " is running");
    }
    node.crashed = false;
    trace.add("@" + nowMillis + " restart " + id);
    boot(node);
  }

  /** Every message to or from the replica is dropped until {@link #heal}; its timers still run. */
  void isolate(int id) {
    node(id).isolated = true;
    trace.add("@" + nowMillis + " isolate " + id);
  }

  void heal(int id) {
    node(id).isolated = false;
    trace.add("@" + nowMillis + " heal " + id);
  }

  private void boot(Node node) {
    DurableState durable = node.disk.toDurableState();
    node.keyValue = new KeyValueStateMachine();
    node.sessions = new SessionStateMachine(node.keyValue, MAX_SESSIONS);
    if (durable.snapshot().slot() > 0) {
      node.sessions.restore(durable.snapshot());
    }
    node.applied.clear();
    node.replica = new PaxosReplica(node.config, node.random, durable, durable.snapshot().slot());
    input(node, null, () -> node.replica.start(nowMillis));
  }

  // ---------------------------------------------------------------------------------------------
  // Time and driver inputs

  long now() {
    return nowMillis;
  }

  void advance(long millis) {
    if (millis < 0) {
      throw new IllegalArgumentException("time does not go back: " + millis);
    }
    nowMillis += millis;
  }

  void advanceTo(long millis) {
    advance(millis - nowMillis);
  }

  /** Ticks one replica; the trace shows the tick only if it had an effect. */
  Ready tick(int id) {
    Node node = running(id);
    return input(node, "@" + nowMillis + " tick " + id, () -> node.replica.tick(nowMillis));
  }

  /** Ticks every running replica, in id order. */
  void tickAll() {
    for (Node node : nodes.values()) {
      if (!node.crashed) {
        tick(node.id);
      }
    }
  }

  Ready propose(int id, Command command) {
    Node node = running(id);
    trace.add("@" + nowMillis + " propose " + describe(command) + " to " + id);
    return input(node, null, () -> node.replica.propose(nowMillis, command));
  }

  Ready read(int id, long readId) {
    Node node = running(id);
    trace.add("@" + nowMillis + " read #" + readId + " at " + id);
    return input(node, null, () -> node.replica.read(nowMillis, readId));
  }

  /** Asks replica {@code id} to change the configuration. */
  PaxosReplica.Reconfiguration reconfigure(int id, Configuration.Change change) {
    Node node = running(id);
    PaxosReplica.Reconfiguration[] result = new PaxosReplica.Reconfiguration[1];
    input(
        node,
        "@" + nowMillis + " reconfigure " + id + " " + change,
        () -> {
          result[0] = node.replica.reconfigure(nowMillis, change);
          return result[0].ready();
        });
    return result[0];
  }

  /** The driver snapshots replica {@code id}'s state machine and hands the image to the core. */
  Ready takeSnapshot(int id) {
    Node node = running(id);
    Snapshot taken = node.sessions.snapshot();
    trace.add("@" + nowMillis + " snapshot " + id + " at slot " + taken.slot());
    return input(node, null, () -> node.replica.onSnapshotTaken(nowMillis, taken));
  }

  /** Hands {@code message} to replica {@code to} as if {@code from} sent it (not queued). */
  Ready receive(int to, int from, Message message) {
    Node node = running(to);
    trace.add("inject " + from + "->" + to + " " + describe(message));
    return input(node, null, () -> node.replica.onMessage(nowMillis, ReplicaId.of(from), message));
  }

  /**
   * Advances the clock by {@code stepMillis} at a time, ticking every running replica and then
   * delivering every queued message, until {@code done} holds (checked before each step).
   */
  void runUntil(BooleanSupplier done, long stepMillis, long maxMillis) {
    long deadline = nowMillis + maxMillis;
    while (!done.getAsBoolean()) {
      if (nowMillis >= deadline) {
        throw new AssertionError(
            "condition not reached within " + maxMillis + " ms (seed " + seed + ")\n" + tail());
      }
      advance(stepMillis);
      tickAll();
      deliverAll();
    }
  }

  /** Advances the clock by {@code millis}, {@code stepMillis} at a time, ticking and delivering. */
  void runFor(long millis, long stepMillis) {
    long until = nowMillis + millis;
    while (nowMillis < until) {
      advance(Math.min(stepMillis, until - nowMillis));
      tickAll();
      deliverAll();
    }
  }

  /**
   * Makes {@code id} the leader: waits two election timeouts (so its randomized election deadline
   * has certainly passed), ticks only it, and delivers everything.
   */
  void elect(int id) {
    advance(2 * node(id).config.electionTimeoutMillis());
    tick(id);
    deliverAll();
    if (replica(id).role() != PaxosReplica.Role.LEADER) {
      throw new AssertionError(
          "replica " + id + " did not become leader (seed " + seed + ")\n" + tail());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The network

  /** The queued messages, oldest first. */
  List<Envelope> pending() {
    return List.copyOf(network);
  }

  List<Envelope> pending(Predicate<Envelope> filter) {
    return network.stream().filter(filter).toList();
  }

  /** Delivers queued messages oldest first, including those the deliveries cause. */
  void deliverAll() {
    int deliveries = 0;
    while (!network.isEmpty()) {
      if (++deliveries > MAX_DELIVERIES) {
        throw new AssertionError(
            "no quiescence after " + MAX_DELIVERIES + " messages (seed " + seed + ")\n" + tail());
      }
      deliver(network.getFirst());
    }
  }

  /** Delivers the oldest queued message matching {@code filter}; fails if there is none. */
  Ready deliverFirst(Predicate<Envelope> filter) {
    for (Envelope envelope : network) {
      if (filter.test(envelope)) {
        return deliver(envelope);
      }
    }
    throw new AssertionError("no queued message matches; queued:\n" + describePending());
  }

  /** Drops every queued message matching {@code filter}. */
  void drop(Predicate<Envelope> filter) {
    for (Iterator<Envelope> it = network.iterator(); it.hasNext(); ) {
      Envelope envelope = it.next();
      if (filter.test(envelope)) {
        it.remove();
        trace.add("drop " + describe(envelope));
      }
    }
  }

  /** Delivers (or, if either end is crashed or isolated, drops) one queued message. */
  private Ready deliver(Envelope envelope) {
    network.remove(envelope);
    Node to = node(envelope.to().value());
    Node from = node(envelope.from().value());
    if (to.crashed || to.isolated || from.isolated) {
      trace.add("drop " + describe(envelope));
      return Ready.NOTHING;
    }
    trace.add(describe(envelope));
    return input(
        to, null, () -> to.replica.onMessage(nowMillis, envelope.from(), envelope.message()));
  }

  static Predicate<Envelope> from(int from, int to) {
    return envelope -> envelope.from().value() == from && envelope.to().value() == to;
  }

  static Predicate<Envelope> from(int from, int to, Class<? extends Message> type) {
    return envelope ->
        envelope.from().value() == from
            && envelope.to().value() == to
            && type.isInstance(envelope.message());
  }

  static Predicate<Envelope> acceptOfSlot(int from, int to, long slot) {
    return envelope ->
        from(from, to).test(envelope)
            && envelope.message() instanceof Message.Accept accept
            && accept.entries().stream().anyMatch(entry -> entry.slot() == slot);
  }

  // ---------------------------------------------------------------------------------------------
  // Carrying out a Ready

  /**
   * Runs one input against {@code node} and carries out its Ready in the contract's order: persist,
   * send, restore, apply, reads, rejections. {@code event} (if not null) heads the trace lines the
   * input caused, and is left out when the input had no visible effect.
   */
  private Ready input(Node node, String event, Supplier<Ready> step) {
    PaxosReplica.Role roleBefore = node.replica.role();
    Ballot ballotBefore = node.replica.ballot();
    Ready ready = step.get();
    List<String> effects = new ArrayList<>();
    node.readies.add(ready);

    node.disk.write(node.id, ready.persist());
    List<String> undurable = undurableAnnouncements(node.id, node.disk, ready);
    if (!undurable.isEmpty()) {
      throw new AssertionError(String.join("\n", undurable) + " (seed " + seed + ")");
    }
    network.addAll(ready.messages());
    if (ready.restore() != null) {
      node.sessions.restore(ready.restore());
      effects.add("  " + node.id + " restores snapshot@" + ready.restore().slot());
    }
    if (!ready.toApply().isEmpty()) {
      for (LogEntry entry : ready.toApply()) {
        Value earlier = appliedValues.putIfAbsent(entry.slot(), entry.value());
        if (earlier != null && !earlier.equals(entry.value())) {
          throw new AssertionError(
              "replica "
                  + node.id
                  + " applies "
                  + entry.value()
                  + " in slot "
                  + entry.slot()
                  + " where another replica applied "
                  + earlier
                  + " (seed "
                  + seed
                  + ")");
        }
        node.applied.add(entry);
        node.results.addAll(node.sessions.apply(entry));
      }
      effects.add("  " + node.id + " applies " + describeEntries(ready.toApply(), false));
    }
    for (Ready.ReadOutcome outcome : ready.reads()) {
      node.reads.add(outcome);
      effects.add(
          switch (outcome) {
            case Ready.ReadReady r ->
                "  " + node.id + " read #" + r.readId() + " ready at slot " + r.slot();
            case Ready.ReadRejected r ->
                "  "
                    + node.id
                    + " read #"
                    + r.readId()
                    + " rejected"
                    + " (leader "
                    + hint(r.leaderHint())
                    + "): "
                    + r.reason();
          });
    }
    for (Ready.ProposalRejected rejection : ready.rejected()) {
      node.rejected.add(rejection);
      effects.add(
          "  "
              + node.id
              + " rejects "
              + describe(rejection.command())
              + " (leader "
              + hint(rejection.leaderHint())
              + "): "
              + rejection.reason());
    }
    PaxosReplica.Role role = node.replica.role();
    if (role != roleBefore || !node.replica.ballot().equals(ballotBefore)) {
      effects.add(
          "  "
              + node.id
              + " is "
              + role
              + (role == PaxosReplica.Role.FOLLOWER ? "" : " b=" + node.replica.ballot()));
    }
    if (event != null && (!ready.isEmpty() || !effects.isEmpty())) {
      trace.add(event);
    }
    trace.addAll(effects);
    return ready;
  }

  /**
   * What {@code ready} announces that {@code diskAfter} (the disk after its Persist) does not hold:
   * a Promise or Accepted above the durable promise, an Accepted slot or a self-accepted proposal
   * not durable in that ballot, an applied entry not durable as chosen. Empty when the Ready obeys
   * "persist before send, persist before apply".
   */
  static List<String> undurableAnnouncements(int replicaId, Disk diskAfter, Ready ready) {
    List<String> problems = new ArrayList<>();
    for (Envelope envelope : ready.messages()) {
      String what = "replica " + replicaId + " sends " + describe(envelope);
      switch (envelope.message()) {
        case Message.Promise promise -> {
          if (diskAfter.promised.isBelow(promise.ballot())) {
            problems.add(what + " but its durable promise is " + diskAfter.promised);
          }
        }
        case Message.Accepted accepted -> {
          if (diskAfter.promised.isBelow(accepted.ballot())) {
            problems.add(what + " but its durable promise is " + diskAfter.promised);
          }
          for (long slot : accepted.slots()) {
            if (!diskAfter.holds(slot, accepted.ballot())) {
              problems.add(what + " but slot " + slot + " is not durable in that ballot");
            }
          }
        }
        case Message.Accept accept -> {
          for (LogEntry entry : accept.entries()) {
            if (!diskAfter.holds(entry.slot(), accept.ballot())) {
              problems.add(what + " but has not durably accepted slot " + entry.slot() + " itself");
            }
          }
        }
        default -> {}
      }
    }
    for (LogEntry entry : ready.toApply()) {
      LogEntry durable = diskAfter.log.get(entry.slot());
      boolean chosen =
          entry.slot() <= diskAfter.snapshot.slot()
              || (durable != null && durable.chosen() && durable.value().equals(entry.value()));
      if (!chosen) {
        problems.add(
            "replica "
                + replicaId
                + " applies slot "
                + entry.slot()
                + " that is not durable as chosen");
      }
    }
    return problems;
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  long seed() {
    return seed;
  }

  Node node(int id) {
    Node node = nodes.get(id);
    if (node == null) {
      throw new IllegalArgumentException("no replica " + id);
    }
    return node;
  }

  PaxosReplica replica(int id) {
    return running(id).replica;
  }

  Iterable<Node> nodes() {
    return nodes.values();
  }

  /** The one running replica that thinks it leads, or -1 if none; fails if several do. */
  int leader() {
    List<Integer> leaders = new ArrayList<>();
    for (Node node : nodes.values()) {
      if (!node.crashed && node.replica.role() == PaxosReplica.Role.LEADER) {
        leaders.add(node.id);
      }
    }
    if (leaders.size() > 1) {
      throw new AssertionError("several leaders " + leaders + " (seed " + seed + ")");
    }
    return leaders.isEmpty() ? -1 : leaders.getFirst();
  }

  Map<String, String> keyValues(int id) {
    return node(id).keyValue.view();
  }

  /** Adds a comment line to the trace. */
  void note(String comment) {
    trace.add("# " + comment);
  }

  /** Appends one line per replica with its role, ballot, log progress and state machine. */
  void traceState() {
    for (Node node : nodes.values()) {
      if (node.crashed) {
        trace.add("state " + node.id + " crashed");
        continue;
      }
      PaxosReplica replica = node.replica;
      trace.add(
          "state "
              + node.id
              + " "
              + replica.role()
              + " promised="
              + replica.promised()
              + " firstUnchosen="
              + replica.firstUnchosenSlot()
              + " applied="
              + replica.appliedThroughSlot()
              + " snapshot@"
              + replica.snapshot().slot()
              + " kv="
              + node.keyValue.view());
    }
  }

  String trace() {
    return String.join("\n", trace) + "\n";
  }

  private String tail() {
    int from = Math.max(0, trace.size() - 40);
    return "last trace lines:\n" + String.join("\n", trace.subList(from, trace.size()));
  }

  private String describePending() {
    return network.stream().map(TestCluster::describe).collect(Collectors.joining("\n"));
  }

  private Node running(int id) {
    Node node = node(id);
    if (node.crashed || node.replica == null) {
      throw new IllegalStateException("replica " + id + " is not running");
    }
    return node;
  }

  // ---------------------------------------------------------------------------------------------
  // Trace formatting

  static String describe(Envelope envelope) {
    return envelope.from() + "->" + envelope.to() + " " + describe(envelope.message());
  }

  static String describe(Message message) {
    return switch (message) {
      case Message.PreVote p -> "PreVote b=" + p.ballot();
      case Message.PreVoteGranted g -> "PreVoteGranted b=" + g.ballot();
      case Message.Prepare p -> "Prepare b=" + p.ballot() + " from=" + p.fromSlot();
      case Message.Promise p ->
          "Promise b="
              + p.ballot()
              + " accepted="
              + describeEntries(p.accepted(), true)
              + (p.complete() ? " complete" : " incomplete");
      case Message.Accept a ->
          "Accept b="
              + a.ballot()
              + " "
              + describeEntries(a.entries(), false)
              + " chosenBelow="
              + a.chosenBelowSlot();
      case Message.Accepted a ->
          "Accepted b="
              + a.ballot()
              + " slots="
              + a.slots()
              + " firstUnchosen="
              + a.firstUnchosenSlot();
      case Message.Rejected r ->
          "Rejected b="
              + r.ballot()
              + " promised="
              + r.promised()
              + " leader="
              + hint(r.knownLeader())
              + (r.leaderAlive() ? " leaderAlive" : "");
      case Message.CatchUpRequest c -> "CatchUpRequest b=" + c.ballot() + " from=" + c.fromSlot();
      case Message.CatchUpReply c ->
          "CatchUpReply b="
              + c.ballot()
              + (c.snapshot() == null ? "" : " snapshot@" + c.snapshot().slot())
              + " "
              + describeEntries(c.chosen(), false)
              + " chosenBelow="
              + c.chosenBelowSlot();
    };
  }

  static String describeEntries(List<LogEntry> entries, boolean withBallots) {
    StringBuilder text = new StringBuilder("[");
    for (LogEntry entry : entries) {
      if (text.length() > 1) {
        text.append(' ');
      }
      text.append(entry.slot());
      if (withBallots) {
        text.append('@').append(entry.ballot());
      }
      text.append(':').append(describe(entry.value()));
      if (withBallots && entry.chosen()) {
        text.append(":chosen");
      }
    }
    return text.append(']').toString();
  }

  static String describe(Value value) {
    return switch (value) {
      case Value.NoOp n -> "noop";
      case Value.Batch b ->
          b.commands().stream()
              .map(TestCluster::describe)
              .collect(Collectors.joining(",", "batch(", ")"));
      case Value.Reconfigure r -> "reconfigure(" + r.next() + ")";
    };
  }

  static String describe(Command command) {
    return "c" + command.clientId() + "#" + command.sequence();
  }

  /** A leader hint as the traces print it: the id, or -1 when none is known. */
  static String hint(ReplicaId leader) {
    return leader == null ? "-1" : leader.toString();
  }

  private static String joinIds(Iterable<Integer> ids) {
    List<String> names = new ArrayList<>();
    ids.forEach(id -> names.add(Integer.toString(id)));
    return String.join(" ", names);
  }

  // ---------------------------------------------------------------------------------------------
  // Commands

  /** Client {@code clientId}'s command number {@code sequence}: put {@code key} {@code value}. */
  static Command put(long clientId, long sequence, String key, String value) {
    return new Command(clientId, sequence, KeyValueStateMachine.put(key, value));
  }

  static Command append(long clientId, long sequence, String key, String suffix) {
    return new Command(clientId, sequence, KeyValueStateMachine.append(key, suffix));
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
