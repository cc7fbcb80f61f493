package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Check;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * The leader's half of the launch protocol above the {@link Dispatcher}, pure: when the dispatcher
 * starts and stops leading, the client session its proposals go through, when an agent's report is
 * acknowledged and when an agent may be granted a lease. The replica's shell ({@code
 * LeaderDispatch}) and the simulator's replica both hold one and do only I/O around it, so the
 * simulator checks the rules production runs.
 *
 * <p>Rules:
 *
 * <ul>
 *   <li><b>Start</b> only while the replica leads, holds a valid lease and has applied every entry
 *       it knows chosen (the {@link Dispatcher#onLeadership} contract). The dispatcher reads the
 *       applied state from then on; nothing applied earlier is handed to it.
 *   <li><b>Stop</b> as soon as the replica no longer leads or leads under another ballot.
 *   <li><b>Acknowledge a report</b> exactly when the applied log already holds it ({@link
 *       ReportAcknowledgement}); otherwise hand it to the dispatcher, which proposes it.
 *   <li><b>Grant an agent a lease</b> (acknowledge its heartbeat) only while leading with a valid
 *       lease and not deposed by a higher fence an agent has shown.
 * </ul>
 *
 * <p>Each leadership proposes in a fresh client session ({@link #sessionId()}), so sequence numbers
 * restart at 1 without colliding with an earlier term's. Single-threaded, like the dispatcher.
 */
public final class LeaderDriver {

  /** The replica's leadership as its driver sees it at one instant. */
  public record Leadership(boolean leader, Ballot ballot, boolean leaseValid, boolean caughtUp) {
    public Leadership {
      Objects.requireNonNull(ballot, "ballot");
    }
  }

  /**
   * What one leadership check did: the ballot the dispatcher stopped under, the ballot it started
   * under, and the effects of starting (reconciliation and the first tick).
   */
  public record Transition(
      Optional<Ballot> stopped, Optional<Ballot> started, List<DispatchEffect> effects) {
    static final Transition NONE = new Transition(Optional.empty(), Optional.empty(), List.of());
  }

  /** What to do with an agent's start or finish report. */
  public record ReportStep(boolean acknowledge, List<DispatchEffect> effects) {
    static final ReportStep ACKNOWLEDGE = new ReportStep(true, List.of());
    static final ReportStep IGNORE = new ReportStep(false, List.of());
  }

  /**
   * Most reports this leader remembers having proposed and not yet acknowledged; beyond it the
   * oldest is forgotten (the agent sends it again and it is proposed again).
   */
  static final int MAX_AWAITING_REPORTS = 200_000;

  private final CronStateMachine cron;
  private final Dispatcher dispatcher;
  private final DispatcherConfig config;
  private final RandomGenerator random;

  /**
   * Reports handed to the dispatcher under this leadership and not yet acknowledged, in run order,
   * with when each was last proposed: a report sent again before its record is applied is not
   * proposed again until {@link DispatcherConfig#proposalRetryAfter} has passed, and the batch that
   * applies its record acknowledges it ({@link DispatchEffect.AcknowledgeReport}) without waiting
   * for the agent's next resend. Without this, each resend (every heartbeat) proposed the report
   * again: once the log lagged, the duplicates grew with the lag and the leader collapsed under
   * them.
   */
  private final TreeMap<ReportKey, Awaiting> awaiting = new TreeMap<>();

  private long awaitingSeenRevision;
  private long sessionId;
  private long nextSequence;

  /**
   * @param random seeds the proposal sessions and the dispatcher's retry jitter
   */
  public LeaderDriver(CronStateMachine cron, DispatcherConfig config, RandomGenerator random) {
    this.cron = Objects.requireNonNull(cron, "cron");
    this.random = Objects.requireNonNull(random, "random");
    this.config = Objects.requireNonNull(config, "config");
    this.dispatcher = new Dispatcher(cron, config, random);
  }

  /** The ballot the dispatcher leads under, or {@code null} when it does not lead. */
  public Ballot ballot() {
    return dispatcher.ballot();
  }

  /** Whether an agent showed a higher ballot; the dispatcher stays silent until it leads again. */
  public boolean deposed() {
    return dispatcher.deposed();
  }

  /** Whether this replica may acknowledge an agent's heartbeat, granting the agent a lease. */
  public boolean mayGrantAgentLease(boolean leaseValid) {
    return dispatcher.ballot() != null && leaseValid && !dispatcher.deposed();
  }

  /** The client session of this leadership's proposals (0 while not leading). */
  public long sessionId() {
    return dispatcher.ballot() == null ? 0 : sessionId;
  }

  /** The next sequence number in {@link #sessionId()}, one per proposed command. */
  public long nextSequence() {
    Check.that(dispatcher.ballot() != null, "no proposal session: the dispatcher does not lead");
    return nextSequence++;
  }

  /**
   * Applies the start and stop rules. {@code directory} is asked only when the dispatcher starts:
   * the agents as this replica knows them, handed over before the first tick so that no agent looks
   * unreachable for want of a directory.
   */
  public Transition onLeadership(
      Instant now, Leadership leadership, Supplier<? extends Collection<AgentInfo>> directory) {
    Optional<Ballot> stopped = Optional.empty();
    Ballot leading = dispatcher.ballot();
    if (leading != null && (!leadership.leader() || !leadership.ballot().equals(leading))) {
      dispatcher.onLeadershipLost();
      awaiting.clear();
      stopped = Optional.of(leading);
    }
    if (dispatcher.ballot() != null
        || !(leadership.leader() && leadership.leaseValid() && leadership.caughtUp())) {
      return stopped.isEmpty()
          ? Transition.NONE
          : new Transition(stopped, Optional.empty(), List.of());
    }
    sessionId = newSessionId();
    nextSequence = 1;
    awaiting.clear();
    awaitingSeenRevision = cron.changeRevision();
    dispatcher.onAgents(directory.get());
    List<DispatchEffect> effects =
        dispatcher.onLeadership(now, leadership.leaseValid(), leadership.ballot());
    return new Transition(stopped, Optional.of(leadership.ballot()), effects);
  }

  /**
   * Stops leading at once (the replica restored a snapshot under the dispatcher, or its shell
   * stops); returns the ballot it led under.
   */
  public Optional<Ballot> stop() {
    Ballot leading = dispatcher.ballot();
    if (leading == null) {
      return Optional.empty();
    }
    dispatcher.onLeadershipLost();
    awaiting.clear();
    return Optional.of(leading);
  }

  /** A tick while leading: the current directory, then the dispatcher's tick. */
  public List<DispatchEffect> onTick(
      Instant now, boolean leaseValid, Collection<AgentInfo> directory) {
    if (dispatcher.ballot() == null) {
      return List.of();
    }
    dispatcher.onAgents(directory);
    return dispatcher.onTick(now, leaseValid);
  }

  /** See {@link Dispatcher#checkTrackedCounts}: for the simulator, after every step. */
  public void checkTrackedCounts() {
    dispatcher.checkTrackedCounts();
  }

  /** Agent {@code agent} registered on a new stream (see {@link Dispatcher#onAgentRegistered}). */
  public void onAgentRegistered(AgentId agent) {
    if (dispatcher.ballot() != null) {
      dispatcher.onAgentRegistered(agent);
    }
  }

  /** The agent directory changed between ticks (an agent registered). */
  public void onAgents(Collection<AgentInfo> directory) {
    if (dispatcher.ballot() != null) {
      dispatcher.onAgents(directory);
    }
  }

  /**
   * The replica applied one or more log entries: the dispatcher reads what changed for it ({@link
   * Dispatcher#onApplied}). Call after every batch of entries applied; ignored while not leading.
   */
  public List<DispatchEffect> onApplied(Instant now, boolean leaseValid) {
    if (dispatcher.ballot() == null) {
      return List.of();
    }
    List<DispatchEffect> effects = dispatcher.onApplied(now, leaseValid);
    if (awaiting.isEmpty()) {
      awaitingSeenRevision = cron.changeRevision();
      return effects;
    }
    List<DispatchEffect> all = new ArrayList<>(effects);
    Optional<SortedSet<JobName>> changed = cron.jobsChangedAfter(awaitingSeenRevision);
    awaitingSeenRevision = cron.changeRevision();
    if (changed.isEmpty()) {
      acknowledgeApplied(awaiting.values().iterator(), null, all);
    } else {
      for (JobName job : changed.get()) {
        acknowledgeApplied(
            awaiting.tailMap(ReportKey.first(job), true).values().iterator(), job, all);
      }
    }
    return all;
  }

  /**
   * Acknowledges the reports {@code reports} yields whose records the applied log now holds,
   * stopping at the first report of another job than {@code job} (all of them if null).
   */
  private void acknowledgeApplied(
      Iterator<Awaiting> reports, JobName job, List<DispatchEffect> effects) {
    while (reports.hasNext()) {
      Awaiting report = reports.next();
      if (job != null && !report.key().runId().job().equals(job)) {
        return;
      }
      if (ReportAcknowledgement.decide(cron, report.report())
          == ReportAcknowledgement.Decision.ACKNOWLEDGE) {
        effects.add(new DispatchEffect.AcknowledgeReport(report.report()));
        reports.remove();
      }
    }
  }

  /** An agent's answer to a question or launch (not a report; see {@link #onReport}). */
  public List<DispatchEffect> onAgentAnswer(Instant now, boolean leaseValid, AgentAnswer answer) {
    if (dispatcher.ballot() == null) {
      return List.of();
    }
    return dispatcher.onAgentAnswer(now, leaseValid, answer);
  }

  /**
   * An agent's start, finish or never-started report: acknowledged when the applied log holds it,
   * otherwise handed to the dispatcher (which proposes it) and left unacknowledged, so the agent
   * re-sends it. Ignored while not leading: the agent re-sends it to the next leader.
   */
  public ReportStep onReport(Instant now, boolean leaseValid, AgentAnswer report) {
    if (dispatcher.ballot() == null) {
      return ReportStep.IGNORE;
    }
    ReportKey key = ReportKey.of(report);
    if (ReportAcknowledgement.decide(cron, report) == ReportAcknowledgement.Decision.ACKNOWLEDGE) {
      awaiting.remove(key);
      return ReportStep.ACKNOWLEDGE;
    }
    Awaiting earlier = awaiting.get(key);
    if (earlier != null && now.isBefore(earlier.proposedAt().plus(config.proposalRetryAfter()))) {
      return ReportStep.IGNORE; // proposed a moment ago; its applied batch acknowledges it
    }
    awaiting.put(key, new Awaiting(key, report, now));
    if (awaiting.size() > MAX_AWAITING_REPORTS) {
      awaiting.pollFirstEntry();
    }
    return new ReportStep(false, dispatcher.onAgentAnswer(now, leaseValid, report));
  }

  /** How many reports this leader proposed and has not acknowledged yet (for tests and metrics). */
  public int reportsAwaitingAcknowledgement() {
    return awaiting.size();
  }

  /** One report of one attempt: its start, or its end (finished or never started). */
  private record ReportKey(RunId runId, int attempt, boolean start)
      implements Comparable<ReportKey> {
    static ReportKey of(AgentAnswer report) {
      return switch (report) {
        case AgentAnswer.Started started -> new ReportKey(started.runId(), started.attempt(), true);
        case AgentAnswer.Finished finished ->
            new ReportKey(finished.runId(), finished.attempt(), false);
        case AgentAnswer.NeverStarted never -> new ReportKey(never.runId(), never.attempt(), false);
        default -> throw new IllegalArgumentException("not a report: " + report);
      };
    }

    /** Below every report of {@code job}. */
    static ReportKey first(JobName job) {
      return new ReportKey(new RunId(job, Instant.MIN, false), Integer.MIN_VALUE, false);
    }

    @Override
    public int compareTo(ReportKey other) {
      int byRun = runId.compareTo(other.runId);
      if (byRun != 0) {
        return byRun;
      }
      int byAttempt = Integer.compare(attempt, other.attempt);
      return byAttempt != 0 ? byAttempt : Boolean.compare(start, other.start);
    }
  }

  private record Awaiting(ReportKey key, AgentAnswer report, Instant proposedAt) {}

  /** When the dispatcher next has something to do, if it leads (see {@link Dispatcher}). */
  public Instant nextWakeup(Instant now) {
    return dispatcher.nextWakeup(now);
  }

  private long newSessionId() {
    long id;
    do {
      id = random.nextLong() & Long.MAX_VALUE;
    } while (id == 0);
    return id;
  }
}
