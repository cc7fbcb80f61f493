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

  /** {@code knownLeader} when this replica knows no leader. */
  private static final ReplicaId NO_LEADER = null;

  /**
   * "Long ago" for timestamps that have not happened yet; far enough from zero that subtracting it
   * from any clock reading the driver may pass (see {@link #start}) cannot overflow.
   */
  private static final long NEVER = Long.MIN_VALUE / 4;

  /** Heartbeats after which an unacknowledged proposal is sent again. */
  private static final int RETRANSMIT_HEARTBEATS = 4;

  /**
   * A quorum peer is slow when its smoothed write round trip exceeds this factor of the leader's
   * own smoothed write time plus {@link #SLOW_MARGIN_MILLIS}, or when it leaves a proposal
   * unanswered for this factor of it plus a heartbeat interval (see {@link #aQuorumPeerIsSlow}).
   */
  private static final long SLOW_FACTOR = 3;

  static final long SLOW_MARGIN_MILLIS = 5;

  /** Round trips a peer's smoothed write time needs before it is compared. */
  private static final int SETTLED_SAMPLES = 4;

  /**
   * How often per heartbeat interval a member off the quorum is fed what it lacks at least (the
   * heartbeat and the ticks between, see {@link #feedBetweenHeartbeats}). Measured
   * (docs/performance.md, fourteenth round): twice carried 5–10 % more commands per second at 16
   * clients than a feed on every 5 ms tick, with a lower p99, in three alternating pairs; once (the
   * heartbeat alone) made a stall at every heartbeat.
   */
  static final int FEEDS_PER_HEARTBEAT = 2;

  /**
   * Chosen payload bytes that make a member off the quorum due for a feed on the next tick, before
   * {@link #FEEDS_PER_HEARTBEAT} would. A feed is a burst of work for the member (decode, write,
   * apply, about 2 µs a command); half an interval's commands under load held a core for a
   * millisecond while a quorum thread queued behind it waited, the other core idle — on shared
   * cores, a stall every 25 ms (docs/performance.md, twentieth round). Fed by size, a busy log's
   * members follow on every tick or two (16 clients choose about this much in one 5 ms tick), each
   * feed a bounded burst, and a quiet log's about as before (one client: every 20 ms or so).
   */
  static final int FEED_BYTES = 16 << 10;

  /** Heartbeat intervals quorum peers are kept at least, once chosen for their speed. */
  private static final int QUORUM_HOLD_HEARTBEATS = 20;

  /**
   * A quorum peer replaced for its slowness may not return for this many heartbeat intervals,
   * doubled with every further replacement (at most {@code 2^}{@link #EJECTION_MAX_DOUBLINGS}
   * times), and forgiven after {@link #EJECTION_FORGET_HEARTBEATS} without one.
   */
  private static final int EJECTION_HEARTBEATS = 40;

  private static final int EJECTION_MAX_DOUBLINGS = 6;
  private static final int EJECTION_FORGET_HEARTBEATS = 2_400;

  private final PaxosConfig config;
  private final RandomGenerator random;
  private final ReplicaId id;
  private final LeaderWrites leaderWrites;

  /**
   * The configurations of the slots from the snapshot on, as the chosen prefix decides them (see
   * {@link Membership}); derived from durable state (the snapshot's membership and the chosen log).
   */
  private Membership membership;

  /**
   * False for a replica that joins: it is not among the start-up voters and its disk holds no
   * membership, so it cannot tell which configuration governs the log until a snapshot says. Until
   * then it learns nothing chosen and asks for a snapshot first.
   */
  private boolean membershipKnown;

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

  /** The newest change of role, with why it happened (for the operator's log). */
  private RoleChange lastRoleChange;

  /** When this replica last heard from a leader it follows (not reset by stepping down). */
  private long lastLeaderContactMillis = NEVER;

  private Ballot ballot = Ballot.ZERO;
  private long highestSeenRound;
  private ReplicaId knownLeader = NO_LEADER;
  private long leaderHeardAtMillis = NEVER;
  private long startedAtMillis = NEVER;
  private long electionDeadlineMillis;
  private long lastCatchUpRequestMillis = NEVER;

  /**
   * Catch-up requests sent since the last reply: each one waits twice as long as the one before it
   * ({@link #catchUpRetryMillis}). A reply that takes longer than the retry interval to arrive
   * (thousands of entries, or a snapshot of hundreds of megabytes, on a busy machine) was otherwise
   * superseded by the next request again and again, and the transport cancels the oldest of the
   * calls it keeps open per peer: a wiped replica at 100,000 jobs learned nothing in ten minutes.
   * Deterministic, like every timer of the core.
   */
  private int unansweredCatchUps;

  /** Where the last catch-up request went: a request to another replica starts a new count. */
  private ReplicaId catchUpSource = NO_LEADER;

  /** The longest wait between catch-up requests is the configured interval times 2 to this. */
  static final int MAX_CATCH_UP_DOUBLINGS = 6;

  // Candidate state.
  private final TreeMap<ReplicaId, Message.Promise> promises = new TreeMap<>();
  private final TreeSet<ReplicaId> prepared = new TreeSet<>();
  private long campaignFromSlot;

  /** The ballot of the pre-vote being collected ({@code null} when none) and who granted it. */
  private Ballot preVoteBallot;

  private final TreeSet<ReplicaId> preVotes = new TreeSet<>();

  // Leader state.
  private long nextSlot;
  private long phaseOneEndSlot;
  private long leaderSinceMillis;
  private long lastBroadcastMillis = NEVER;

  /** When the members off the quorum last got what they lack (every heartbeat interval). */
  private long lastFedMillis = NEVER;

  /** When each member off the quorum was last fed, with a heartbeat or between them. */
  private final TreeMap<ReplicaId, Long> fedAtMillis = new TreeMap<>();

  /** Payload bytes this replica has chosen as leader, and the count at each member's last feed. */
  private long chosenBytes;

  private final TreeMap<ReplicaId, Long> fedAtChosenBytes = new TreeMap<>();

  private long probe;
  private final TreeMap<Long, InFlight> inFlight = new TreeMap<>();
  private final ArrayDeque<Command> pendingCommands = new ArrayDeque<>();
  private final TreeMap<ReplicaId, Long> ackedSentAtMillis = new TreeMap<>();
  private final TreeMap<ReplicaId, Long> ackedProbe = new TreeMap<>();
  private final ArrayDeque<PendingRead> pendingReads = new ArrayDeque<>();
  private final List<LogEntry> unsentProposals = new ArrayList<>();

  /** Phase 1 values this leader still has to propose, held back until the window reaches them. */
  private final TreeMap<Long, Value> phaseOneValues = new TreeMap<>();

  /** A membership change accepted by {@link #reconfigure} and not yet proposed. */
  private Value.Reconfigure pendingReconfiguration;

  /** The leader fills slots below this with no-ops when idle, so a chosen change takes effect. */
  private long padUntilSlot;

  /** The first unchosen slot each peer last reported (to tell when a learner has caught up). */
  private final TreeMap<ReplicaId, Long> peerFirstUnchosen = new TreeMap<>();

  /** The voters that hear this leader's proposals at once (see {@link #proposalRecipients}). */
  private List<ReplicaId> quorumPeers = List.of();

  /** When {@link #quorumPeers} were last chosen. */
  private long quorumPeersSinceMillis = NEVER;

  /** Why the quorum peers are about to be chosen again, for {@link #lastQuorumChange}. */
  private String quorumChangeReason = "";

  private QuorumChange lastQuorumChange;

  /**
   * Each peer's write round trip under this leader, smoothed: the time from an Accept that carried
   * entries to its Accepted (the peer's durable write included), as TCP smooths its round-trip time
   * (RFC 6298: a new sample weighs 1/8), kept eight times over in whole milliseconds.
   */
  private final TreeMap<ReplicaId, WriteTime> writeTimes = new TreeMap<>();

  /**
   * For each peer, when this leader sent it the Accepts carrying entries that it has not answered
   * yet, oldest first (at most {@link #MAX_UNANSWERED_SENDS}): a peer answers in order, so an
   * Accepted echoing a send answers every send before it.
   */
  private final TreeMap<ReplicaId, ArrayDeque<Long>> unansweredSends = new TreeMap<>();

  private static final int MAX_UNANSWERED_SENDS = 64;

  /** This leader's own durable writes of its proposals, smoothed like {@link #writeTimes}. */
  private WriteTime ownWriteTime = new WriteTime();

  /** Members replaced as quorum peers for their slowness, and until when they may not return. */
  private final TreeMap<ReplicaId, Ejection> ejections = new TreeMap<>();

  /** The quorum peer {@link #aQuorumPeerIsSlow} found slow, to eject before the next choice. */
  private ReplicaId slowPeer;

  private static final class Ejection {
    long untilMillis;
    long lastMillis = NEVER;
    int count;
  }

  private static final class WriteTime {
    long eightTimesMillis;
    int samples;

    void add(long millis) {
      eightTimesMillis =
          samples == 0 ? 8 * millis : eightTimesMillis + millis - eightTimesMillis / 8;
      samples++;
    }

    /** The smoothed time, or -1 while it has fewer than {@link #SETTLED_SAMPLES} samples. */
    long settledMillis() {
      return samples < SETTLED_SAMPLES ? -1 : eightTimesMillis / 8;
    }
  }

  private Outbox out = new Outbox();

  /** A proposal of this leader not yet chosen; {@code lastSentMillis} is NEVER until sent. */
  private static final class InFlight {
    final LogEntry entry;
    final Set<ReplicaId> acceptedBy;
    long lastSentMillis = NEVER;

    InFlight(LogEntry entry, Set<ReplicaId> acceptedBy) {
      this.entry = entry;
      this.acceptedBy = acceptedBy;
    }

    LogEntry entry() {
      return entry;
    }

    Set<ReplicaId> acceptedBy() {
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
    this.promised = durable.promised();
    Snapshot recovered = durable.snapshot();
    this.membership =
        recovered.membership() != null
            ? recovered.membership()
            : Membership.bootstrap(Configuration.bootstrap(config.replicaIds()));
    this.snapshot =
        recovered.membership() != null ? recovered : recovered.withMembership(membership);
    this.membershipKnown =
        recovered.membership() != null
            || config.replicaIds().contains(config.replicaId())
            || recovered.slot() > 0
            || !durable.log().isEmpty();
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
        if (this.nowMillis - lastBroadcastMillis >= config.heartbeatMillis()
            || this.nowMillis - lastFedMillis >= config.heartbeatMillis()) {
          broadcastAccepts(/* heartbeat= */ true);
        } else {
          // A quorum peer that stalled is replaced on the next tick, not the next heartbeat: the
          // newcomer gets the proposals it holds up at once.
          feedBetweenHeartbeats(proposalRecipients());
        }
        long lostFor = quorumLostFor();
        if (lostFor >= config.electionTimeoutMillis()) {
          stepDown(
              NO_LEADER, "leader heard from no quorum for " + lostFor + " ms (election timeout)");
        } else {
          completeReads();
        }
      }
      case FOLLOWER, CANDIDATE -> {
        if (this.nowMillis >= electionDeadlineMillis) {
          if (membership.latest().isVoter(id)) {
            startPreVote();
          } else {
            // Learners and replicas outside the configuration never campaign.
            role = Role.FOLLOWER;
            resetElectionTimer();
            maybeRequestCatchUp(knownLeader);
          }
        } else if (role == Role.FOLLOWER) {
          maybeRequestCatchUp(knownLeader);
        }
      }
    }
    return drain();
  }

  /**
   * The local time from which {@link #tick} has work to do, for a driver that ticks on demand
   * instead of at a fixed rate (read it after every step: any input may move it). A leader's is
   * always now: it heartbeats, feeds the members off the quorum, replaces a stalled quorum peer and
   * watches its lease, so its driver ticks it at its fixed interval. A follower's or candidate's is
   * its election deadline, or the next catch-up request while it lags behind a known leader — the
   * only things its tick does. A driver may tick earlier or more often (a tick with nothing due
   * does nothing); ticking later than this delays elections and catch-up by as much.
   */
  public long tickDueAtMillis() {
    if (role == Role.LEADER) {
      return nowMillis;
    }
    long due = electionDeadlineMillis;
    if (role == Role.FOLLOWER
        && knownLeader != NO_LEADER
        && !knownLeader.equals(id)
        && (firstUnchosenSlot < knownChosenBelowSlot || !membershipKnown)) {
      // A new source resets the doublings (maybeRequestCatchUp).
      long retry =
          java.util.Objects.equals(catchUpSource, knownLeader)
              ? catchUpRetryMillis()
              : config.catchUpRetryMillis();
      due = Math.min(due, lastCatchUpRequestMillis + retry);
    }
    return due;
  }

  /** A message from peer {@code from}. */
  public Ready onMessage(long nowMillis, ReplicaId from, Message message) {
    observeClock(nowMillis);
    if (from == null || from.equals(id)) {
      throw new IllegalArgumentException("message from impossible replica " + from);
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
      if (role == Role.LEADER) {
        feedBefore(taken.slot());
      }
      snapshot = taken.withMembership(membership.decidedThrough(taken.slot()));
      log.headMap(taken.slot(), true).clear();
      membership = membership.from(snapshot.slot() + 1);
      out.installSnapshot(snapshot);
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
      boolean sampled = false;
      for (LogEntry entry : persist.entries()) {
        if (entry.chosen() || !entry.ballot().equals(ballot)) {
          continue;
        }
        InFlight proposal = inFlight.get(entry.slot());
        if (!sampled && proposal != null && proposal.lastSentMillis != NEVER) {
          sampled = true;
          ownWriteTime.add(Math.max(0, this.nowMillis - proposal.lastSentMillis));
        }
        if (proposal != null
            && proposal.entry().ballot().equals(entry.ballot())
            && proposal.acceptedBy().add(id)
            && chosenBy(entry.slot(), proposal.acceptedBy())) {
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

  /**
   * What became of a membership change: {@code refusal} is null when the leader accepted it (it is
   * proposed in {@code ready}'s messages and takes effect by {@link Membership}'s rule once chosen;
   * {@code next} is the configuration it leads to), else the reason it changed nothing ({@code
   * next} null).
   */
  public record Reconfiguration(Ready ready, String refusal, Configuration next) {
    public boolean accepted() {
      return refusal == null;
    }
  }

  /**
   * Asks the leader to change the configuration by one step. Refused, with the reason, when this
   * replica is not the leader, while another change is in progress (proposed, or chosen and not yet
   * in effect), when the change is impossible, when a learner to promote has not caught up, and
   * when the voters of the new configuration that answered this leader within an election timeout
   * would not form its quorum.
   */
  public Reconfiguration reconfigure(long nowMillis, Configuration.Change change) {
    observeClock(nowMillis);
    String refusal = reconfigurationRefusal(change);
    Configuration next = null;
    if (refusal == null) {
      next = membership.latest().apply(change);
      pendingReconfiguration = new Value.Reconfigure(next);
      fillWindow();
    }
    return new Reconfiguration(drain(), refusal, next);
  }

  private String reconfigurationRefusal(Configuration.Change change) {
    if (role != Role.LEADER) {
      return "not the leader"
          + (knownLeader == NO_LEADER ? " (no leader known)" : " (leader is " + knownLeader + ")");
    }
    String inProgress = changeInProgress();
    if (inProgress != null) {
      return "another membership change is in progress: " + inProgress;
    }
    Configuration next;
    try {
      next = membership.latest().apply(change);
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    if (change instanceof Configuration.Change.Promote promote) {
      Long reported = peerFirstUnchosen.get(promote.id());
      if (reported == null) {
        return "learner " + promote.id() + " has not answered this leader yet";
      }
      long behind = firstUnchosenSlot - reported;
      if (behind > config.maxCatchUpEntries()) {
        return "learner "
            + promote.id()
            + " is "
            + behind
            + " slots behind; it may vote once it is within maxCatchUpEntries="
            + config.maxCatchUpEntries();
      }
    }
    long recent = this.nowMillis - config.electionTimeoutMillis();
    List<ReplicaId> reachable = new ArrayList<>();
    for (ReplicaId voter : next.voters().keySet()) {
      Long heard = ackedSentAtMillis.get(voter);
      if (voter.equals(id) || (heard != null && heard >= recent)) {
        reachable.add(voter);
      }
    }
    if (reachable.size() < quorum(next)) {
      return "the new configuration ("
          + next
          + ") would have "
          + reachable.size()
          + " reachable voters "
          + reachable
          + " but its quorum is "
          + quorum(next);
    }
    return null;
  }

  /** Why a membership change is in progress, or null when none is. */
  private String changeInProgress() {
    if (pendingReconfiguration != null) {
      return "a change to " + pendingReconfiguration.next() + " waits to be proposed";
    }
    if (membership.latestFromSlot() > firstUnchosenSlot) {
      return "the change to "
          + membership.latest()
          + " takes effect at slot "
          + membership.latestFromSlot();
    }
    for (Value held : phaseOneValues.values()) {
      if (held instanceof Value.Reconfigure reconfigure) {
        return "a change to " + reconfigure.next() + " is being proposed";
      }
    }
    for (LogEntry entry : log.tailMap(firstUnchosenSlot, true).values()) {
      if (entry.value() instanceof Value.Reconfigure reconfigure) {
        return "a change to " + reconfigure.next() + " is being proposed in slot " + entry.slot();
      }
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // Queries (for the driver, metrics and the simulator's checkers)

  /** The configurations of the slots from the snapshot on, as this replica knows them. */
  public Membership membership() {
    return membership;
  }

  /** The configuration that governs this replica's first unchosen slot. */
  public Configuration configuration() {
    return membership.at(firstUnchosenSlot);
  }

  /**
   * Whether this replica knows it was removed: a configuration change it knows is chosen leaves it
   * out, and it was a member before. A replica that never was a member (one waiting to be added) is
   * not removed.
   */
  public boolean removed() {
    if (membership.latest().isMember(id)) {
      return false;
    }
    for (Membership.Epoch epoch : membership.epochs()) {
      if (epoch.configuration().isMember(id)) {
        return true;
      }
    }
    return false;
  }

  /** The first unchosen slot each peer last reported to this leader (empty on a follower). */
  public Map<ReplicaId, Long> peerFirstUnchosenSlots() {
    return java.util.Collections.unmodifiableMap(new TreeMap<>(peerFirstUnchosen));
  }

  public ReplicaId id() {
    return id;
  }

  public Role role() {
    return role;
  }

  /**
   * The replica's newest change of role and why it happened, or null before the first. Drivers
   * compare it with the one they saw last and log the new one: why a leader stepped down or a
   * follower campaigned is what an operator needs to explain an election.
   */
  public RoleChange lastRoleChange() {
    return lastRoleChange;
  }

  /**
   * One change of role.
   *
   * @param sequence increases by one with each change
   * @param atMillis the replica's clock when it changed
   */
  public record RoleChange(long sequence, long atMillis, Role role, String reason) {}

  /**
   * A leader replaced a quorum peer (see {@link #proposalRecipients}): {@code peers} hear its
   * proposals at once from {@code atMillis} on; {@code sequence} counts the replacements of this
   * replica's life, so a driver can tell a new one from the last it saw.
   */
  public record QuorumChange(long sequence, long atMillis, List<ReplicaId> peers, String reason) {}

  /** The newest replacement of a quorum peer, or null if there was none. */
  public QuorumChange lastQuorumChange() {
    return lastQuorumChange;
  }

  private void roleChanged(String reason) {
    long sequence = lastRoleChange == null ? 1 : lastRoleChange.sequence() + 1;
    lastRoleChange = new RoleChange(sequence, nowMillis, role, reason);
  }

  public Ballot ballot() {
    return ballot;
  }

  public Ballot promised() {
    return promised;
  }

  /** The leader this replica follows or is, or null when it knows none. */
  public ReplicaId knownLeader() {
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

  private void onPrepare(ReplicaId from, Message.Prepare prepare) {
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

  private void onAccept(ReplicaId from, Message.Accept accept) {
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
      if (slot < accept.chosenBelowSlot()) {
        // Chosen, says the leader, and this is the value: a leader proposes one value per slot in
        // its ballot (see learnChosenPrefix). Learned, not accepted: a chosen value needs no vote,
        // so the write needs no sync of its own, and no write time is reported for it.
        if (!alreadyChosen) {
          markChosen(new LogEntry(slot, offered, entry.value(), true));
        }
        continue;
      }
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
  private void learnChosenPrefix(ReplicaId leader, Ballot leaderBallot, long chosenBelowSlot) {
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

  private void onCatchUpRequest(ReplicaId from, Message.CatchUpRequest request) {
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

  private void onCatchUpReply(ReplicaId from, Message.CatchUpReply reply) {
    Snapshot offered = reply.snapshot();
    if (offered != null && (offered.slot() >= firstUnchosenSlot || !membershipKnown)) {
      membershipKnown = true;
      membership =
          offered.membership() != null
              ? offered.membership()
              : Membership.bootstrap(Configuration.bootstrap(config.replicaIds()));
      snapshot = offered.withMembership(membership);
      log.headMap(offered.slot(), true).clear();
      for (Iterator<Long> slots = inFlight.keySet().iterator(); slots.hasNext(); ) {
        if (slots.next() <= offered.slot()) {
          slots.remove();
        }
      }
      firstUnchosenSlot = offered.slot() + 1;
      nextToApplySlot = offered.slot() + 1;
      out.installSnapshot(snapshot);
      out.restore(snapshot);
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
    unansweredCatchUps = 0;
    maybeRequestCatchUp(from);
  }

  private boolean boundToAnotherLeader(ReplicaId candidate) {
    if (nowMillis - startedAtMillis < config.leaseMillis()) {
      return true;
    }
    if (role == Role.LEADER) {
      return holdsLease(nowMillis);
    }
    return knownLeader != NO_LEADER
        && !knownLeader.equals(candidate)
        && nowMillis - leaderHeardAtMillis < config.leaseMillis();
  }

  private void promise(Ballot offered) {
    promised = offered;
    out.promise(offered);
  }

  private void reject(ReplicaId to, Ballot offered, boolean leaderAlive) {
    send(to, new Message.Rejected(offered, promised, knownLeaderHint(), leaderAlive));
  }

  private void followLeader(ReplicaId leader) {
    preVoteBallot = null;
    knownLeader = leader;
    leaderHeardAtMillis = nowMillis;
    lastLeaderContactMillis = nowMillis;
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
    if (!config.rules().preVote()) {
      campaign();
      return;
    }
    preVoteBallot = new Ballot(Math.max(highestSeenRound, promised.round()) + 1, id);
    preVotes.clear();
    preVotes.add(id);
    resetElectionTimer();
    if (preVoteGranted()) {
      campaign();
      return;
    }
    for (ReplicaId peer : membership.at(firstUnchosenSlot).voters().keySet()) {
      if (!peer.equals(id)) {
        send(peer, new Message.PreVote(preVoteBallot, nowMillis));
      }
    }
  }

  private boolean preVoteGranted() {
    Configuration governing = membership.at(firstUnchosenSlot);
    int granted = 0;
    for (ReplicaId voter : preVotes) {
      if (governing.isVoter(voter)) {
        granted++;
      }
    }
    return granted >= quorum(governing);
  }

  private void onPreVote(ReplicaId from, Message.PreVote preVote) {
    // A replica this one knows is no voter (removed, or a learner) gets no pre-vote, so a removed
    // replica that never learned it was removed cannot disturb the cluster it left.
    if (boundToAnotherLeader(from) || !membership.latest().isVoter(from)) {
      reject(from, preVote.ballot(), true);
      return;
    }
    send(from, new Message.PreVoteGranted(preVote.ballot()));
  }

  private void onPreVoteGranted(ReplicaId from, Message.PreVoteGranted granted) {
    if (role == Role.LEADER || preVoteBallot == null || !granted.ballot().equals(preVoteBallot)) {
      return;
    }
    preVotes.add(from);
    if (preVoteGranted()) {
      campaign();
    }
  }

  private void campaign() {
    Check.that(role != Role.LEADER, "a leader does not campaign");
    preVoteBallot = null;
    preVotes.clear();
    role = Role.CANDIDATE;
    roleChanged(
        lastLeaderContactMillis == NEVER
            ? "election timeout; no leader heard since start"
            : "election timeout; last heard a leader "
                + (nowMillis - lastLeaderContactMillis)
                + " ms ago");
    ballot = new Ballot(Math.max(highestSeenRound, promised.round()) + 1, id);
    highestSeenRound = ballot.round();
    promise(ballot);
    knownLeader = NO_LEADER;
    promises.clear();
    ackedSentAtMillis.clear();
    ackedProbe.clear();
    fedAtMillis.clear();
    fedAtChosenBytes.clear();
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
    prepared.clear();
    for (Configuration governing : membership.governingFrom(campaignFromSlot)) {
      for (ReplicaId voter : governing.voters().keySet()) {
        if (!voter.equals(id) && prepared.add(voter)) {
          send(voter, new Message.Prepare(ballot, campaignFromSlot, nowMillis));
        }
      }
    }
    if (phaseOneComplete()) {
      becomeLeader();
    }
  }

  private void onPromise(ReplicaId from, Message.Promise promise) {
    if (role != Role.CANDIDATE || !promise.ballot().equals(ballot)) {
      return;
    }
    if (!promise.complete()) {
      // The acceptor truncated or holds more than fits: chosen slots this candidate lacks. A
      // leader must know every chosen value at and above its first unchosen slot, so catch up
      // first and campaign again later.
      lastCatchUpRequestMillis = NEVER;
      unansweredCatchUps = 0;
      requestCatchUp(from);
      stepDown(NO_LEADER, "behind acceptor " + from + "; catching up before campaigning");
      return;
    }
    promises.put(from, promise);
    ackedSentAtMillis.merge(from, promise.echoSentAtMillis(), Math::max);
    if (phaseOneComplete()) {
      becomeLeader();
    }
  }

  /** Phase 1 result so far: per slot, the entry a promiser reports that the leader must adopt. */
  private NavigableMap<Long, LogEntry> adoptedValues() {
    NavigableMap<Long, LogEntry> adopted = new TreeMap<>();
    for (Message.Promise promise : promises.values()) {
      for (LogEntry entry : promise.accepted()) {
        adopted.merge(entry.slot(), entry, PaxosReplica::preferForAdoption);
      }
    }
    return adopted;
  }

  /**
   * Phase 1 is complete once a quorum of every configuration that may govern a slot from the
   * campaign's first slot on has promised. Those configurations are the ones the chosen prefix
   * decides and the ones the values to adopt would decide, in turn: a change chosen in slot s that
   * this candidate does not know is reported by a quorum of the configuration of s, and the slots
   * it governs are reported by a quorum of its own configuration, which the candidate then asks. A
   * quorum of the last configuration of the chain reports every value chosen beyond it.
   */
  private boolean phaseOneComplete() {
    Membership chain = phaseOneChain(adoptedValues());
    boolean complete = true;
    for (Configuration governing : chain.governingFrom(campaignFromSlot)) {
      int promisedVoters = 0;
      for (ReplicaId voter : governing.voters().keySet()) {
        if (promises.containsKey(voter)) {
          promisedVoters++;
        } else if (!voter.equals(id) && prepared.add(voter)) {
          send(voter, new Message.Prepare(ballot, campaignFromSlot, nowMillis));
        }
      }
      if (promisedVoters < quorum(governing)) {
        complete = false;
      }
    }
    return complete;
  }

  private Membership phaseOneChain(NavigableMap<Long, LogEntry> adopted) {
    Membership chain = membership;
    for (LogEntry entry : adopted.tailMap(firstUnchosenSlot, true).values()) {
      if (entry.value() instanceof Value.Reconfigure reconfigure) {
        chain = chain.with(entry.slot(), effectiveFrom(entry.slot()), reconfigure.next());
      }
    }
    return chain;
  }

  private void becomeLeader() {
    role = Role.LEADER;
    roleChanged("a quorum promised ballot " + ballot);
    knownLeader = id;
    leaderSinceMillis = nowMillis;
    quorumPeers = List.of();
    writeTimes.clear();
    ownWriteTime = new WriteTime();
    ejections.clear();
    unansweredSends.clear();
    // Phase 1 result: for each slot from the campaign's first unchosen slot, the value a chosen
    // report names, else the value of the highest ballot any promiser accepted (Paxos Made Simple
    // §2.2, P2c), else a no-op to fill the gap so later slots can be applied. Slots beyond the
    // window are proposed as the window reaches them, once their configuration is decided.
    NavigableMap<Long, LogEntry> adopted = adoptedValues();
    long lastSlot = adopted.isEmpty() ? campaignFromSlot - 1 : adopted.lastKey();
    lastSlot = Math.max(lastSlot, firstUnchosenSlot - 1);
    phaseOneValues.clear();
    padUntilSlot = membership.latestFromSlot();
    long firstSlot = Math.max(campaignFromSlot, firstUnchosenSlot);
    for (long slot = firstSlot; slot <= lastSlot; slot++) {
      LogEntry found = adopted.get(slot);
      Value value =
          found == null || !config.rules().adoptReportedValues() ? Value.NO_OP : found.value();
      LogEntry local = log.get(slot);
      if (local != null && local.chosen()) {
        continue;
      }
      phaseOneValues.put(slot, value);
    }
    nextSlot = firstSlot;
    phaseOneEndSlot = lastSlot;
    promises.clear();
    prepared.clear();
    proposeWithinWindow(false);
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

  private void onRejected(ReplicaId from, Message.Rejected rejected) {
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

  private void stepDown(ReplicaId leaderHint, String reason) {
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
      phaseOneValues.clear();
      pendingReconfiguration = null;
      peerFirstUnchosen.clear();
    }
    Role before = role;
    role = Role.FOLLOWER;
    if (before != Role.FOLLOWER) {
      roleChanged(reason);
    }
    promises.clear();
    prepared.clear();
    ackedSentAtMillis.clear();
    ackedProbe.clear();
    // A hint is not a heartbeat: stickiness starts only when this replica hears from the leader.
    // A hint naming this replica (an acceptor that still knows it as the leader of an earlier
    // ballot) is no hint: it would send clients back here while no one here leads.
    knownLeader = id.equals(leaderHint) ? NO_LEADER : leaderHint;
    leaderHeardAtMillis = NEVER;
    resetElectionTimer();
  }

  // ---------------------------------------------------------------------------------------------
  // Proposer: phase 2

  private void fillWindow() {
    proposeWithinWindow(true);
    flushProposals();
  }

  /**
   * Proposes, while the window has room, in this order: held phase-1 values, then (once those are
   * done) a pending membership change, client commands, and no-ops that carry a chosen change to
   * the slot where it takes effect. The window is {@code maxInflightSlots} open proposals and never
   * reaches {@link Membership#DELAY_SLOTS} slots beyond the first unchosen one, so the
   * configuration of every slot proposed is decided (Membership's rule).
   */
  private void proposeWithinWindow(boolean beyondPhaseOne) {
    if (role != Role.LEADER) {
      return;
    }
    while (inFlight.size() < config.maxInflightSlots()
        && nextSlot < firstUnchosenSlot + Membership.DELAY_SLOTS) {
      if (nextSlot <= phaseOneEndSlot) {
        Value held = phaseOneValues.remove(nextSlot);
        LogEntry local = log.get(nextSlot);
        if (held != null && (local == null || !local.chosen())) {
          proposeInSlot(nextSlot, held);
        }
        nextSlot++;
      } else if (!beyondPhaseOne) {
        return;
      } else if (pendingReconfiguration != null) {
        proposeInSlot(nextSlot++, pendingReconfiguration);
        pendingReconfiguration = null;
      } else if (!pendingCommands.isEmpty()) {
        proposeInSlot(nextSlot++, nextBatch());
      } else if (nextSlot < Math.max(padUntilSlot, membership.latestFromSlot())) {
        // A change chosen (by this leader or, learned late, by an earlier one) takes effect only
        // once the slots before its effect are chosen.
        proposeInSlot(nextSlot++, Value.NO_OP);
      } else {
        return;
      }
    }
  }

  private Value nextBatch() {
    {
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
      return new Value.Batch(batch);
    }
  }

  private void proposeInSlot(long slot, Value value) {
    if (value instanceof Value.Reconfigure) {
      padUntilSlot = Math.max(padUntilSlot, effectiveFrom(slot));
    }
    LogEntry entry = new LogEntry(slot, ballot, value, false);
    writeEntry(entry);
    Set<ReplicaId> acceptedBy = new TreeSet<>();
    if (leaderWrites == LeaderWrites.BEFORE_SEND || config.rules().leaderVotesWhenProposing()) {
      // Durable before any peer hears of it (persist, then send); in parallel mode the vote
      // counts only once the driver reports the write durable (onPersisted).
      acceptedBy.add(id);
    }
    inFlight.put(slot, new InFlight(entry, acceptedBy));
    unsentProposals.add(entry);
    if (chosenBy(slot, acceptedBy)) {
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
    for (ReplicaId peer : proposalRecipients()) {
      sendAccept(peer, new Message.Accept(ballot, entries, firstUnchosenSlot, nowMillis, probe));
    }
  }

  /**
   * Who hears a new proposal at once: the fewest voters that make a quorum with this leader (its
   * <em>quorum peers</em>), not every member. The others — and learners — receive what they lack
   * with the next heartbeat (see {@link #broadcastAccepts}), so each proposal costs one write and
   * two messages on a quorum's followers only, and the disk the replicas may share syncs for a
   * quorum, not for everyone ("thrifty" Paxos). A quorum peer is replaced once it has acknowledged
   * nothing for two heartbeat intervals; meanwhile the others get its in-flight proposals with the
   * heartbeats, so a stopped quorum peer delays a choice by at most one heartbeat interval. While a
   * membership change is in progress (two configurations govern), every member hears everything.
   */
  private java.util.Collection<ReplicaId> proposalRecipients() {
    Set<ReplicaId> all = recipients();
    List<Configuration> governing = membership.governingFrom(firstUnchosenSlot);
    if (config.proposalFanout() == ProposalFanout.ALL || governing.size() != 1) {
      return all;
    }
    Configuration only = governing.get(0);
    int needed = quorum(only) - (only.isVoter(id) ? 1 : 0);
    if (needed >= all.size()) {
      return all;
    }
    if (!quorumPeersStillServe(only, all, needed) || aQuorumPeerIsSlow(only, all)) {
      if (slowPeer != null) {
        // Ejected before the choice, so that the member found slow goes to the back of it.
        eject(slowPeer);
        slowPeer = null;
      }
      List<ReplicaId> voters = new ArrayList<>();
      for (ReplicaId peer : all) {
        if (only.isVoter(peer)) {
          voters.add(peer);
        }
      }
      // Those that answered within two heartbeat intervals first, then those not ejected for
      // slowness, the fastest writers among them first (unmeasured ones after the measured), then
      // the freshest answerers; among equals the lower id (stable when all are healthy).
      long silentBefore = nowMillis - 2 * config.heartbeatMillis();
      voters.sort(
          java.util.Comparator.comparingInt(
                  (ReplicaId peer) ->
                      ackedSentAtMillis.getOrDefault(peer, leaderSinceMillis) < silentBefore
                          ? 1
                          : 0)
              .thenComparingInt(peer -> ejected(peer) ? 1 : 0)
              .thenComparingLong(
                  peer -> {
                    long settled = settledWriteMillis(peer);
                    return settled < 0 ? Long.MAX_VALUE : settled;
                  })
              .thenComparingLong(peer -> -ackedSentAtMillis.getOrDefault(peer, Long.MIN_VALUE + 1))
              .thenComparing(java.util.Comparator.naturalOrder()));
      List<ReplicaId> before = quorumPeers;
      quorumPeers = List.copyOf(voters.subList(0, Math.min(needed, voters.size())));
      if (!before.equals(quorumPeers)) {
        quorumPeersSinceMillis = nowMillis;
      }
      if (!before.isEmpty() && !before.equals(quorumPeers)) {
        long sequence = lastQuorumChange == null ? 1 : lastQuorumChange.sequence() + 1;
        lastQuorumChange = new QuorumChange(sequence, nowMillis, quorumPeers, quorumChangeReason);
      }
      for (ReplicaId newcomer : quorumPeers) {
        if (!before.isEmpty() && !before.contains(newcomer)) {
          // It trails by up to a heartbeat interval: what it lacks goes ahead of the proposal,
          // so that it has no gap to fetch. (A new leader's first choice follows its phase-1
          // broadcast, which carried everything to everyone.)
          feed(newcomer, /* overdueOnly= */ false);
        }
      }
    }
    return quorumPeers;
  }

  /**
   * Whether a quorum peer answers, but slowly (a disk or a machine that has turned slow, which the
   * silence rule never catches), and another voter may do better. Slow means: its smoothed write
   * round trip is more than {@link #SLOW_FACTOR} times this leader's own smoothed write plus {@link
   * #SLOW_MARGIN_MILLIS}, or it has left a proposal unanswered for more than that factor plus a
   * heartbeat interval (a stall, caught without waiting for the late answer to reach the average;
   * half an interval replaced healthy peers over a loaded machine's 30 ms hiccups). The yardstick
   * is the leader's own write, made at the same load: the members off the quorum are measured only
   * by what the heartbeats feed them, and a member starved of CPU keeps up with that and not with
   * every proposal. Another voter does better when it answered within two heartbeat intervals, is
   * not {@link #ejected}, and its own smoothed time, if measured, is under half the slow peer's.
   * Quorum peers chosen less than {@link #QUORUM_HOLD_HEARTBEATS} intervals ago are kept, so
   * members of like speed do not trade places on every jitter.
   */
  private boolean aQuorumPeerIsSlow(Configuration only, Set<ReplicaId> all) {
    if (nowMillis - quorumPeersSinceMillis < QUORUM_HOLD_HEARTBEATS * config.heartbeatMillis()) {
      return false;
    }
    long own = Math.max(0, ownWriteTime.settledMillis());
    for (ReplicaId peer : quorumPeers) {
      long settled = settledWriteMillis(peer);
      long waiting = unansweredForMillis(peer);
      String evidence;
      long taking;
      if (settled > overdueAfterMillis()) {
        taking = settled;
        evidence = "its writes took " + settled + " ms (smoothed)";
      } else if (waiting > SLOW_FACTOR * own + config.heartbeatMillis()) {
        taking = waiting;
        evidence = "it left a proposal unanswered for " + waiting + " ms";
      } else {
        continue;
      }
      if (aVoterDoesBetter(only, all, taking)) {
        slowPeer = peer;
        quorumChangeReason =
            "replica "
                + peer.value()
                + " answered slowly: "
                + evidence
                + ", against "
                + own
                + " ms for this leader's own write";
        return true;
      }
    }
    return false;
  }

  /**
   * How long a healthy quorum peer may take to answer a proposal: {@link #SLOW_FACTOR} times this
   * leader's own smoothed write plus {@link #SLOW_MARGIN_MILLIS} (the slowness rule's yardstick).
   */
  private long overdueAfterMillis() {
    return SLOW_FACTOR * Math.max(0, ownWriteTime.settledMillis()) + SLOW_MARGIN_MILLIS;
  }

  private boolean aVoterDoesBetter(Configuration only, Set<ReplicaId> all, long taking) {
    long silentBefore = nowMillis - 2 * config.heartbeatMillis();
    for (ReplicaId peer : all) {
      if (!only.isVoter(peer)
          || quorumPeers.contains(peer)
          || ejected(peer)
          || ackedSentAtMillis.getOrDefault(peer, leaderSinceMillis) < silentBefore) {
        continue;
      }
      long settled = settledWriteMillis(peer);
      if (settled < 0 || 2 * settled < taking) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code peer} was replaced for its slowness recently enough to be kept out. */
  private boolean ejected(ReplicaId peer) {
    Ejection ejection = ejections.get(peer);
    return ejection != null && nowMillis < ejection.untilMillis;
  }

  /**
   * Keeps {@code peer}, just replaced for its slowness, off the quorum for a while: a member that
   * is slow under every proposal and quick under the heartbeats' feed would otherwise be taken back
   * as soon as the hold ends, and stall the log again each time.
   */
  private void eject(ReplicaId peer) {
    Ejection ejection = ejections.computeIfAbsent(peer, p -> new Ejection());
    if (nowMillis - ejection.lastMillis > EJECTION_FORGET_HEARTBEATS * config.heartbeatMillis()) {
      ejection.count = 0;
    }
    ejection.untilMillis =
        nowMillis
            + (EJECTION_HEARTBEATS * config.heartbeatMillis()
                << Math.min(ejection.count, EJECTION_MAX_DOUBLINGS));
    ejection.lastMillis = nowMillis;
    ejection.count++;
  }

  /**
   * How long the oldest Accept carrying entries that {@code peer} has not answered has waited,
   * whether or not its proposals were chosen meanwhile through the others (a stalled quorum peer's
   * proposals are, with every heartbeat's feed, which must not hide the stall).
   */
  private long unansweredForMillis(ReplicaId peer) {
    ArrayDeque<Long> sends = unansweredSends.get(peer);
    return sends == null || sends.isEmpty() ? 0 : nowMillis - sends.peekFirst();
  }

  private long settledWriteMillis(ReplicaId peer) {
    WriteTime time = writeTimes.get(peer);
    return time == null ? -1 : time.settledMillis();
  }

  private boolean quorumPeersStillServe(Configuration only, Set<ReplicaId> all, int needed) {
    quorumChangeReason = "a quorum peer left the configuration";
    if (quorumPeers.size() != needed) {
      return false;
    }
    long silentBefore = nowMillis - 2 * config.heartbeatMillis();
    for (ReplicaId peer : quorumPeers) {
      if (!only.isVoter(peer) || !all.contains(peer)) {
        return false;
      }
      long heard = ackedSentAtMillis.getOrDefault(peer, leaderSinceMillis);
      if (heard < silentBefore) {
        quorumChangeReason =
            "replica " + peer.value() + " acknowledged nothing for " + (nowMillis - heard) + " ms";
        return false;
      }
    }
    return true;
  }

  /**
   * Heartbeat to every peer, carrying the chosen prefix and the in-flight proposals that peer has
   * not acknowledged and that were never sent or were last sent a retransmission interval ago (four
   * heartbeats): that repairs lost accepts without re-sending, every heartbeat, proposals whose
   * acknowledgements are merely on their way — which under load would double the followers' disk
   * writes. A probe for a read; see {@link #broadcastAccepts(boolean)} for the heartbeat.
   */
  private void broadcastAccepts() {
    broadcastAccepts(false);
  }

  /**
   * Before the log is truncated through {@code slot}: every peer that last reported a first
   * unchosen slot at or below it gets the chosen entries it lacks now, while this leader still
   * holds them — a member off the quorum lags by up to a heartbeat interval, and would otherwise
   * need the whole snapshot.
   */
  private void feedBefore(long slot) {
    for (ReplicaId peer : recipients()) {
      Long reported = peerFirstUnchosen.get(peer);
      if (reported == null || reported > slot) {
        continue;
      }
      feed(peer, /* overdueOnly= */ false);
    }
  }

  /** Sends {@code peer} what it {@link #lacking lacks}, if anything. */
  private void feed(ReplicaId peer, boolean overdueOnly) {
    List<LogEntry> entries = lacking(peer, overdueOnly);
    if (!entries.isEmpty()) {
      sendAccept(peer, new Message.Accept(ballot, entries, firstUnchosenSlot, nowMillis, probe));
    }
  }

  /**
   * On a tick between heartbeats: each member off the quorum that answered its last feed, lacks
   * chosen entries, and was fed {@link #FEEDS_PER_HEARTBEAT} times a heartbeat interval ago or
   * {@link #FEED_BYTES} of chosen payload ago gets what it lacks now, so the members off the quorum
   * follow in steps instead of one batch per heartbeat — a heartbeat interval's commands at once,
   * whose encoding and write took the two shared cores for long enough to delay the commands of
   * that moment (docs/performance.md). A feed that goes unanswered (lost, or the member is slow)
   * stops these until the next heartbeat, which feeds every such member from what it last reported.
   */
  private void feedBetweenHeartbeats(java.util.Collection<ReplicaId> atOnce) {
    for (ReplicaId peer : recipients()) {
      Long fedAt = fedAtMillis.get(peer);
      Long reported = peerFirstUnchosen.get(peer);
      if (atOnce.contains(peer)
          || fedAt == null
          || reported == null
          || reported >= firstUnchosenSlot
          || ackedSentAtMillis.getOrDefault(peer, NEVER) < fedAt
          || (nowMillis - fedAt < config.heartbeatMillis() / FEEDS_PER_HEARTBEAT
              && chosenBytes - fedAtChosenBytes.getOrDefault(peer, 0L) < FEED_BYTES)) {
        continue;
      }
      feed(peer, /* overdueOnly= */ true);
      fedAtMillis.put(peer, nowMillis);
      fedAtChosenBytes.put(peer, chosenBytes);
    }
  }

  /**
   * What a member off the quorum lacks: the chosen entries since the first unchosen slot it last
   * reported, then the proposals in flight it has not accepted — with {@code overdueOnly}, only
   * those out longer than a quorum peer should take to answer ({@link #overdueAfterMillis}) — about
   * {@code maxBatchBytes} in all. What does not fit follows with the next heartbeat, or, far
   * behind, by catch-up. The chosen entries cost the member an unsynced write (it learns them, see
   * {@link #onAccept}); a proposal costs it a synced one, so a healthy quorum peer's proposals of
   * the moment are left to that peer: every heartbeat's feed would otherwise make the member's sync
   * contend on the disk with the quorum's (a latency spike every heartbeat, docs/performance.md).
   */
  private List<LogEntry> lacking(ReplicaId peer, boolean overdueOnly) {
    List<LogEntry> entries = new ArrayList<>();
    int bytes = addChosenSince(peer, entries);
    long sentBefore = overdueOnly ? nowMillis - overdueAfterMillis() : Long.MAX_VALUE;
    for (InFlight proposal : inFlight.values()) {
      if (bytes > config.maxBatchBytes()) {
        break;
      }
      if (proposal.lastSentMillis <= sentBefore && !proposal.acceptedBy().contains(peer)) {
        entries.add(proposal.entry());
        bytes += proposal.entry().value().sizeBytes();
      }
    }
    return entries;
  }

  /**
   * The chosen entries {@code peer} lacks, from the first unchosen slot it last reported to this
   * leader, at most {@code maxCatchUpEntries} of them and about {@code maxBatchBytes}; none if it
   * has not reported yet or lacks entries this leader no longer holds (it then catches up from a
   * snapshot). Returns their size.
   */
  private int addChosenSince(ReplicaId peer, List<LogEntry> entries) {
    Long reported = peerFirstUnchosen.get(peer);
    if (reported == null || reported <= snapshot.slot()) {
      return 0;
    }
    int bytes = 0;
    for (long slot = reported;
        slot < firstUnchosenSlot
            && entries.size() < config.maxCatchUpEntries()
            && bytes <= config.maxBatchBytes();
        slot++) {
      LogEntry entry = log.get(slot);
      if (entry == null) {
        break;
      }
      // Re-proposed in this ballot: the value is chosen, so any ballot may carry it (P2c), and an
      // Accept carries its own ballot's entries only.
      entries.add(new LogEntry(slot, ballot, entry.value(), false));
      bytes += entry.value().sizeBytes();
    }
    return bytes;
  }

  /**
   * As {@link #broadcastAccepts()}; a {@code heartbeat} (the tick's, every heartbeat interval) also
   * gives each member off the quorum what it {@link #lacking lacks}.
   */
  private void broadcastAccepts(boolean heartbeat) {
    if (heartbeat) {
      lastFedMillis = nowMillis;
    }
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
    java.util.Collection<ReplicaId> atOnce = proposalRecipients();
    for (ReplicaId peer : recipients()) {
      List<LogEntry> unacknowledged = new ArrayList<>();
      if (heartbeat && !atOnce.contains(peer)) {
        unacknowledged = lacking(peer, /* overdueOnly= */ true);
        fedAtMillis.put(peer, nowMillis);
        fedAtChosenBytes.put(peer, chosenBytes);
      } else {
        for (InFlight proposal : due) {
          if (!proposal.acceptedBy().contains(peer)) {
            unacknowledged.add(proposal.entry());
          }
        }
      }
      sendAccept(
          peer, new Message.Accept(ballot, unacknowledged, firstUnchosenSlot, nowMillis, probe));
    }
    for (InFlight proposal : due) {
      proposal.lastSentMillis = nowMillis;
    }
  }

  private void onAccepted(ReplicaId from, Message.Accepted accepted) {
    if (role != Role.LEADER || !accepted.ballot().equals(ballot)) {
      return;
    }
    ackedSentAtMillis.merge(from, accepted.echoSentAtMillis(), Math::max);
    ackedProbe.merge(from, accepted.probe(), Math::max);
    peerFirstUnchosen.merge(from, accepted.firstUnchosenSlot(), Math::max);
    ArrayDeque<Long> sends = unansweredSends.get(from);
    while (sends != null && !sends.isEmpty() && sends.peekFirst() <= accepted.echoSentAtMillis()) {
      sends.pollFirst();
    }
    if (!accepted.slots().isEmpty() && accepted.echoSentAtMillis() <= nowMillis) {
      writeTimes
          .computeIfAbsent(from, peer -> new WriteTime())
          .add(nowMillis - accepted.echoSentAtMillis());
    }
    for (long slot : accepted.slots()) {
      InFlight proposal = inFlight.get(slot);
      if (proposal != null
          && proposal.acceptedBy().add(from)
          && chosenBy(slot, proposal.acceptedBy())) {
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
    chosenBytes += proposal.entry().value().sizeBytes();
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
    while (membershipKnown) {
      LogEntry entry = log.get(firstUnchosenSlot);
      if (entry == null || !entry.chosen()) {
        break;
      }
      if (entry.value() instanceof Value.Reconfigure reconfigure) {
        membership =
            membership.with(
                firstUnchosenSlot, effectiveFrom(firstUnchosenSlot), reconfigure.next());
      }
      firstUnchosenSlot++;
    }
    if (role == Role.LEADER && !membership.at(firstUnchosenSlot).isVoter(id)) {
      // Removed: the change is in effect. Hand over: a last heartbeat tells the voters that the
      // change is chosen through its effect, which releases them from this leader at once (see
      // releaseRemovedLeader), and this replica stops leading in the same step, so its lease
      // ends before any of them can promise a successor.
      broadcastAccepts();
      stepDown(NO_LEADER, "leader " + id + " was removed from the configuration");
    } else if (role != Role.LEADER) {
      releaseRemovedLeader();
    }
  }

  /**
   * A follower whose leader is no voter in the configuration of its first unchosen slot (the leader
   * was removed, and said so in its last heartbeat) stops waiting out that leader's lease and
   * campaigns within two heartbeats, so a removed leader's successor is elected in about a round
   * trip instead of a lease plus an election timeout.
   */
  private void releaseRemovedLeader() {
    if (knownLeader == NO_LEADER
        || knownLeader.equals(id)
        || membership.at(firstUnchosenSlot).isVoter(knownLeader)
        || leaderHeardAtMillis == NEVER) {
      return;
    }
    knownLeader = NO_LEADER;
    leaderHeardAtMillis = NEVER;
    electionDeadlineMillis = nowMillis + random.nextLong(2 * config.heartbeatMillis());
  }

  /** The first slot a configuration chosen in {@code slot} governs (Membership's rule). */
  private long effectiveFrom(long slot) {
    return slot + config.rules().reconfigurationDelaySlots();
  }

  /** Votes that choose a value in a configuration: a majority, by the rules. */
  private int quorum(Configuration configuration) {
    return config.rules().quorum(configuration.majority());
  }

  /** Whether {@code acceptors} include a quorum of the voters of {@code slot}'s configuration. */
  private boolean chosenBy(long slot, Set<ReplicaId> acceptors) {
    Configuration governing = membership.at(slot);
    int votes = 0;
    for (ReplicaId acceptor : acceptors) {
      if (governing.isVoter(acceptor)) {
        votes++;
      }
    }
    return votes >= quorum(governing);
  }

  /**
   * Everyone who must hear this leader: the voters and learners of every configuration that governs
   * a slot from the first unchosen one on, except this replica.
   */
  private Set<ReplicaId> recipients() {
    TreeSet<ReplicaId> all = new TreeSet<>();
    for (Configuration governing : membership.governingFrom(firstUnchosenSlot)) {
      all.addAll(governing.members());
    }
    all.remove(id);
    return all;
  }

  private void emitApplies() {
    while (nextToApplySlot < firstUnchosenSlot) {
      LogEntry entry = log.get(nextToApplySlot);
      Check.that(
          entry != null && entry.chosen(),
          "replica %s: slot %s is below the first unchosen slot %s but not chosen in the log",
          id,
          nextToApplySlot,
          firstUnchosenSlot);
      out.toApply.add(entry);
      nextToApplySlot++;
    }
  }

  private void maybeRequestCatchUp(ReplicaId source) {
    if (!java.util.Objects.equals(catchUpSource, source)) {
      unansweredCatchUps = 0;
    }
    if ((firstUnchosenSlot < knownChosenBelowSlot || !membershipKnown)
        && nowMillis - lastCatchUpRequestMillis >= catchUpRetryMillis()) {
      requestCatchUp(source);
    }
  }

  /**
   * How long after the last catch-up request the next may be sent: the configured interval, doubled
   * for every further request without a reply, at most {@code 1 <<} {@value
   * #MAX_CATCH_UP_DOUBLINGS} times it.
   */
  long catchUpRetryMillis() {
    int doublings = Math.max(0, Math.min(unansweredCatchUps - 1, MAX_CATCH_UP_DOUBLINGS));
    return config.catchUpRetryMillis() << doublings;
  }

  private void requestCatchUp(ReplicaId source) {
    if (source == NO_LEADER || source.equals(id)) {
      return;
    }
    if (!java.util.Objects.equals(catchUpSource, source)) {
      catchUpSource = source;
      unansweredCatchUps = 0;
    }
    lastCatchUpRequestMillis = nowMillis;
    unansweredCatchUps++;
    send(source, new Message.CatchUpRequest(promised, membershipKnown ? firstUnchosenSlot : 0));
  }

  // ---------------------------------------------------------------------------------------------
  // Leases and reads

  /**
   * The latest local time {@code t} such that a quorum (counting this replica, which acknowledges
   * itself at {@code self}) acknowledged something sent at or after {@code t}; MIN_VALUE if none.
   */
  private long quorumAcknowledged(Map<ReplicaId, Long> acknowledged, long self) {
    // Every configuration that governs a slot from the first unchosen one on must acknowledge: a
    // rival may need a quorum of any of them, so the lease and reads hold only against all.
    long earliest = Long.MAX_VALUE;
    for (Configuration governing : membership.governingFrom(firstUnchosenSlot)) {
      List<Long> values = new ArrayList<>();
      for (ReplicaId voter : governing.voters().keySet()) {
        Long value = voter.equals(id) ? Long.valueOf(self) : acknowledged.get(voter);
        if (value != null) {
          values.add(value);
        }
      }
      int needed = quorum(governing);
      if (values.size() < needed) {
        return Long.MIN_VALUE;
      }
      values.sort((a, b) -> Long.compare(b, a));
      earliest = Math.min(earliest, values.get(needed - 1));
    }
    return earliest;
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

  private ReplicaId knownLeaderHint() {
    return knownLeader;
  }

  private void writeEntry(LogEntry entry) {
    Check.that(
        entry.slot() > snapshot.slot(),
        "replica %s writes slot %s below its snapshot at %s",
        id,
        entry.slot(),
        snapshot.slot());
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

  private void send(ReplicaId to, Message message) {
    out.messages.add(new Envelope(id, to, message));
  }

  /**
   * An Accept of this leader's ballot promises nothing on behalf of this replica's acceptor — its
   * chosen prefix counts only durable acceptances — so in parallel mode it may leave before the
   * step's persist is durable.
   */
  private void sendAccept(ReplicaId to, Message.Accept accept) {
    if (!accept.entries().isEmpty()) {
      ArrayDeque<Long> sends = unansweredSends.computeIfAbsent(to, peer -> new ArrayDeque<>());
      if (sends.size() < MAX_UNANSWERED_SENDS
          && (sends.isEmpty() || sends.peekLast() != accept.sentAtMillis())) {
        sends.addLast(accept.sentAtMillis());
      }
    }
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
