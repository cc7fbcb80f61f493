package io.paxcron.agent;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.paxcron.agent.core.AgentEffect;
import io.paxcron.agent.core.AgentFence;
import io.paxcron.agent.core.AgentLimits;
import io.paxcron.agent.core.CorruptJournalException;
import io.paxcron.agent.core.FenceBallot;
import io.paxcron.agent.core.LaunchKey;
import io.paxcron.agent.core.LeaderReply;
import io.paxcron.agent.core.Ready;
import io.paxcron.agent.core.RunPhase;
import io.paxcron.agent.core.RunView;
import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.AgentServiceGrpc;
import io.paxcron.proto.v1.CancelReply;
import io.paxcron.proto.v1.Heartbeat;
import io.paxcron.proto.v1.Launch;
import io.paxcron.proto.v1.LaunchReply;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.OutputChunk;
import io.paxcron.proto.v1.Register;
import io.paxcron.proto.v1.RunReport;
import io.paxcron.proto.v1.RunState;
import io.paxcron.scheduler.JobName;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A worker agent: the pure {@link AgentFence} driven by a durable {@link AgentJournal}, real
 * processes ({@link RunProcesses}) and one gRPC {@code AgentService.Connect} stream to the leader
 * (agent.proto).
 *
 * <p>Every input — a leader message, a tick, a process exit — runs on one event-loop thread. The
 * core's records go to a journal-writing thread, which appends and fsyncs everything handed to it
 * since its last write in one go (group commit); only once a write is durable does the loop carry
 * out the effects of the inputs it holds, in order: it replies, starts or reports nothing before
 * its records are on disk (persist before send), yet it never waits for a disk itself, so
 * heartbeats and acknowledgements keep flowing while a busy disk takes 100 ms per fsync. The agent
 * dials any address of {@code --cluster}, follows {@code Redirect}, and re-registers after a stream
 * error, a leader change or its own restart; {@code Register} carries every launch not
 * acknowledged. Reconnects back off exponentially (capped) with seeded jitter.
 *
 * <p>Lifecycle: {@link #start()} once, {@link #close()} once; {@code close} leaves running
 * processes alone (they belong to their own sessions and are found again by the next agent on the
 * same data directory).
 */
public final class WorkerAgent implements AutoCloseable {
  /** Version sent in Register. */
  public static final String VERSION = "0.1.0";

  private static final long TICK_MILLIS = 20;

  /** How often ended runs' output directories are checked against the retention settings. */
  private static final Duration RETENTION_INTERVAL = Duration.ofSeconds(5);

  private static final long MAX_BACKOFF_MILLIS = 5_000;

  /**
   * How long a replica may take to answer the registration once the connection is up: a paused or
   * half-dead replica keeps the connection open without answering, and the agent must try the next
   * address. Counted from the connection, not the dial: a process's first dial also loads the gRPC
   * stack, which on a starved machine took longer than this by itself, so every restarted agent
   * gave up on its first one or two addresses, the leader among them.
   */
  static final long REGISTRATION_TIMEOUT_MILLIS = 2_000;

  /**
   * How long a dial may take to become a connection (TCP, TLS and HTTP/2 settings): an address that
   * drops packets or a process that accepts but never speaks is left after this.
   */
  static final long CONNECT_TIMEOUT_MILLIS = 5_000;

  private static final int MAX_OUTPUT_CHUNK = 1 << 20;

  private final AgentOptions options;
  private final AgentSecurity security;
  private final PrintStream log;
  private final ScheduledExecutorService loop;

  /** Writes and fsyncs the journal, one write at a time, off the loop. */
  private final ExecutorService journalWriter;

  /**
   * Inputs whose records wait for the next journal write, in order; their effects are carried out
   * once it is durable. Loop only.
   */
  private final ArrayDeque<Ready> awaitingWrite = new ArrayDeque<>();

  /** The inputs of the journal write in progress, or {@code null} when none is. Loop only. */
  private List<Ready> writing;

  /** Tests: while set, the journal writer waits for it to open before each write (a slow disk). */
  private volatile CountDownLatch journalWriteGate;

  /** Most leader messages handled with one journal write. */
  private static final int MAX_MESSAGES_PER_WRITE = 1_000;

  /** Leader messages waiting for the loop, and whether a task to handle them is queued. */
  private final ConcurrentLinkedQueue<Inbound> inbox = new ConcurrentLinkedQueue<>();

  private final AtomicBoolean inboxPosted = new AtomicBoolean();

  /**
   * While {@link #drainInbox} handles a batch: the records and effects of its messages, written and
   * carried out together; {@code null} otherwise.
   */
  private List<io.paxcron.agent.core.JournalRecord> batchPersist;

  private List<AgentEffect> batchEffects;
  private final SplittableRandom jitter;
  private AgentJournal journal;
  private AgentFence fence;

  /**
   * A report the leader has not acknowledged is sent again on the same stream only this long after
   * it was last sent: a leader whose log lags acknowledges late, and a copy with every heartbeat
   * would only queue in front of the heartbeats (docs/agent.md).
   */
  static final Duration REPORT_RESEND_AFTER = Duration.ofSeconds(2);

  /** A report of one launch: its start or its end. */
  private record ReportId(LaunchKey key, AgentEffect.ReportKind kind) {}

  /** In {@link #reportsSentAt}: a report sent on an earlier stream, not yet on this one. */
  private static final long NEVER_SENT = Long.MIN_VALUE;

  /** When each report not yet acknowledged was last sent on this stream (System.nanoTime). */
  private Map<ReportId, Long> reportsSentAt = new HashMap<>();

  private RunProcesses processes;
  private final Map<LaunchKey, Launch> launches = new HashMap<>();
  private final Map<Long, Instant> heartbeatsSent = new HashMap<>();

  /** When the last acknowledgement of a heartbeat came, and how long after its heartbeat. */
  private Instant lastAckAt;

  private Duration lastAckRoundTrip;

  /** How long the last acknowledgement waited in {@link #inbox} before the loop handled it. */
  private Duration lastAckInboxWait = Duration.ZERO;

  /** The longest gap between two heartbeats sent since the last acknowledgement (ms). */
  private long longestHeartbeatGapMillis;

  private Instant lastHeartbeatSentAt;

  /** When the message {@link #drainInbox} hands to {@link #onLeaderMessage} arrived (nanoTime). */
  private long handlingArrivedNanos;

  private long heartbeatSequence;
  private Duration heartbeatInterval;
  private ManagedChannel channel;
  private StreamObserver<AgentMessage> stream;
  private int connection;
  private int addressIndex;
  private ClusterMembers members;
  private String redirectTo;
  private int failures;
  private long lastHeartbeatMillis;
  private ScheduledFuture<?> ticker;

  /**
   * A one-shot wake-up at the earliest instant a held launch may start (launches chosen ahead of
   * their instant), so the start does not wait for the next tick.
   */
  private ScheduledFuture<?> startTimer;

  private Instant startTimerAt;

  private Instant lastRetention = Instant.EPOCH;
  private boolean exitsSinceRetention;
  private boolean leaseOnThisStream;

  /** Whether the replica at the other end of the current stream accepted the registration. */
  private boolean registeredOnThisStream;

  /** Whether the current dial has become a connection (its registration timer is running). */
  private boolean connectedOnThisStream;

  private boolean closed;

  public WorkerAgent(AgentOptions options, PrintStream log) {
    this(options, AgentSecurity.NONE, log);
  }

  /** An agent that dials with {@code security}'s TLS and token (docs/security.md). */
  public WorkerAgent(AgentOptions options, AgentSecurity security, PrintStream log) {
    this.security = security;
    this.options = options;
    this.log = log;
    this.heartbeatInterval = options.heartbeatInterval();
    this.jitter = new SplittableRandom(options.seed());
    this.loop =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "agent-" + options.name());
              thread.setDaemon(true);
              return thread;
            });
    this.journalWriter =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "agent-" + options.name() + "-journal");
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * Recovers the journal, finds every run it had started, and connects.
   *
   * @throws IOException if the data directory cannot be used
   * @throws CorruptJournalException if the journal is corrupt (names file and offset)
   */
  public void start() throws IOException, CorruptJournalException {
    AgentJournal.Opened opened = AgentJournal.open(options.dataDir());
    journal = opened.journal();
    AgentLimits limits =
        new AgentLimits(
            options.capacity(),
            Math.max(AgentLimits.DEFAULT_MAX_LAUNCHES, options.capacity()),
            AgentLimits.DEFAULT_UNCONFIRMED_GIVE_UP);
    fence = AgentFence.recover(limits, opened.records());
    processes = new RunProcesses(options.dataDir(), options);
    members = ClusterMembers.load(options.dataDir(), options.cluster());
    try {
      loop.submit(this::recoverRuns).get();
    } catch (Exception e) {
      throw new IOException("recovery failed: " + e.getMessage(), e);
    }
    log.println(
        "agent "
            + options.name()
            + ": started, fence "
            + fence.highestSeen()
            + ", "
            + fence.size()
            + " launches remembered"
            + (opened.tornTailDropped() ? ", torn journal tail dropped" : "")
            + (members.learned().isEmpty()
                ? ""
                : ", members learned earlier " + members.learned()));
    ticker =
        loop.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    loop.execute(this::connect);
  }

  /** Stops talking to the cluster; runs keep going in their own sessions. */
  @Override
  public void close() {
    try {
      loop.submit(
              () -> {
                closed = true;
                if (ticker != null) {
                  ticker.cancel(false);
                }
                disconnect();
                if (processes != null) {
                  processes.close();
                }
                journalWriter.shutdown();
                try {
                  journalWriter.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                try {
                  if (journal != null) {
                    journal.close();
                  }
                } catch (IOException e) {
                  log.println(
                      "agent " + options.name() + ": closing the journal: " + e.getMessage());
                }
              })
          .get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.println("agent " + options.name() + ": close: " + e.getMessage());
    }
    loop.shutdownNow();
  }

  // ------------------------------------------------------------------------------------- recovery

  private void recoverRuns() {
    Instant now = Instant.now();
    for (RunView view : fence.unacknowledged()) {
      launches.put(view.key(), decode(fence.payload(view.key()).orElseThrow()));
    }
    for (LaunchKey key : fence.running()) {
      Launch launch = launches.get(key);
      RunView view = fence.view(key);
      if (view.phase() == RunPhase.RUNNING) {
        processes.adopt(key, launch, view.startedAt() == null ? now : view.startedAt());
      } else if (processes.wasStarted(key)) {
        // The agent died between starting the process and recording that it started.
        apply(fence.onStarted(key, now));
        processes.adopt(key, launch, now);
      } else {
        // The agent died as it was about to start the process, and nothing shows it did; it
        // may still have run (a power cut takes the wrapper's pid file with it), so it is not
        // started again and not claimed to have never run.
        processes.markEnded(key);
        apply(
            fence.onFinished(
                key,
                Outcome.failed(137),
                "the agent died while starting the process; it may have run partly",
                now,
                new byte[0]));
      }
    }
  }

  // ------------------------------------------------------------------------------------- event
  // loop

  private void tick() {
    if (closed) {
      return;
    }
    try {
      Instant now = Instant.now();
      // Every exit found in one pass is recorded with one journal write.
      List<io.paxcron.agent.core.JournalRecord> persist = new ArrayList<>();
      List<AgentEffect> effects = new ArrayList<>();
      processes.poll(
          now,
          exit -> {
            Ready ended =
                fence.onFinished(exit.key(), exit.outcome(), exit.reason(), now, exit.outputTail());
            persist.addAll(ended.persist());
            effects.addAll(ended.effects());
          });
      if (!effects.isEmpty() || !persist.isEmpty()) {
        apply(new Ready(persist, effects));
        exitsSinceRetention = true;
      }
      if (exitsSinceRetention && now.isAfter(lastRetention.plus(RETENTION_INTERVAL))) {
        // Retention lists the runs directory: once in a while, not once per exit.
        processes.applyRetention(now);
        lastRetention = now;
        exitsSinceRetention = false;
      }
      apply(fence.onTick(now));
      // Wrappers prepared for launches given up before their instant exit unrun.
      processes.discardPrepared(key -> fence.view(key).phase() != RunPhase.ACCEPTED);
      armStartTimer();
      if (stream != null && leaseOnThisStream && !fence.mayStart(now)) {
        // No heartbeat was acknowledged in time: whoever leads may be giving this agent up.
        // Registering again tells the leader of every launch waiting for its confirmation.
        reconnect(leaseLapsed(now));
        return;
      }
      long nowMillis = System.currentTimeMillis();
      if (stream != null && nowMillis - lastHeartbeatMillis >= heartbeatInterval.toMillis()) {
        lastHeartbeatMillis = nowMillis;
        heartbeat(now);
      }
      if (fence.needsCompaction() && writing == null && awaitingWrite.isEmpty()) {
        // Only between writes: the snapshot must not hold records an append still in flight would
        // then add a second time.
        journal.compact(fence.snapshot());
        fence.onCompacted();
      }
    } catch (IOException | UncheckedIOException e) {
      // A journal that cannot be written leaves nothing safe to do: stop acting, keep the runs.
      log.println(
          "agent " + options.name() + ": the journal failed, the agent stops: " + e.getMessage());
      closed = true;
      disconnect();
    }
  }

  /**
   * Why the agent lets its stream go: when the lease ran out and what became of the heartbeats
   * since, so an operator can tell a silent leader from a slow one.
   */
  private String leaseLapsed(Instant now) {
    StringBuilder why = new StringBuilder("the lease lapsed");
    fence
        .leaseExpiry()
        .ifPresent(
            expiry ->
                why.append(' ').append(Duration.between(expiry, now).toMillis()).append(" ms ago"));
    why.append(": no heartbeat acknowledged in time (");
    List<Instant> unanswered = heartbeatsSent.values().stream().sorted().toList();
    if (unanswered.isEmpty()) {
      why.append("none unanswered");
    } else {
      why.append(unanswered.size())
          .append(" unanswered, the oldest sent ")
          .append(Duration.between(unanswered.getFirst(), now).toMillis())
          .append(" ms ago, the newest ")
          .append(Duration.between(unanswered.getLast(), now).toMillis())
          .append(" ms ago");
    }
    if (lastAckAt != null) {
      why.append("; the last acknowledgement came ")
          .append(Duration.between(lastAckAt, now).toMillis())
          .append(" ms ago, ")
          .append(lastAckRoundTrip.toMillis())
          .append(" ms after its heartbeat, ")
          .append(lastAckInboxWait.toMillis())
          .append(" ms of them in this agent's inbox");
    }
    why.append("; heartbeats since went out at most ")
        .append(longestHeartbeatGapMillis)
        .append(" ms apart");
    return why.append(')').toString();
  }

  /**
   * Persist, then act: the input's records go to the next journal write, and its effects are
   * carried out once that write is durable, after those of every earlier input. An input with
   * nothing to record and nothing ahead of it acts at once. A journal that cannot be written stops
   * the agent: it must not act unrecorded.
   */
  private void apply(Ready ready) {
    if (ready.isEmpty()) {
      return;
    }
    if (batchPersist != null) {
      batchPersist.addAll(ready.persist());
      batchEffects.addAll(ready.effects());
      return;
    }
    if (closed) {
      return;
    }
    if (ready.persist().isEmpty() && writing == null && awaitingWrite.isEmpty()) {
      carryOut(List.of(ready));
      return;
    }
    awaitingWrite.addLast(ready);
    writeNext();
  }

  /** Tests: makes every journal write wait until {@code gate} opens (a disk that takes long). */
  void holdJournalWrites(CountDownLatch gate) {
    journalWriteGate = gate;
  }

  /** Hands every input waiting for the journal to the writer, unless a write is in progress. */
  private void writeNext() {
    if (writing != null || awaitingWrite.isEmpty() || closed) {
      return;
    }
    List<Ready> inputs = List.copyOf(awaitingWrite);
    awaitingWrite.clear();
    writing = inputs;
    List<io.paxcron.agent.core.JournalRecord> records = new ArrayList<>();
    for (Ready input : inputs) {
      records.addAll(input.persist());
    }
    try {
      journalWriter.execute(
          () -> {
            IOException failure = null;
            try {
              CountDownLatch gate = journalWriteGate;
              if (gate != null) {
                gate.await();
              }
              journal.append(records);
            } catch (IOException e) {
              failure = e;
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              failure = new IOException("interrupted before writing the journal", e);
            }
            IOException failed = failure;
            post(() -> onWritten(inputs, failed));
          });
    } catch (RejectedExecutionException e) {
      writing = null; // closing: the journal keeps what was written before
    }
  }

  /** A journal write ended: act on its inputs (or stop), then start the next write. */
  private void onWritten(List<Ready> inputs, IOException failure) {
    writing = null;
    if (closed) {
      return;
    }
    if (failure != null) {
      log.println(
          "agent "
              + options.name()
              + ": cannot write the journal, stopping: "
              + failure.getMessage());
      closed = true;
      disconnect();
      return;
    }
    carryOut(inputs);
    writeNext();
  }

  /**
   * The effects of inputs whose records are durable, in order; the starts among them begin together
   * (their own records then share one write).
   */
  private void carryOut(List<Ready> inputs) {
    List<LaunchKey> starts = new ArrayList<>();
    for (Ready input : inputs) {
      for (AgentEffect effect : input.effects()) {
        switch (effect) {
          case AgentEffect.Reply reply -> send(replyMessage(reply.reply()));
          case AgentEffect.Start start -> starts.add(start.key());
          case AgentEffect.Stop stop -> processes.stop(stop.key(), Instant.now());
          case AgentEffect.Report report -> sendReport(report, System.nanoTime());
        }
      }
    }
    if (!starts.isEmpty()) {
      startRuns(starts);
    }
  }

  /**
   * Starts the processes of one input's launches whose wrappers are spawned, then records their
   * starts (or failures to start) with one journal write: runs due at the same instant share one
   * fsync instead of one each. A launch whose wrapper is still being spawned (a burst of runs at
   * one instant, a busy machine) starts once it is ready, from a later task: the loop never waits
   * for a spawn, so heartbeats, reports and acknowledgements keep flowing and the lease holds. Each
   * process is told to run only while the lease holds at that moment; one whose lease lapsed first
   * never starts ({@code NEVER_STARTED}).
   */
  private void startRuns(List<LaunchKey> keys) {
    List<io.paxcron.agent.core.JournalRecord> persist = new ArrayList<>();
    List<AgentEffect> effects = new ArrayList<>();
    for (LaunchKey key : keys) {
      Launch launch = launches.get(key);
      if (launch == null || fence.view(key).phase() != RunPhase.ACCEPTED) {
        continue; // given up or cancelled while its wrapper was being spawned
      }
      var wrapper = processes.wrapperFor(key, launch);
      if (!wrapper.isDone()) {
        wrapper.whenComplete(
            (spawned, error) -> {
              try {
                loop.execute(() -> startWhenSpawned(key));
              } catch (RejectedExecutionException closing) {
                // The agent is closing; its journal keeps the launch for the next start.
              }
            });
        continue;
      }
      Instant now = Instant.now();
      if (!fence.mayStart(now)) {
        Ready givenUp =
            fence.onStartGivenUp(
                key,
                now,
                "the agent's lease lapsed before the process could be started (its wrapper was"
                    + " still being spawned)");
        persist.addAll(givenUp.persist());
        effects.addAll(givenUp.effects());
        continue;
      }
      var refused = processes.start(key, launch, now);
      Ready outcome;
      if (refused.isPresent()) {
        log.println("agent " + options.name() + ": " + key + " cannot run: " + refused.get());
        processes.markEnded(key);
        outcome = fence.onFinished(key, Outcome.failed(127), refused.get(), now, new byte[0]);
      } else {
        outcome = fence.onStarted(key, now);
      }
      persist.addAll(outcome.persist());
      effects.addAll(outcome.effects());
    }
    apply(new Ready(persist, effects));
  }

  private void startWhenSpawned(LaunchKey key) {
    if (closed) {
      return;
    }
    try {
      startRuns(List.of(key));
    } catch (UncheckedIOException e) {
      // apply stopped the agent and said why
    }
  }

  /** Arms {@link #startTimer} for the earliest held launch still ahead. */
  private void armStartTimer() {
    Instant now = Instant.now();
    Instant next = fence.nextStartAfter(now).orElse(null);
    if (next == null
        || startTimer != null && !startTimer.isDone() && !next.isBefore(startTimerAt)) {
      return;
    }
    if (startTimer != null) {
      startTimer.cancel(false);
    }
    startTimerAt = next;
    startTimer =
        loop.schedule(
            this::onStartTimer, Duration.between(now, next).toNanos(), TimeUnit.NANOSECONDS);
  }

  private void onStartTimer() {
    if (closed) {
      return;
    }
    startTimer = null;
    startTimerAt = null;
    try {
      apply(fence.onTick(Instant.now()));
    } catch (UncheckedIOException e) {
      return; // apply stopped the agent and said why
    }
    armStartTimer();
  }

  private void heartbeat(Instant now) {
    long sequence = ++heartbeatSequence;
    if (lastHeartbeatSentAt != null) {
      longestHeartbeatGapMillis =
          Math.max(
              longestHeartbeatGapMillis, Duration.between(lastHeartbeatSentAt, now).toMillis());
    }
    lastHeartbeatSentAt = now;
    heartbeatsSent.put(sequence, now);
    heartbeatsSent.keySet().removeIf(old -> old < sequence - 100);
    send(
        AgentMessage.newBuilder()
            .setHeartbeat(
                Heartbeat.newBuilder()
                    .setSequence(sequence)
                    .setRunning(fence.openCount())
                    .setCapacity(options.capacity())
                    .setHighestSeen(toProto(fence.highestSeen())))
            .build());
    // Unacknowledged reports go again, each once per REPORT_RESEND_AFTER; the map keeps only
    // reports still pending. A report never sent is sent here only while nothing waits for the
    // journal (its record is then durable); otherwise its input's effects send it once it is.
    long nowNanos = System.nanoTime();
    boolean journalIdle = writing == null && awaitingWrite.isEmpty();
    Map<ReportId, Long> stillPending = new HashMap<>();
    for (AgentEffect.Report report : fence.pendingReports()) {
      ReportId id = new ReportId(report.run().key(), report.kind());
      Long last = reportsSentAt.get(id);
      if (last == null && !journalIdle) {
        continue;
      }
      if (last == null || last == NEVER_SENT || nowNanos - last >= REPORT_RESEND_AFTER.toNanos()) {
        send(reportMessage(report));
        last = nowNanos;
      }
      stillPending.put(id, last);
    }
    reportsSentAt = stillPending;
  }

  private void sendReport(AgentEffect.Report report, long nowNanos) {
    send(reportMessage(report));
    reportsSentAt.put(new ReportId(report.run().key(), report.kind()), nowNanos);
  }

  private void onLeaderMessage(int from, LeaderMessage message) {
    if (closed || from != connection) {
      return;
    }
    Instant now = Instant.now();
    switch (message.getBodyCase()) {
      case REGISTERED -> {
        failures = 0;
        registeredOnThisStream = true;
        if (message.getRegistered().hasHeartbeatInterval()) {
          Duration interval =
              Duration.ofSeconds(
                  message.getRegistered().getHeartbeatInterval().getSeconds(),
                  message.getRegistered().getHeartbeatInterval().getNanos());
          if (interval.toMillis() >= 10) {
            heartbeatInterval = interval;
          }
        }
        log.println(
            "agent "
                + options.name()
                + ": registered with leader "
                + message.getRegistered().getLeaderId());
        learnMembers(message.getRegistered().getMembersList());
        lastHeartbeatMillis = System.currentTimeMillis();
        heartbeat(now);
      }
      case REDIRECT -> {
        learnMembers(message.getRedirect().getMembersList());
        redirectTo = message.getRedirect().getLeaderAddress();
        reconnect("redirected to '" + redirectTo + "'");
      }
      case REFUSED -> reconnect("refused: " + message.getRefused().getReason());
      case HEARTBEAT_ACK -> {
        learnMembers(message.getHeartbeatAck().getMembersList());
        Instant sentAt = heartbeatsSent.remove(message.getHeartbeatAck().getSequence());
        if (sentAt != null) {
          lastAckAt = now;
          lastAckRoundTrip = Duration.between(sentAt, now);
          lastAckInboxWait = Duration.ofNanos(System.nanoTime() - handlingArrivedNanos);
          longestHeartbeatGapMillis = 0;
          var lease = message.getHeartbeatAck().getLease();
          apply(
              fence.onHeartbeatAcknowledged(
                  now,
                  sentAt,
                  Duration.ofSeconds(lease.getSeconds(), lease.getNanos()),
                  fromProto(message.getHeartbeatAck().getBallot())));
          leaseOnThisStream |= fence.mayStart(now);
        }
      }
      case LAUNCH -> {
        Launch launch = message.getLaunch();
        LaunchKey key = key(launch.getRunId(), launch.getAttempt());
        if (key == null) {
          return;
        }
        launches.putIfAbsent(key, launch);
        Instant startAt = launch.hasStartAt() ? toInstant(launch.getStartAt()) : null;
        apply(
            fence.onLaunch(now, key, fromProto(launch.getBallot()), startAt, launch.toByteArray()));
        RunPhase phase = fence.view(key).phase();
        if (phase == RunPhase.UNKNOWN) {
          launches.remove(key);
        } else if (startAt != null) {
          if (phase == RunPhase.ACCEPTED && startAt.isAfter(now)) {
            // Held for its instant: spawn the wrapper now, off the loop; at the instant the
            // agent only tells it to run.
            processes.prepare(key, launch);
          }
          armStartTimer();
        }
      }
      case GET_RUN -> {
        LaunchKey key = key(message.getGetRun().getRunId(), message.getGetRun().getAttempt());
        if (key != null) {
          apply(fence.onGetRun(now, key, fromProto(message.getGetRun().getBallot())));
        }
      }
      case CANCEL -> {
        LaunchKey key = key(message.getCancel().getRunId(), message.getCancel().getAttempt());
        if (key != null) {
          apply(fence.onCancel(now, key, fromProto(message.getCancel().getBallot())));
        }
      }
      case REPORT_ACK -> {
        LaunchKey key = key(message.getReportAck().getRunId(), message.getReportAck().getAttempt());
        if (key != null) {
          AgentEffect.ReportKind kind =
              message.getReportAck().getKind() == RunReport.Kind.STARTED
                  ? AgentEffect.ReportKind.STARTED
                  : AgentEffect.ReportKind.FINISHED;
          apply(fence.onReportAcknowledged(key, kind));
          if (kind == AgentEffect.ReportKind.FINISHED && fence.view(key).phase().ended()) {
            launches.remove(key);
          }
        }
      }
      case GET_OUTPUT -> onGetOutput(message.getGetOutput());
      case BODY_NOT_SET -> {}
    }
  }

  private void onGetOutput(io.paxcron.proto.v1.GetOutput request) {
    OutputChunk.Builder chunk = OutputChunk.newBuilder().setRequestId(request.getRequestId());
    LaunchKey key = key(request.getRunId(), request.getAttempt());
    if (key == null) {
      send(
          AgentMessage.newBuilder()
              .setOutput(chunk.setError("bad run_id '" + request.getRunId() + "'"))
              .build());
      return;
    }
    int max =
        request.getMaxBytes() == 0
            ? MAX_OUTPUT_CHUNK
            : Math.min(request.getMaxBytes(), MAX_OUTPUT_CHUNK);
    processes
        .readOutput(key, request.getOffset(), max)
        .ifPresentOrElse(
            slice ->
                chunk
                    .setFound(true)
                    .setData(ByteString.copyFrom(slice.data()))
                    .setOffset(slice.offset())
                    .setSize(slice.size())
                    .setEof(slice.eof())
                    .setTruncated(slice.truncated()),
            () -> chunk.setFound(false));
    send(AgentMessage.newBuilder().setOutput(chunk).build());
  }

  // -------------------------------------------------------------------------------------
  // connection

  private void connect() {
    if (closed) {
      return;
    }
    List<String> candidates = members.candidates();
    String address =
        redirectTo != null && !redirectTo.isEmpty()
            ? redirectTo
            : candidates.get(Math.floorMod(addressIndex, candidates.size()));
    redirectTo = null;
    int id = ++connection;
    leaseOnThisStream = false;
    registeredOnThisStream = false;
    connectedOnThisStream = false;
    loop.schedule(
        () -> {
          if (id == connection && !connectedOnThisStream && !closed) {
            reconnect(
                address + " did not accept a connection within " + CONNECT_TIMEOUT_MILLIS + " ms");
          }
        },
        CONNECT_TIMEOUT_MILLIS,
        TimeUnit.MILLISECONDS);
    try {
      channel = security.channel(address);
    } catch (IOException e) {
      log.println("agent " + options.name() + ": " + e.getMessage());
      reconnect(e.getMessage());
      return;
    }
    whenConnected(id, channel, address);
    StreamObserver<LeaderMessage> responses =
        new StreamObserver<>() {
          @Override
          public void onNext(LeaderMessage message) {
            deliver(id, message);
          }

          @Override
          public void onError(Throwable error) {
            post(
                () -> {
                  if (id == connection) {
                    reconnect("stream to " + address + " failed: " + error.getMessage());
                  }
                });
          }

          @Override
          public void onCompleted() {
            post(
                () -> {
                  if (id == connection) {
                    reconnect("stream to " + address + " ended");
                  }
                });
          }
        };
    stream = AgentServiceGrpc.newStub(channel).connect(responses);
    // The registration carries every unacknowledged run to this leader; the reports sent on the
    // last stream go again with the first heartbeat on this one.
    reportsSentAt.replaceAll((report, sentAt) -> NEVER_SENT);
    // Heartbeats of the last stream are never acknowledged on this one.
    heartbeatsSent.clear();
    Register.Builder register =
        Register.newBuilder()
            .setName(options.name())
            .putAllLabels(options.labels())
            .setCapacity(options.capacity())
            .setHighestSeen(toProto(fence.highestSeen()))
            .setVersion(VERSION);
    for (RunView view : fence.unacknowledged()) {
      register.addRuns(toProto(view, null));
    }
    send(AgentMessage.newBuilder().setRegister(register).build());
  }

  /** Starts the registration timer of dial {@code id} once its channel is connected. */
  private void whenConnected(int id, ManagedChannel dialled, String address) {
    ConnectivityState state = dialled.getState(false);
    if (state == ConnectivityState.READY) {
      post(
          () -> {
            if (id != connection || closed || connectedOnThisStream) {
              return;
            }
            connectedOnThisStream = true;
            loop.schedule(
                () -> {
                  if (id == connection && !registeredOnThisStream && !closed) {
                    reconnect(
                        address
                            + " did not answer the registration within "
                            + REGISTRATION_TIMEOUT_MILLIS
                            + " ms of connecting");
                  }
                },
                REGISTRATION_TIMEOUT_MILLIS,
                TimeUnit.MILLISECONDS);
          });
    } else if (state != ConnectivityState.SHUTDOWN) {
      dialled.notifyWhenStateChanged(state, () -> whenConnected(id, dialled, address));
    }
  }

  /**
   * Takes the members' addresses a replica named (Registered, Redirect, HeartbeatAck), so the agent
   * still finds the cluster once every address it was given belongs to a replaced replica.
   */
  private void learnMembers(List<String> named) {
    if (named.isEmpty()) {
      return;
    }
    try {
      if (members.learn(named)) {
        addressIndex = 0;
        log.println("agent " + options.name() + ": cluster members now " + members.learned());
      }
    } catch (IOException e) {
      addressIndex = 0;
      log.println(
          "agent "
              + options.name()
              + ": cluster members now "
              + members.learned()
              + " (not kept across restarts: "
              + e.getMessage()
              + ")");
    }
  }

  /**
   * Queues a leader message for the loop. The loop handles every message queued by then in one task
   * ({@link #drainInbox}) with one journal write: a burst of launches or acknowledgements shares
   * one fsync instead of one each, which on a busy disk kept the loop from sending its heartbeats
   * in time.
   */
  private void deliver(int from, LeaderMessage message) {
    inbox.add(new Inbound(from, message, System.nanoTime()));
    if (inboxPosted.compareAndSet(false, true)) {
      post(this::drainInbox);
    }
  }

  /** A leader message on connection {@code from}. */
  private record Inbound(int from, LeaderMessage message, long arrivedNanos) {}

  /**
   * Handles the queued leader messages (at most {@link #MAX_MESSAGES_PER_WRITE}): the fence takes
   * each in turn, their records are written with one fsync, then their effects are carried out in
   * order. Persist before acting holds for every message: nothing is sent or started before the
   * write of the whole batch. A message whose handling sends directly (registration, redirect,
   * output requests) is handled alone, after the batch before it is written.
   */
  private void drainInbox() {
    inboxPosted.set(false);
    try {
      for (int handled = 0; handled < MAX_MESSAGES_PER_WRITE; handled++) {
        Inbound next = inbox.poll();
        if (next == null) {
          break;
        }
        switch (next.message().getBodyCase()) {
          case LAUNCH, HEARTBEAT_ACK, REPORT_ACK, GET_RUN, CANCEL -> {
            if (batchPersist == null) {
              batchPersist = new ArrayList<>();
              batchEffects = new ArrayList<>();
            }
            handlingArrivedNanos = next.arrivedNanos();
            onLeaderMessage(next.from(), next.message());
          }
          default -> {
            writeBatch();
            handlingArrivedNanos = next.arrivedNanos();
            onLeaderMessage(next.from(), next.message());
          }
        }
      }
      writeBatch();
    } catch (UncheckedIOException e) {
      return; // apply stopped the agent and said why
    } finally {
      if (batchPersist != null) {
        // A handler threw: what the fence already took of the batch is still written and acted
        // on, as it would have been message by message.
        try {
          writeBatch();
        } catch (UncheckedIOException e) {
          // apply stopped the agent and said why
        }
      }
    }
    if (!inbox.isEmpty() && inboxPosted.compareAndSet(false, true)) {
      post(this::drainInbox);
    }
  }

  /** Writes the records of the messages batched so far with one fsync, then carries out effects. */
  private void writeBatch() {
    if (batchPersist == null) {
      return;
    }
    Ready batch = new Ready(batchPersist, batchEffects);
    batchPersist = null;
    batchEffects = null;
    apply(batch);
  }

  /** Hands work from a gRPC thread to the event loop; after close there is nothing left to do. */
  private void post(Runnable work) {
    try {
      loop.execute(work);
    } catch (RejectedExecutionException e) {
      // The agent closed: the message is for a stream that no longer exists.
    }
  }

  private void reconnect(String why) {
    if (closed) {
      return;
    }
    disconnect();
    if (redirectTo == null || redirectTo.isEmpty()) {
      addressIndex++;
      failures++;
    }
    long cap = Math.min(MAX_BACKOFF_MILLIS, 50L << Math.min(failures, 10));
    long delay =
        redirectTo != null && !redirectTo.isEmpty() ? 0 : cap / 2 + jitter.nextLong(cap / 2 + 1);
    log.println("agent " + options.name() + ": " + why + "; reconnecting in " + delay + " ms");
    loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  private void disconnect() {
    connection++;
    if (stream != null) {
      try {
        stream.onCompleted();
      } catch (RuntimeException e) {
        // The stream may already be broken; the channel is closed next either way.
      }
      stream = null;
    }
    if (channel != null) {
      channel.shutdownNow();
      channel = null;
    }
  }

  private void send(AgentMessage message) {
    if (stream == null) {
      return;
    }
    try {
      stream.onNext(message);
    } catch (RuntimeException e) {
      reconnect("send failed: " + e.getMessage());
    }
  }

  // -------------------------------------------------------------------------------------
  // conversions

  private AgentMessage replyMessage(LeaderReply reply) {
    return switch (reply) {
      case LeaderReply.LaunchAnswer launch -> {
        LaunchReply.Builder builder =
            LaunchReply.newBuilder()
                .setRunId(launch.key().runId().toString())
                .setAttempt(launch.key().attempt())
                .setBallot(toProto(launch.ballot()))
                .setStatus(
                    switch (launch.status()) {
                      case ACCEPTED -> LaunchReply.Status.ACCEPTED;
                      case REPEAT -> LaunchReply.Status.REPEAT;
                      case FENCED -> LaunchReply.Status.FENCED;
                      case CAPACITY -> LaunchReply.Status.CAPACITY;
                    })
                .setHighestSeen(toProto(launch.highestSeen()))
                .setReason(launch.reason());
        if (launch.status() == LeaderReply.LaunchStatus.ACCEPTED
            || launch.status() == LeaderReply.LaunchStatus.REPEAT) {
          builder.setState(toProto(launch.run(), launch.ballot()));
        }
        yield AgentMessage.newBuilder().setLaunchReply(builder).build();
      }
      case LeaderReply.RunAnswer run ->
          AgentMessage.newBuilder().setRunState(toProto(run.run(), run.ballot())).build();
      case LeaderReply.CancelAnswer cancel -> {
        CancelReply.Builder builder =
            CancelReply.newBuilder()
                .setRunId(cancel.key().runId().toString())
                .setAttempt(cancel.key().attempt())
                .setBallot(toProto(cancel.ballot()))
                .setSignalled(cancel.signalled());
        if (cancel.highestSeen() != null) {
          builder.setHighestSeen(toProto(cancel.highestSeen()));
        }
        yield AgentMessage.newBuilder().setCancelReply(builder).build();
      }
    };
  }

  private static AgentMessage reportMessage(AgentEffect.Report report) {
    return AgentMessage.newBuilder()
        .setReport(
            RunReport.newBuilder()
                .setKind(
                    report.kind() == AgentEffect.ReportKind.STARTED
                        ? RunReport.Kind.STARTED
                        : RunReport.Kind.FINISHED)
                .setState(toProto(report.run(), null)))
        .build();
  }

  static RunState toProto(RunView view, FenceBallot asked) {
    RunState.Builder state =
        RunState.newBuilder()
            .setRunId(view.key().runId().toString())
            .setAttempt(view.key().attempt())
            .setState(
                switch (view.phase()) {
                  case UNKNOWN -> RunState.State.UNKNOWN;
                  case ACCEPTED -> RunState.State.ACCEPTED;
                  case RUNNING -> RunState.State.RUNNING;
                  case FINISHED -> RunState.State.FINISHED;
                  case NEVER_STARTED -> RunState.State.NEVER_STARTED;
                  case FENCED -> RunState.State.FENCED;
                })
            .setReason(view.reason())
            .setOutputTail(ByteString.copyFrom(view.outputTail()));
    if (asked != null) {
      state.setBallot(toProto(asked));
    }
    if (view.highestSeen() != null) {
      state.setHighestSeen(toProto(view.highestSeen()));
    }
    if (view.startedAt() != null) {
      state.setStartedAt(toTimestamp(view.startedAt()));
    }
    if (view.endedAt() != null) {
      state.setEndedAt(toTimestamp(view.endedAt()));
    }
    switch (view.outcome()) {
      case null -> {}
      case Outcome.Succeeded succeeded ->
          state.setOutcome(io.paxcron.proto.v1.Outcome.OUTCOME_SUCCEEDED);
      case Outcome.Failed failed ->
          state
              .setOutcome(io.paxcron.proto.v1.Outcome.OUTCOME_FAILED)
              .setExitCode(failed.exitCode());
      case Outcome.TimedOut timedOut ->
          state.setOutcome(io.paxcron.proto.v1.Outcome.OUTCOME_TIMED_OUT);
      default -> throw new IllegalStateException("an agent never reports " + view.outcome());
    }
    return state.build();
  }

  static io.paxcron.proto.v1.FenceBallot toProto(FenceBallot ballot) {
    return io.paxcron.proto.v1.FenceBallot.newBuilder()
        .setGeneration(ballot.generation())
        .setRound(ballot.round())
        .setReplicaId(ballot.replicaId())
        .build();
  }

  static FenceBallot fromProto(io.paxcron.proto.v1.FenceBallot ballot) {
    return new FenceBallot(ballot.getGeneration(), ballot.getRound(), ballot.getReplicaId());
  }

  private static Timestamp toTimestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  private static Instant toInstant(Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }

  /** Parses "job@instant" or "job@instant/manual"; null (and a log line) if malformed. */
  private LaunchKey key(String runId, int attempt) {
    try {
      return new LaunchKey(parseRunId(runId), attempt);
    } catch (RuntimeException e) {
      log.println(
          "agent "
              + options.name()
              + ": ignoring a request for run_id '"
              + runId
              + "' attempt "
              + attempt
              + ": "
              + e.getMessage());
      return null;
    }
  }

  static RunId parseRunId(String text) {
    boolean manual = text.endsWith("/manual");
    String body = manual ? text.substring(0, text.length() - "/manual".length()) : text;
    int at = body.lastIndexOf('@');
    if (at <= 0) {
      throw new IllegalArgumentException("run_id must be job@instant");
    }
    return new RunId(
        new JobName(body.substring(0, at)), Instant.parse(body.substring(at + 1)), manual);
  }

  private static Launch decode(byte[] payload) {
    try {
      return Launch.parseFrom(payload);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(
          "a launch in the journal does not parse: " + e.getMessage(), e);
    }
  }

  /** Running and accepted launches (for tests and status). */
  public List<String> openLaunches() {
    try {
      return loop.submit(
              () -> {
                List<String> open = new ArrayList<>();
                for (RunView view : fence.unacknowledged()) {
                  if (view.phase().open()) {
                    open.add(view.toString());
                  }
                }
                return open;
              })
          .get();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
