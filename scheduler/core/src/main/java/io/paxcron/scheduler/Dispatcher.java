package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.Check;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

/**
 * The leader's dispatcher core (DESIGN §4 launch protocol): decides what to propose and what to
 * send to agents. Pure: its inputs are the leader's clock reading, whether the leader's lease is
 * valid, the applied cron state, which it reads through {@link CronView} queries (it is told only
 * <em>that</em> the log applied a batch, {@link #onApplied}, never what changed), and the agents'
 * answers; its outputs are {@link DispatchEffect}s for the driver to carry out. Randomness (retry
 * jitter) comes from the {@link RandomGenerator} it is given.
 *
 * <p>What it reads, and when (the state machine never pushes changes; docs/architecture.md, "From
 * the state machine to the dispatcher: one direction"):
 *
 * <ul>
 *   <li>On a tick: scheduled instants from the state machine's due-instant index ({@link
 *       CronView#scheduledInstants}), due runs from its index of {@code DUE} runs ({@link
 *       CronView#runsDue()}), and the runs it tracks.
 *   <li>After each applied batch: its own in-flight proposals (an intent of this ballot now applied
 *       is launched), the runs it tracks (a cancel requested, a retry scheduled, a run ended, a new
 *       attempt), and the instants it already handled (forgotten once their job's next instant or
 *       definition changed). That is O(in-flight proposals + tracked runs), never O(jobs).
 * </ul>
 *
 * <p>Rules it keeps:
 *
 * <ul>
 *   <li>A {@link DispatchEffect.Launch} is emitted only for an intent the state machine has applied
 *       (read after the batch that applied it, or the applied state after failover), never for a
 *       proposal in flight (step 1: no dispatch before the intent is chosen).
 *   <li>While the lease is not valid, every input returns no effect at all: no proposal, no launch,
 *       no cancel (Google: a leader that loses its lease stops talking to the launch system at
 *       once). Launches and cancels that became due meanwhile are sent once the lease holds again.
 *   <li>After {@link #onLeadership}, every launched run inherited from an earlier ballot is
 *       reconciled with its agent by the {@link Reconciliation} table before anything is resent. An
 *       agent that has not registered with this leader yet is waited for (up to {@link
 *       DispatcherConfig#unregisteredAgentLease}) before its runs count as unreachable, so a
 *       failover adopts the running runs of live agents instead of recording them {@code LOST}.
 *   <li>Runs due at the same time are proposed together: one tick turns up to {@link
 *       DispatcherConfig#maxDuePerTick()} due instants into proposals of up to {@link
 *       DispatcherConfig#maxCommandsPerProposal()} commands each.
 * </ul>
 *
 * <p>Whether a run may start (pause, DST gap, misfire, overlap, deadline, retry backoff) is decided
 * by {@link Eligibility}, the rule the state machine applies to the same facts when it accounts an
 * instant or checks an intent; the dispatcher proposes an intent only where the rule says launch,
 * and a {@code Tick} where the state machine must record the instant. Single-threaded.
 */
public final class Dispatcher {
  private final CronView view;
  private final DispatcherConfig config;
  private final RandomGenerator random;

  private Ballot ballot;
  private boolean deposed;

  /**
   * The scheduled instant of each job that a tick has already handled (proposed, held, or left to
   * the next {@code Tick}), with the job's version then: the walk of {@link
   * CronView#scheduledInstants} skips them. An entry is forgotten once the job's next instant or
   * its definition changed (the instant was accounted, opened ahead, or the job put or deleted), so
   * the job's next instant is handled afresh. At most the instants in flight and held.
   */
  private final Map<JobName, Handled> handledInstants = new HashMap<>();

  /**
   * Where the next tick's slice of due runs begins: after this id, or from the first when null
   * ({@link DispatcherConfig#dueRunsPerTick}).
   */
  private RunId dueRunsCursor;

  /** An instant of a job handled under the job's {@code version}. */
  private record Handled(Instant instant, long version) {}

  /**
   * Handled instants whose launch may not be chosen ahead ({@link Eligibility} said wait, or no
   * agent had room): they wait here until the rule is asked again, by job.
   */
  private final Map<JobName, Held> waitingForInstant = new TreeMap<>();

  /** A handled instant held until {@code until}. */
  private record Held(CronView.ScheduledInstant reached, Instant until) {}

  /**
   * The state's {@link CronView#changeRevision} when this dispatcher last read it: {@link
   * #onApplied} looks only at the jobs changed since.
   */
  private long seenRevision;

  /**
   * Commands proposed and not yet seen applied, by run: at most one per run, forgotten after {@link
   * DispatcherConfig#proposalRetryAfter()}.
   */
  private final TreeMap<RunId, Proposal> proposed = new TreeMap<>();

  /**
   * When a command about a run was proposed, and whether the run was not open yet then (an intent
   * for a scheduled instant, whose run the intent itself opens).
   */
  private record Proposal(Instant at, boolean opensRun) {}

  private final TreeMap<RunId, RetryWait> retryAt = new TreeMap<>();

  /** The attempt that failed and when (with jitter) its run is next tried. */
  private record RetryWait(int attempt, Instant at) {}

  private final TreeMap<RunId, Tracked> launched = new TreeMap<>();

  /**
   * How many of {@link #launched} each agent holds, kept as runs are tracked and forgotten ({@link
   * #track}, {@link #forgotten}): placing a run reads it instead of counting every tracked run.
   */
  private final Map<AgentId, Integer> trackedPerAgent = new HashMap<>();

  private final TreeMap<RunId, Run> pendingCancels = new TreeMap<>();
  private final TreeMap<AgentId, AgentInfo> agents = new TreeMap<>();

  /**
   * A launch its agent took on its current registration is sent again only every this many {@link
   * DispatcherConfig#launchResendAfter}: a safety net that confirms it should the agent's lease
   * have lapsed between its registration and the leader's resend (the agent then starts it only
   * once confirmed), at a tenth of the rate that, at a million jobs, sent each agent ~2,000 repeats
   * a second.
   */
  static final int TAKEN_RESEND_FACTOR = 10;

  /**
   * How many times each agent registered with this leader: a launch taken under an earlier
   * registration is sent once more (an agent whose journal was lost answers it afresh).
   */
  private final Map<AgentId, Long> registrations = new HashMap<>();

  private Instant lastTickProposed;

  /** When the due runs were last walked while no agent had room, or null. */
  private Instant lastDueWalkWithoutRoom;

  /** When {@link #checkTrackedRuns} last ran. */
  private Instant lastTrackedCheck;

  /** The run {@link #checkTrackedRuns} looked at last; the next check goes on after it. */
  private RunId trackedCheckCursor;

  /** Whether the agent directory changed since {@link #checkTrackedRuns} last ran. */
  private boolean agentsChanged;

  /**
   * Until then, an agent that inherited runs name but that has not registered counts as reachable.
   */
  private Instant unregisteredAgentsReachableUntil;

  private double catchUpTokens;
  private Instant tokensAt;

  /** A launched run this leader watches. */
  private static final class Tracked {
    final RunId runId;
    final int attempt;

    /** The agent the attempt's intent named. */
    final AgentId agent;

    /** Whether this leader may send the launch: its own intent, or reconciliation cleared it. */
    boolean mayLaunch;

    /**
     * Whether the cancel the state machine asked for is sent or queued (or was asked before this
     * leader started, when it is not sent again).
     */
    boolean cancelHandled;

    Instant launchSentAt;
    Instant getRunSentAt;

    /**
     * The registration of {@link #agent} under which the agent said it holds the launch ({@code
     * ACCEPTED} or {@code RUNNING}), or -1: a launch the agent took on its current registration is
     * not sent again ({@link #checkTrackedRuns}).
     */
    long takenInRegistration = -1;

    /**
     * Sends of the launch not yet taken, under registration {@link #sendsInRegistration} of its
     * agent: each waits twice as long as the one before for the agent's answer ({@link
     * #resendAfter}).
     */
    int unansweredSends;

    long sendsInRegistration = -1;

    Tracked(Run run, boolean mayLaunch, boolean cancelHandled) {
      this.runId = run.id();
      this.attempt = run.attempt();
      this.agent = run.agentId();
      this.mayLaunch = mayLaunch;
      this.cancelHandled = cancelHandled;
    }
  }

  public Dispatcher(CronView view, DispatcherConfig config, RandomGenerator random) {
    this.view = Objects.requireNonNull(view, "view");
    this.config = Objects.requireNonNull(config, "config");
    this.random = Objects.requireNonNull(random, "random");
  }

  /** The ballot this dispatcher leads under, or {@code null} when it does not lead. */
  public Ballot ballot() {
    return ballot;
  }

  /**
   * Whether an agent told us a higher ballot exists; the dispatcher stays silent until the next
   * leadership.
   */
  public boolean deposed() {
    return deposed;
  }

  /** Replaces the agent directory (registrations and heartbeats, as the driver sees them). */
  public void onAgents(Collection<AgentInfo> directory) {
    Set<AgentId> before = Set.copyOf(agents.keySet());
    agents.clear();
    for (AgentInfo agent : directory) {
      agents.put(agent.agentId(), agent);
    }
    if (!agents.keySet().equals(before)) {
      agentsChanged = true; // an agent came or went: look at every run on the next tick
    }
  }

  /**
   * Agent {@code agent} registered with this leader (again): every launch it took under an earlier
   * registration is sent once more after {@link DispatcherConfig#launchResendAfter}. The agent
   * re-registers after its lease lapsed or it restarted, and then starts a held launch only once a
   * leader confirms it; a repeated launch is that confirmation.
   */
  public void onAgentRegistered(AgentId agent) {
    registrations.merge(agent, 1L, Long::sum);
  }

  private long registrationOf(AgentId agent) {
    return registrations.getOrDefault(agent, 0L);
  }

  /**
   * This replica became leader under {@code newBallot} after phase 1 and has applied the whole
   * chosen prefix. Tracks the open runs of the applied state and starts reconciliation (step 4);
   * scheduled instants and due runs are read from the state machine's indexes as ticks need them.
   */
  public List<DispatchEffect> onLeadership(Instant now, boolean leaseValid, Ballot newBallot) {
    Objects.requireNonNull(newBallot, "newBallot");
    clear();
    ballot = newBallot;
    unregisteredAgentsReachableUntil = now.plus(config.unregisteredAgentLease());
    trackOpenRuns();
    seenRevision = view.changeRevision();
    return onTick(now, leaseValid);
  }

  /** This replica no longer leads: forget everything, emit nothing. */
  public void onLeadershipLost() {
    clear();
  }

  private void clear() {
    ballot = null;
    deposed = false;
    handledInstants.clear();
    dueRunsCursor = null;
    lastDueWalkWithoutRoom = null;
    waitingForInstant.clear();
    seenRevision = 0;
    proposed.clear();
    retryAt.clear();
    launched.clear();
    trackedPerAgent.clear();
    pendingCancels.clear();
    registrations.clear();
    lastTickProposed = null;
    lastTrackedCheck = null;
    trackedCheckCursor = null;
    agentsChanged = false;
    unregisteredAgentsReachableUntil = null;
    catchUpTokens = 0;
    tokensAt = null;
  }

  /**
   * Tracks every open run in progress. A cancel the state machine asked for before this leader
   * started is not sent again (as no earlier leader's requests are).
   */
  private void trackOpenRuns() {
    for (Run run : view.openRuns()) {
      switch (run.status()) {
        case DUE -> {}
        case RETRY_WAIT -> retryAt.put(run.id(), new RetryWait(run.attempt(), withJitter(run)));
        case LAUNCHED, RUNNING ->
            track(new Tracked(run, run.ballot().equals(ballot), run.cancelRequested()));
      }
    }
  }

  private boolean active(boolean leaseValid) {
    return ballot != null && leaseValid && !deposed;
  }

  // ---------------------------------------------------------------- applied batches

  /**
   * The log applied a batch of commands (any number, on the leader). Reads what the batch changed
   * for this leader: its intents now applied are launched (protocol step 2: an intent of an earlier
   * ballot is reconciled with its agent first), cancels the state machine asked for are sent, runs
   * that failed an attempt wait for their retry, runs that ended are forgotten, and the instants it
   * handled whose job moved on are forgotten. Only the jobs the state says changed since the last
   * call are looked at ({@link CronView#jobsChangedAfter}), so the work is proportional to the
   * batch, not to the runs tracked. Must be called after every batch applied while leading; calling
   * it when nothing changed is harmless.
   */
  public List<DispatchEffect> onApplied(Instant now, boolean leaseValid) {
    if (ballot == null) {
      return List.of();
    }
    List<DispatchEffect> effects = new ArrayList<>();
    boolean active = active(leaseValid);
    Collection<JobName> changed =
        view.jobsChangedAfter(seenRevision)
            .<Collection<JobName>>map(jobs -> jobs)
            .orElseGet(this::everyJobHeld);
    seenRevision = view.changeRevision();
    Map<RunId, Run> chosen = new TreeMap<>();
    List<Run> retrying = new ArrayList<>();
    for (JobName job : changed) {
      readJob(job, active, effects, chosen, retrying);
    }
    hold(chosen, retrying, now, active, effects);
    if (launched.size() + retryAt.size() != view.inProgressRunCount()) {
      // A run in progress that no changed job names: a launched run of a job deleted since (its
      // runs are no longer the job's). Rare; found among every open run.
      chosen.clear();
      retrying.clear();
      for (Run run : view.openRuns()) {
        noteOpenRun(run, chosen, retrying);
      }
      hold(chosen, retrying, now, active, effects);
    }
    return active ? effects : List.of();
  }

  private void hold(
      Map<RunId, Run> chosen,
      List<Run> retrying,
      Instant now,
      boolean active,
      List<DispatchEffect> effects) {
    for (Run run : retrying) {
      retryAt.put(run.id(), new RetryWait(run.attempt(), withJitter(run)));
    }
    for (Run run : chosen.values()) {
      onLaunchChosen(run, now, active, effects);
    }
  }

  /** Every job this leader holds something of, or has an open run: when the change feed is gone. */
  private SortedSet<JobName> everyJobHeld() {
    SortedSet<JobName> jobs = new TreeSet<>(handledInstants.keySet());
    for (RunId id : proposed.keySet()) {
      jobs.add(id.job());
    }
    for (RunId id : launched.keySet()) {
      jobs.add(id.job());
    }
    for (RunId id : retryAt.keySet()) {
      jobs.add(id.job());
    }
    for (Run run : view.openRuns()) {
      jobs.add(run.id().job());
    }
    return jobs;
  }

  /**
   * What a batch changed about one job, for this leader: its handled instant is forgotten once the
   * job moved on (deleted, put again, or its next instant is another one, then handled afresh);
   * proposals whose run ended or was chosen are forgotten; tracked runs that ended are forgotten
   * and cancels the state machine asked for are sent; its open runs launched at an attempt this
   * leader does not track are {@code chosen}, and those waiting to retry at an attempt it does not
   * hold are {@code retrying}.
   */
  private void readJob(
      JobName job,
      boolean active,
      List<DispatchEffect> effects,
      Map<RunId, Run> chosen,
      List<Run> retrying) {
    Handled handled = handledInstants.get(job);
    if (handled != null) {
      Optional<JobView> current = view.job(job);
      if (current.isEmpty()
          || current.get().version() != handled.version()
          || !handled.instant().equals(current.get().nextDue())) {
        handledInstants.remove(job);
        waitingForInstant.remove(job);
      }
    }
    for (Iterator<Map.Entry<RunId, Proposal>> it = runsOf(proposed, job).entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<RunId, Proposal> entry = it.next();
      RunId id = entry.getKey();
      Optional<Run> run = view.run(id);
      if (run.isEmpty()) {
        // Ended, or (an intent that opens its run) not applied yet: its instant is then still the
        // job's next one.
        if (!entry.getValue().opensRun() || !isNextInstantOfItsJob(id)) {
          it.remove();
        }
      } else if (run.get().launched() && isUntrackedAttempt(run.get())) {
        it.remove();
      }
    }
    for (Iterator<Tracked> it = runsOf(launched, job).values().iterator(); it.hasNext(); ) {
      Tracked tracked = it.next();
      Optional<Run> current = view.run(tracked.runId);
      if (current.isEmpty() || !current.get().launched()) {
        it.remove();
        forgotten(tracked);
        pendingCancels.remove(tracked.runId);
      } else if (current.get().attempt() == tracked.attempt) {
        cancelIfRequested(tracked, current.get(), active, effects);
      }
    }
    for (Iterator<RunId> it = runsOf(retryAt, job).keySet().iterator(); it.hasNext(); ) {
      Optional<Run> current = view.run(it.next());
      if (current.isEmpty() || current.get().status() == RunStatus.DUE) {
        it.remove();
      }
    }
    for (Run run : view.openRuns(job)) {
      noteOpenRun(run, chosen, retrying);
    }
  }

  /** An open run launched at an attempt not tracked is chosen; one waiting to retry is held. */
  private void noteOpenRun(Run run, Map<RunId, Run> chosen, List<Run> retrying) {
    if (run.launched()) {
      if (isUntrackedAttempt(run)) {
        chosen.put(run.id(), run);
      }
    } else if (run.status() == RunStatus.RETRY_WAIT) {
      RetryWait waiting = retryAt.get(run.id());
      if (waiting == null || waiting.attempt() != run.attempt()) {
        retrying.add(run);
      }
    }
  }

  /** The entries of {@code map} about runs of {@code job} (a view: removing from it removes). */
  private static <V> SortedMap<RunId, V> runsOf(TreeMap<RunId, V> map, JobName job) {
    return map.subMap(
        new RunId(job, Instant.MIN, false), true, new RunId(job, Instant.MAX, true), true);
  }

  private boolean isNextInstantOfItsJob(RunId id) {
    return view.job(id.job()).map(job -> id.instant().equals(job.nextDue())).orElse(false);
  }

  /** Tracks {@code tracked}, in place of an earlier attempt of its run. */
  private void track(Tracked tracked) {
    Tracked replaced = launched.put(tracked.runId, tracked);
    if (replaced != null) {
      forgotten(replaced);
    }
    trackedPerAgent.merge(tracked.agent, 1, Integer::sum);
  }

  /** {@code tracked} was just removed from {@link #launched}. */
  private void forgotten(Tracked tracked) {
    trackedPerAgent.computeIfPresent(
        tracked.agent, (agent, count) -> count == 1 ? null : count - 1);
  }

  /**
   * Checks the kept per-agent counts against a recount of every tracked run (the simulator calls it
   * after every step; it walks every tracked run, so production never does).
   */
  public void checkTrackedCounts() {
    Map<AgentId, Integer> recounted = trackedPerAgentRecounted();
    Check.that(
        recounted.equals(trackedPerAgent),
        "tracked runs per agent kept as %s, recounted %s",
        trackedPerAgent,
        recounted);
  }

  /** The tracked runs each agent holds, counted afresh (tests compare it with the kept counts). */
  Map<AgentId, Integer> trackedPerAgentRecounted() {
    Map<AgentId, Integer> counts = new HashMap<>();
    for (Tracked tracked : launched.values()) {
      counts.merge(tracked.agent, 1, Integer::sum);
    }
    return counts;
  }

  Map<AgentId, Integer> trackedPerAgent() {
    return Map.copyOf(trackedPerAgent);
  }

  private boolean isUntrackedAttempt(Run run) {
    Tracked tracked = launched.get(run.id());
    return tracked == null || tracked.attempt != run.attempt();
  }

  /**
   * An intent is applied: step 2 may follow only an intent carrying this leader's ballot; an
   * earlier leader's intent applied late is reconciled with the agent first.
   */
  private void onLaunchChosen(Run run, Instant now, boolean active, List<DispatchEffect> effects) {
    proposed.remove(run.id());
    retryAt.remove(run.id());
    Tracked tracked = new Tracked(run, run.ballot().equals(ballot), false);
    track(tracked);
    if (active && tracked.mayLaunch) {
      launch(run, now, effects);
    }
    cancelIfRequested(tracked, run, active, effects);
  }

  /** Sends the cancel the state machine asked for once ({@code replace} policy, job deleted). */
  private void cancelIfRequested(
      Tracked tracked, Run run, boolean active, List<DispatchEffect> effects) {
    if (!run.cancelRequested() || tracked.cancelHandled) {
      return;
    }
    tracked.cancelHandled = true;
    if (active) {
      effects.add(new DispatchEffect.Cancel(run.agentId(), run.id(), run.attempt(), ballot));
    } else {
      pendingCancels.put(run.id(), run);
    }
  }

  private void launch(Run run, Instant now, List<DispatchEffect> effects) {
    Optional<JobView> job = view.job(run.id().job());
    Tracked tracked = launched.get(run.id());
    if (job.isEmpty() || job.get().createdSlot() != run.jobIncarnation() || tracked == null) {
      return;
    }
    effects.add(
        new DispatchEffect.Launch(
            run.agentId(), run.id(), run.attempt(), ballot, job.get().spec()));
    tracked.launchSentAt = now;
    long registration = registrationOf(tracked.agent);
    if (tracked.sendsInRegistration != registration) {
      tracked.sendsInRegistration = registration;
      tracked.unansweredSends = 0;
    }
    tracked.unansweredSends++;
  }

  /**
   * How long after its last send a tracked launch goes again. One the agent took on its current
   * registration: {@link #TAKEN_RESEND_FACTOR} × {@link DispatcherConfig#launchResendAfter}. One
   * not taken yet: {@code launchResendAfter} after the first send on the agent's current
   * registration, then twice as long after each further send, up to that same bound. A stream
   * delivers in order and loses nothing while it lives (a lost stream means a new registration,
   * which starts the count again), so a repeat on one stream only helps an agent that answers late
   * — and an agent late because it is starved of CPU was sent a repeat of every launch it held
   * every 2 s, each one more message for it to read and answer.
   */
  private Duration resendAfter(Tracked tracked) {
    long registration = registrationOf(tracked.agent);
    Duration base = config.launchResendAfter();
    if (tracked.takenInRegistration == registration) {
      return base.multipliedBy(TAKEN_RESEND_FACTOR);
    }
    if (tracked.sendsInRegistration != registration) {
      return base; // the agent registered anew since the last send
    }
    int doublings = Math.min(Math.max(0, tracked.unansweredSends - 1), 4);
    return base.multipliedBy(Math.min(TAKEN_RESEND_FACTOR, 1L << doublings));
  }

  private Instant withJitter(Run run) {
    Optional<JobView> job = view.job(run.id().job());
    if (job.isEmpty()) {
      return run.retryNotBefore();
    }
    RetryPolicy retries = job.get().spec().retries();
    long backoffMillis = retries.backoffAfter(Math.max(1, run.attempt())).toMillis();
    long jitterMillis = backoffMillis * retries.jitterPercent() / 100;
    return run.retryNotBefore()
        .plusMillis(jitterMillis == 0 ? 0 : random.nextLong(jitterMillis + 1));
  }

  // ---------------------------------------------------------------- agent answers

  /** An agent answered a launch or a GetRun, or reported a start or finish. */
  public List<DispatchEffect> onAgentAnswer(Instant now, boolean leaseValid, AgentAnswer answer) {
    if (!active(leaseValid)) {
      return List.of();
    }
    List<DispatchEffect> effects = new ArrayList<>();
    List<CronCommand> commands = new ArrayList<>();
    switch (answer) {
      case AgentAnswer.Fenced fenced -> {
        if (fenced.highestSeen().isAbove(ballot)
            && Reconciliation.decide(
                    Semantics.AT_MOST_ONCE,
                    new Reconciliation.AgentReply.Fenced(fenced.highestSeen()))
                instanceof Reconciliation.Decision.StepDown) {
          deposed = true;
          return List.of();
        }
      }
      case AgentAnswer.Known known -> {
        Tracked tracked = current(known.runId(), known.attempt(), known.ballot());
        if (tracked == null
            || known.state() == AgentRunState.FINISHED
                && (known.outcome() == null || !known.outcome().reportedByAgent())) {
          break;
        }
        var decision =
            Reconciliation.decide(
                semantics(known.runId()),
                new Reconciliation.AgentReply.Known(known.state(), known.outcome()));
        if (decision instanceof Reconciliation.Decision.Adopt adopt) {
          tracked.mayLaunch = true;
          tracked.launchSentAt = now;
          tracked.takenInRegistration = registrationOf(tracked.agent);
          Optional<Run> run = view.run(known.runId());
          if (adopt.state() == AgentRunState.FINISHED) {
            commands.add(
                new CronCommand.RunFinished(known.runId(), known.attempt(), adopt.outcome(), now));
          } else if (adopt.state() == AgentRunState.RUNNING
              && run.map(Run::status).orElse(null) == RunStatus.LAUNCHED) {
            commands.add(
                new CronCommand.RunStarted(known.runId(), known.attempt(), known.agentId(), now));
          }
        }
      }
      case AgentAnswer.Unknown unknown -> {
        Tracked tracked = current(unknown.runId(), unknown.attempt(), unknown.ballot());
        if (tracked != null
            && Reconciliation.decide(
                    semantics(unknown.runId()), new Reconciliation.AgentReply.Unknown())
                instanceof Reconciliation.Decision.ResendLaunch) {
          tracked.mayLaunch = true;
          view.run(unknown.runId()).ifPresent(run -> launch(run, now, effects));
        }
      }
      case AgentAnswer.Started started ->
          commands.add(
              new CronCommand.RunStarted(
                  started.runId(), started.attempt(), started.agentId(), now));
      case AgentAnswer.Finished finished -> {
        if (!finished.outcome().reportedByAgent()) {
          break;
        }
        if (ReportAcknowledgement.awaitsTestimony(view, finished.runId(), finished.attempt())) {
          commands.add(
              new CronCommand.RecordTestimony(
                  finished.runId(), finished.attempt(), finished.outcome().toString(), now));
        } else {
          commands.add(
              new CronCommand.RunFinished(
                  finished.runId(),
                  finished.attempt(),
                  finished.outcome(),
                  now,
                  finished.detail()));
        }
      }
      case AgentAnswer.NeverStarted never -> onNeverStarted(never, now, commands);
    }
    propose(commands, effects);
    return effects;
  }

  /**
   * The agent gave an accepted launch up without starting it. A {@code LOST} attempt gets the
   * testimony. The current attempt never ran and never will: an at-least-once run gets a new
   * attempt (preferably elsewhere); an at-most-once run is recorded {@code LOST} with the testimony
   * that it never started, since a new attempt is not allowed for it (DESIGN §4 step 4).
   */
  private void onNeverStarted(
      AgentAnswer.NeverStarted never, Instant now, List<CronCommand> commands) {
    if (ReportAcknowledgement.awaitsTestimony(view, never.runId(), never.attempt())) {
      commands.add(
          new CronCommand.RecordTestimony(
              never.runId(), never.attempt(), RunDetail.NEVER_STARTED, now));
      return;
    }
    Optional<Run> run =
        view.run(never.runId())
            .filter(open -> open.launched() && open.attempt() == never.attempt());
    if (run.isEmpty() || proposed.containsKey(never.runId())) {
      return;
    }
    if (semantics(never.runId()) == Semantics.AT_LEAST_ONCE) {
      Optional<JobView> job = view.job(never.runId().job());
      AgentId agent =
          job.isEmpty()
              ? null
              : chooseAgent(job.get().spec(), never.runId(), never.agentId(), now, new AgentLoad());
      if (agent != null) {
        commands.add(
            new CronCommand.RunIntent(never.runId(), never.attempt() + 1, agent, ballot, now));
        proposed.put(never.runId(), new Proposal(now, false));
      }
      return;
    }
    commands.add(new CronCommand.RecordLost(never.runId(), never.attempt(), now));
    commands.add(
        new CronCommand.RecordTestimony(
            never.runId(), never.attempt(), RunDetail.NEVER_STARTED, now));
    proposed.put(never.runId(), new Proposal(now, false));
  }

  /** The tracked run if the answer is about its current attempt and was asked under this ballot. */
  private Tracked current(RunId runId, int attempt, Ballot askedUnder) {
    Tracked tracked = launched.get(runId);
    return tracked != null && tracked.attempt == attempt && askedUnder.equals(ballot)
        ? tracked
        : null;
  }

  private Semantics semantics(RunId runId) {
    return view.job(runId.job()).map(job -> job.spec().semantics()).orElse(Semantics.AT_MOST_ONCE);
  }

  // ---------------------------------------------------------------- time

  /**
   * The leader's clock reads {@code now}: propose due runs, retries, deadlines, reconciliation
   * outcomes and the periodic {@code Tick}; send launches, cancels and questions that are due.
   */
  public List<DispatchEffect> onTick(Instant now, boolean leaseValid) {
    if (!active(leaseValid)) {
      return List.of();
    }
    List<DispatchEffect> effects = new ArrayList<>();
    List<CronCommand> commands = new ArrayList<>();
    proposed
        .values()
        .removeIf(
            proposal ->
                !Duration.between(proposal.at(), now)
                    .minus(config.proposalRetryAfter())
                    .isNegative());
    refillCatchUpTokens(now);
    AgentLoad load = new AgentLoad();
    boolean needTick = false;

    for (Run run : pendingCancels.values()) {
      effects.add(new DispatchEffect.Cancel(run.agentId(), run.id(), run.attempt(), ballot));
    }
    pendingCancels.clear();

    List<CronView.ScheduledInstant> reachedInstants = new ArrayList<>();
    for (Iterator<Held> it = waitingForInstant.values().iterator(); it.hasNext(); ) {
      Held held = it.next();
      if (!held.until().isAfter(now)) {
        it.remove();
        reachedInstants.add(held.reached());
      }
    }
    int heldCount = reachedInstants.size();
    reachedInstants.addAll(
        unhandledInstants(now.plus(config.launchAhead()), config.maxDuePerTick()));
    for (int i = 0; i < reachedInstants.size(); i++) {
      CronView.ScheduledInstant reached = reachedInstants.get(i);
      Optional<JobView> job = view.job(reached.job());
      if (job.isEmpty()) {
        continue;
      }
      if (i >= heldCount) {
        handledInstants.put(reached.job(), new Handled(reached.instant(), job.get().version()));
      }
      if (Eligibility.mayHaveReachedSuccessor(reached.instant(), now)) {
        // Found late (a new leader after a gap, a slow loop): the tick accounts this instant with
        // any later reached one of its job, and the due-run pass below launches what it opens.
        needTick = true;
        continue;
      }
      RunId id = RunId.of(reached.job(), reached.instant());
      JobSpec spec = job.get().spec();
      Eligibility.Decision decision =
          Eligibility.scheduledInstant(
              spec, job.get().openRuns(), reached.inDstGap(), reached.instant(), now);
      AgentId agent =
          decision instanceof Eligibility.Launch ? chooseAgent(spec, id, null, now, load) : null;
      if (agent != null) {
        commands.add(new CronCommand.RunIntent(id, 1, agent, ballot, now));
        proposed.put(id, new Proposal(now, true));
      } else if (decision instanceof Eligibility.Wait(Instant until) && until.isAfter(now)) {
        // Chosen ahead, the launch would be final before the rule could look at the instant.
        waitingForInstant.put(reached.job(), new Held(reached, until));
      } else if (reached.instant().isAfter(now)) {
        // Eligible ahead but no agent has room: try again at the instant.
        waitingForInstant.put(reached.job(), new Held(reached, reached.instant()));
      } else {
        // The state machine records the instant when a stamp reaches it (pause, DST gap, misfire
        // policy, overlap), or opens its run, due until an agent appears.
        needTick = true;
      }
    }

    boolean room = anyAgentHasRoom(now, load);
    if (room
        || lastDueWalkWithoutRoom == null
        || elapsed(lastDueWalkWithoutRoom, now, config.tickInterval())) {
      if (!room) {
        lastDueWalkWithoutRoom = now;
      }
      walkDueRuns(now, load, commands);
    }

    for (Iterator<Map.Entry<RunId, RetryWait>> it = retryAt.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<RunId, RetryWait> entry = it.next();
      RunId id = entry.getKey();
      if (entry.getValue().at().isAfter(now) || proposed.containsKey(id)) {
        continue;
      }
      Optional<Run> run = view.run(id);
      Optional<JobView> job = view.job(id.job());
      if (run.isEmpty() || run.get().status() != RunStatus.RETRY_WAIT || job.isEmpty()) {
        it.remove();
        continue;
      }
      if (!(Eligibility.retry(run.get().retryNotBefore(), now) instanceof Eligibility.Launch)) {
        continue;
      }
      AgentId agent = chooseAgent(job.get().spec(), id, run.get().agentId(), now, load);
      if (agent != null) {
        commands.add(new CronCommand.RunIntent(id, run.get().attempt() + 1, agent, ballot, now));
        proposed.put(id, new Proposal(now, false));
      }
    }

    if (lastTrackedCheck == null || agentsChanged || leaseRanOut(now)) {
      // Every tracked run at once: a new leader's first tick, an agent came or went, or a lease
      // the check acts on ran out.
      lastTrackedCheck = now;
      agentsChanged = false;
      trackedCheckCursor = null;
      checkTrackedRuns(now, Integer.MAX_VALUE, load, commands, effects);
    } else if (!now.isBefore(lastTrackedCheck.plus(config.trackedRunsCheckInterval()))) {
      lastTrackedCheck = now;
      checkTrackedRuns(now, config.trackedRunsPerCheck(), load, commands, effects);
    }

    if (needTick
        || lastTickProposed == null
        || elapsed(lastTickProposed, now, config.tickInterval())) {
      commands.add(0, new CronCommand.Tick(now));
      lastTickProposed = now;
    }
    List<DispatchEffect> ordered = new ArrayList<>();
    propose(commands, ordered);
    ordered.addAll(effects);
    return ordered;
  }

  /**
   * Whether some live agent has room for a run, as far as this leader tracks its runs. When none
   * has, the due runs are walked once per {@link DispatcherConfig#tickInterval} (for their
   * deadlines) instead of every tick: at a million jobs a backlog walked every 20 ms only to find
   * every agent full took a third of the leader's loop.
   */
  private boolean anyAgentHasRoom(Instant now, AgentLoad load) {
    for (AgentInfo agent : agents.values()) {
      if (agent.alive(now) && load.of(agent.agentId()) < agent.capacity()) {
        return true;
      }
    }
    return false;
  }

  /** One slice of the due runs: intents for those an agent can take, skips past a deadline. */
  private void walkDueRuns(Instant now, AgentLoad load, List<CronCommand> commands) {
    Set<JobName> forbidJobsStarted = new HashSet<>();
    List<Run> dueSlice = view.runsDue(dueRunsCursor, config.dueRunsPerTick());
    dueRunsCursor =
        dueSlice.size() < config.dueRunsPerTick() ? null : dueSlice.get(dueSlice.size() - 1).id();
    for (Run dueRun : dueSlice) {
      RunId id = dueRun.id();
      if (proposed.containsKey(id)) {
        continue;
      }
      Optional<JobView> job = view.job(id.job());
      if (job.isEmpty()) {
        continue;
      }
      JobSpec spec = job.get().spec();
      // A run of the same job proposed and not yet chosen counts as in progress: under forbid the
      // second intent would be refused. Only forbid asks (Eligibility.dueRun), and only its runs
      // are looked up: an allow job with hundreds of open runs would cost as many look-ups per
      // due run, on every tick.
      boolean otherRunInProgress =
          spec.concurrency() == ConcurrencyPolicy.FORBID
              && (forbidJobsStarted.contains(id.job())
                  || hasRunInProgress(id.job())
                  || otherRunProposed(id));
      Instant nextDue = job.get().nextDue();
      Eligibility.Decision decision =
          Eligibility.dueRun(
              spec,
              dueRun.dueAt(),
              otherRunInProgress,
              nextDue != null && !nextDue.isAfter(now),
              now);
      if (decision instanceof Eligibility.Skip(SkipReason reason)) {
        commands.add(new CronCommand.RecordSkip(id, reason, now));
        proposed.put(id, new Proposal(now, false));
        continue;
      }
      if (!(decision instanceof Eligibility.Launch)) {
        continue;
      }
      if (dueRun.catchUp() && catchUpTokens < 1) {
        continue;
      }
      AgentId agent = chooseAgent(spec, id, null, now, load);
      if (agent == null) {
        continue;
      }
      if (dueRun.catchUp()) {
        catchUpTokens -= 1;
      }
      forbidJobsStarted.add(id.job());
      commands.add(new CronCommand.RunIntent(id, 1, agent, ballot, now));
      proposed.put(id, new Proposal(now, false));
    }
  }

  /** Whether a lease {@link #checkTrackedRuns} acts on ran out since it last ran. */
  private boolean leaseRanOut(Instant now) {
    if (!now.isBefore(unregisteredAgentsReachableUntil)
        && lastTrackedCheck.isBefore(unregisteredAgentsReachableUntil)) {
      return true;
    }
    for (AgentInfo agent : agents.values()) {
      if (!agent.alive(now) && agent.alive(lastTrackedCheck)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Step 4 and resends, for every launched run this leader tracks: an agent past its lease loses
   * its runs (or they get a new attempt), an inherited run is asked about (at most {@link
   * DispatcherConfig#maxQuestionsPerTick} questions), an unanswered launch is sent again. Their
   * timeouts are seconds, so the walk runs every {@link DispatcherConfig#trackedRunsCheckInterval}
   * rather than every tick, and looks at up to {@code limit} runs, going on where the last check
   * stopped: a leader tracking tens of thousands of runs spreads them over several checks.
   */
  private void checkTrackedRuns(
      Instant now,
      int limit,
      AgentLoad load,
      List<CronCommand> commands,
      List<DispatchEffect> effects) {
    SortedMap<RunId, Tracked> after =
        trackedCheckCursor == null ? launched : launched.tailMap(trackedCheckCursor, false);
    int questions = 0;
    int visited = 0;
    Iterator<Tracked> it = after.values().iterator();
    for (; it.hasNext() && visited < limit; visited++) {
      Tracked tracked = it.next();
      trackedCheckCursor = tracked.runId;
      Optional<Run> current = view.run(tracked.runId);
      if (current.isEmpty()
          || !current.get().launched()
          || current.get().attempt() != tracked.attempt) {
        it.remove();
        forgotten(tracked);
        continue;
      }
      Run run = current.get();
      AgentInfo agent = agents.get(run.agentId());
      if (agent == null && now.isBefore(unregisteredAgentsReachableUntil)) {
        // Not registered with this leader yet; it may be alive and about to (see DispatcherConfig).
        continue;
      }
      if (agent == null || !agent.alive(now)) {
        if (!proposed.containsKey(run.id())) {
          onAgentUnreachable(run, now, load, commands);
        }
        continue;
      }
      if (!tracked.mayLaunch) {
        if (questions < config.maxQuestionsPerTick()
            && (tracked.getRunSentAt == null
                || elapsed(tracked.getRunSentAt, now, config.getRunRetryAfter()))) {
          questions++;
          effects.add(new DispatchEffect.GetRun(run.agentId(), run.id(), run.attempt(), ballot));
          tracked.getRunSentAt = now;
        }
        continue;
      }
      if (run.status() == RunStatus.LAUNCHED
          && (tracked.launchSentAt == null
              || elapsed(latest(tracked.launchSentAt, run), now, resendAfter(tracked)))) {
        launch(run, now, effects);
      }
    }
    if (!it.hasNext()) {
      trackedCheckCursor = null; // the end of the runs: the next check starts from the first
    }
  }

  /**
   * At most {@code limit} scheduled instants at or before {@code until} that no tick has handled,
   * earliest first. Every handled instant is in the index at most once, so one read of the index
   * limited to {@code limit} plus the handled instants holds them all.
   */
  private List<CronView.ScheduledInstant> unhandledInstants(Instant until, int limit) {
    List<CronView.ScheduledInstant> found = new ArrayList<>();
    for (CronView.ScheduledInstant scheduled :
        view.scheduledInstants(until, limit + handledInstants.size())) {
      if (found.size() == limit) {
        break;
      }
      if (!isHandled(scheduled)) {
        found.add(scheduled);
      }
    }
    return found;
  }

  private boolean isHandled(CronView.ScheduledInstant scheduled) {
    Handled handled = handledInstants.get(scheduled.job());
    return handled != null && handled.instant().equals(scheduled.instant());
  }

  /** The earliest scheduled instant no tick has handled, or {@code null}. */
  private Instant earliestUnhandledInstant() {
    List<CronView.ScheduledInstant> next = unhandledInstants(Instant.MAX, 1);
    return next.isEmpty() ? null : next.getFirst().instant();
  }

  /** Step 4's last rows: the agent is past its lease. */
  private void onAgentUnreachable(
      Run run, Instant now, AgentLoad load, List<CronCommand> commands) {
    var decision =
        Reconciliation.decide(semantics(run.id()), new Reconciliation.AgentReply.Unreachable(true));
    switch (decision) {
      case Reconciliation.Decision.NewAttempt newAttempt -> {
        Optional<JobView> job = view.job(run.id().job());
        AgentId agent =
            job.isEmpty()
                ? null
                : chooseAgent(job.get().spec(), run.id(), run.agentId(), now, load);
        if (agent != null && !agent.equals(run.agentId())) {
          commands.add(new CronCommand.RunIntent(run.id(), run.attempt() + 1, agent, ballot, now));
          proposed.put(run.id(), new Proposal(now, false));
        }
      }
      case Reconciliation.Decision.RecordLost lost -> {
        commands.add(new CronCommand.RecordLost(run.id(), run.attempt(), now));
        proposed.put(run.id(), new Proposal(now, false));
      }
      default -> throw Check.unreachable("unreachable agent past its lease decided %s", decision);
    }
  }

  /** Whether a command about another run of {@code id}'s job is proposed and not yet chosen. */
  private boolean otherRunProposed(RunId id) {
    for (RunId other : proposed.tailMap(new RunId(id.job(), Instant.MIN, false)).keySet()) {
      if (!other.job().equals(id.job())) {
        return false;
      }
      if (!other.equals(id)) {
        return true;
      }
    }
    return false;
  }

  private boolean hasRunInProgress(JobName job) {
    for (Run run : view.openRuns(job)) {
      if (run.status() != RunStatus.DUE) {
        return true;
      }
    }
    return false;
  }

  private void propose(List<CronCommand> commands, List<DispatchEffect> effects) {
    for (int from = 0; from < commands.size(); from += config.maxCommandsPerProposal()) {
      int to = Math.min(commands.size(), from + config.maxCommandsPerProposal());
      effects.add(new DispatchEffect.Propose(commands.subList(from, to)));
    }
  }

  /** A launch held for its instant is not expected to report a start before it. */
  private static Instant latest(Instant launchSentAt, Run run) {
    Instant instant = run.id().instant();
    return !run.id().manual() && instant.isAfter(launchSentAt) ? instant : launchSentAt;
  }

  private static boolean elapsed(Instant since, Instant now, Duration period) {
    return Duration.between(since, now).compareTo(period) >= 0;
  }

  private void refillCatchUpTokens(Instant now) {
    int rate = config.catchUpLaunchesPerSecond();
    if (tokensAt == null) {
      catchUpTokens = rate;
    } else if (now.isAfter(tokensAt)) {
      double seconds = Duration.between(tokensAt, now).toNanos() / 1e9;
      catchUpTokens = Math.min(rate, catchUpTokens + seconds * rate);
    }
    if (tokensAt == null || now.isAfter(tokensAt)) {
      tokensAt = now;
    }
  }

  /**
   * The runs each agent holds, as far as this leader tracks them: copied from the kept counts the
   * first time a tick places a run (most ticks place none), then kept as it places more.
   */
  private final class AgentLoad {
    private Map<AgentId, Integer> counts;

    private Map<AgentId, Integer> counts() {
      if (counts == null) {
        counts = new HashMap<>(trackedPerAgent);
      }
      return counts;
    }

    int of(AgentId agent) {
      return counts().getOrDefault(agent, 0);
    }

    void add(AgentId agent) {
      counts().merge(agent, 1, Integer::sum);
    }
  }

  /**
   * The live agent with spare capacity that carries the job's labels and has the fewest runs; ties
   * go to a stable hash of run and agent so equal agents share the work. {@code avoid} is used only
   * if no other agent fits ({@code null}: none to avoid). Adds the choice to {@code load}.
   */
  private AgentId chooseAgent(JobSpec spec, RunId id, AgentId avoid, Instant now, AgentLoad load) {
    AgentId best = null;
    long bestScore = Long.MAX_VALUE;
    for (AgentInfo agent : agents.values()) {
      int used = load.of(agent.agentId());
      if (!agent.alive(now) || used >= agent.capacity() || !agent.matches(spec.agentSelector())) {
        continue;
      }
      long score =
          ((long) used << 32)
              + (agent.agentId().equals(avoid) ? 1L << 31 : 0)
              + (stableHash(id.toString(), agent.agentId().value()) & 0x7fff_ffffL);
      if (score < bestScore) {
        bestScore = score;
        best = agent.agentId();
      }
    }
    if (best != null) {
      load.add(best);
    }
    return best;
  }

  private static int stableHash(String run, String agent) {
    int hash = 0x811c9dc5;
    for (String part : new String[] {run, "|", agent}) {
      for (int i = 0; i < part.length(); i++) {
        hash = (hash ^ part.charAt(i)) * 0x01000193;
      }
    }
    return hash;
  }

  /** The earliest instant at which {@link #onTick} has scheduled work, for the driver's timer. */
  public Instant nextWakeup(Instant now) {
    Instant wakeup = lastTickProposed == null ? now : lastTickProposed.plus(config.tickInterval());
    Instant earliestUnhandled = earliestUnhandledInstant();
    if (earliestUnhandled != null
        && earliestUnhandled.minus(config.launchAhead()).isBefore(wakeup)) {
      wakeup = earliestUnhandled.minus(config.launchAhead());
    }
    for (Held held : waitingForInstant.values()) {
      if (held.until().isBefore(wakeup)) {
        wakeup = held.until();
      }
    }
    for (RetryWait retry : retryAt.values()) {
      if (retry.at().isBefore(wakeup)) {
        wakeup = retry.at();
      }
    }
    return wakeup;
  }
}
