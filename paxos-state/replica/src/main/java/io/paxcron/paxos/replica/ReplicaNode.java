package io.paxcron.paxos.replica;

import io.paxcron.paxos.Command;
import io.paxcron.paxos.DurableState;
import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.LogEntry;
import io.paxcron.paxos.Message;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.PaxosReplica;
import io.paxcron.paxos.Ready;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.SessionStateMachine;
import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.StateMachine;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * The shell around one {@link PaxosReplica}, on two threads. The <em>consensus</em> thread owns the
 * core (a peer's message that the network reads with nothing behind it may instead be stepped on
 * the network's thread while the consensus thread is idle: {@link SerialThread}, steps never
 * overlap and keep their order): it feeds it every input (peer messages, ticks, write completions,
 * proposals and reads once built) and carries out each {@link Ready} in its contract's order —
 * writes go to {@link Durability}'s own writer, except a step's that has nothing to send before it
 * and no input queued behind it, which the store may make on this thread ({@link
 * Durability#writeHere}) — and messages are released only once those writes are durable, in order.
 * The <em>loop</em> thread owns the state machine: it applies the chosen entries each released
 * {@link Ready} hands it (in the order of the steps), answers proposals and reads, and runs the
 * host's tasks ({@link #runOnLoop}: the leader's dispatcher, queries, the stamping of proposals). A
 * long host task or a large command applied therefore never delays a heartbeat, an acknowledgement
 * or an election: on a loaded machine the two shared one thread, and tasks of hundreds of
 * milliseconds cost leaders their lease (docs/performance.md). One exception saves a wake-up on
 * every command's path: a step that releases chosen entries while no input waits for the core and
 * the loop is idle applies them and answers their clients itself, in the loop's turn, for at most
 * {@link #APPLY_HERE_SLICE_NANOS}; the rest, and the applied-listeners, go to the loop.
 *
 * <p>Threading: public methods may be called from any thread; they hand work to one of the two
 * threads. The core and the maps of the steps are touched by the consensus thread only; the state
 * machine, pending proposals and reads by the loop only. What the loop needs of the core — whether
 * it leads, under which ballot, until when its lease holds, its first unchosen slot — the consensus
 * thread publishes after every step ({@link #leadershipOnLoop}); the lease is published as its
 * expiry, so the loop judges it against the clock when it asks, never from a stale yes. Both
 * threads hand work to each other through FIFO queues, so the order of the core's steps is the
 * order in which the loop applies and answers them.
 *
 * <p>A snapshot is taken on the loop as an image ({@link SessionStateMachine#image()}: a walk of
 * the state, no encoding) and encoded on the replica's snapshot thread while the loop goes on; the
 * encoded snapshot goes to the consensus thread, which hands it to the core, and the core truncates
 * the log in the same durable write that installs the snapshot. Errors: a failed durable write is
 * fatal — the node stops and reports through {@code onFatal}; a restarted replica is safer than one
 * that continues after its disk failed.
 */
public final class ReplicaNode implements AutoCloseable {

  /** The log between snapshots is at least this many times the last snapshot's size. */
  static final long SNAPSHOT_LOG_RATIO = 4;

  /** A snapshot is never due after fewer applied payload bytes than this (unless by entries). */
  static final long MIN_SNAPSHOT_EVERY_BYTES = 4L << 20;

  /** The outcome of a proposal, as the state machine answered it. */
  public record Applied(long slot, byte[] result) {}

  /** The outcome of a read: the state machine's answer after applying through {@code slot}. */
  public record ReadResult(long slot, byte[] answer) {}

  /**
   * What a status request sees, as the status RPC and the metrics report it: ids as numbers, and
   * {@code leaderId} -1 when this replica knows no leader.
   */
  public record Status(
      int replicaId,
      PaxosReplica.Role role,
      long ballotRound,
      int ballotReplica,
      int leaderId,
      long firstUnchosenSlot,
      long appliedSlot,
      long snapshotSlot,
      boolean holdsLease) {}

  /** A replica that is not the leader, or lost leadership before the command was chosen here. */
  public static final class NotLeaderException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int leaderHint;

    public NotLeaderException(int leaderHint, String reason) {
      super(reason + (leaderHint >= 0 ? "; leader is replica " + leaderHint : "; leader unknown"));
      this.leaderHint = leaderHint;
    }

    public int leaderHint() {
      return leaderHint;
    }
  }

  /**
   * This replica learned that a chosen membership change removed it, and the change is in effect:
   * it stops (the message says which configuration removed it and what to do).
   */
  public static final class RemovedFromClusterException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RemovedFromClusterException(String message) {
      super(message);
    }
  }

  /** The replica stopped (storage failure or shutdown) and cannot take the request. */
  public static final class ReplicaStoppedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ReplicaStoppedException(String reason) {
      super(reason);
    }
  }

  private final ReplicaSettings settings;
  private final Durability durability;
  private final PeerNetwork network;
  private final BackupSink backups;
  private final Consumer<Throwable> onFatal;
  private final Function<byte[], byte[]> query;
  private final SessionStateMachine sessions;
  private final SerialThread loop;

  /** The thread of the core: messages, ticks, write completions, proposals and reads. */
  private final SerialThread consensus;

  /** The consensus thread's queue, read by the tick to see whether messages wait behind it. */
  private final java.util.concurrent.BlockingQueue<Runnable> consensusQueue =
      new java.util.concurrent.LinkedBlockingQueue<>();

  /** Whether a tick is queued: ticks that would pile up behind a long task coalesce. */
  private final java.util.concurrent.atomic.AtomicBoolean tickQueued =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Wakes the core for its tick: at most every {@code tickMillis}, and only from the local time the
   * core has work in its tick ({@link PaxosReplica#tickDueAtMillis}) — every interval on a leader,
   * at the election deadline or the next catch-up request on the others. A fixed-rate tick woke
   * every replica's ticker and consensus threads 200 times a second, followers included, whose
   * ticks had nothing to do but watch a deadline hundreds of milliseconds away
   * (docs/architecture.md, "Ticks on demand").
   */
  private final Thread ticker;

  /** From when the core's tick has work (its clock), published after every step. */
  private volatile long tickDueAtMillis = Long.MIN_VALUE;

  /** When the ticker last handed a tick to the core (its clock). */
  private volatile long lastTickAtMillis;

  /**
   * When the ticker will wake (its clock), or {@code Long.MAX_VALUE} while it decides: a step that
   * moves the due time earlier wakes it at once.
   */
  private volatile long tickerWakesAtMillis = Long.MAX_VALUE;

  /** Encodes snapshot images off the loop, one at a time. */
  private final ExecutorService snapshotEncoder;

  /** The longest a loop task applies before it leaves the rest to a later task: 5 ms. */
  static final long APPLY_SLICE_NANOS = 5_000_000;

  /**
   * The longest a step of the core applies chosen entries itself, in the loop's turn, before it
   * leaves the rest to the loop: 1 ms (see {@link #release}).
   */
  static final long APPLY_HERE_SLICE_NANOS = 1_000_000;

  private final long startNanos = System.nanoTime();

  // Consensus-thread state.
  private PaxosReplica replica;
  private final ArrayDeque<Held> held = new ArrayDeque<>();

  /** How many of {@link #held} the consensus thread sends messages for when it releases them. */
  private int heldReleaseSends;

  private long readySequence;
  private long durableThrough;
  private CompletableFuture<Void> lastWrite = CompletableFuture.completedFuture(null);
  private boolean wasLeader;
  private boolean removalReported;
  private PaxosReplica.RoleChange observedRoleChange;
  private PaxosReplica.QuorumChange observedQuorumChange;
  private int observedLeader = -1;
  private long observedFirstUnchosen = -1;

  /** The slot of the newest membership change already reported to the observer; -1 before any. */
  private long observedChangeSlot = -1;

  private io.paxcron.paxos.Membership observedMembership;

  /** The first unchosen slot the peers were last taken at. */
  private long governingTakenAt = -1;

  /**
   * The first slot from which {@link #observedMembership} governs differently than at {@link
   * #governingTakenAt} (the next epoch's start), or {@code Long.MAX_VALUE}.
   */
  private long governingChangesAt;

  private Map<Integer, String> observedPeers;

  // Loop-thread state.
  /** What {@link #atEndOfLoopTask} was given during the running loop task. */
  private final java.util.List<Runnable> taskEndActions = new java.util.ArrayList<>();

  /** Chosen entries not yet applied (see {@link #applySome}); the head may be applied in part. */
  private final ArrayDeque<LogEntry> toApply = new ArrayDeque<>();

  /**
   * Tasks that read the state machine (the host's tasks, proposals it stamps), held back while the
   * state holds part of a command applied in steps and run in their order once it is whole.
   */
  private final ArrayDeque<Runnable> deferred = new ArrayDeque<>();

  /** Whether a task to go on applying is queued on the loop. */
  private boolean applyQueued;

  /** Whether a task to run the applied-listeners is queued on the loop. */
  private boolean listenersQueued;

  /** Time the current loop task spent applying entries to the state machine. */
  private long applyNanosInTask;

  /** Time the current loop task spent in the applied-listeners (the host's dispatcher). */
  private long listenerNanosInTask;

  /**
   * Proposals waiting for their answer, by session and sequence: a client may pipeline several
   * sequences of one session (the leader's dispatcher does), and each is answered when its command
   * is applied (every chosen command is, a stale retry included) or rejected, or fails when
   * leadership is lost.
   */
  private final Map<ProposalKey, PendingProposal> pendingProposals = new HashMap<>();

  private final Map<Long, ReadTask> pendingReads = new HashMap<>();
  private final ArrayDeque<ConfirmedRead> confirmedReads = new ArrayDeque<>();
  private final java.util.List<Runnable> appliedListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private long nextReadId = 1;
  private long appliedSinceSnapshot;
  private long bytesSinceSnapshot;

  /** The size of the last snapshot this replica took; unknown (the largest) before the first. */
  private volatile long lastSnapshotBytes = Long.MAX_VALUE;

  /** Whether an image is being encoded; the next is taken only after the core took this one. */
  private boolean snapshotEncoding;

  private long observedApplied = -1;
  private int observedPending;

  // Published by one thread, read by the other (and by callers).
  private volatile boolean stopped;

  /** The core as of the consensus thread's last step (see {@link #leadershipOnLoop}). */
  private volatile CoreView view;

  /** The last slot the loop applied whole. */
  private volatile long appliedSlot;

  private volatile Status lastStatus;
  private volatile ReplicaObserver observer = ReplicaObserver.NONE;
  private volatile io.paxcron.paxos.Membership lastMembership;

  /**
   * What the consensus thread publishes of the core after each step.
   *
   * @param leaseExpiresAtMillis the replica clock's reading at which the leader's lease ends
   * @param stepsHeld whether steps await their writes (entries chosen but not yet handed over)
   */
  private record CoreView(
      boolean leader,
      io.paxcron.paxos.Ballot ballot,
      int knownLeader,
      long leaseExpiresAtMillis,
      long firstUnchosenSlot,
      long snapshotSlot,
      boolean stepsHeld,
      Map<ReplicaId, Long> peerProgress) {}

  /**
   * A step waiting to be released. {@code sentOnSync}: its after-persist messages leave from the
   * thread that learns its write durable, not from the consensus thread when it is released.
   */
  private record Held(long sequence, Ready ready, boolean needsOwnWrite, boolean sentOnSync) {

    /** Whether the consensus thread sends messages of this step when it releases it. */
    boolean sendsOnRelease() {
      return !sentOnSync && !ready.messagesAfterPersist().isEmpty();
    }
  }

  private record PendingProposal(long sequence, CompletableFuture<Applied> future) {}

  private record ProposalKey(long clientId, long sequence) {}

  /** A read waiting for the leader's confirmation, then answered on the loop. */
  private interface ReadTask {
    void answer(long slot);

    void fail(RuntimeException error);
  }

  private record ConfirmedRead(ReadTask task, long slot) {}

  public ReplicaNode(
      ReplicaSettings settings,
      Durability durability,
      PeerNetwork network,
      BackupSink backups,
      StateMachine stateMachine,
      Function<byte[], byte[]> query,
      Consumer<Throwable> onFatal) {
    this.settings = settings;
    this.durability = durability;
    this.network = network;
    this.backups = backups;
    this.query = query;
    this.onFatal = onFatal;
    this.sessions = new SessionStateMachine(stateMachine, settings.maxSessions());
    this.loop =
        new SerialThread(
            "replica-" + settings.paxos().replicaId() + "-loop",
            new java.util.concurrent.LinkedBlockingQueue<>());
    this.consensus =
        new SerialThread("replica-" + settings.paxos().replicaId() + "-consensus", consensusQueue);
    this.ticker = new Thread(this::runTicker, "replica-" + settings.paxos().replicaId() + "-tick");
    this.ticker.setDaemon(true);
    this.snapshotEncoder =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread thread =
                  new Thread(r, "replica-" + settings.paxos().replicaId() + "-snapshot");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Loads durable state, restores the state machine, and starts the threads, network and ticks. */
  public void start() {
    DurableState durable =
        CompletableFuture.supplyAsync(
                () -> {
                  DurableState loaded = durability.load();
                  sessions.restore(loaded.snapshot());
                  // Restored: the image is read back from the store if a peer needs it.
                  loaded.snapshot().image().dropFromMemory();
                  appliedSlot = sessions.appliedThroughSlot();
                  return loaded;
                },
                loop)
            .join();
    CompletableFuture<Void> started = new CompletableFuture<>();
    consensus.execute(
        () -> {
          try {
            PaxosConfig paxos = settings.paxos();
            RandomGenerator random = new SplittableRandom(new SecureRandom().nextLong());
            replica =
                new PaxosReplica(
                    paxos,
                    random,
                    durable,
                    durable.snapshot().slot(),
                    PaxosReplica.LeaderWrites.IN_PARALLEL);
            network.start(
                (from, message, mayRunHere) ->
                    onConsensus("message", mayRunHere, () -> onMessage(from, message)));
            process(replica.start(nowMillis()));
            started.complete(null);
          } catch (RuntimeException e) {
            started.completeExceptionally(e);
          }
        });
    started.join();
    lastTickAtMillis = nowMillis();
    ticker.start();
  }

  /**
   * The ticker thread: hands the core a tick once {@code tickMillis} passed since the last and the
   * core's tick is due, and otherwise sleeps until then, or until a step moves the due time earlier
   * ({@link #publishTickDue}).
   */
  private void runTicker() {
    long interval = settings.tickMillis();
    while (!stopped) {
      long next = Math.max(lastTickAtMillis + interval, tickDueAtMillis);
      long now = nowMillis();
      if (now >= next) {
        lastTickAtMillis = now;
        if (tickQueued.compareAndSet(false, true)
            && !onConsensus("tick", () -> tick(/* deferred= */ false))) {
          tickQueued.set(false);
        }
        continue;
      }
      tickerWakesAtMillis = next;
      // The consensus thread writes the due time before it reads the wake time, and this thread
      // the other way round: one of the two sees the other's write, so no earlier due is missed.
      if (Math.max(lastTickAtMillis + interval, tickDueAtMillis) < next) {
        continue;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(
          startNanos + next * 1_000_000 - System.nanoTime());
      tickerWakesAtMillis = Long.MAX_VALUE;
    }
  }

  /** After a step: tells the ticker when the core's tick is due, waking it if that is earlier. */
  private void publishTickDue() {
    long due = replica.tickDueAtMillis();
    if (due == tickDueAtMillis) {
      return;
    }
    tickDueAtMillis = due;
    if (Math.max(due, lastTickAtMillis + settings.tickMillis()) < tickerWakesAtMillis) {
      java.util.concurrent.locks.LockSupport.unpark(ticker);
    }
  }

  /**
   * Reports this replica's work to {@code observer} from now on (see {@link ReplicaObserver}), as
   * well as to the observers added before. Call before {@link #start} to miss nothing.
   */
  public synchronized void observe(ReplicaObserver observer) {
    java.util.Objects.requireNonNull(observer, "observer");
    this.observer =
        this.observer == ReplicaObserver.NONE
            ? observer
            : ReplicaObserver.both(this.observer, observer);
  }

  /**
   * Proposes a client command; completes when it is applied here, or with why not. The calls of one
   * thread reach the core in their order; {@link #proposeBuilt} goes by the loop first, so one
   * session's commands should all be proposed the same way.
   */
  public CompletableFuture<Applied> propose(long clientId, long sequence, byte[] payload) {
    return propose(clientId, sequence, payload, /* mayStepHere= */ false);
  }

  /**
   * As {@link #propose(long, long, byte[])}; when {@code mayStepHere} and the consensus thread is
   * idle, the calling thread takes the proposal's step itself — and, for a lone command on an idle
   * leader, writes it (see {@link #aLoneCommand}) — sparing the consensus thread's wake-up, as a
   * peer's message read on an idle replica is. For a thread that reads commands off a socket and
   * has nothing more read behind this one; not for a pooled thread that must return quickly.
   */
  public CompletableFuture<Applied> propose(
      long clientId, long sequence, byte[] payload, boolean mayStepHere) {
    CompletableFuture<Applied> future = new CompletableFuture<>();
    Command command;
    try {
      if (sequence < 1) {
        throw new IllegalArgumentException("sequence must be >= 1, got " + sequence);
      }
      command = new Command(clientId, sequence, payload);
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
      return future;
    }
    // A payload that reads nothing of the state goes straight to the core, one thread hand-off
    // fewer on every command's path. The loop learns of the proposal before it learns of anything
    // the core does with it: the registration runs first — on the loop's turn, here when the loop
    // is idle, else through its queue ahead of everything the step hands it.
    if (!onConsensus(
        "propose",
        mayStepHere,
        () -> {
          if (replica.role() != PaxosReplica.Role.LEADER) {
            observer.onProposalFailed();
            future.completeExceptionally(
                new NotLeaderException(number(replica.knownLeader()), "not the leader"));
            return;
          }
          if (!submit(
              "register",
              /* readsState= */ false,
              /* mayRunHere= */ true,
              () -> register(clientId, sequence, future))) {
            future.completeExceptionally(new ReplicaStoppedException("replica stopped"));
            return;
          }
          process(replica.propose(nowMillis(), command));
        })) {
      future.completeExceptionally(new ReplicaStoppedException("replica stopped"));
    }
    return future;
  }

  /**
   * Proposes a command whose payload is built on the loop thread, where it may read the state
   * machine — the leader stamping job changes with its clock and choosing {@code ?} values.
   */
  public CompletableFuture<Applied> proposeBuilt(
      long clientId, long sequence, java.util.function.Supplier<byte[]> payload) {
    CompletableFuture<Applied> future = new CompletableFuture<>();
    if (sequence < 1) {
      future.completeExceptionally(
          new IllegalArgumentException("sequence must be >= 1, got " + sequence));
      return future;
    }
    if (!submit(
        "propose",
        /* readsState= */ true,
        () -> {
          CoreView core = view;
          if (core == null || !core.leader()) {
            // The core would refuse it too; refusing first saves building the payload (the
            // leader's stamping of a whole Apply batch) on a replica that cannot propose it.
            observer.onProposalFailed();
            future.completeExceptionally(
                new NotLeaderException(core == null ? -1 : core.knownLeader(), "not the leader"));
            return;
          }
          Command command;
          try {
            command = new Command(clientId, sequence, payload.get());
          } catch (RuntimeException e) {
            future.completeExceptionally(e);
            return;
          }
          register(clientId, sequence, future);
          // The core may have stepped down since it published the view: it then rejects the
          // command, and the rejection comes back to the loop like any step's.
          if (!onConsensus("propose", () -> process(replica.propose(nowMillis(), command)))) {
            pendingProposals.remove(new ProposalKey(clientId, sequence));
            future.completeExceptionally(new ReplicaStoppedException("replica stopped"));
          }
        })) {
      future.completeExceptionally(new ReplicaStoppedException("replica stopped"));
    }
    return future;
  }

  /** Records a proposal made here, to answer it once applied or rejected (loop thread). */
  private void register(long clientId, long sequence, CompletableFuture<Applied> future) {
    PendingProposal previous =
        pendingProposals.put(
            new ProposalKey(clientId, sequence), new PendingProposal(sequence, future));
    if (previous != null && previous.future() != future) {
      // The same sequence proposed again (a retry): the newest call gets the answer.
      observer.onProposalFailed();
      previous
          .future()
          .completeExceptionally(
              new IllegalStateException("superseded by a retry of sequence " + sequence));
    }
  }

  /** A linearizable read: answered by the leader under its lease after quorum confirmation. */
  public CompletableFuture<ReadResult> read(byte[] request) {
    return readOnLoop(slot -> new ReadResult(slot, query.apply(request)));
  }

  /**
   * A linearizable read whose {@code query} runs on the loop thread, against the state machine
   * applied through the confirmed slot it is given, once the leader holds its lease and a quorum
   * confirmed its ballot after the read arrived.
   */
  public <T> CompletableFuture<T> readOnLoop(java.util.function.LongFunction<T> query) {
    CompletableFuture<T> future = new CompletableFuture<>();
    ReadTask task =
        new ReadTask() {
          @Override
          public void answer(long slot) {
            try {
              future.complete(query.apply(slot));
            } catch (RuntimeException e) {
              future.completeExceptionally(e);
            }
          }

          @Override
          public void fail(RuntimeException error) {
            future.completeExceptionally(error);
          }
        };
    if (!submit(
        "read",
        () -> {
          long readId = nextReadId++;
          pendingReads.put(readId, task);
          if (!onConsensus("read", () -> process(replica.read(nowMillis(), readId)))) {
            pendingReads.remove(readId);
            task.fail(new ReplicaStoppedException("replica stopped"));
          }
        })) {
      future.completeExceptionally(new ReplicaStoppedException("replica stopped"));
    }
    return future;
  }

  /**
   * Calls {@code listener} on the loop thread after every step that applied entries, until the
   * returned handle is closed. The listener must return quickly.
   */
  public AutoCloseable onApplied(Runnable listener) {
    appliedListeners.add(listener);
    return () -> appliedListeners.remove(listener);
  }

  /**
   * What a leader-side driver (the cron dispatcher) needs to know, read on the loop thread at this
   * moment.
   *
   * @param leader whether this replica leads
   * @param ballot the ballot it leads under (meaningful only when {@code leader})
   * @param leaseValid whether its leader lease holds now
   * @param caughtUp whether every entry it knows chosen is applied and no step awaits its writes
   */
  public record Leadership(
      boolean leader, io.paxcron.paxos.Ballot ballot, boolean leaseValid, boolean caughtUp) {}

  /**
   * Runs {@code action} on the loop thread once the loop task running now has ended — after every
   * proposal that task answers — so that a caller answering the proposals of one applied batch can
   * gather their replies and send them at once. Returns false, running nothing, when not called on
   * the loop thread.
   */
  public boolean atEndOfLoopTask(Runnable action) {
    if (!loop.runningHere()) {
      return false;
    }
    taskEndActions.add(action);
    return true;
  }

  /**
   * Runs {@code task} on the loop thread, after the work already queued; returns false if the
   * replica stopped. A task that throws stops the replica (as any loop failure does).
   */
  public boolean runOnLoop(Runnable task) {
    return runOnLoop("runOnLoop", task);
  }

  /**
   * {@link #runOnLoop(Runnable)}, with the {@code kind} the observer is told of the task ({@link
   * ReplicaObserver#onLoopTask}), so that a long one can be told apart in the operator's log.
   */
  public boolean runOnLoop(String kind, Runnable task) {
    return submit(kind, /* readsState= */ true, task);
  }

  /**
   * This replica's leadership as of now: the core's view as of its last step, the lease judged
   * against the clock now, and whether the loop applied all the core knew chosen. Must be called on
   * the loop thread (from {@link #runOnLoop} or a listener).
   */
  public Leadership leadershipOnLoop() {
    CoreView core = view;
    if (core == null) {
      return new Leadership(false, io.paxcron.paxos.Ballot.ZERO, false, false);
    }
    return new Leadership(
        core.leader(),
        core.ballot(),
        core.leader() && nowMillis() < core.leaseExpiresAtMillis(),
        !core.stepsHeld()
            && toApply.isEmpty()
            && sessions.appliedThroughSlot() == core.firstUnchosenSlot() - 1);
  }

  /**
   * Whether this replica leads under {@code ballot} with its lease valid now, from the core's view
   * as of its last step; any thread (the leader's agent-heartbeat path reads it off the loop).
   */
  public boolean leaseValidUnder(io.paxcron.paxos.Ballot ballot) {
    CoreView core = view;
    return core != null
        && core.leader()
        && core.ballot().equals(ballot)
        && nowMillis() < core.leaseExpiresAtMillis();
  }

  /**
   * The image of the state machine (with its sessions) as applied so far, at the last applied slot
   * — what a backup ships, taken on demand rather than at the snapshot cadence. It does not
   * truncate the log. Must be called on the loop thread (from {@link #runOnLoop}); encode it on
   * another thread ({@link SessionStateMachine.Image#encode}).
   */
  public SessionStateMachine.Image imageOnLoop() {
    finishEntry();
    return sessions.image();
  }

  /**
   * Asks this replica, as leader, to change the configuration by one step (docs/membership.md).
   * Completes, once the core decided, with the outcome: accepted (proposed; it takes effect once
   * chosen, by the α-window rule) or refused with the reason. Nothing changes on a refusal.
   */
  public CompletableFuture<PaxosReplica.Reconfiguration> reconfigure(
      io.paxcron.paxos.Configuration.Change change) {
    CompletableFuture<PaxosReplica.Reconfiguration> future = new CompletableFuture<>();
    if (!onConsensus(
        "reconfigure",
        () -> {
          PaxosReplica.Reconfiguration outcome = replica.reconfigure(nowMillis(), change);
          process(outcome.ready());
          future.complete(outcome);
        })) {
      future.completeExceptionally(new ReplicaStoppedException("replica stopped"));
    }
    return future;
  }

  /**
   * The configurations as this replica knew them after the loop's last step (null before start);
   * the one governing its first unchosen slot is {@code
   * membership().at(status().firstUnchosenSlot())}.
   */
  public io.paxcron.paxos.Membership membership() {
    return lastMembership;
  }

  /**
   * The first unchosen slot each peer last reported, as the leader saw it at its last step (empty
   * on a follower).
   */
  public Map<ReplicaId, Long> peerProgress() {
    CoreView core = view;
    return core == null ? Map.of() : core.peerProgress();
  }

  /** The replica's state as of the loop's last step (never blocks on the loop). */
  public Status status() {
    Status status = lastStatus;
    return status != null
        ? new Status(
            status.replicaId(),
            status.role(),
            status.ballotRound(),
            status.ballotReplica(),
            status.leaderId(),
            status.firstUnchosenSlot(),
            appliedSlot,
            status.snapshotSlot(),
            status.holdsLease())
        : new Status(
            settings.paxos().replicaId().value(),
            PaxosReplica.Role.FOLLOWER,
            0,
            0,
            -1,
            1,
            0,
            0,
            false);
  }

  public boolean stopped() {
    return stopped;
  }

  @Override
  public void close() {
    stopped = true;
    java.util.concurrent.locks.LockSupport.unpark(ticker);
    snapshotEncoder.shutdownNow();
    // The consensus thread first: what it still runs may hand the loop work.
    consensus.shutdown();
    try {
      if (!consensus.awaitTermination(5, TimeUnit.SECONDS)) {
        consensus.shutdownNow();
      }
      loop.shutdown();
      if (!loop.awaitTermination(5, TimeUnit.SECONDS)) {
        loop.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      loop.shutdownNow();
    }
    try {
      network.close();
    } catch (Exception e) {
      // Closing is best effort; the process is going away.
    }
    try {
      durability.close();
    } catch (Exception e) {
      // Same: nothing more can be done about a failing close.
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Handing work to the two threads

  /** A loop task of the replica itself (applying, answering), which no deferral holds back. */
  private boolean submit(String kind, Runnable task) {
    return submit(kind, /* readsState= */ false, task);
  }

  /**
   * Queues {@code task} on the loop. One that {@code readsState} waits, while the state machine
   * holds part of a command applied in steps, until the command is whole (see {@link #deferred});
   * the replica's own tasks — applying, answering — go on meanwhile.
   */
  private boolean submit(String kind, boolean readsState, Runnable task) {
    return submit(kind, readsState, /* mayRunHere= */ false, task);
  }

  /**
   * As {@link #submit(String, boolean, Runnable)}; a task that {@code mayRunHere} runs on the
   * calling thread instead, in the loop's turn, when the loop is idle (see {@link #release}).
   */
  private boolean submit(String kind, boolean readsState, boolean mayRunHere, Runnable task) {
    if (stopped) {
      return false;
    }
    Runnable loopTask =
        () -> {
          if (stopped) {
            return;
          }
          if (readsState && (sessions.midCommand() || !deferred.isEmpty())) {
            deferred.add(() -> runTask(kind, task));
            return;
          }
          runTask(kind, task);
          runDeferred();
          runTaskEndActions();
        };
    try {
      if (mayRunHere) {
        loop.runHereIfIdle(loopTask);
      } else {
        loop.execute(loopTask);
      }
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  /** Queues {@code task} on the consensus thread; returns false if the replica stopped. */
  private boolean onConsensus(String kind, Runnable task) {
    return onConsensus(kind, /* mayRunHere= */ false, task);
  }

  /**
   * As {@link #onConsensus(String, Runnable)}; a task that {@code mayRunHere} runs on the calling
   * thread instead when the consensus thread is idle (a peer's message read by a socket's selector
   * thread with nothing read behind it: see {@link ConsensusThread}).
   */
  private boolean onConsensus(String kind, boolean mayRunHere, Runnable task) {
    if (stopped) {
      return false;
    }
    Runnable step =
        () -> {
          if (stopped) {
            return;
          }
          long started = System.nanoTime();
          try {
            task.run();
          } catch (RuntimeException e) {
            fatal(e);
          }
          observer.onConsensusTask(kind, System.nanoTime() - started);
        };
    try {
      if (mayRunHere) {
        consensus.runHereIfIdle(step);
      } else {
        consensus.execute(step);
      }
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Consensus thread

  /**
   * The core's tick, which decides elections and a leader's step-down by the time since it last
   * heard from the others. After a long task (a stalled process, a large write handed over) the
   * tick is often dequeued ahead of heartbeats and acknowledgements that arrived meanwhile; it then
   * goes once to the back of the queue, so the core hears them before it judges the silence, and a
   * busy but healthy cluster does not elect a new leader over messages it had already received.
   */
  private void tick(boolean deferred) {
    if (!deferred && !consensusQueue.isEmpty()) {
      onConsensus("tick", () -> tick(/* deferred= */ true));
      return;
    }
    tickQueued.set(false);
    process(replica.tick(nowMillis()));
  }

  private long nowMillis() {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  private void onMessage(int from, Message message) {
    if (message instanceof Message.Accepted accepted && accepted.echoSentAtMillis() > 0) {
      observer.onPeerRoundTrip(from, nowMillis() - accepted.echoSentAtMillis());
    }
    process(replica.onMessage(nowMillis(), ReplicaId.of(from), message));
  }

  /**
   * Whether a leader's step proposes a single command and nothing else is in flight or waiting for
   * the window: one client's command at a time, not a load the writer should group.
   */
  private boolean aLoneCommand(Ready ready) {
    if (replica.pendingCommandCount() != 0 || replica.inFlightSlotCount() != 1) {
      return false;
    }
    int commands = 0;
    for (io.paxcron.paxos.LogEntry entry : ready.persist().entries()) {
      if (!entry.chosen()) {
        if (!(entry.value() instanceof io.paxcron.paxos.Value.Batch batch)) {
          return false;
        }
        commands += batch.commands().size();
      }
    }
    return commands == 1;
  }

  private void process(Ready ready) {
    long sequence = ++readySequence;
    boolean needsOwnWrite = !ready.persist().isEmpty() && !ready.persist().learnedOnly();
    // A step's after-persist messages (a follower's Accepted, above all) may leave as soon as its
    // write is durable. They leave from the thread that learns it, without waiting for this thread
    // to take the step back, unless this thread still has to send messages of an earlier step:
    // then they wait their turn, so messages leave in the order of their steps. Writes complete in
    // order, so those sent on sync keep it among themselves.
    boolean sentOnSync =
        needsOwnWrite && !ready.messagesAfterPersist().isEmpty() && heldReleaseSends == 0;
    Held step = new Held(sequence, ready, needsOwnWrite, sentOnSync);
    held.add(step);
    if (step.sendsOnRelease()) {
      heldReleaseSends++;
    }
    boolean sentBeforeWrite = false;
    if (!ready.persist().isEmpty()) {
      // With nothing to send before the write and no input waiting behind this step, this thread
      // would only hand the write over and wait: the store may write it here (when no earlier write
      // is outstanding), sparing the wake-ups of its writer and of this thread for the notice. A
      // follower's Accept at low load is the common case; with inputs queued, writes go to the
      // writer, which groups them while this thread goes on. A leader's proposal of a lone
      // command with nothing else in flight or waiting (one client's) is written here too, once
      // its Accepts have left, so its sync overlaps the peers'; a proposal of several commands
      // means load, and goes to the writer: this thread then takes the Accepteds and commands
      // that arrive during the sync (docs/performance.md, twenty-second round).
      boolean mayWriteHere =
          consensusQueue.isEmpty()
              && (ready.messagesBeforePersist().isEmpty()
                  || (needsOwnWrite && aLoneCommand(ready)));
      if (mayWriteHere && !ready.messagesBeforePersist().isEmpty()) {
        for (Envelope envelope : ready.messagesBeforePersist()) {
          network.send(envelope);
        }
        sentBeforeWrite = true;
      }
      lastWrite =
          mayWriteHere ? durability.writeHere(ready.persist()) : durability.write(ready.persist());
      boolean durableHere = mayWriteHere && lastWrite.isDone();
      lastWrite.whenComplete(
          (ok, error) -> {
            if (error != null) {
              fatal(error);
            } else {
              if (sentOnSync && !stopped) {
                for (Envelope envelope : ready.messagesAfterPersist()) {
                  network.send(envelope);
                }
              }
              if (ready.persist().snapshot() != null) {
                // Durable: the core's copy is read back from the store when a peer needs it (at
                // a million jobs the image is ~300 MB of heap otherwise).
                ready.persist().snapshot().image().dropFromMemory();
              }
              if (!durableHere) {
                onConsensus("durable", () -> onDurable(sequence));
              }
            }
          });
      if (durableHere && !lastWrite.isCompletedExceptionally()) {
        durableThrough = Math.max(durableThrough, sequence);
      }
    }
    // The leader's Accepts leave while its own write syncs (Raft thesis §10.2.1): the core counts
    // its own acceptance only when onPersisted reports the write durable.
    if (!sentBeforeWrite) {
      for (Envelope envelope : ready.messagesBeforePersist()) {
        network.send(envelope);
      }
    }
    releaseInOrder();
    noticeLeadershipLoss();
    refreshStatus();
    publishTickDue();
  }

  /**
   * A leader that steps down forgets its in-flight proposals: some may still be chosen by the next
   * leader, some not. Their clients are told at once (instead of waiting for a deadline) so they
   * retry with the same session sequence, which the state machine applies at most once. The loop
   * learns it after every step released before, so what was applied is answered first.
   */
  private void noticeLeadershipLoss() {
    boolean leader = replica.role() == PaxosReplica.Role.LEADER;
    if (wasLeader && !leader) {
      NotLeaderException lost =
          new NotLeaderException(
              number(replica.knownLeader()),
              "leadership lost; the outcome is unknown, retry with the same sequence");
      submit("leadership lost", () -> failPending(lost));
    }
    wasLeader = leader;
  }

  private void onDurable(long sequence) {
    durableThrough = Math.max(durableThrough, sequence);
    releaseInOrder();
    refreshStatus();
  }

  /**
   * Releases steps in order: each once its own writes are durable (writes complete in the order
   * they were made, so every earlier step's writes are durable too), or at once when it has none
   * that need syncing and every earlier step is released.
   */
  private void releaseInOrder() {
    java.util.List<io.paxcron.paxos.Persist> persisted = null;
    while (!held.isEmpty()
        && (held.peek().sequence() <= durableThrough || !held.peek().needsOwnWrite())) {
      Held next = held.poll();
      if (next.sendsOnRelease()) {
        heldReleaseSends--;
      }
      release(next.ready(), next.sendsOnRelease());
      if (next.needsOwnWrite()) {
        if (persisted == null) {
          persisted = new java.util.ArrayList<>();
        }
        persisted.add(next.ready().persist());
      }
    }
    if (persisted != null && !stopped) {
      for (io.paxcron.paxos.Persist persist : persisted) {
        process(replica.onPersisted(nowMillis(), persist));
      }
    }
  }

  /**
   * Sends a released step's messages and hands the rest of it to the loop, in step order. With no
   * input waiting for the core and the loop idle, this thread delivers it itself, in the loop's
   * turn: the loop's wake-up was the last hand-off between a leader learning a command chosen and
   * answering its client (docs/performance.md, nineteenth round). Such a task applies for at most
   * {@link #APPLY_HERE_SLICE_NANOS} and leaves the applied-listeners to the loop, so the core is
   * held up by little more than the commands' own apply.
   */
  private void release(Ready ready, boolean send) {
    if (send) {
      for (Envelope envelope : ready.messagesAfterPersist()) {
        network.send(envelope);
      }
    }
    if (ready.restore() != null
        || !ready.toApply().isEmpty()
        || !ready.reads().isEmpty()
        || !ready.rejected().isEmpty()) {
      boolean mayRunHere = ready.restore() == null && consensusQueue.isEmpty();
      submit("apply", /* readsState= */ false, mayRunHere, () -> deliver(ready));
    }
  }

  /**
   * The core took the image {@link #maybeSnapshot} had encoded, and truncates its log; the store
   * installs it and drops the log below it in one synced write. Applies went on meanwhile; a
   * snapshot installed from the leader since may have overtaken this one.
   */
  private void onSnapshotEncoded(Snapshot snapshot) {
    try {
      if (snapshot.slot() > replica.snapshot().slot()) {
        observer.onSnapshotTaken(snapshot.slot(), snapshot.sizeBytes());
        lastSnapshotBytes = snapshot.sizeBytes();
        process(replica.onSnapshotTaken(nowMillis(), snapshot));
        // The backup sink hands the file work to its own thread (BackupSink contract).
        lastWrite.thenRun(() -> backups.backup(snapshot));
      }
    } finally {
      // After the view with the new snapshot slot is published: the loop's next image is newer.
      submit("snapshot taken", () -> snapshotEncoding = false);
    }
  }

  /** Publishes the core's state to the loop and to callers, and reports what moved. */
  private void refreshStatus() {
    long now = nowMillis();
    boolean leader = replica.role() == PaxosReplica.Role.LEADER;
    // Judged once per step (a quorum count over the governing configurations): the view and the
    // status read the same lease, as PaxosReplica.holdsLease would judge it now.
    long leaseExpiresAt = leader ? replica.leaseExpiresAtMillis() : Long.MIN_VALUE;
    view =
        new CoreView(
            leader,
            replica.ballot(),
            number(replica.knownLeader()),
            leaseExpiresAt,
            replica.firstUnchosenSlot(),
            replica.snapshot().slot(),
            !held.isEmpty(),
            leader ? peerProgressOf(replica) : Map.of());
    lastStatus =
        new Status(
            replica.id().value(),
            replica.role(),
            replica.promised().round(),
            replica.promised().replicaId(),
            number(replica.knownLeader()),
            replica.firstUnchosenSlot(),
            appliedSlot,
            replica.snapshot().slot(),
            leader && now < leaseExpiresAt);
    observeChanges();
    observeMembership();
  }

  /** The leader's view of its peers' progress, copied only when it changed. */
  private Map<ReplicaId, Long> peerProgressOf(PaxosReplica leader) {
    Map<ReplicaId, Long> progress = leader.peerFirstUnchosenSlots();
    CoreView previous = view;
    return previous != null && previous.peerProgress().equals(progress)
        ? previous.peerProgress()
        : progress;
  }

  /**
   * Keeps the transport's peer set equal to the members the log names, and stops this replica once
   * a change that removed it is in effect here.
   */
  private void observeMembership() {
    io.paxcron.paxos.Membership membership = replica.membership();
    lastMembership = membership;
    long newestDecided = membership.epochs().get(membership.epochs().size() - 1).decidedInSlot();
    if (newestDecided > observedChangeSlot) {
      if (observedChangeSlot >= 0) {
        int learned = 0;
        for (io.paxcron.paxos.Membership.Epoch epoch : membership.epochs()) {
          if (epoch.decidedInSlot() > observedChangeSlot) {
            learned++;
          }
        }
        observer.onMembershipChanges(learned);
      }
      observedChangeSlot = newestDecided;
    } else if (observedChangeSlot < 0) {
      observedChangeSlot = newestDecided;
    }
    // The peers follow the configurations that govern the first unchosen slot and later ones: they
    // change only with the membership or when that slot reaches the next epoch's start, not with
    // every slot chosen (rebuilding them every step took 3-11 % of the consensus thread's Java).
    boolean changed = membership != observedMembership && !membership.equals(observedMembership);
    observedMembership = membership;
    long slot = replica.firstUnchosenSlot();
    if (changed || slot >= governingChangesAt || slot < governingTakenAt) {
      governingTakenAt = slot;
      governingChangesAt = Long.MAX_VALUE;
      for (io.paxcron.paxos.Membership.Epoch epoch : membership.epochs()) {
        if (epoch.fromSlot() > slot) {
          governingChangesAt = epoch.fromSlot();
          break;
        }
      }
      Map<Integer, String> members = new java.util.TreeMap<>();
      for (io.paxcron.paxos.Configuration configuration : membership.governingFrom(slot)) {
        for (ReplicaId member : configuration.members()) {
          members.put(member.value(), configuration.address(member));
        }
      }
      members.remove(replica.id().value());
      if (!members.equals(observedPeers)) {
        observedPeers = members;
        network.updatePeers(members);
      }
    }
    // A removed follower stops once it knows the change is chosen: the leader stops sending to it
    // when the change takes effect, so it might never see that slot itself. A removed leader
    // leads until the change is in effect, steps down, and then stops.
    if (replica.removed() && replica.role() != PaxosReplica.Role.LEADER && !removalReported) {
      removalReported = true;
      RemovedFromClusterException removed =
          new RemovedFromClusterException(
              "replica "
                  + replica.id()
                  + " was removed from the cluster: the configuration from slot "
                  + membership.latestFromSlot()
                  + " is "
                  + membership.latest()
                  + ". It stops; to bring it back, add it again (paxcron members add) and start it"
                  + " with an empty data directory and --join");
      // Listeners see the final state once more, after everything released before: the call
      // that removed a leader is answered by it, and its answer waits for exactly this state.
      if (!submit(
          "removed",
          () -> {
            for (Runnable listener : appliedListeners) {
              listener.run();
            }
            fatal(removed);
          })) {
        fatal(removed);
      }
    }
  }

  /** Reports to the observer what moved in the core since the last step. */
  private void observeChanges() {
    ReplicaObserver current = observer;
    PaxosReplica.RoleChange roleChange = replica.lastRoleChange();
    if (roleChange != null && roleChange != observedRoleChange) {
      observedRoleChange = roleChange;
      current.onRoleChanged(roleChange.role(), roleChange.reason());
    }
    PaxosReplica.QuorumChange quorumChange = replica.lastQuorumChange();
    if (quorumChange != null && quorumChange != observedQuorumChange) {
      observedQuorumChange = quorumChange;
      current.onQuorumPeersChanged(
          quorumChange.peers().stream().map(ReplicaId::value).toList(), quorumChange.reason());
    }
    int leader = number(replica.knownLeader());
    if (leader != observedLeader) {
      observedLeader = leader;
      current.onLeaderChanged(leader);
    }
    long firstUnchosen = replica.firstUnchosenSlot();
    if (observedFirstUnchosen >= 0 && firstUnchosen > observedFirstUnchosen) {
      current.onChosen(firstUnchosen - observedFirstUnchosen);
    }
    observedFirstUnchosen = firstUnchosen;
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread

  private void runTask(String kind, Runnable task) {
    if (stopped) {
      return;
    }
    long started = System.nanoTime();
    applyNanosInTask = 0;
    listenerNanosInTask = 0;
    try {
      task.run();
      observeLoop();
    } catch (RuntimeException e) {
      fatal(e);
    }
    observer.onLoopTask(kind, System.nanoTime() - started, applyNanosInTask, listenerNanosInTask);
  }

  /** Runs what {@link #atEndOfLoopTask} was given during the task that just ended. */
  private void runTaskEndActions() {
    for (int i = 0; i < taskEndActions.size(); i++) {
      try {
        taskEndActions.get(i).run();
      } catch (RuntimeException e) {
        fatal(e);
      }
    }
    taskEndActions.clear();
  }

  /** Runs the tasks held back while a command was applied in part, once the state is whole. */
  private void runDeferred() {
    while (!deferred.isEmpty() && !sessions.midCommand()) {
      deferred.poll().run();
    }
  }

  /** Fails every proposal and read waiting here (leadership lost, or the replica stopped). */
  private void failPending(RuntimeException error) {
    pendingProposals
        .values()
        .forEach(
            p -> {
              observer.onProposalFailed();
              p.future().completeExceptionally(error);
            });
    pendingProposals.clear();
    pendingReads.values().forEach(r -> r.fail(error));
    pendingReads.clear();
    confirmedReads.forEach(r -> r.task().fail(error));
    confirmedReads.clear();
  }

  /** A released step, on the loop: its snapshot restored, entries applied, clients answered. */
  private void deliver(Ready ready) {
    if (ready.restore() != null) {
      // Entries queued before the snapshot and covered by it are in its image already.
      while (!toApply.isEmpty() && toApply.peek().slot() <= ready.restore().slot()) {
        toApply.poll();
      }
      sessions.restore(ready.restore());
      appliedSinceSnapshot = 0;
      bytesSinceSnapshot = 0;
    }
    toApply.addAll(ready.toApply());
    boolean applied = applySome() || ready.restore() != null;
    for (Ready.ReadOutcome outcome : ready.reads()) {
      ReadTask read = pendingReads.remove(outcome.readId());
      if (read == null) {
        continue;
      }
      switch (outcome) {
        case Ready.ReadReady readyRead ->
            confirmedReads.add(new ConfirmedRead(read, readyRead.slot()));
        case Ready.ReadRejected rejected ->
            read.fail(new NotLeaderException(number(rejected.leaderHint()), rejected.reason()));
      }
    }
    if (applied) {
      afterApplying();
    } else {
      answerConfirmedReads();
    }
    for (Ready.ProposalRejected rejected : ready.rejected()) {
      PendingProposal pending =
          pendingProposals.remove(
              new ProposalKey(rejected.command().clientId(), rejected.command().sequence()));
      if (pending != null) {
        observer.onProposalFailed();
        pending
            .future()
            .completeExceptionally(
                new NotLeaderException(number(rejected.leaderHint()), rejected.reason()));
      }
    }
    if (loop.onOwnThread()) {
      maybeSnapshot();
    } else if (snapshotDue()) {
      // An image is a walk of the whole state: the loop takes it, not the core's step.
      submit("snapshot", this::maybeSnapshot);
    }
  }

  /**
   * Applies queued chosen entries, one step at a time (a step of a client command, as the state
   * machine cuts it: {@link StateMachine#applyInSteps}), for at most {@link #APPLY_SLICE_NANOS};
   * what is left is applied by a later loop task, queued behind the host's tasks that arrived
   * meanwhile. A large slot, or one {@code Apply} of a thousand jobs, applied in one go held the
   * loop for hundreds of milliseconds on a busy machine (and, before the core had its own thread,
   * cost leaders their lease: docs/performance.md); the dispatcher and queries would wait that
   * long. While a command is applied in part, tasks that read the state wait ({@link #deferred}).
   *
   * @return whether anything was applied
   */
  private boolean applySome() {
    if (toApply.isEmpty()) {
      return false;
    }
    long started = System.nanoTime();
    long slice = loop.onOwnThread() ? APPLY_SLICE_NANOS : APPLY_HERE_SLICE_NANOS;
    do {
      answer(sessions.applyStep(toApply.peek()));
      if (!sessions.midEntry()) {
        entryApplied();
      }
    } while (!toApply.isEmpty() && System.nanoTime() - started < slice);
    applyNanosInTask += System.nanoTime() - started;
    if (!toApply.isEmpty() && !applyQueued) {
      applyQueued = true;
      submit("apply", this::continueApplying);
    }
    return true;
  }

  private void continueApplying() {
    applyQueued = false;
    if (applySome()) {
      afterApplying();
    }
  }

  /** Applies the rest of a slot applied in part, so that the state is at a slot boundary. */
  private void finishEntry() {
    while (sessions.midEntry()) {
      answer(sessions.applyStep(toApply.peek()));
      if (!sessions.midEntry()) {
        entryApplied();
      }
    }
  }

  /** Answers the proposals made here among the commands just applied. */
  private void answer(java.util.List<SessionStateMachine.Applied> appliedCommands) {
    for (SessionStateMachine.Applied applied : appliedCommands) {
      PendingProposal pending =
          pendingProposals.remove(
              new ProposalKey(applied.command().clientId(), applied.command().sequence()));
      if (pending != null) {
        observer.onProposalCommitted();
        pending.future().complete(new Applied(applied.slot(), applied.result()));
      }
    }
  }

  /** The head entry's last command was applied: drop it and count it toward the next snapshot. */
  private void entryApplied() {
    LogEntry entry = toApply.poll();
    appliedSinceSnapshot++;
    bytesSinceSnapshot += entry.value().sizeBytes();
  }

  /** Answers the reads and tells the listeners, unless the state holds part of a command. */
  private void afterApplying() {
    if (sessions.midCommand()) {
      return;
    }
    answerConfirmedReads();
    if (!loop.onOwnThread()) {
      // Applied by the core's step in the loop's turn: the host's listeners run on the loop.
      if (!appliedListeners.isEmpty() && !listenersQueued) {
        listenersQueued = true;
        submit("listeners", this::runQueuedListeners);
      }
      return;
    }
    runListeners();
  }

  private void runQueuedListeners() {
    listenersQueued = false;
    if (!sessions.midCommand()) {
      runListeners();
    }
  }

  private void runListeners() {
    long listenersStarted = System.nanoTime();
    for (Runnable listener : appliedListeners) {
      listener.run();
    }
    listenerNanosInTask += System.nanoTime() - listenersStarted;
  }

  private void answerConfirmedReads() {
    while (!sessions.midCommand()
        && !confirmedReads.isEmpty()
        && confirmedReads.peek().slot() <= sessions.appliedThroughSlot()) {
      ConfirmedRead read = confirmedReads.poll();
      read.task().answer(read.slot());
    }
  }

  /**
   * How many applied payload bytes call for the next snapshot: {@link
   * ReplicaSettings#snapshotEveryBytes} at most, but no more than {@link #SNAPSHOT_LOG_RATIO} times
   * the last snapshot's size (and at least {@link #MIN_SNAPSHOT_EVERY_BYTES}) — the log a snapshot
   * would replace is then always several times larger than the snapshot, so snapshots cost a small
   * share of the disk (Raft thesis §5.1), while a small state's log is truncated long before the
   * store's memtable is flushed: the store then never writes the log's entries a second time, nor
   * compacts them (docs/performance.md, seventeenth round).
   */
  private long snapshotDueBytes() {
    return snapshotDueBytes(lastSnapshotBytes, settings.snapshotEveryBytes());
  }

  /**
   * {@link #snapshotDueBytes()} after a last snapshot of {@code lastBytes}, capped at {@code cap}.
   */
  static long snapshotDueBytes(long lastBytes, long cap) {
    if (lastBytes >= cap / SNAPSHOT_LOG_RATIO) {
      return cap;
    }
    return Math.min(cap, Math.max(MIN_SNAPSHOT_EVERY_BYTES, lastBytes * SNAPSHOT_LOG_RATIO));
  }

  /**
   * Takes an image once enough was applied since the last snapshot, and has it encoded off the
   * loop: encoding a large state (hundreds of milliseconds at 100,000 jobs) on the loop would hold
   * back the dispatcher and queries.
   */
  private boolean snapshotDue() {
    CoreView core = view;
    return !snapshotEncoding
        && !sessions.midEntry()
        && (appliedSinceSnapshot >= settings.snapshotEveryEntries()
            || bytesSinceSnapshot >= snapshotDueBytes())
        && core != null
        && sessions.appliedThroughSlot() > core.snapshotSlot();
  }

  private void maybeSnapshot() {
    if (!snapshotDue()) {
      return;
    }
    SessionStateMachine.Image image = sessions.image();
    appliedSinceSnapshot = 0;
    bytesSinceSnapshot = 0;
    snapshotEncoding = true;
    try {
      snapshotEncoder.execute(
          () -> {
            Snapshot snapshot;
            try {
              snapshot = image.encode();
            } catch (RuntimeException e) {
              fatal(e);
              return;
            }
            try {
              // The bulk of the store's write, here rather than in the writer the log shares.
              durability.stage(snapshot);
            } catch (RuntimeException e) {
              if (!stopped) {
                fatal(e);
              }
              return;
            }
            onConsensus("snapshot", () -> onSnapshotEncoded(snapshot));
          });
    } catch (RejectedExecutionException e) {
      // Only after close: the replica is stopping and takes no more snapshots.
      snapshotEncoding = false;
    }
  }

  /** Publishes the slot applied and reports what moved on the loop since its last task. */
  private void observeLoop() {
    long applied = sessions.appliedThroughSlot();
    appliedSlot = applied;
    ReplicaObserver current = observer;
    if (observedApplied >= 0 && applied > observedApplied) {
      current.onApplied(applied - observedApplied);
    }
    observedApplied = applied;
    if (pendingProposals.size() != observedPending) {
      observedPending = pendingProposals.size();
      current.onProposalsPending(observedPending);
    }
  }

  /** Whether nothing is queued for or running on either thread (a moment's answer, for tests). */
  boolean idle() {
    return consensus.idle() && loop.idle();
  }

  /** A leader as the shell's callers see it: its number, or -1 when none is known. */
  private static int number(ReplicaId leader) {
    return leader == null ? -1 : leader.value();
  }

  private void fatal(Throwable error) {
    if (stopped) {
      return;
    }
    stopped = true;
    ReplicaStoppedException stop =
        new ReplicaStoppedException("replica stopped: " + error.getMessage());
    try {
      loop.execute(() -> failPending(stop));
    } catch (RejectedExecutionException e) {
      // The loop is shut down already; close() failed nothing, but no caller waits on a closed
      // node.
    }
    onFatal.accept(error);
  }
}
