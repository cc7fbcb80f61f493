package io.paxcron.paxos;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

/**
 * One Multi-Paxos replica — proposer, acceptor and learner — as a deterministic state machine.
 *
 * <p>Inputs are a peer message, a tick, a client proposal, a lease read and a snapshot taken by the
 * driver; each carries the replica's local monotonic clock reading in milliseconds, and each
 * returns a {@link Ready} that the driver must carry out in its stated order. There is no clock,
 * thread, randomness source (the generator is injected), disk or socket in here, so the same code
 * runs in production and in the simulator.
 *
 * <p>Threading: not thread-safe; one event loop owns the replica. Errors: a broken invariant throws
 * {@link IllegalStateException} and the replica must be stopped — restarting from disk is safer
 * than continuing with a corrupt state.
 *
 * <p>The protocol is Lamport's "Paxos Made Simple" §3 with a distinguished leader: phase 1 once per
 * ballot over every slot from the leader's first unchosen slot on, then phase 2 only while the
 * ballot holds. Leader stickiness and leases follow the "Paxos Made Live" master lease: an acceptor
 * that heard from the live leader within {@code leaseMillis} refuses to promise another ballot. A
 * replica whose election timer fires asks first whether a quorum would promise (pre-vote, Raft
 * thesis §9.6), so a replica that returns from a partition or a restart leaves a healthy leader
 * alone instead of forcing a new ballot on it.
 */
public final class PaxosReplica {

  /**
   * How the driver carries out the leader's writes of its own proposals, and so when the leader may
   * count its own acceptance.
   */
  public enum LeaderWrites {
    /**
     * The driver persists every {@link Ready} before any of its messages leave (persist, then
     * send): the leader's own acceptance is durable before any peer hears of the proposal, so the
     * leader counts it at once.
     */
    BEFORE_SEND,
    /**
     * The leader's write of its proposals runs in parallel with replication (Raft thesis §10.2.1):
     * the driver may send a Ready's first {@link Ready#earlyMessages()} messages (Accepts) before
     * its persist is durable, and reports each durable persist through {@link #onPersisted}. The
     * leader counts its own acceptance of a slot only then, so a value is chosen only by a quorum
     * of durable acceptances, and one command waits for one sync instead of two in sequence. A
     * driver that still persists first and sends everything afterwards stays correct, as long as it
     * reports the persist.
     */
    IN_PARALLEL
  }

  /** The role this replica plays now. */
  public enum Role {
    FOLLOWER,
    CANDIDATE,
    LEADER
  }

  private static final int NO_LEADER = -1;

  /**
   * "Long ago" for timestamps that have not happened yet; far enough from zero that subtracting it
   * from any clock reading the driver may pass (see {@link #start}) cannot overflow.
   */
  private static final long NEVER = Long.MIN_VALUE / 4;

  /** Heartbeats after which an unacknowledged proposal is sent again. */
  private static final int RETRANSMIT_HEARTBEATS = 4;

  private final PaxosConfig config;
  private final RandomGenerator random;
  private final int id;
  private final List<Integer> peers;
  private final int quorum;
  private final LeaderWrites leaderWrites;

  // Durable state, mirrored in memory; every change goes through the outbox's persist.
  private Ballot promised;
  private final TreeMap<Long, LogEntry> log = new TreeMap<>();
  private Snapshot snapshot;

  // Volatile state.
  private long nowMillis = NEVER;
  private long firstUnchosenSlot;
  private long nextToApplySlot;
  private long knownChosenBelowSlot;
  private Role role = Role.FOLLOWER;
  private Ballot ballot = Ballot.ZERO;
  private long highestSeenRound;
  private int knownLeader = NO_LEADER;
  private long leaderHeardAtMillis = NEVER;
  private long startedAtMillis = NEVER;
  private long electionDeadlineMillis;
  private long lastCatchUpRequestMillis = NEVER;

  // Candidate state.
  private final TreeMap<Integer, Message.Promise> promises = new TreeMap<>();
  private long campaignFromSlot;

  /** The ballot of the pre-vote being collected ({@code null} when none) and who granted it. */
  private Ballot preVoteBallot;

  private final TreeSet<Integer> preVotes = new TreeSet<>();

  // Leader state.
  private long nextSlot;
  private long phaseOneEndSlot;
  private long leaderSinceMillis;
  private long lastBroadcastMillis = NEVER;
  private long probe;
  private final TreeMap<Long, InFlight> inFlight = new TreeMap<>();
  private final ArrayDeque<Command> pendingCommands = new ArrayDeque<>();
  private final TreeMap<Integer, Long> ackedSentAtMillis = new TreeMap<>();
  private final TreeMap<Integer, Long> ackedProbe = new TreeMap<>();
  private final ArrayDeque<PendingRead> pendingReads = new ArrayDeque<>();
  private final List<LogEntry> unsentProposals = new ArrayList<>();

  private Outbox out = new Outbox();

  /** A proposal of this leader not yet chosen; {@code lastSentMillis} is NEVER until sent. */
  private static final class InFlight {
    final LogEntry entry;
    final Set<Integer> acceptedBy;
    long lastSentMillis = NEVER;

    InFlight(LogEntry entry, Set<Integer> acceptedBy) {
      this.entry = entry;
      this.acceptedBy = acceptedBy;
    }

    LogEntry entry() {
      return entry;
    }

    Set<Integer> acceptedBy() {
      return acceptedBy;
    }
  }

  private record PendingRead(long readId, long slot, long probe) {}

  /**
   * A replica recovering {@code durable} from its disk, whose state machine has already applied
   * every slot up to {@code appliedThroughSlot} (at least the snapshot's slot). Call {@link #start}
   * before any other input.
   */
  public PaxosReplica(
      PaxosConfig config, RandomGenerator random, DurableState durable, long appliedThroughSlot) {
    this(config, random, durable, appliedThroughSlot, LeaderWrites.BEFORE_SEND);
  }

  /**
   * As {@link #PaxosReplica(PaxosConfig, RandomGenerator, DurableState, long)}, for a driver that
   * carries out the leader's own writes as {@code leaderWrites} says.
   */
  public PaxosReplica(
      PaxosConfig config,
      RandomGenerator random,
      DurableState durable,
      long appliedThroughSlot,
      LeaderWrites leaderWrites) {
    this.config = config;
    this.leaderWrites = java.util.Objects.requireNonNull(leaderWrites, "leaderWrites");
    this.random = random;
    this.id = config.replicaId();
    this.peers = config.replicaIds().stream().filter(r -> r != config.replicaId()).toList();
    this.quorum = config.quorum();
    this.promised = durable.promised();
    this.snapshot = durable.snapshot();
    for (LogEntry entry : durable.log()) {
      log.put(entry.slot(), entry);
    }
    this.highestSeenRound = promised.round();
    this.firstUnchosenSlot = snapshot.slot() + 1;
    advanceFirstUnchosen();
    if (appliedThroughSlot < snapshot.slot() || appliedThroughSlot >= firstUnchosenSlot) {
      throw new IllegalArgumentException(
          "appliedThroughSlot "
              + appliedThroughSlot
              + " must lie between the snapshot slot "
              + snapshot.slot()
              + " and the last chosen slot "
              + (firstUnchosenSlot - 1));
    }
    this.nextToApplySlot = appliedThroughSlot + 1;
    this.knownChosenBelowSlot = firstUnchosenSlot;
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /**
   * Starts the replica: arms the election timer and replays chosen entries the state machine has
   * not applied yet. For one lease period after a start the replica promises no new ballot, because
   * it has forgotten which leader it was supporting before it stopped.
   *
   * <p>Clock readings are milliseconds of a monotonic clock, such as the time since the process
   * started; their magnitude must stay below {@code Long.MAX_VALUE / 4}.
   */
  public Ready start(long nowMillis) {
    observeClock(nowMillis);
    startedAtMillis = this.nowMillis;
    resetElectionTimer();
    emitApplies();
    return drain();
  }

  /** Advances the replica's clock: heartbeats, elections, catch-up retries, lease expiry. */
  public Ready tick(long nowMillis) {
    observeClock(nowMillis);
    switch (role) {
      case LEADER -> {
        if (this.nowMillis - lastBroadcastMillis >= config.heartbeatMillis()) {
          broadcastAccepts();
        }
        if (quorumLostFor() >= config.electionTimeoutMillis()) {
          stepDown(NO_LEADER, "leader heard from no quorum within the election timeout");
        }
        completeReads();
      }
      case FOLLOWER, CANDIDATE -> {
        if (this.nowMillis >= electionDeadlineMillis) {
          startPreVote();
        } else if (role == Role.FOLLOWER) {
          maybeRequestCatchUp(knownLeader);
        }
      }
    }
    return drain();
  }

  /** A message from peer {@code from}. */
  public Ready onMessage(long nowMillis, int from, Message message) {
    observeClock(nowMillis);
    if (!peers.contains(from)) {
      throw new IllegalArgumentException("message from unknown replica " + from);
    }
    if (!(message instanceof Message.PreVoteGranted)) {
      // A grant echoes this replica's own pre-vote ballot, which the campaign is about to use.
      highestSeenRound = Math.max(highestSeenRound, message.ballot().round());
    }
    switch (message) {
      case Message.PreVote preVote -> onPreVote(from, preVote);
      case Message.PreVoteGranted granted -> onPreVoteGranted(from, granted);
      case Message.Prepare prepare -> onPrepare(from, prepare);
      case Message.Promise promise -> onPromise(from, promise);
      case Message.Accept accept -> onAccept(from, accept);
      case Message.Accepted accepted -> onAccepted(from, accepted);
      case Message.Rejected rejected -> onRejected(from, rejected);
      case Message.CatchUpRequest request -> onCatchUpRequest(from, request);
      case Message.CatchUpReply reply -> onCatchUpReply(from, reply);
    }
    return drain();
  }

  /**
   * A client command. The leader queues it and proposes it in the next free slot of its window,
   * batched with others; anyone else rejects it with the leader it knows of.
   */
  public Ready propose(long nowMillis, Command command) {
    observeClock(nowMillis);
    if (role != Role.LEADER) {
      out.rejected.add(new Ready.ProposalRejected(command, knownLeader, "not the leader"));
    } else if (pendingCommands.size() >= config.maxPendingCommands()) {
      out.rejected.add(
          new Ready.ProposalRejected(
              command, id, "leader overloaded: maxPendingCommands=" + config.maxPendingCommands()));
    } else {
      pendingCommands.add(command);
      fillWindow();
    }
    return drain();
  }

  /**
   * A linearizable read. The leader answers {@link Ready.ReadReady} once it holds its lease, every
   * slot of its phase 1 is chosen, and a quorum has acknowledged a heartbeat sent after the read
   * arrived (so no newer ballot existed then, whatever the clocks did); the driver then serves the
   * read after applying through the returned slot.
   */
  public Ready read(long nowMillis, long readId) {
    observeClock(nowMillis);
    if (role != Role.LEADER || !holdsLease(this.nowMillis)) {
      out.reads.add(new Ready.ReadRejected(readId, knownLeaderHint(), "no leader lease here"));
    } else if (pendingReads.size() >= config.maxPendingReads()) {
      out.reads.add(
          new Ready.ReadRejected(
              readId, id, "too many pending reads: maxPendingReads=" + config.maxPendingReads()));
    } else {
      long readSlot = Math.max(firstUnchosenSlot - 1, phaseOneEndSlot);
      pendingReads.add(new PendingRead(readId, readSlot, probe + 1));
      broadcastAccepts();
    }
    return drain();
  }

  /**
   * The driver took {@code taken}, an image of the state machine through a slot it has applied; the
   * replica keeps it for lagging peers and truncates its log below it.
   */
  public Ready onSnapshotTaken(long nowMillis, Snapshot taken) {
    observeClock(nowMillis);
    if (taken.slot() >= nextToApplySlot) {
      throw new IllegalArgumentException(
          "snapshot at slot "
              + taken.slot()
              + " is ahead of the applied slot "
              + (nextToApplySlot - 1));
    }
    if (taken.slot() > snapshot.slot()) {
      snapshot = taken;
      log.headMap(taken.slot(), true).clear();
      out.installSnapshot(taken);
    }
    return drain();
  }

  /**
   * The driver made {@code persist} (a Persist of an earlier Ready) durable. Under {@link
   * LeaderWrites#IN_PARALLEL} a leader counts its own acceptance of the proposals in it from now
   * on; otherwise, and on any replica that is not the leader of those proposals' ballot, nothing
   * changes. Drivers report persists in the order they became durable; reporting one twice or late
   * is harmless.
   */
  public Ready onPersisted(long nowMillis, Persist persist) {
    observeClock(nowMillis);
    if (leaderWrites == LeaderWrites.IN_PARALLEL && role == Role.LEADER) {
      for (LogEntry entry : persist.entries()) {
        if (entry.chosen() || !entry.ballot().equals(ballot)) {
          continue;
        }
        InFlight proposal = inFlight.get(entry.slot());
        if (proposal != null
            && proposal.entry().ballot().equals(entry.ballot())
            && proposal.acceptedBy().add(id)
            && proposal.acceptedBy().size() >= quorum) {
          choose(entry.slot());
        }
      }
      advanceFirstUnchosen();
      emitApplies();
      fillWindow();
      completeReads();
    }
    return drain();
  }

  // ---------------------------------------------------------------------------------------------
  // Queries (for the driver, metrics and the simulator's checkers)

  public int id() {
    return id;
  }

  public Role role() {
    return role;
  }

  public Ballot ballot() {
    return ballot;
  }

  public Ballot promised() {
    return promised;
  }

  /** The leader this replica follows or is, or -1. */
  public int knownLeader() {
    return knownLeaderHint();
  }

  public long firstUnchosenSlot() {
    return firstUnchosenSlot;
  }

  public long appliedThroughSlot() {
    return nextToApplySlot - 1;
  }

  public Snapshot snapshot() {
    return snapshot;
  }

  public int pendingCommandCount() {
    return pendingCommands.size();
  }

  public int inFlightSlotCount() {
    return inFlight.size();
  }

  public LeaderWrites leaderWrites() {
    return leaderWrites;
  }

  /**
   * Whether this replica is the leader and its lease holds at {@code nowMillis} of its own clock:
   * the condition for serving reads and for leader-only work such as dispatching runs.
   */
  public boolean holdsLease(long nowMillis) {
    return role == Role.LEADER && nowMillis < leaseExpiresAtMillis();
  }

  /** The local clock reading at which the current lease ends (meaningful for a leader only). */
  public long leaseExpiresAtMillis() {
    if (role != Role.LEADER) {
      return Long.MIN_VALUE;
    }
    long start = quorumAcknowledged(ackedSentAtMillis, nowMillis);
    return start == Long.MIN_VALUE ? Long.MIN_VALUE : start + config.leaderLeaseMillis();
  }

  // ---------------------------------------------------------------------------------------------
  // Acceptor

  private void onPrepare(int from, Message.Prepare prepare) {
    Ballot offered = prepare.ballot();
    if (offered.isBelow(promised)) {
      reject(from, offered, false);
      return;
    }
    if (offered.isAbove(promised) && boundToAnotherLeader(from)) {
      reject(from, offered, true);
      return;
    }
    promise(offered);
    if (role != Role.FOLLOWER && offered.isAbove(ballot)) {
      stepDown(from, "promised higher ballot " + offered);
    }
    // A promise binds this acceptor to the candidate as a heard-from leader: the candidate may
    // count its lease from the Prepare's send time, so no other ballot may be promised for a lease.
    followLeader(from);
    List<LogEntry> reported = new ArrayList<>();
    boolean complete = snapshot.slot() < prepare.fromSlot();
    for (LogEntry entry : log.tailMap(prepare.fromSlot(), true).values()) {
      if (reported.size() == config.maxCatchUpEntries()) {
        complete = false;
        break;
      }
      reported.add(entry);
    }
    send(
        from,
        new Message.Promise(
            offered, prepare.fromSlot(), reported, complete, prepare.sentAtMillis()));
  }

  private void onAccept(int from, Message.Accept accept) {
    Ballot offered = accept.ballot();
    if (offered.isBelow(promised)) {
      reject(from, offered, false);
      return;
    }
    if (offered.isAbove(promised)) {
      promise(offered);
    }
    if (role != Role.FOLLOWER) {
      if (offered.equals(ballot)) {
        throw new IllegalStateException(
            "replica " + id + " received an Accept of its own ballot " + ballot + " from " + from);
      }
      stepDown(from, "accepted higher ballot " + offered);
    }
    followLeader(from);
    List<Long> acceptedSlots = new ArrayList<>(accept.entries().size());
    for (LogEntry entry : accept.entries()) {
      long slot = entry.slot();
      LogEntry existing = log.get(slot);
      boolean alreadyChosen = slot <= snapshot.slot() || (existing != null && existing.chosen());
      if (!alreadyChosen) {
        writeEntry(new LogEntry(slot, offered, entry.value(), false));
      }
      acceptedSlots.add(slot);
    }
    learnChosenPrefix(from, offered, accept.chosenBelowSlot());
    send(
        from,
        new Message.Accepted(
            offered, acceptedSlots, firstUnchosenSlot, accept.sentAtMillis(), accept.probe()));
  }

  /**
   * Everything below {@code chosenBelowSlot} is chosen, says the leader of {@code leaderBallot}. An
   * entry this acceptor holds is the chosen one if it is already marked chosen, or if it was
   * accepted in the leader's ballot — a leader proposes one value per slot per ballot, and the
   * leader only reports a slot chosen once its own proposal for it is. Anything else is fetched.
   */
  private void learnChosenPrefix(int leader, Ballot leaderBallot, long chosenBelowSlot) {
    knownChosenBelowSlot = Math.max(knownChosenBelowSlot, chosenBelowSlot);
    for (long slot = firstUnchosenSlot; slot < chosenBelowSlot; slot++) {
      LogEntry entry = log.get(slot);
      if (entry == null || !(entry.chosen() || entry.ballot().equals(leaderBallot))) {
        break;
      }
      if (!entry.chosen()) {
        markChosen(entry);
      }
    }
    advanceFirstUnchosen();
    emitApplies();
    maybeRequestCatchUp(leader);
  }

  private void onCatchUpRequest(int from, Message.CatchUpRequest request) {
    Snapshot included = null;
    long from1 = request.fromSlot();
    if (from1 <= snapshot.slot()) {
      included = snapshot;
      from1 = snapshot.slot() + 1;
    }
    List<LogEntry> chosen = new ArrayList<>();
    for (long slot = from1;
        slot < firstUnchosenSlot && chosen.size() < config.maxCatchUpEntries();
        slot++) {
      chosen.add(log.get(slot).asChosen());
    }
    if (included == null && chosen.isEmpty()) {
      return;
    }
    send(from, new Message.CatchUpReply(promised, included, chosen, firstUnchosenSlot));
  }

  private void onCatchUpReply(int from, Message.CatchUpReply reply) {
    Snapshot offered = reply.snapshot();
    if (offered != null && offered.slot() >= firstUnchosenSlot) {
      snapshot = offered;
      log.headMap(offered.slot(), true).clear();
      for (Iterator<Long> slots = inFlight.keySet().iterator(); slots.hasNext(); ) {
        if (slots.next() <= offered.slot()) {
          slots.remove();
        }
      }
      firstUnchosenSlot = offered.slot() + 1;
      nextToApplySlot = offered.slot() + 1;
      out.installSnapshot(offered);
      out.restore(offered);
    }
    for (LogEntry entry : reply.chosen()) {
      if (entry.slot() > snapshot.slot()) {
        LogEntry existing = log.get(entry.slot());
        if (existing == null || !existing.chosen()) {
          markChosen(entry);
        }
      }
    }
    knownChosenBelowSlot = Math.max(knownChosenBelowSlot, reply.chosenBelowSlot());
    advanceFirstUnchosen();
    emitApplies();
    lastCatchUpRequestMillis = NEVER;
    maybeRequestCatchUp(from);
  }

  private boolean boundToAnotherLeader(int candidate) {
    if (nowMillis - startedAtMillis < config.leaseMillis()) {
      return true;
    }
    if (role == Role.LEADER) {
      return holdsLease(nowMillis);
    }
    return knownLeader != NO_LEADER
        && knownLeader != candidate
        && nowMillis - leaderHeardAtMillis < config.leaseMillis();
  }

  private void promise(Ballot offered) {
    promised = offered;
    out.promise(offered);
  }

  private void reject(int to, Ballot offered, boolean leaderAlive) {
    send(to, new Message.Rejected(offered, promised, knownLeaderHint(), leaderAlive));
  }

  private void followLeader(int leader) {
    preVoteBallot = null;
    knownLeader = leader;
    leaderHeardAtMillis = nowMillis;
    resetElectionTimer();
  }

  // ---------------------------------------------------------------------------------------------
  // Proposer: election

  /**
   * The election timer fired: ask first whether a quorum would promise (Raft thesis §9.6), naming
   * the ballot this replica would campaign with. Nothing is promised or persisted until a quorum
   * said yes.
   */
  private void startPreVote() {
    if (config.plantedBug() == PlantedBug.NO_PRE_VOTE) {
      campaign();
      return;
    }
    preVoteBallot = new Ballot(Math.max(highestSeenRound, promised.round()) + 1, id);
    preVotes.clear();
    preVotes.add(id);
    resetElectionTimer();
    if (preVotes.size() >= quorum) {
      campaign();
      return;
    }
    for (int peer : peers) {
      send(peer, new Message.PreVote(preVoteBallot, nowMillis));
    }
  }

  private void onPreVote(int from, Message.PreVote preVote) {
    if (boundToAnotherLeader(from)) {
      reject(from, preVote.ballot(), true);
      return;
    }
    send(from, new Message.PreVoteGranted(preVote.ballot()));
  }

  private void onPreVoteGranted(int from, Message.PreVoteGranted granted) {
    if (role == Role.LEADER || preVoteBallot == null || !granted.ballot().equals(preVoteBallot)) {
      return;
    }
    preVotes.add(from);
    if (preVotes.size() >= quorum) {
      campaign();
    }
  }

  private void campaign() {
    if (role == Role.LEADER) {
      throw new IllegalStateException("a leader does not campaign");
    }
    preVoteBallot = null;
    preVotes.clear();
    role = Role.CANDIDATE;
    ballot = new Ballot(Math.max(highestSeenRound, promised.round()) + 1, id);
    highestSeenRound = ballot.round();
    promise(ballot);
    knownLeader = NO_LEADER;
    promises.clear();
    ackedSentAtMillis.clear();
    ackedProbe.clear();
    campaignFromSlot = firstUnchosenSlot;
    resetElectionTimer();
    promises.put(
        id,
        new Message.Promise(
            ballot,
            campaignFromSlot,
            List.copyOf(log.tailMap(campaignFromSlot, true).values()),
            true,
            nowMillis));
    for (int peer : peers) {
      send(peer, new Message.Prepare(ballot, campaignFromSlot, nowMillis));
    }
    if (promises.size() >= quorum) {
      becomeLeader();
    }
  }

  private void onPromise(int from, Message.Promise promise) {
    if (role != Role.CANDIDATE || !promise.ballot().equals(ballot)) {
      return;
    }
    if (!promise.complete()) {
      // The acceptor truncated or holds more than fits: chosen slots this candidate lacks. A
      // leader must know every chosen value at and above its first unchosen slot, so catch up
      // first and campaign again later.
      lastCatchUpRequestMillis = NEVER;
      requestCatchUp(from);
      stepDown(NO_LEADER, "behind acceptor " + from + "; catching up before campaigning");
      return;
    }
    promises.put(from, promise);
    ackedSentAtMillis.merge(from, promise.echoSentAtMillis(), Math::max);
    if (promises.size() >= quorum) {
      becomeLeader();
    }
  }

  private void becomeLeader() {
    role = Role.LEADER;
    knownLeader = id;
    leaderSinceMillis = nowMillis;
    // Phase 1 result: for each slot from the campaign's first unchosen slot, the value a chosen
    // report names, else the value of the highest ballot any promiser accepted (Paxos Made Simple
    // §2.2, P2c), else a no-op to fill the gap so later slots can be applied.
    NavigableMap<Long, LogEntry> adopted = new TreeMap<>();
    for (Message.Promise promise : promises.values()) {
      for (LogEntry entry : promise.accepted()) {
        adopted.merge(entry.slot(), entry, PaxosReplica::preferForAdoption);
      }
    }
    long lastSlot = adopted.isEmpty() ? campaignFromSlot - 1 : adopted.lastKey();
    lastSlot = Math.max(lastSlot, firstUnchosenSlot - 1);
    for (long slot = Math.max(campaignFromSlot, firstUnchosenSlot); slot <= lastSlot; slot++) {
      LogEntry found = adopted.get(slot);
      Value value =
          found == null || config.plantedBug() == PlantedBug.NO_PHASE1_ADOPTION
              ? Value.NO_OP
              : found.value();
      LogEntry local = log.get(slot);
      if (local != null && local.chosen()) {
        continue;
      }
      proposeInSlot(slot, value);
    }
    nextSlot = lastSlot + 1;
    phaseOneEndSlot = lastSlot;
    promises.clear();
    // The broadcast carries every phase-1 proposal to every peer; filling the window first would
    // flush the same proposals in a second Accept and cost each acceptor a second write.
    broadcastAccepts();
    fillWindow();
  }

  private static LogEntry preferForAdoption(LogEntry a, LogEntry b) {
    if (a.chosen() != b.chosen()) {
      return a.chosen() ? a : b;
    }
    return a.ballot().compareTo(b.ballot()) >= 0 ? a : b;
  }

  private void onRejected(int from, Message.Rejected rejected) {
    highestSeenRound = Math.max(highestSeenRound, rejected.promised().round());
    if (role == Role.FOLLOWER || !rejected.ballot().equals(ballot)) {
      return;
    }
    if (rejected.promised().isAbove(ballot)) {
      boolean wasLeader = role == Role.LEADER;
      stepDown(rejected.knownLeader(), "acceptor " + from + " promised " + rejected.promised());
      if (wasLeader) {
        // A replica that campaigned while cut off has promised itself a higher ballot. The other
        // acceptors still know this replica as their leader and let it re-prepare at once, so
        // re-campaigning now keeps the interruption to one round trip instead of a timeout.
        campaign();
      }
    }
  }

  private void stepDown(int leaderHint, String reason) {
    if (role == Role.LEADER) {
      for (Command command : pendingCommands) {
        out.rejected.add(new Ready.ProposalRejected(command, leaderHint, reason));
      }
      for (PendingRead read : pendingReads) {
        out.reads.add(new Ready.ReadRejected(read.readId(), leaderHint, reason));
      }
      pendingCommands.clear();
      pendingReads.clear();
      inFlight.clear();
      unsentProposals.clear();
    }
    role = Role.FOLLOWER;
    promises.clear();
    ackedSentAtMillis.clear();
    ackedProbe.clear();
    // A hint is not a heartbeat: stickiness starts only when this replica hears from the leader.
    knownLeader = leaderHint;
    leaderHeardAtMillis = NEVER;
    resetElectionTimer();
  }

  // ---------------------------------------------------------------------------------------------
  // Proposer: phase 2

  private void fillWindow() {
    while (!pendingCommands.isEmpty() && inFlight.size() < config.maxInflightSlots()) {
      List<Command> batch = new ArrayList<>();
      int bytes = 0;
      while (!pendingCommands.isEmpty() && batch.size() < config.maxCommandsPerBatch()) {
        Command next = pendingCommands.peek();
        if (!batch.isEmpty() && bytes + next.sizeBytes() > config.maxBatchBytes()) {
          break;
        }
        batch.add(pendingCommands.poll());
        bytes += next.sizeBytes();
      }
      proposeInSlot(nextSlot++, new Value.Batch(batch));
    }
    flushProposals();
  }

  private void proposeInSlot(long slot, Value value) {
    LogEntry entry = new LogEntry(slot, ballot, value, false);
    writeEntry(entry);
    Set<Integer> acceptedBy = new TreeSet<>();
    if (leaderWrites == LeaderWrites.BEFORE_SEND
        || config.plantedBug() == PlantedBug.LEADER_VOTES_BEFORE_DURABLE) {
      // Durable before any peer hears of it (persist, then send); in parallel mode the vote
      // counts only once the driver reports the write durable (onPersisted).
      acceptedBy.add(id);
    }
    inFlight.put(slot, new InFlight(entry, acceptedBy));
    unsentProposals.add(entry);
    if (acceptedBy.size() >= quorum) {
      choose(slot);
    }
  }

  private void flushProposals() {
    if (unsentProposals.isEmpty()) {
      return;
    }
    List<LogEntry> entries = List.copyOf(unsentProposals);
    unsentProposals.clear();
    for (LogEntry entry : entries) {
      InFlight proposal = inFlight.get(entry.slot());
      if (proposal != null) {
        proposal.lastSentMillis = nowMillis;
      }
    }
    probe++;
    for (int peer : peers) {
      sendAccept(peer, new Message.Accept(ballot, entries, firstUnchosenSlot, nowMillis, probe));
    }
  }

  /**
   * Heartbeat to every peer, carrying the chosen prefix and the in-flight proposals that peer has
   * not acknowledged and that were never sent or were last sent a retransmission interval ago (four
   * heartbeats): that repairs lost accepts without re-sending, every heartbeat, proposals whose
   * acknowledgements are merely on their way — which under load would double the followers' disk
   * writes.
   */
  private void broadcastAccepts() {
    unsentProposals.clear();
    probe++;
    lastBroadcastMillis = nowMillis;
    long retransmitBefore = nowMillis - RETRANSMIT_HEARTBEATS * config.heartbeatMillis();
    List<InFlight> due = new ArrayList<>();
    for (InFlight proposal : inFlight.values()) {
      if (proposal.lastSentMillis <= retransmitBefore) {
        due.add(proposal);
      }
    }
    for (int peer : peers) {
      List<LogEntry> unacknowledged = new ArrayList<>();
      for (InFlight proposal : due) {
        if (!proposal.acceptedBy().contains(peer)) {
          unacknowledged.add(proposal.entry());
        }
      }
      sendAccept(
          peer, new Message.Accept(ballot, unacknowledged, firstUnchosenSlot, nowMillis, probe));
    }
    for (InFlight proposal : due) {
      proposal.lastSentMillis = nowMillis;
    }
  }

  private void onAccepted(int from, Message.Accepted accepted) {
    if (role != Role.LEADER || !accepted.ballot().equals(ballot)) {
      return;
    }
    ackedSentAtMillis.merge(from, accepted.echoSentAtMillis(), Math::max);
    ackedProbe.merge(from, accepted.probe(), Math::max);
    for (long slot : accepted.slots()) {
      InFlight proposal = inFlight.get(slot);
      if (proposal != null
          && proposal.acceptedBy().add(from)
          && proposal.acceptedBy().size() >= quorum) {
        choose(slot);
      }
    }
    advanceFirstUnchosen();
    emitApplies();
    fillWindow();
    completeReads();
  }

  private void choose(long slot) {
    InFlight proposal = inFlight.remove(slot);
    markChosen(proposal.entry());
  }

  // ---------------------------------------------------------------------------------------------
  // Learner

  private void markChosen(LogEntry entry) {
    LogEntry chosen = entry.asChosen();
    writeEntry(chosen);
    inFlight.remove(entry.slot());
  }

  private void advanceFirstUnchosen() {
    while (true) {
      LogEntry entry = log.get(firstUnchosenSlot);
      if (entry == null || !entry.chosen()) {
        return;
      }
      firstUnchosenSlot++;
    }
  }

  private void emitApplies() {
    while (nextToApplySlot < firstUnchosenSlot) {
      LogEntry entry = log.get(nextToApplySlot);
      if (entry == null || !entry.chosen()) {
        throw new IllegalStateException(
            "replica "
                + id
                + ": slot "
                + nextToApplySlot
                + " is below the first unchosen slot "
                + firstUnchosenSlot
                + " but not chosen in the log");
      }
      out.toApply.add(entry);
      nextToApplySlot++;
    }
  }

  private void maybeRequestCatchUp(int source) {
    if (firstUnchosenSlot < knownChosenBelowSlot
        && nowMillis - lastCatchUpRequestMillis >= config.catchUpRetryMillis()) {
      requestCatchUp(source);
    }
  }

  private void requestCatchUp(int source) {
    if (source == NO_LEADER || source == id) {
      return;
    }
    lastCatchUpRequestMillis = nowMillis;
    send(source, new Message.CatchUpRequest(promised, firstUnchosenSlot));
  }

  // ---------------------------------------------------------------------------------------------
  // Leases and reads

  /**
   * The latest local time {@code t} such that a quorum (counting this replica, which acknowledges
   * itself at {@code self}) acknowledged something sent at or after {@code t}; MIN_VALUE if none.
   */
  private long quorumAcknowledged(Map<Integer, Long> acknowledged, long self) {
    List<Long> values = new ArrayList<>(acknowledged.values());
    values.add(self);
    if (values.size() < quorum) {
      return Long.MIN_VALUE;
    }
    values.sort((a, b) -> Long.compare(b, a));
    return values.get(quorum - 1);
  }

  private long quorumLostFor() {
    long acknowledgedAt = quorumAcknowledged(ackedSentAtMillis, nowMillis);
    long since = Math.max(leaderSinceMillis, acknowledgedAt);
    return nowMillis - since;
  }

  private void completeReads() {
    if (pendingReads.isEmpty()) {
      return;
    }
    if (!holdsLease(nowMillis)) {
      for (PendingRead read : pendingReads) {
        out.reads.add(new Ready.ReadRejected(read.readId(), id, "leader lease lapsed"));
      }
      pendingReads.clear();
      return;
    }
    long confirmedProbe = quorumAcknowledged(ackedProbe, Long.MAX_VALUE);
    while (!pendingReads.isEmpty()) {
      PendingRead read = pendingReads.peek();
      if (read.probe() > confirmedProbe || read.slot() >= firstUnchosenSlot) {
        return;
      }
      pendingReads.poll();
      out.reads.add(new Ready.ReadReady(read.readId(), read.slot()));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

  private void observeClock(long reading) {
    // The driver promises a monotonic clock; a reading that goes back is treated as a stall.
    nowMillis = Math.max(nowMillis, reading);
  }

  private void resetElectionTimer() {
    long timeout = config.electionTimeoutMillis();
    electionDeadlineMillis = nowMillis + timeout + random.nextLong(timeout);
  }

  private int knownLeaderHint() {
    return knownLeader;
  }

  private void writeEntry(LogEntry entry) {
    if (entry.slot() <= snapshot.slot()) {
      throw new IllegalStateException(
          "replica "
              + id
              + " writes slot "
              + entry.slot()
              + " below its snapshot at "
              + snapshot.slot());
    }
    LogEntry existing = log.get(entry.slot());
    if (existing != null && existing.chosen() && !existing.value().equals(entry.value())) {
      throw new IllegalStateException(
          "replica "
              + id
              + ": chosen value of slot "
              + entry.slot()
              + " would change from "
              + existing.value()
              + " to "
              + entry.value());
    }
    log.put(entry.slot(), entry);
    out.entries.put(entry.slot(), entry);
  }

  private void send(int to, Message message) {
    out.messages.add(new Envelope(id, to, message));
  }

  /**
   * An Accept of this leader's ballot promises nothing on behalf of this replica's acceptor — its
   * chosen prefix counts only durable acceptances — so in parallel mode it may leave before the
   * step's persist is durable.
   */
  private void sendAccept(int to, Message.Accept accept) {
    if (leaderWrites == LeaderWrites.IN_PARALLEL) {
      out.early.add(new Envelope(id, to, accept));
    } else {
      send(to, accept);
    }
  }

  private Ready drain() {
    flushProposals();
    advanceFirstUnchosen();
    emitApplies();
    if (role == Role.LEADER) {
      completeReads();
    }
    Ready ready = out.toReady();
    out = new Outbox();
    return ready;
  }

  /** Effects accumulated while handling one input. */
  private static final class Outbox {
    Ballot promised;
    final TreeMap<Long, LogEntry> entries = new TreeMap<>();
    Snapshot snapshot;
    final List<Envelope> early = new ArrayList<>();
    final List<Envelope> messages = new ArrayList<>();
    Snapshot restore;
    final List<LogEntry> toApply = new ArrayList<>();
    final List<Ready.ReadOutcome> reads = new ArrayList<>();
    final List<Ready.ProposalRejected> rejected = new ArrayList<>();

    void promise(Ballot ballot) {
      promised = ballot;
    }

    void installSnapshot(Snapshot installed) {
      snapshot = installed;
      entries.headMap(installed.slot(), true).clear();
    }

    void restore(Snapshot restored) {
      restore = restored;
      toApply.clear();
    }

    Ready toReady() {
      List<Envelope> all = messages;
      if (!early.isEmpty()) {
        all = new ArrayList<>(early.size() + messages.size());
        all.addAll(early);
        all.addAll(messages);
      }
      return new Ready(
          new Persist(promised, List.copyOf(entries.values()), snapshot),
          all,
          early.size(),
          restore,
          toApply,
          reads,
          rejected);
    }
  }
}
