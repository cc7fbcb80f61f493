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
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.AgentId;
import io.paxcron.scheduler.AgentRunState;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.sim.SystemMessages.AckMessage;
import io.paxcron.scheduler.sim.SystemMessages.AgentMessage;
import io.paxcron.scheduler.sim.SystemMessages.CancelMessage;
import io.paxcron.scheduler.sim.SystemMessages.GetRunMessage;
import io.paxcron.scheduler.sim.SystemMessages.Heartbeat;
import io.paxcron.scheduler.sim.SystemMessages.HeartbeatAckMessage;
import io.paxcron.scheduler.sim.SystemMessages.LaunchMessage;
import io.paxcron.scheduler.sim.SystemMessages.Report;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A simulated worker agent: the real agent core ({@link AgentFence}) driven as the real shell
 * drives it — its journal records appended to a simulated disk and made durable by a group commit
 * before any reply, start or report; processes that run for a random virtual time and die with the
 * agent; heartbeats to every replica, the leader's acknowledgements giving the agent its lease;
 * reports re-sent until the leader acknowledges them.
 */
final class SimAgent {
  private record HeldAction(
      long writeCount, Ballot fence, List<LaunchKey> launchesMadeDurable, Runnable action) {}

  private final SystemSimulation sim;
  final int index;
  final String name;

  /** {@link #name} as the scheduler names the agent. */
  final AgentId id;

  final SplittableRandom agentRandom;
  final AgentDisk disk = new AgentDisk();
  AgentFence fence;
  final ArrayDeque<HeldAction> held = new ArrayDeque<>();
  final HashMap<LaunchKey, Integer> replyTo = new HashMap<>();
  boolean alive;
  boolean syncing;
  int incarnation;
  long wakes;

  SimAgent(SystemSimulation sim, int index, SplittableRandom agentRandom) {
    this.sim = sim;
    this.index = index;
    this.name = "agent-" + index;
    this.id = new AgentId(name);
    this.agentRandom = agentRandom;
  }

  Instant clock() {
    return sim.base.plusMillis(sim.now());
  }

  void start() {
    incarnation++;
    alive = true;
    syncing = false;
    held.clear();
    replyTo.clear();
    AgentLimits limits =
        new AgentLimits(
            64,
            AgentLimits.DEFAULT_MAX_LAUNCHES,
            Duration.ofMillis(SystemSimulation.AGENT_GIVE_UP_MILLIS));
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
    sim.trace(
        name
            + " starts (incarnation "
            + incarnation
            + ", fence "
            + fence.highestSeen()
            + ", "
            + fence.size()
            + " launches remembered)");
    int at = incarnation;
    sim.schedule(agentRandom.nextLong(1, SystemSimulation.AGENT_WAKE_MILLIS), () -> onWake(at));
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
    sim.checker.onAgentCrash(index);
    sim.trace(name + " crashes" + (tear ? " (last write torn)" : ""));
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
    List<AgentEffect> startsBeforeDurable = List.of();
    if (sim.options.bug() == SystemBug.AGENT_STARTS_BEFORE_PERSIST) {
      // The records are written in order, but processes start before they are durable.
      startsBeforeDurable =
          ready.effects().stream().filter(AgentEffect.Start.class::isInstance).toList();
      List<AgentEffect> rest =
          ready.effects().stream().filter(e -> !(e instanceof AgentEffect.Start)).toList();
      effects = () -> rest.forEach(effect -> carryOut(effect, from));
    }
    if (ready.persist().isEmpty() && held.isEmpty()) {
      startsBeforeDurable.forEach(effect -> carryOut(effect, from));
      effects.run();
      return;
    }
    long count =
        ready.persist().isEmpty()
            ? disk.writtenCount()
            : disk.append(JournalCodec.encode(ready.persist()));
    startsBeforeDurable.forEach(effect -> carryOut(effect, from));
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
    sim.schedule(
        agentRandom.nextLong(1, 6),
        () -> {
          if (!alive || incarnation != at) {
            return;
          }
          syncing = false;
          disk.syncThrough(through);
          while (alive && !held.isEmpty() && held.peek().writeCount() <= disk.durableCount()) {
            HeldAction done = held.poll();
            sim.checker.onAgentDurable(index, done.fence());
            for (LaunchKey key : done.launchesMadeDurable()) {
              sim.checker.onAgentLaunchDurable(index, key.runId(), key.attempt());
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
        sim.schedule(
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
      case AckMessage ack -> {
        sim.checker.onReportAcknowledged(
            sim.now(), index, name, ack.runId(), ack.attempt(), ack.finish());
        execute(
            fence.onReportAcknowledged(
                new LaunchKey(ack.runId(), ack.attempt()),
                ack.finish() ? AgentEffect.ReportKind.FINISHED : AgentEffect.ReportKind.STARTED),
            from);
      }
      case HeartbeatAckMessage ack -> {
        FenceBallot ballot = fenceBallot(ack.ballot());
        noteBallot(ack.ballot());
        execute(
            fence.onHeartbeatAcknowledged(
                clock(),
                sim.base.plusMillis(ack.sentAtMillis()),
                Duration.ofMillis(SystemSimulation.AGENT_START_LEASE_MILLIS),
                ballot),
            from);
      }
    }
  }

  /** Tells the checker of a ballot the agent is about to take in (not one below its fence). */
  private void noteBallot(Ballot ballot) {
    if (!fenceBallot(ballot).isBelow(fence.highestSeen())) {
      sim.checker.onAgentBallot(index, ballot);
    }
  }

  private void onLaunch(int from, LaunchMessage launch) {
    FenceBallot asked =
        sim.options.bug() == SystemBug.NO_AGENT_FENCING
            ? FenceBallot.max(fenceBallot(launch.ballot()), fence.highestSeen())
            : fenceBallot(launch.ballot());
    LaunchKey key = new LaunchKey(launch.runId(), launch.attempt());
    boolean isNew = fence.view(key).phase() == RunPhase.UNKNOWN;
    io.paxcron.agent.core.Ready ready =
        fence.onLaunch(
            clock(),
            key,
            asked,
            launch.runId().manual() ? null : launch.runId().instant(),
            encodeTimeout(launch.spec().timeout()));
    boolean accepted = ready.persist().stream().anyMatch(JournalRecord.Accepted.class::isInstance);
    if (accepted) {
      sim.checker.onLaunchAccepted(
          sim.now(), index, name, launch.runId(), launch.attempt(), launch.ballot());
      sim.trace(
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
      sim.checker.onAgentBallot(index, launch.ballot());
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
                case FENCED -> new AgentAnswer.Fenced(id, paxosBallot(launch.highestSeen()));
              };
          case LeaderReply.RunAnswer run ->
              switch (run.run().phase()) {
                case UNKNOWN -> new AgentAnswer.Unknown(id, key.runId(), key.attempt(), ballot);
                case FENCED -> new AgentAnswer.Fenced(id, paxosBallot(run.run().highestSeen()));
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
        id, run.key().runId(), run.key().attempt(), ballot, state, outcome);
  }

  /**
   * The launch is durable: the process starts now and runs for a random time (or until its
   * timeout).
   */
  private void startProcess(LaunchKey key, byte[] payload) {
    sim.checker.onRunStarted(sim.now(), index, name, key.runId(), key.attempt());
    long duration = agentRandom.nextLong(50, SystemSimulation.MAX_RUN_MILLIS + 1);
    long timeout = decodeTimeout(payload);
    Outcome outcome =
        duration > timeout
            ? Outcome.TIMED_OUT
            : agentRandom.nextInt(100) < 85 ? Outcome.SUCCEEDED : Outcome.failed(1);
    execute(fence.onStarted(key, clock()), -1);
    int at = incarnation;
    sim.schedule(
        Math.min(duration, timeout),
        () -> {
          if (alive && incarnation == at && fence.view(key).phase() == RunPhase.RUNNING) {
            finish(key, outcome);
          }
        });
  }

  private void finish(LaunchKey key, Outcome outcome) {
    sim.trace(name + " finishes " + key.runId() + " #" + key.attempt() + " " + outcome);
    execute(fence.onFinished(key, outcome, "", clock(), new byte[0]), -1);
  }

  /**
   * Heartbeats, gives time to the core, and re-sends every report the leader has not acknowledged.
   */
  void onWake(int at) {
    if (!alive || incarnation != at) {
      return;
    }
    wakes++;
    for (int replica = 0; replica < sim.nodes.size(); replica++) {
      sim.toReplicaFromAgent(index, replica, new Heartbeat(sim.now()));
    }
    execute(fence.onTick(clock()), -1);
    for (AgentEffect.Report report : fence.pendingReports()) {
      report(report);
    }
    sim.schedule(SystemSimulation.AGENT_WAKE_MILLIS, () -> onWake(at));
  }

  private void report(AgentEffect.Report report) {
    RunView run = report.run();
    LaunchKey key = run.key();
    AgentAnswer answer =
        switch (run.phase()) {
          case RUNNING -> new AgentAnswer.Started(id, key.runId(), key.attempt());
          case FINISHED -> new AgentAnswer.Finished(id, key.runId(), key.attempt(), run.outcome());
          // The simulated leader has no NEVER_STARTED record: it hears a launch cancelled (or
          // given
          // up) before it started as what a SIGTERM at its start would have given, FAILED(128 +
          // 15).
          case NEVER_STARTED ->
              new AgentAnswer.Finished(id, key.runId(), key.attempt(), Outcome.failed(143));
          default -> null;
        };
    if (answer == null) {
      return;
    }
    FenceBallot highest = fence.highestSeen();
    int target =
        highest.equals(FenceBallot.ZERO) || wakes % 3 == 0
            ? agentRandom.nextInt(sim.nodes.size())
            : highest.replicaId();
    sim.toReplicaFromAgent(index, target, new Report(answer));
  }

  private void answer(int replica, AgentAnswer answer) {
    if (replica >= 0) {
      sim.toReplicaFromAgent(index, replica, new Report(answer));
    }
  }

  static FenceBallot fenceBallot(Ballot ballot) {
    return FenceBallot.of(0, ballot);
  }

  static Ballot paxosBallot(FenceBallot ballot) {
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
}
