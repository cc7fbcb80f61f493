package io.paxcron.server;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.replica.ReplicaNode;
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.AgentInfo;
import io.paxcron.scheduler.CronCodec;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.DispatchEffect;
import io.paxcron.scheduler.Dispatcher;
import io.paxcron.scheduler.DispatcherConfig;
import io.paxcron.scheduler.Run;
import io.paxcron.scheduler.RunStatus;
import java.io.PrintStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Drives the core {@link Dispatcher} on the replica's event loop while this replica leads with a
 * valid lease (DESIGN §4 launch protocol). Every input reaches the dispatcher on the loop thread:
 * a tick every {@link #TICK_MILLIS} ms with the wall clock and the lease, the cron state machine's
 * drained changes after every applied step, and the agents' answers and reports. Its effects are
 * carried out there too: proposals go through the replica in the dispatcher's own client session
 * (a fresh client id each time this replica starts leading, sequences increasing), launches,
 * cancels and questions go to the agent. Nothing is queued for later: a launch is sent in the same
 * loop step that produced it, and only while the lease still holds; once the lease lapses the
 * dispatcher emits nothing, and once leadership is lost it forgets everything.
 *
 * <p>Agent directory: every replica process has its own {@link InProcessAgent}, and the leader's
 * directory holds only its own agent ({@code agent-<replicaId>}), so runs execute on the leader's
 * host. This is the simplest correct choice while agents are in-process: an agent is reachable
 * exactly when its replica leads. After a failover the new leader does not know the old leader's
 * agent, so reconciliation treats its launched runs as unreachable past their lease: at-least-once
 * runs get a new attempt on the new leader's agent, at-most-once runs are recorded {@code LOST}.
 */
final class LeaderDispatch implements AutoCloseable {

  /** How often the dispatcher ticks. */
  static final long TICK_MILLIS = 20;
  /** How often unacknowledged agent reports are taken again. */
  private static final Duration REPORT_RETRY = Duration.ofMillis(500);
  /** The lease the leader's own agent gets in the directory, renewed on every tick. */
  private static final Duration AGENT_LEASE = Duration.ofSeconds(10);
  /** Runs the in-process agent takes at once. */
  static final int AGENT_CAPACITY = 256;

  private final ReplicaNode node;
  private final CronStateMachine cron;
  private final InstantSource clock;
  private final PrintStream log;
  private final int replicaId;
  private final InProcessAgent agent;
  private final SplittableRandom random;
  private final Dispatcher dispatcher;
  private final ScheduledExecutorService ticker;
  private AutoCloseable appliedHandle;

  // Loop-thread state.
  private long sessionId;
  private long sequence;
  private Instant reportsRetriedAt = Instant.EPOCH;

  LeaderDispatch(ReplicaNode node, CronStateMachine cron, InstantSource clock, int replicaId, PrintStream log) {
    this.node = node;
    this.cron = cron;
    this.clock = clock;
    this.log = log;
    this.replicaId = replicaId;
    this.random = new SplittableRandom(new SecureRandom().nextLong());
    this.dispatcher = new Dispatcher(cron, DispatcherConfig.DEFAULT, random.split());
    this.agent = new InProcessAgent("agent-" + replicaId,
        report -> node.runOnLoop(() -> onReport(report)), log);
    this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "replica-" + replicaId + "-dispatch-tick");
      thread.setDaemon(true);
      return thread;
    });
  }

  /** Starts ticking and listening to applied steps. */
  void start() {
    appliedHandle = node.onApplied(this::onApplied);
    ticker.scheduleAtFixedRate(() -> node.runOnLoop(this::onTick), TICK_MILLIS, TICK_MILLIS,
        TimeUnit.MILLISECONDS);
  }

  /** The agent in this process (for tests and status). */
  AgentEndpoint agent() {
    return agent;
  }

  // ------------------------------------------------------------------------------- loop thread

  private void onTick() {
    ReplicaNode.Leadership leadership = node.leadershipOnLoop();
    Instant now = clock.instant();
    Ballot leading = dispatcher.ballot();
    if (leading != null && (!leadership.leader() || !leadership.ballot().equals(leading))) {
      dispatcher.onLeadershipLost();
      log.println("replica " + replicaId + ": dispatcher stops (ballot " + leading + ")");
      leading = null;
    }
    if (leading == null) {
      if (leadership.leader() && leadership.leaseValid() && leadership.caughtUp()) {
        cron.drainChanges();  // onLeadership rebuilds from the applied state
        sessionId = newSessionId();
        sequence = 1;
        dispatcher.onAgents(directory(now));
        log.println("replica " + replicaId + ": dispatcher starts under ballot " + leadership.ballot()
            + " at slot " + cron.appliedSlot());
        carryOut(dispatcher.onLeadership(now, true, leadership.ballot()));
      }
      return;
    }
    dispatcher.onAgents(directory(now));
    carryOut(dispatcher.onTick(now, leadership.leaseValid()));
    if (leadership.leaseValid() && !now.isBefore(reportsRetriedAt.plus(REPORT_RETRY))) {
      reportsRetriedAt = now;
      for (AgentAnswer report : agent.unacknowledgedReports()) {
        onReport(report);
      }
    }
  }

  private void onApplied() {
    CronStateMachine.ChangeBatch batch = cron.drainChanges();
    if (dispatcher.ballot() == null || batch.changes().isEmpty() && !batch.overflowed()) {
      return;
    }
    carryOut(dispatcher.onApplied(clock.instant(), node.leadershipOnLoop().leaseValid(), batch));
  }

  /** An agent's start or finish report: acknowledged if the log has it, else handed to the dispatcher. */
  private void onReport(AgentAnswer report) {
    if (dispatcher.ballot() == null) {
      return;
    }
    switch (report) {
      case AgentAnswer.Started started -> {
        Optional<Run> run = cron.run(started.runId());
        boolean current = run.isPresent() && run.get().attempt() == started.attempt() && run.get().launched();
        if (!current || run.get().status() == RunStatus.RUNNING) {
          agent.acknowledge(started.runId(), started.attempt(), false);
          return;
        }
      }
      case AgentAnswer.Finished finished -> {
        Optional<Run> run = cron.run(finished.runId());
        boolean current = run.isPresent() && run.get().attempt() == finished.attempt() && run.get().launched();
        if (!current) {
          agent.acknowledge(finished.runId(), finished.attempt(), true);
          return;
        }
      }
      default -> { }
    }
    answer(report);
  }

  private void answer(AgentAnswer answer) {
    ReplicaNode.Leadership leadership = node.leadershipOnLoop();
    carryOut(dispatcher.onAgentAnswer(clock.instant(), leadership.leaseValid(), answer));
  }

  private void carryOut(List<DispatchEffect> effects) {
    for (DispatchEffect effect : effects) {
      if (dispatcher.ballot() == null || !node.leadershipOnLoop().leaseValid()) {
        return;  // the lease lapsed while carrying out: drop the rest, the dispatcher re-derives it
      }
      switch (effect) {
        case DispatchEffect.Propose propose -> {
          for (CronCommand command : propose.commands()) {
            byte[] payload = CronCodec.encode(command);
            node.propose(sessionId, sequence++, payload);
          }
        }
        case DispatchEffect.Launch launch -> {
          if (launch.agentId().equals(agent.agentId())) {
            agent.launch(launch.runId(), launch.attempt(), launch.ballot(), launch.spec()).ifPresent(this::answer);
          }
        }
        case DispatchEffect.Cancel cancel -> {
          if (cancel.agentId().equals(agent.agentId())) {
            agent.cancel(cancel.runId(), cancel.attempt(), cancel.ballot()).ifPresent(this::answer);
          }
        }
        case DispatchEffect.GetRun getRun -> {
          if (getRun.agentId().equals(agent.agentId())) {
            answer(agent.getRun(getRun.runId(), getRun.attempt(), getRun.ballot()));
          }
        }
      }
    }
  }

  /** Only this replica's own agent (see the class comment), with a lease renewed on every tick. */
  private List<AgentInfo> directory(Instant now) {
    return List.of(new AgentInfo(agent.agentId(), Map.of(), AGENT_CAPACITY, now.plus(AGENT_LEASE)));
  }

  private long newSessionId() {
    long id;
    do {
      id = random.nextLong() & Long.MAX_VALUE;
    } while (id == 0);
    return id;
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
    agent.close();
  }
}
