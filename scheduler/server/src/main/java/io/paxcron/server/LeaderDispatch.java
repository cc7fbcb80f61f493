package io.paxcron.server;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.replica.ReplicaNode;
import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.AgentStatus;
import io.paxcron.proto.v1.Cancel;
import io.paxcron.proto.v1.CancelReply;
import io.paxcron.proto.v1.GetOutput;
import io.paxcron.proto.v1.GetRun;
import io.paxcron.proto.v1.GetRunOutputResponse;
import io.paxcron.proto.v1.Heartbeat;
import io.paxcron.proto.v1.HeartbeatAck;
import io.paxcron.proto.v1.Launch;
import io.paxcron.proto.v1.LaunchReply;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.OutputChunk;
import io.paxcron.proto.v1.Redirect;
import io.paxcron.proto.v1.Refused;
import io.paxcron.proto.v1.Register;
import io.paxcron.proto.v1.Registered;
import io.paxcron.proto.v1.ReportAck;
import io.paxcron.proto.v1.RunReport;
import io.paxcron.proto.v1.RunState;
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.AgentId;
import io.paxcron.scheduler.AgentRegistry;
import io.paxcron.scheduler.AgentRegistryConfig;
import io.paxcron.scheduler.CronCodec;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.DispatchEffect;
import io.paxcron.scheduler.Dispatcher;
import io.paxcron.scheduler.DispatcherConfig;
import io.paxcron.scheduler.LeaderDriver;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.io.PrintStream;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Drives the core {@link LeaderDriver} (and through it the {@link Dispatcher}) and the {@link
 * AgentRegistry} on the replica's event loop while this replica leads with a valid lease (DESIGN §4
 * launch protocol), and serves the leader's half of every agent's {@code AgentService.Connect}
 * stream (agent.proto).
 *
 * <p>Every input reaches the cores on the loop thread: a tick every {@link #TICK_MILLIS} ms with
 * the wall clock and the lease, a call after every applied step (the dispatcher then reads what
 * changed from the cron state machine), and every message of every agent stream (marshalled with
 * {@code node.runOnLoop}). Effects are carried out there too: proposals go through the replica in
 * the dispatcher's own client session (a fresh client id each time this replica starts leading),
 * launches, cancels and questions are written to the agent's stream. A stream write only queues the
 * message in gRPC's buffer, so every launch of a tick goes out at once, in parallel, and no write
 * ever waits for an agent.
 *
 * <p>Streams: a replica that does not lead (or leads but is not dispatching yet) answers every
 * {@code Register} with {@code Redirect} and ends the stream. When this replica stops leading it
 * ends every agent stream the same way and forgets the registry (soft state: agents re-register
 * with the next leader).
 *
 * <p>The rules (when to start and stop dispatching, when to acknowledge a report or an agent's
 * heartbeat) are the driver's; this class only moves messages. Reports are acknowledged only once
 * the applied log holds them ({@code ReportAcknowledgement}). Fences are {@code (generation,
 * ballot)} with the cluster's restore generation (see docs/guarantees.md).
 *
 * <p>Threading: {@link #connect}, {@link #runOutput} and {@link #agentStatus} may be called from
 * any thread; everything else runs on the loop.
 */
final class LeaderDispatch implements AutoCloseable {

  /** How often the dispatcher ticks. */
  static final long TICK_MILLIS = 20;

  /**
   * Output requests waiting for their agent's answer at once (GetRunOutput calls past it fail
   * fast).
   */
  static final int MAX_PENDING_OUTPUT_REQUESTS = 256;

  /** How long a GetRunOutput waits for the agent's chunk. */
  static final long OUTPUT_DEADLINE_MILLIS = 5_000;

  /** Messages that may wait in one agent stream's buffer while the agent does not read. */
  static final int MAX_UNREAD_MESSAGES_PER_AGENT = 10_000;

  /**
   * The agent's address is not taken from the connection (agents behind NAT would show the NAT's).
   */
  private static final String UNKNOWN_PEER = "";

  private final ReplicaNode node;
  private final CronStateMachine cron;
  private final InstantSource clock;
  private final PrintStream log;
  private final int replicaId;
  private final Map<Integer, String> clientAddresses;
  private final long generation;
  private final SharedAgentRegistry registry;
  private final LeaderDriver driver;
  private final ScheduledExecutorService ticker;
  private AutoCloseable appliedHandle;

  // Loop-thread state.
  private final Map<AgentId, Stream> streams = new HashMap<>();
  private final Map<Long, PendingOutput> outputRequests = new HashMap<>();
  private long nextOutputRequest = 1;

  /** A GetRunOutput waiting for its agent's chunk. */
  private record PendingOutput(
      AgentId agent, int attempt, CompletableFuture<GetRunOutputResponse> answer) {}

  /**
   * One agent's open stream, as the loop holds it. Writes never block. A message goes to gRPC only
   * while the stream is ready (the agent keeps up); otherwise it waits here, in order, and goes
   * when gRPC says the agent's side is ready again. Heartbeat acknowledgements do not wait behind
   * those ({@link #sendAhead}): at a million jobs an agent that read slowly had 10,000 launches and
   * report acknowledgements queued ahead of its acknowledgements, and lost its lease although the
   * leader had answered every heartbeat at once. A launch, status request or cancel still waiting
   * here is not queued a second time (the dispatcher repeats them until answered), and {@link
   * #MAX_UNREAD_MESSAGES_PER_AGENT} bounds the rest: past it the stream is ended (the agent
   * re-dials and re-registers).
   */
  static final class Stream {
    final StreamObserver<LeaderMessage> out;

    /** The call's flow control; null when the observer is not a server call (tests). */
    final ServerCallStreamObserver<LeaderMessage> call;

    /** Set by the loop when the registration is accepted; read by the heartbeat path too. */
    volatile AgentId agent;

    volatile long connection;
    boolean closed;

    /** Messages waiting for the agent's side to be ready, in order. */
    final ArrayDeque<LeaderMessage> waiting = new ArrayDeque<>();

    /** The repeatable requests in {@link #waiting}, so that a repeat is not queued twice. */
    final Set<String> waitingRequests = new HashSet<>();

    /** When the last heartbeat on this stream arrived (nanoTime; gRPC delivers one at a time). */
    long lastHeartbeatNanos;

    /** The members' addresses this stream was last told (Registered, HeartbeatAck). */
    volatile List<String> membersSent = List.of();

    /** Counts what this stream sends, for the report line. */
    final HeartbeatWatch watch;

    Stream(StreamObserver<LeaderMessage> out, HeartbeatWatch watch) {
      this.out = out;
      this.watch = watch;
      this.call = out instanceof ServerCallStreamObserver<LeaderMessage> c ? c : null;
    }

    /** Any thread: the loop and the heartbeat path write to the stream, one at a time. */
    synchronized void send(LeaderMessage message) {
      if (closed) {
        return;
      }
      String request = repeatable(message);
      if (request != null && waitingRequests.contains(request)) {
        watch.repeatNotQueued();
        return; // the copy still waiting goes
      }
      if (waiting.isEmpty() && (call == null || call.isReady())) {
        write(message);
        return;
      }
      if (waiting.size() >= MAX_UNREAD_MESSAGES_PER_AGENT) {
        closed = true;
        waiting.clear();
        waitingRequests.clear();
        out.onError(
            Status.RESOURCE_EXHAUSTED
                .withDescription(
                    "the agent read none of the last "
                        + MAX_UNREAD_MESSAGES_PER_AGENT
                        + " messages (MAX_UNREAD_MESSAGES_PER_AGENT)")
                .asRuntimeException());
        return;
      }
      waiting.add(message);
      watch.waited();
      if (request != null) {
        waitingRequests.add(request);
      }
    }

    /**
     * Writes {@code message} ahead of the messages waiting here; returns how many it overtook. Safe
     * for acknowledgements: the agent's fence judges each message by its ballot, not by its place
     * in the stream, and the lease counts from the agent's own send time.
     */
    synchronized int sendAhead(LeaderMessage message) {
      if (closed) {
        return 0;
      }
      write(message);
      return waiting.size();
    }

    /** gRPC: the agent's side can take more; writes what waits while it still can. */
    synchronized void onReady() {
      while (!closed && !waiting.isEmpty() && (call == null || call.isReady())) {
        LeaderMessage next = waiting.poll();
        String request = repeatable(next);
        if (request != null) {
          waitingRequests.remove(request);
        }
        write(next);
      }
    }

    private void write(LeaderMessage message) {
      watch.sent(message.getBodyCase());
      try {
        out.onNext(message);
      } catch (RuntimeException e) {
        // The call was cancelled under us; its end arrives through onError.
        closed = true;
      }
    }

    /** Sends {@code last} after what waits and completes the stream. */
    synchronized void end(LeaderMessage last) {
      if (closed) {
        return;
      }
      // The stream ends: what still waits would only delay the last word; the agent re-registers
      // and the dispatcher repeats what is unanswered.
      waiting.clear();
      waitingRequests.clear();
      write(last);
      complete();
    }

    synchronized void complete() {
      if (closed) {
        return;
      }
      closed = true;
      waiting.clear();
      waitingRequests.clear();
      try {
        out.onCompleted();
      } catch (RuntimeException e) {
        // Already cancelled by the agent: nothing to end.
      }
    }

    /** A key for a request the dispatcher repeats until answered; null for any other message. */
    private static String repeatable(LeaderMessage message) {
      return switch (message.getBodyCase()) {
        case LAUNCH ->
            "L" + message.getLaunch().getAttempt() + "@" + message.getLaunch().getRunId();
        case GET_RUN ->
            "G" + message.getGetRun().getAttempt() + "@" + message.getGetRun().getRunId();
        case CANCEL ->
            "C" + message.getCancel().getAttempt() + "@" + message.getCancel().getRunId();
        default -> null;
      };
    }
  }

  LeaderDispatch(
      ReplicaNode node,
      CronStateMachine cron,
      InstantSource clock,
      int replicaId,
      Map<Integer, String> clientAddresses,
      long generation,
      PrintStream log) {
    this.node = node;
    this.cron = cron;
    this.clock = clock;
    this.log = log;
    this.replicaId = replicaId;
    this.clientAddresses = Map.copyOf(clientAddresses);
    this.generation = generation;
    this.registry = new SharedAgentRegistry(new AgentRegistry(AgentRegistryConfig.DEFAULT));
    this.driver =
        new LeaderDriver(
            cron, DispatcherConfig.DEFAULT, new SplittableRandom(new SecureRandom().nextLong()));
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "replica-" + replicaId + "-dispatch-tick");
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * The ballot under which this replica's dispatcher may grant agents leases (it leads and no agent
   * showed it a higher fence), or {@code null}: published by the loop after every step of the
   * dispatcher, read by the heartbeat path.
   */
  private volatile Ballot grantingUnder;

  private final HeartbeatWatch heartbeats = new HeartbeatWatch();

  /** Whether a dispatcher tick is queued on the loop and has not begun. */
  private final java.util.concurrent.atomic.AtomicBoolean tickQueued =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** Starts ticking and listening to applied steps. */
  void start() {
    appliedHandle = node.onApplied(this::onApplied);
    ticker.scheduleAtFixedRate(
        () -> {
          // One tick queued at a time: ticks that pile up behind a long one (a slow machine, a
          // large backlog) would take the loop from applying, and the next tick sees it all anyway.
          if (tickQueued.compareAndSet(false, true)
              && !node.runOnLoop(
                  "dispatcher tick",
                  () -> {
                    tickQueued.set(false);
                    onTick();
                  })) {
            tickQueued.set(false);
          }
        },
        TICK_MILLIS,
        TICK_MILLIS,
        TimeUnit.MILLISECONDS);
  }

  // ------------------------------------------------------------------------------- any thread

  /** A new {@code Connect} stream: every message it carries is handled on the loop. */
  StreamObserver<AgentMessage> connect(StreamObserver<LeaderMessage> out) {
    Stream stream = new Stream(out, heartbeats);
    if (stream.call != null) {
      stream.call.setOnReadyHandler(stream::onReady);
    }
    return new StreamObserver<>() {
      @Override
      public void onNext(AgentMessage message) {
        long arrived = System.nanoTime();
        if (message.hasHeartbeat()) {
          heartbeats.received(
              stream.lastHeartbeatNanos == 0 ? 0 : arrived - stream.lastHeartbeatNanos);
          stream.lastHeartbeatNanos = arrived;
          if (acknowledgedOffLoop(stream, message.getHeartbeat())) {
            return;
          }
        }
        if (!node.runOnLoop("agent message", () -> onAgentMessage(stream, message, arrived))) {
          out.onError(Status.UNAVAILABLE.withDescription("replica stopping").asRuntimeException());
        }
      }

      @Override
      public void onError(Throwable error) {
        node.runOnLoop(() -> onStreamEnded(stream));
      }

      @Override
      public void onCompleted() {
        node.runOnLoop(
            () -> {
              onStreamEnded(stream);
              stream.complete();
            });
      }
    };
  }

  /** This replica is not dispatching (not the leader, or not yet): the caller redirects. */
  static final class NotDispatchingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotDispatchingException(String message) {
      super(message);
    }
  }

  /**
   * Asks the agent that ran {@code runId} for a chunk of its output ({@code attempt} 0: the
   * newest). Fails with {@link NotDispatchingException} when this replica does not dispatch, with
   * {@link java.util.NoSuchElementException} when no connected agent has the output, with {@link
   * IllegalStateException} when {@link #MAX_PENDING_OUTPUT_REQUESTS} are in flight, and with a
   * {@link java.util.concurrent.TimeoutException} past {@link #OUTPUT_DEADLINE_MILLIS}.
   */
  CompletableFuture<GetRunOutputResponse> runOutput(
      RunId runId, int attempt, long offset, int maxBytes) {
    CompletableFuture<GetRunOutputResponse> answer = new CompletableFuture<>();
    if (!node.runOnLoop(() -> requestOutput(runId, attempt, offset, maxBytes, answer))) {
      answer.completeExceptionally(new NotDispatchingException("replica stopping"));
    }
    return answer.orTimeout(OUTPUT_DEADLINE_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** The agents as the leader sees them (empty on a follower), answered on the loop. */
  CompletableFuture<List<AgentStatus>> agentStatus() {
    CompletableFuture<List<AgentStatus>> answer = new CompletableFuture<>();
    if (!node.runOnLoop(
        () ->
            answer.complete(
                driver.ballot() == null
                    ? List.of()
                    : registry.status(clock.instant()).stream()
                        .map(AgentProtos::status)
                        .toList()))) {
      answer.complete(List.of());
    }
    return answer;
  }

  // ------------------------------------------------------------------------------- loop thread

  private void onTick() {
    ReplicaNode.Leadership leadership = node.leadershipOnLoop();
    Instant now = clock.instant();
    long started = System.nanoTime();
    LeaderDriver.Transition transition =
        driver.onLeadership(
            now,
            new LeaderDriver.Leadership(
                leadership.leader(),
                leadership.ballot(),
                leadership.leaseValid(),
                leadership.caughtUp()),
            () -> registry.directory(now));
    transition
        .stopped()
        .ifPresent(
            ballot -> {
              stopLeading();
              log.println("replica " + replicaId + ": dispatcher stops (ballot " + ballot + ")");
            });
    if (transition.started().isPresent()) {
      long rebuilt = System.nanoTime();
      carryOut(transition.effects());
      log.println(
          "replica "
              + replicaId
              + ": dispatcher starts under ballot "
              + transition.started().get()
              + " generation "
              + generation
              + " at slot "
              + cron.appliedSlot()
              + " (rebuilt in "
              + (rebuilt - started) / 1_000_000
              + " ms; "
              + transition.effects().size()
              + " first effects carried out in "
              + (System.nanoTime() - rebuilt) / 1_000_000
              + " ms)");
      return;
    }
    carryOut(driver.onTick(now, leadership.leaseValid(), registry.directory(now)));
  }

  private void stopLeading() {
    grantingUnder = null;
    LeaderMessage redirect = redirect();
    for (Stream stream : List.copyOf(streams.values())) {
      stream.end(redirect);
    }
    streams.clear();
    registry.clear();
    for (PendingOutput pending : outputRequests.values()) {
      pending
          .answer()
          .completeExceptionally(new NotDispatchingException("this replica stopped leading"));
    }
    outputRequests.clear();
  }

  private LeaderMessage redirect() {
    ReplicaNode.Status status = node.status();
    Redirect.Builder redirect =
        Redirect.newBuilder()
            .setLeaderId(status.leaderId())
            .addAllMembers(MemberAddresses.clientAddresses(node, clientAddresses));
    String address = MemberAddresses.clientAddress(node, clientAddresses, status.leaderId());
    if (address != null) {
      redirect.setLeaderAddress(address);
    }
    return LeaderMessage.newBuilder().setRedirect(redirect).build();
  }

  private void onApplied() {
    carryOut(driver.onApplied(clock.instant(), node.leadershipOnLoop().leaseValid()));
  }

  /**
   * An agent's message, on the loop; {@code arrivedNanos} is when gRPC handed it over. A heartbeat
   * that gets no acknowledgement here is counted ({@link HeartbeatWatch#unanswered}).
   */
  private void onAgentMessage(Stream stream, AgentMessage message, long arrivedNanos) {
    boolean acknowledged = onAgentMessageAcknowledged(stream, message, arrivedNanos);
    if (message.hasHeartbeat() && !acknowledged) {
      heartbeats.unanswered();
    }
  }

  /** {@link #onAgentMessage}; false only for a heartbeat not acknowledged. */
  private boolean onAgentMessageAcknowledged(
      Stream stream, AgentMessage message, long arrivedNanos) {
    if (stream.closed) {
      return false;
    }
    if (message.hasRegister()) {
      onRegister(stream, message.getRegister());
      return false;
    }
    if (stream.agent == null) {
      stream.end(refused("the first message on a stream must be Register"));
      return false;
    }
    if (!registry.isCurrent(stream.agent, stream.connection) || driver.ballot() == null) {
      stream.end(redirect());
      return false;
    }
    Instant now = clock.instant();
    AgentId agent = stream.agent;
    Optional<String> foreign = AgentReportGuard.refusal(cron, agent, message);
    if (foreign.isPresent()) {
      log.println("replica " + replicaId + ": " + foreign.get());
      return false;
    }
    switch (message.getBodyCase()) {
      case HEARTBEAT -> {
        return onHeartbeat(stream, message.getHeartbeat(), now, arrivedNanos);
      }
      case LAUNCH_REPLY -> onLaunchReply(agent, message.getLaunchReply(), now);
      case RUN_STATE -> {
        registry.onHeard(agent, stream.connection, now);
        AgentProtos.answer(agent, generation, message.getRunState()).ifPresent(this::answer);
      }
      case CANCEL_REPLY -> {
        registry.onHeard(agent, stream.connection, now);
        CancelReply reply = message.getCancelReply();
        if (reply.hasHighestSeen()) {
          answer(
              new AgentAnswer.Fenced(
                  agent, AgentProtos.ballot(generation, reply.getHighestSeen())));
        }
      }
      case REPORT -> {
        registry.onHeard(agent, stream.connection, now);
        onReport(stream, message.getReport(), now);
      }
      case OUTPUT -> {
        registry.onHeard(agent, stream.connection, now);
        PendingOutput pending = outputRequests.remove(message.getOutput().getRequestId());
        if (pending != null && pending.agent().equals(agent)) {
          OutputChunk chunk = message.getOutput();
          if (!chunk.getFound()) {
            pending
                .answer()
                .completeExceptionally(
                    new java.util.NoSuchElementException(
                        "run_id: agent "
                            + agent
                            + " keeps no output for it"
                            + (chunk.getError().isEmpty() ? "" : ": " + chunk.getError())));
          } else {
            pending
                .answer()
                .complete(
                    GetRunOutputResponse.newBuilder()
                        .setAgentId(agent.value())
                        .setAttempt(pending.attempt())
                        .setData(chunk.getData())
                        .setOffset(chunk.getOffset())
                        .setEof(chunk.getEof())
                        .setSize(chunk.getSize())
                        .setTruncated(chunk.getTruncated())
                        .build());
          }
        }
      }
      case REGISTER, BODY_NOT_SET ->
          stream.end(refused("unexpected message " + message.getBodyCase()));
    }
    return false;
  }

  private static LeaderMessage refused(String reason) {
    return LeaderMessage.newBuilder().setRefused(Refused.newBuilder().setReason(reason)).build();
  }

  private void onRegister(Stream stream, Register register) {
    Ballot ballot = driver.ballot();
    if (ballot == null || !node.leadershipOnLoop().leader()) {
      stream.end(redirect());
      return;
    }
    if (stream.agent != null) {
      stream.end(refused("Register sent twice on one stream"));
      return;
    }
    Instant now = clock.instant();
    AgentRegistry.Registration registration =
        registry.onRegister(
            register.getName(),
            register.getLabelsMap(),
            register.getCapacity(),
            register.getVersion(),
            UNKNOWN_PEER,
            now);
    switch (registration) {
      case AgentRegistry.Registration.Refused refused -> {
        log.println("replica " + replicaId + ": agent registration refused: " + refused.reason());
        stream.end(refused(refused.reason()));
      }
      case AgentRegistry.Registration.Accepted accepted -> {
        stream.agent = accepted.agent();
        stream.connection = accepted.connection();
        Stream replaced = streams.put(stream.agent, stream);
        if (replaced != null && replaced != stream) {
          replaced.end(refused("replaced by a newer stream of the same agent"));
        }
        AgentRegistryConfig config = registry.config();
        stream.membersSent = MemberAddresses.clientAddresses(node, clientAddresses);
        stream.send(
            LeaderMessage.newBuilder()
                .setRegistered(
                    Registered.newBuilder()
                        .setLeaderId(replicaId)
                        .setBallot(AgentProtos.fence(generation, ballot))
                        .setHeartbeatInterval(AgentProtos.duration(config.heartbeatInterval()))
                        .setLeaderLease(AgentProtos.duration(config.leaderLease()))
                        .addAllMembers(stream.membersSent))
                .build());
        log.println(
            "replica "
                + replicaId
                + ": agent "
                + stream.agent
                + " registered (capacity "
                + register.getCapacity()
                + ", labels "
                + register.getLabelsMap()
                + ", "
                + register.getRunsCount()
                + " runs held)");
        driver.onAgentRegistered(stream.agent);
        driver.onAgents(registry.directory(now));
      }
    }
  }

  private void publishGrant() {
    grantingUnder = driver.mayGrantAgentLease(true) ? driver.ballot() : null;
  }

  /**
   * Acknowledges a heartbeat on the gRPC thread that received it, without waiting for the loop: a
   * loop busy for seconds (a million jobs' dispatcher ticks, a backlog of agent messages) left
   * heartbeats queued behind its tasks until the agents' leases lapsed. Only a heartbeat from a
   * registered, current stream while this replica's dispatcher may grant leases under the ballot
   * its core leads with, lease valid now; anything else (not yet registered, a redirect to send)
   * returns false and goes to the loop as before. The registry notes the arrival, so the leader's
   * count of the agent's lease starts no earlier than on the loop.
   */
  private boolean acknowledgedOffLoop(Stream stream, Heartbeat heartbeat) {
    AgentId agent = stream.agent;
    Ballot ballot = grantingUnder;
    HeartbeatWatch.ToLoop why =
        agent == null
            ? HeartbeatWatch.ToLoop.NOT_REGISTERED
            : ballot == null
                ? HeartbeatWatch.ToLoop.NOT_GRANTING
                : !node.leaseValidUnder(ballot) ? HeartbeatWatch.ToLoop.LEASE_NOT_VALID : null;
    if (why == null
        && !registry.onHeartbeat(
            agent,
            stream.connection,
            heartbeat.getRunning(),
            heartbeat.getCapacity(),
            clock.instant())) {
      why = HeartbeatWatch.ToLoop.NOT_CURRENT;
    }
    if (why != null) {
      heartbeats.toLoop(why);
      return false;
    }
    heartbeats.acknowledgedAtOnce(acknowledge(stream, heartbeat, ballot));
    return true;
  }

  /** Sends the acknowledgement ahead of what waits; returns how many messages it overtook. */
  private int acknowledge(Stream stream, Heartbeat heartbeat, Ballot ballot) {
    HeartbeatAck.Builder ack =
        HeartbeatAck.newBuilder()
            .setSequence(heartbeat.getSequence())
            .setLease(AgentProtos.duration(registry.config().agentLease()))
            .setBallot(AgentProtos.fence(generation, ballot));
    // The members' addresses ride on the acknowledgement only when they changed (a membership
    // change chosen while the agent is connected), so the agent follows the configuration.
    List<String> members = MemberAddresses.clientAddresses(node, clientAddresses);
    synchronized (stream) {
      if (!members.equals(stream.membersSent)) {
        stream.membersSent = members;
        ack.addAllMembers(members);
      }
      return stream.sendAhead(LeaderMessage.newBuilder().setHeartbeatAck(ack).build());
    }
  }

  /** Whether the heartbeat was acknowledged. */
  private boolean onHeartbeat(Stream stream, Heartbeat heartbeat, Instant now, long arrivedNanos) {
    if (!registry.onHeartbeat(
        stream.agent, stream.connection, heartbeat.getRunning(), heartbeat.getCapacity(), now)) {
      return false;
    }
    // The agent's lease counts from its own send time; acknowledging only while this replica's
    // lease holds (and no agent has shown it a higher fence) means an agent never gets a lease
    // from a leader that may already be deposed.
    if (!driver.mayGrantAgentLease(node.leadershipOnLoop().leaseValid())) {
      return false;
    }
    int unreadAhead = acknowledge(stream, heartbeat, driver.ballot());
    heartbeats.acknowledgedOnLoop(System.nanoTime() - arrivedNanos, unreadAhead);
    return true;
  }

  /** What became of the agents' heartbeats since the last call ({@link HeartbeatWatch}). */
  String heartbeatSummary() {
    return heartbeats.summary();
  }

  private void onLaunchReply(AgentId agent, LaunchReply reply, Instant now) {
    switch (reply.getStatus()) {
      case ACCEPTED, REPEAT -> {
        if (reply.hasState()) {
          RunState state = reply.getState().toBuilder().setBallot(reply.getBallot()).build();
          AgentProtos.answer(agent, generation, state).ifPresent(this::answer);
        }
      }
      case FENCED ->
          answer(
              new AgentAnswer.Fenced(
                  agent, AgentProtos.ballot(generation, reply.getHighestSeen())));
      case CAPACITY -> registry.onCapacityFull(agent);
      case STATUS_UNSPECIFIED, UNRECOGNIZED -> registry.onLaunchFailed(agent, now);
    }
  }

  /**
   * An agent's start or finish report: acknowledged once the log holds it, else handed to the
   * dispatcher.
   */
  private void onReport(Stream stream, RunReport report, Instant now) {
    RunState state = report.getState();
    RunId runId;
    try {
      runId = RunId.parse(state.getRunId());
    } catch (IllegalArgumentException e) {
      log.println(
          "replica "
              + replicaId
              + ": agent "
              + stream.agent
              + " reported a bad run: "
              + e.getMessage());
      acknowledge(stream, report);
      return;
    }
    AgentId agent = stream.agent;
    AgentAnswer answer;
    if (report.getKind() == RunReport.Kind.STARTED) {
      registry.onLaunchSucceeded(agent);
      answer = new AgentAnswer.Started(agent, runId, state.getAttempt());
    } else if (report.getKind() == RunReport.Kind.FINISHED
        && state.getState() == RunState.State.FINISHED) {
      Optional<Outcome> outcome = AgentProtos.outcome(state);
      if (outcome.isEmpty()) {
        acknowledge(stream, report);
        return;
      }
      if (!state.getReason().isEmpty() && !state.hasStartedAt()) {
        registry.onLaunchFailed(
            agent, now); // the agent could not even start it (bad spec on this host)
      }
      answer =
          new AgentAnswer.Finished(
              agent, runId, state.getAttempt(), outcome.get(), AgentProtos.detail(state));
    } else if (report.getKind() == RunReport.Kind.FINISHED
        && state.getState() == RunState.State.NEVER_STARTED) {
      // The agent's lease lapsed before it could start the run: not the agent's fault, no circuit.
      answer = new AgentAnswer.NeverStarted(agent, runId, state.getAttempt(), state.getReason());
    } else {
      acknowledge(stream, report); // nothing the leader can record; the agent may stop re-sending
      return;
    }
    LeaderDriver.ReportStep step =
        driver.onReport(now, node.leadershipOnLoop().leaseValid(), answer);
    if (step.acknowledge()) {
      acknowledge(stream, report);
    }
    carryOut(step.effects());
  }

  private static void acknowledge(Stream stream, RunReport report) {
    stream.send(
        LeaderMessage.newBuilder()
            .setReportAck(
                ReportAck.newBuilder()
                    .setRunId(report.getState().getRunId())
                    .setAttempt(report.getState().getAttempt())
                    .setKind(report.getKind()))
            .build());
  }

  /** The acknowledgement of a report the dispatcher proposed, once the applied log holds it. */
  private static LeaderMessage reportAck(AgentAnswer report) {
    ReportAck.Builder ack = ReportAck.newBuilder();
    switch (report) {
      case AgentAnswer.Started started ->
          ack.setRunId(started.runId().toString())
              .setAttempt(started.attempt())
              .setKind(RunReport.Kind.STARTED);
      case AgentAnswer.Finished finished ->
          ack.setRunId(finished.runId().toString())
              .setAttempt(finished.attempt())
              .setKind(RunReport.Kind.FINISHED);
      case AgentAnswer.NeverStarted never ->
          ack.setRunId(never.runId().toString())
              .setAttempt(never.attempt())
              .setKind(RunReport.Kind.FINISHED);
      default -> throw new IllegalArgumentException("not a report: " + report);
    }
    return LeaderMessage.newBuilder().setReportAck(ack).build();
  }

  private void onStreamEnded(Stream stream) {
    if (stream.agent != null) {
      registry.onDisconnected(stream.agent, stream.connection);
      streams.remove(stream.agent, stream);
    }
  }

  private void requestOutput(
      RunId runId,
      int attempt,
      long offset,
      int maxBytes,
      CompletableFuture<GetRunOutputResponse> answer) {
    if (driver.ballot() == null) {
      answer.completeExceptionally(new NotDispatchingException("this replica does not dispatch"));
      return;
    }
    // The open run's current attempt, else the ledger record's last attempt: both name the agent.
    Optional<io.paxcron.scheduler.Run> open =
        cron.run(runId).filter(run -> run.launched() && (attempt == 0 || run.attempt() == attempt));
    Optional<io.paxcron.scheduler.LedgerRecord> ended =
        cron.ledgerRecord(runId)
            .filter(
                record -> record.attempts() > 0 && (attempt == 0 || record.attempts() == attempt));
    AgentId agent =
        open.map(run -> run.agentId())
            .orElseGet(() -> ended.map(record -> record.agentId()).orElse(null));
    int resolved =
        open.map(run -> run.attempt())
            .orElseGet(() -> ended.map(record -> record.attempts()).orElse(0));
    Stream stream = streams.get(agent);
    if (agent == null || stream == null || stream.closed) {
      answer.completeExceptionally(
          new java.util.NoSuchElementException(
              agent == null
                  ? "run_id: no attempt "
                      + (attempt == 0 ? "" : attempt + " ")
                      + "of "
                      + runId
                      + " was launched"
                      + " (an earlier attempt's agent is not recorded)"
                  : "run_id: agent " + agent + " that ran " + runId + " is not connected"));
      return;
    }
    if (outputRequests.size() >= MAX_PENDING_OUTPUT_REQUESTS) {
      answer.completeExceptionally(
          new IllegalStateException(
              "too many output requests in flight ("
                  + MAX_PENDING_OUTPUT_REQUESTS
                  + ", MAX_PENDING_OUTPUT_REQUESTS)"));
      return;
    }
    long requestId = nextOutputRequest++;
    outputRequests.put(requestId, new PendingOutput(agent, resolved, answer));
    answer.whenComplete((chunk, error) -> node.runOnLoop(() -> outputRequests.remove(requestId)));
    stream.send(
        LeaderMessage.newBuilder()
            .setGetOutput(
                GetOutput.newBuilder()
                    .setRequestId(requestId)
                    .setRunId(runId.toString())
                    .setAttempt(resolved)
                    .setOffset(offset)
                    .setMaxBytes(maxBytes))
            .build());
  }

  private void answer(AgentAnswer answer) {
    ReplicaNode.Leadership leadership = node.leadershipOnLoop();
    carryOut(driver.onAgentAnswer(clock.instant(), leadership.leaseValid(), answer));
  }

  private void carryOut(List<DispatchEffect> effects) {
    publishGrant();
    for (DispatchEffect effect : effects) {
      if (driver.ballot() == null || !node.leadershipOnLoop().leaseValid()) {
        return; // the lease lapsed while carrying out: drop the rest, the dispatcher re-derives it
      }
      switch (effect) {
        case DispatchEffect.Propose propose -> {
          for (CronCommand command : propose.commands()) {
            node.propose(driver.sessionId(), driver.nextSequence(), CronCodec.encode(command));
          }
        }
        case DispatchEffect.Launch launch -> {
          Launch.Builder message =
              Launch.newBuilder()
                  .setRunId(launch.runId().toString())
                  .setAttempt(launch.attempt())
                  .setBallot(AgentProtos.fence(generation, launch.ballot()))
                  .setSpec(AgentProtos.launchSpec(launch.spec()))
                  .setScheduledTime(AgentProtos.timestamp(launch.runId().instant()));
          if (launch.startAt() != null) {
            message.setStartAt(AgentProtos.timestamp(launch.startAt()));
          }
          send(launch.agentId(), LeaderMessage.newBuilder().setLaunch(message).build());
        }
        case DispatchEffect.Cancel cancel ->
            send(
                cancel.agentId(),
                LeaderMessage.newBuilder()
                    .setCancel(
                        Cancel.newBuilder()
                            .setRunId(cancel.runId().toString())
                            .setAttempt(cancel.attempt())
                            .setBallot(AgentProtos.fence(generation, cancel.ballot())))
                    .build());
        case DispatchEffect.AcknowledgeReport acknowledged -> {
          Stream stream = streams.get(acknowledged.agentId());
          if (stream != null) {
            stream.send(reportAck(acknowledged.report()));
          }
        }
        case DispatchEffect.GetRun getRun ->
            send(
                getRun.agentId(),
                LeaderMessage.newBuilder()
                    .setGetRun(
                        GetRun.newBuilder()
                            .setRunId(getRun.runId().toString())
                            .setAttempt(getRun.attempt())
                            .setBallot(AgentProtos.fence(generation, getRun.ballot())))
                    .build());
      }
    }
  }

  /**
   * Writes to the agent's stream if it has one. A message to an agent without a stream is dropped:
   * the dispatcher re-sends launches and questions until answered, and decides on the agent's
   * lease.
   */
  private void send(AgentId agent, LeaderMessage message) {
    Stream stream = streams.get(agent);
    if (stream != null) {
      stream.send(message);
    }
  }

  @Override
  public void close() {
    ticker.shutdownNow();
    if (appliedHandle != null) {
      try {
        appliedHandle.close();
      } catch (Exception e) {
        // Removing a listener cannot fail.
      }
    }
  }
}
