package io.paxcron.scheduler;

import static io.paxcron.scheduler.Fixture.at;
import static io.paxcron.scheduler.Fixture.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Ballot;
import io.paxcron.schedule.DstPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class DispatcherTest {
  private static final Ballot NEW = new Ballot(2, 2);

  private final Fixture fixture = new Fixture();
  private final Dispatcher dispatcher =
      new Dispatcher(
          fixture.machine,
          DispatcherConfig.DEFAULT,
          new SplittableRandom(Seeds.seed("DispatcherTest", 7)));

  /** Every scenario leaves the per-agent counts the placement reads equal to a recount. */
  @AfterEach
  void trackedRunsPerAgentAreKeptExactly() {
    assertEquals(dispatcher.trackedPerAgentRecounted(), dispatcher.trackedPerAgent());
  }

  private void agents(Instant leaseExpiresAt, String... ids) {
    List<AgentInfo> directory = new ArrayList<>();
    for (String id : ids) {
      directory.add(new AgentInfo(AgentId.of(id), Map.of(), 1000, leaseExpiresAt));
    }
    dispatcher.onAgents(directory);
  }

  /** Plays the log: applies every proposed command, then tells the dispatcher it applied them. */
  private List<DispatchEffect> choose(
      List<DispatchEffect> effects, Instant now, boolean leaseValid) {
    for (DispatchEffect effect : effects) {
      if (effect instanceof DispatchEffect.Propose propose) {
        for (CronCommand command : propose.commands()) {
          fixture.apply(command);
        }
      }
    }
    return dispatcher.onApplied(now, leaseValid);
  }

  private static List<DispatchEffect.Launch> launches(List<DispatchEffect> effects) {
    return effects.stream()
        .filter(DispatchEffect.Launch.class::isInstance)
        .map(DispatchEffect.Launch.class::cast)
        .toList();
  }

  private static List<CronCommand> proposals(List<DispatchEffect> effects) {
    return effects.stream()
        .filter(DispatchEffect.Propose.class::isInstance)
        .flatMap(effect -> ((DispatchEffect.Propose) effect).commands().stream())
        .toList();
  }

  private static <T> List<T> only(Class<T> type, List<?> items) {
    return items.stream().filter(type::isInstance).map(type::cast).toList();
  }

  private void lead(Instant now) {
    choose(dispatcher.onLeadership(now, true, NEW), now, true);
  }

  @Test
  void dispatcherSendsNoLaunchBeforeIntentIsChosen() {
    fixture.put(job("a", "@every 10s").build(), at(0));
    agents(at(1000), "agent-1");
    lead(at(0));

    List<DispatchEffect> due = dispatcher.onTick(at(10), true);
    assertEquals(
        List.of(
            new CronCommand.RunIntent(
                RunId.of(JobName.of("a"), at(10)), 1, AgentId.of("agent-1"), NEW, at(10))),
        only(CronCommand.RunIntent.class, proposals(due)));
    assertEquals(List.of(), launches(due), "the intent is only proposed");
    for (int second = 11; second < 20; second++) {
      assertEquals(
          List.of(),
          launches(dispatcher.onTick(at(second), true)),
          "while the intent is not chosen, nothing is launched");
    }

    List<DispatchEffect> chosen = choose(due, at(20), true);
    assertEquals(
        List.of(
            new DispatchEffect.Launch(
                AgentId.of("agent-1"),
                RunId.of(JobName.of("a"), at(10)),
                1,
                NEW,
                fixture.machine.job(JobName.of("a")).orElseThrow().spec())),
        launches(chosen));
  }

  @Test
  void anInstantReachedLateWaitsForTheTickThatAccountsEveryReachedInstantOfItsJob() {
    // A leader that takes over after a gap finds several instants of a job reached at once. The
    // state machine accounts them together (here replace: the later instant supersedes the
    // earlier, recorded SKIPPED(OVERLAP)); the dispatcher sees them one by one, so an intent for
    // the first would be refused as ineligible. It lets the tick account them and launches what
    // is due after.
    fixture.put(
        job("r", "*/2 * * * * *").concurrency(ConcurrencyPolicy.REPLACE).build(),
        at(0).minusMillis(1));
    agents(at(1000), "agent-1");
    lead(at(0).minusMillis(1));
    Instant late = at(4).plusMillis(500);
    List<DispatchEffect> first = dispatcher.onTick(late, true);
    assertEquals(
        List.of(),
        only(CronCommand.RunIntent.class, proposals(first)),
        "no intent for an instant that a later reached instant of its job may supersede");
    assertTrue(
        proposals(first).stream().anyMatch(CronCommand.Tick.class::isInstance),
        "a tick accounts the reached instants");
    List<DispatchEffect> effects = first;
    List<CronCommand.RunIntent> intents = new ArrayList<>();
    for (int round = 0; round < 5; round++) {
      for (DispatchEffect effect : effects) {
        if (effect instanceof DispatchEffect.Propose propose) {
          for (CronCommand command : propose.commands()) {
            CommandResult result = fixture.apply(command);
            assertTrue(!CronStateMachine.refusedAsIneligible(result), command + " -> " + result);
            if (command instanceof CronCommand.RunIntent intent) {
              intents.add(intent);
            }
          }
        }
      }
      effects = new ArrayList<>(dispatcher.onApplied(late, true));
      effects.addAll(dispatcher.onTick(late.plusMillis(round + 1), true));
    }
    List<RunId> intended = intents.stream().map(CronCommand.RunIntent::runId).toList();
    assertTrue(
        intended.contains(RunId.of(JobName.of("r"), at(4))),
        "the latest reached instant runs: " + intended);
    assertTrue(
        !intended.contains(RunId.of(JobName.of("r"), at(2))),
        "the superseded one does not: " + intended);
  }

  @Test
  void launchIsChosenAheadOfItsInstantForTheAgentToStartAtTheInstant() {
    fixture.put(job("a", "@every 10s").build(), at(0));
    agents(at(1000), "agent-1");
    lead(at(0));
    Instant ahead = at(10).minus(DispatcherConfig.DEFAULT.launchAhead());
    assertEquals(
        List.of(),
        only(CronCommand.RunIntent.class, proposals(dispatcher.onTick(ahead.minusMillis(1), true))),
        "not earlier than launchAhead before the instant");

    List<DispatchEffect> intent = dispatcher.onTick(ahead, true);
    assertEquals(
        List.of(
            new CronCommand.RunIntent(
                RunId.of(JobName.of("a"), at(10)), 1, AgentId.of("agent-1"), NEW, ahead)),
        only(CronCommand.RunIntent.class, proposals(intent)));
    List<DispatchEffect.Launch> launched = launches(choose(intent, ahead.plusMillis(5), true));
    assertEquals(1, launched.size());
    assertEquals(at(10), launched.getFirst().startAt(), "the agent holds it until the instant");
    assertEquals(
        List.of(),
        launches(dispatcher.onTick(at(11), true)),
        "a held launch is not sent again before its instant plus launchResendAfter");
  }

  @Test
  void anInstantInADstGapIsNeverProposedAheadButRecordedByATickAtTheInstant() {
    // New York springs forward at 07:00:00Z (02:00 EST -> 03:00 EDT). The job's 02:xx instants do
    // not exist and its DST policy skips them: one SKIPPED(DST_GAP) at 07:00:00Z.
    Instant springForward = Instant.parse("2024-03-10T07:00:00Z");
    Instant start = springForward.minusSeconds(10);
    fixture.put(
        job("gap", "*/4 * 1-2 * * *")
            .zone("America/New_York")
            .dstPolicy(new DstPolicy(DstPolicy.Gap.SKIP, DstPolicy.Overlap.RUN_ONCE))
            .concurrency(ConcurrencyPolicy.ALLOW)
            .build(),
        start);
    agents(springForward.plusSeconds(1000), "agent-1");

    List<CronCommand.RunIntent> intents = new ArrayList<>();
    List<DispatchEffect> effects = dispatcher.onLeadership(start, true, NEW);
    for (Instant now = start;
        now.isBefore(springForward.plusSeconds(2));
        now = now.plusMillis(100), effects = dispatcher.onTick(now, true)) {
      intents.addAll(only(CronCommand.RunIntent.class, proposals(effects)));
      for (CronCommand command : proposals(effects)) {
        CommandResult result = fixture.apply(command);
        assertTrue(
            !(command instanceof CronCommand.RunIntent) || result.applied(),
            command + " was refused: " + result);
      }
      dispatcher.onApplied(now, true);
    }

    assertEquals(
        List.of(
            RunId.of(JobName.of("gap"), springForward.minusSeconds(8)),
            RunId.of(JobName.of("gap"), springForward.minusSeconds(4))),
        intents.stream().map(CronCommand.RunIntent::runId).toList(),
        "the instants before the gap, never the gap");
    assertEquals(
        List.of("gap@2024-03-10T07:00:00Z SKIPPED(DST_GAP)"),
        fixture.ledger("gap").stream().filter(record -> record.contains("DST_GAP")).toList());
  }

  @Test
  void forbidJobWithARunOpenIsNotLaunchedAheadButAtItsInstant() {
    fixture.put(job("f", "@every 10s").concurrency(ConcurrencyPolicy.FORBID).build(), at(0));
    agents(at(1000), "agent-1");
    lead(at(0));
    choose(dispatcher.onTick(at(10), true), at(10), true);
    fixture.started("f", at(10), 1, "agent-1", at(10));
    dispatcher.onApplied(at(10), true);

    assertEquals(
        List.of(),
        only(CronCommand.RunIntent.class, proposals(dispatcher.onTick(at(19), true))),
        "the run of 10 s is open: the instant of 20 s waits for itself");
    List<DispatchEffect> atInstant = dispatcher.onTick(at(20), true);
    assertEquals(List.of(), only(CronCommand.RunIntent.class, proposals(atInstant)));
    choose(atInstant, at(20), true);
    assertEquals(List.of("f@" + at(20) + " SKIPPED(OVERLAP)"), fixture.ledger("f"));
  }

  @Test
  void dispatcherGoesSilentWhenLeaseIsInvalid() {
    fixture.put(job("a", "@every 10s").concurrency(ConcurrencyPolicy.REPLACE).build(), at(0));
    agents(at(1000), "agent-1");
    lead(at(0));
    List<DispatchEffect> intent = dispatcher.onTick(at(10), true);

    assertEquals(
        List.of(), choose(intent, at(10), false), "the intent is chosen, but the lease lapsed");
    assertEquals(List.of(), dispatcher.onTick(at(11), false));
    assertEquals(
        List.of(),
        dispatcher.onAgentAnswer(
            at(11),
            false,
            new AgentAnswer.Finished(
                AgentId.of("agent-1"), RunId.of(JobName.of("a"), at(10)), 1, Outcome.SUCCEEDED)));

    assertEquals(
        1, launches(dispatcher.onTick(at(12), true)).size(), "sent once the lease holds again");

    fixture.tick(at(20));
    assertEquals(
        List.of(),
        dispatcher.onApplied(at(20), false),
        "the replace policy's cancel waits for the lease too");
    assertEquals(List.of(), dispatcher.onTick(at(21), false));
    List<DispatchEffect> valid = dispatcher.onTick(at(22), true);
    assertEquals(
        List.of(
            new DispatchEffect.Cancel(
                AgentId.of("agent-1"), RunId.of(JobName.of("a"), at(10)), 1, NEW)),
        only(DispatchEffect.Cancel.class, valid));
  }

  @Test
  void anIntentOfAnEarlierBallotAppliedAfterTheStartIsReconciledWithItsAgentNotLaunched() {
    fixture.put(job("a", "@every 10s").build(), at(0));
    agents(at(1000), "agent-1");
    lead(at(0));
    // The earlier leader's intent, chosen ahead of the instant, is applied only now.
    Fixture.require(fixture.intent("a", at(10), 1, "agent-1", at(5)));
    assertEquals(List.of(), launches(dispatcher.onApplied(at(5), true)));
    assertEquals(
        List.of(
            new DispatchEffect.GetRun(
                AgentId.of("agent-1"), RunId.of(JobName.of("a"), at(10)), 1, NEW)),
        only(DispatchEffect.GetRun.class, dispatcher.onTick(at(6), true)),
        "the agent is asked about the run first (protocol step 4)");
  }

  @Test
  void aCancelTheStateMachineAskedForIsSentOnceAfterTheBatchThatAskedForIt() {
    fixture.put(job("a", "@every 10s").concurrency(ConcurrencyPolicy.REPLACE).build(), at(0));
    agents(at(1000), "agent-1");
    lead(at(0));
    choose(dispatcher.onTick(at(10), true), at(10), true);
    fixture.tick(at(20));
    DispatchEffect.Cancel cancel =
        new DispatchEffect.Cancel(AgentId.of("agent-1"), RunId.of(JobName.of("a"), at(10)), 1, NEW);
    assertEquals(
        List.of(cancel), only(DispatchEffect.Cancel.class, dispatcher.onApplied(at(20), true)));
    fixture.tick(at(20).plusMillis(1));
    assertEquals(List.of(), only(DispatchEffect.Cancel.class, dispatcher.onApplied(at(20), true)));
    assertEquals(List.of(), only(DispatchEffect.Cancel.class, dispatcher.onTick(at(21), true)));
  }

  /** The state machine's queries, counting the walks of every job and every open run. */
  private static final class CountingView implements CronView {
    final CronStateMachine machine;
    int jobWalks;
    int openRunWalks;
    int runLookups;
    int jobOpenRunReads;

    CountingView(CronStateMachine machine) {
      this.machine = machine;
    }

    @Override
    public Optional<JobView> job(JobName name) {
      return machine.job(name);
    }

    @Override
    public List<JobView> jobs() {
      jobWalks++;
      return machine.jobs();
    }

    @Override
    public List<LedgerRecord> ledger(JobName job) {
      return machine.ledger(job);
    }

    @Override
    public long ledgerRevision() {
      return machine.ledgerRevision();
    }

    @Override
    public Optional<List<LedgerChange>> ledgerChangesAfter(long revision, int limit) {
      return machine.ledgerChangesAfter(revision, limit);
    }

    @Override
    public List<LedgerRecord> ledgerAfter(long afterSequence, int limit) {
      return machine.ledgerAfter(afterSequence, limit);
    }

    @Override
    public Optional<LedgerRecord> newestRecord(JobName job) {
      return machine.newestRecord(job);
    }

    @Override
    public List<Run> openRuns(JobName job) {
      jobOpenRunReads++;
      return machine.openRuns(job);
    }

    @Override
    public List<Run> openRuns() {
      openRunWalks++;
      return machine.openRuns();
    }

    @Override
    public Optional<Run> run(RunId runId) {
      runLookups++;
      return machine.run(runId);
    }

    @Override
    public long changeRevision() {
      return machine.changeRevision();
    }

    @Override
    public Optional<SortedSet<JobName>> jobsChangedAfter(long revision) {
      return machine.jobsChangedAfter(revision);
    }

    @Override
    public List<Run> runsNeedingReconciliation() {
      return machine.runsNeedingReconciliation();
    }

    @Override
    public List<Run> runsDue() {
      return machine.runsDue();
    }

    @Override
    public List<Run> runsDue(RunId after, int limit) {
      return machine.runsDue(after, limit);
    }

    @Override
    public int inProgressRunCount() {
      return machine.inProgressRunCount();
    }

    @Override
    public List<ScheduledInstant> scheduledInstants(Instant until, int limit) {
      return machine.scheduledInstants(until, limit);
    }

    @Override
    public List<DueRun> dueRuns(Instant leaderTime, int limit) {
      return machine.dueRuns(leaderTime, limit);
    }

    @Override
    public Instant clock() {
      return machine.clock();
    }
  }

  @Test
  void theDispatcherNeverWalksEveryJobAndWalksTheOpenRunsOnlyWhenItStartsLeading() {
    for (int i = 0; i < 1_000; i++) {
      fixture.put(
          job("job-" + i, i % 10 == 0 ? "@every 10s" : "@every 1h")
              .concurrency(ConcurrencyPolicy.ALLOW)
              .build(),
          at(0));
    }
    CountingView view = new CountingView(fixture.machine);
    Dispatcher counted =
        new Dispatcher(
            view, DispatcherConfig.DEFAULT, new SplittableRandom(Seeds.seed("walks", 3)));
    counted.onAgents(List.of(new AgentInfo(AgentId.of("agent-1"), Map.of(), 1000, at(1000))));
    List<DispatchEffect> effects = counted.onLeadership(at(0), true, NEW);
    assertEquals(1, view.openRunWalks, "the start tracks the open runs once");
    int launched = 0;
    for (int millis = 0; millis <= 30_000; millis += 100) {
      Instant now = at(0).plusMillis(millis);
      for (CronCommand command : proposals(effects)) {
        fixture.apply(command);
      }
      launched += launches(counted.onApplied(now, true)).size();
      effects = counted.onTick(now, true);
    }
    assertEquals(300, launched, "100 jobs every 10 s for 30 s: " + launched);
    assertEquals(0, view.jobWalks, "no job walk, at the start or after");
    assertEquals(1, view.openRunWalks, "every later read is of what it tracks");
  }

  @Test
  void aBatchAboutOneRunIsReadWithoutLookingAtEveryRunTracked() {
    int jobs = 1_000;
    for (int i = 0; i < jobs; i++) {
      fixture.put(job("job-" + i, "@every 10s").build(), at(0));
    }
    CountingView view = new CountingView(fixture.machine);
    Dispatcher counted =
        new Dispatcher(
            view, DispatcherConfig.DEFAULT, new SplittableRandom(Seeds.seed("lookups", 5)));
    counted.onAgents(List.of(new AgentInfo(AgentId.of("agent-1"), Map.of(), 4096, at(1000))));
    List<DispatchEffect> effects = counted.onLeadership(at(0), true, NEW);
    List<DispatchEffect.Launch> launched = new ArrayList<>();
    for (int millis = 0; millis <= 9_000; millis += 100) {
      Instant now = at(0).plusMillis(millis);
      for (CronCommand command : proposals(effects)) {
        fixture.apply(command);
      }
      launched.addAll(launches(counted.onApplied(now, true)));
      effects = counted.onTick(now, true);
    }
    assertEquals(jobs, launched.size(), "every job's first run launched ahead of its instant");

    DispatchEffect.Launch one = launched.get(jobs / 2);
    view.runLookups = 0;
    fixture.apply(
        new CronCommand.RunStarted(one.runId(), one.attempt(), AgentId.of("agent-1"), at(10)));
    assertEquals(List.of(), counted.onApplied(at(10), true));
    assertTrue(
        view.runLookups <= 5,
        "one run started: its own job is read, not the "
            + jobs
            + " runs tracked; lookups: "
            + view.runLookups);
  }

  @Test
  void dueRunsOfAnAllowJobAreWeighedWithoutReadingTheJobsOpenRuns() {
    fixture.put(job("busy", "* * * * * *").concurrency(ConcurrencyPolicy.ALLOW).build(), at(0));
    CountingView view = new CountingView(fixture.machine);
    Dispatcher counted =
        new Dispatcher(
            view, DispatcherConfig.DEFAULT, new SplittableRandom(Seeds.seed("allow-due", 3)));
    List<DispatchEffect> effects = counted.onLeadership(at(0), true, NEW);
    for (int millis = 0; millis <= 4_000; millis += 100) {
      Instant now = at(0).plusMillis(millis);
      for (CronCommand command : proposals(effects)) {
        fixture.apply(command);
      }
      counted.onApplied(now, true);
      effects = counted.onTick(now, true);
    }
    long due =
        fixture.machine.openRuns(JobName.of("busy")).stream()
            .filter(run -> run.status() == RunStatus.DUE)
            .count();
    assertTrue(due >= 3, "no agent: the job's runs wait due; due runs: " + due);
    view.jobOpenRunReads = 0;
    counted.onTick(at(4).plusMillis(50), true);
    assertEquals(
        0,
        view.jobOpenRunReads,
        "allow never waits for another run: no look at the job's open runs per due run");
  }

  @Test
  void tenThousandJobsDueInTheSameSecondAreProposedInOneBatch() {
    int jobs = 10_000;
    for (int i = 0; i < jobs; i++) {
      Fixture.require(fixture.put(job("job-" + i, "0 * * * * *").build(), at(0)));
    }
    agents(
        at(1000),
        "agent-1",
        "agent-2",
        "agent-3",
        "agent-4",
        "agent-5",
        "agent-6",
        "agent-7",
        "agent-8",
        "agent-9",
        "agent-10");
    lead(at(1));

    List<DispatchEffect> effects = dispatcher.onTick(at(60), true);
    List<DispatchEffect.Propose> batches = only(DispatchEffect.Propose.class, effects);
    assertEquals(1, batches.size(), "one batch of proposals");
    List<CronCommand.RunIntent> intents =
        only(CronCommand.RunIntent.class, batches.get(0).commands());
    assertEquals(jobs, intents.size());
    assertEquals(
        jobs, new HashSet<>(intents.stream().map(CronCommand.RunIntent::runId).toList()).size());
    assertTrue(intents.stream().allMatch(intent -> intent.runId().instant().equals(at(60))));

    List<DispatchEffect.Launch> launched = launches(choose(effects, at(60), true));
    assertEquals(jobs, launched.size());
    Map<AgentId, Long> perAgent = new java.util.TreeMap<>();
    launched.forEach(launch -> perAgent.merge(launch.agentId(), 1L, Long::sum));
    assertEquals(10, perAgent.size(), "the launches spread over every agent: " + perAgent);
    assertTrue(perAgent.values().stream().allMatch(count -> count == 1000), perAgent::toString);
  }

  @Test
  void instantsMissedWithoutALeaderAreLeftToTheMisfirePolicy() {
    fixture.put(job("a", "@every 10s").build(), at(0));
    agents(at(1000), "agent-1");
    List<DispatchEffect> effects = dispatcher.onLeadership(at(97), true, NEW);
    assertEquals(
        List.of(new CronCommand.Tick(at(97))),
        proposals(effects),
        "a new leader does not launch missed instants itself");
    List<DispatchEffect> afterTick = choose(effects, at(97), true);
    assertEquals(List.of(), afterTick);
    List<DispatchEffect> catchUp = dispatcher.onTick(at(97).plusMillis(500), true);
    assertEquals(
        List.of(RunId.of(JobName.of("a"), at(90))),
        only(CronCommand.RunIntent.class, proposals(catchUp)).stream()
            .map(CronCommand.RunIntent::runId)
            .toList(),
        "run-once: only the latest missed instant");
  }

  /** The defaults but for the catch-up rate and the due runs a tick looks at, launching at once. */
  private static DispatcherConfig config(int catchUpLaunchesPerSecond, int dueRunsPerTick) {
    DispatcherConfig d = DispatcherConfig.DEFAULT;
    return new DispatcherConfig(
        d.tickInterval(),
        catchUpLaunchesPerSecond,
        d.proposalRetryAfter(),
        d.launchResendAfter(),
        d.getRunRetryAfter(),
        d.maxDuePerTick(),
        d.maxCommandsPerProposal(),
        d.maxQuestionsPerTick(),
        d.trackedRunsCheckInterval(),
        d.trackedRunsPerCheck(),
        Duration.ofSeconds(6),
        Duration.ZERO,
        dueRunsPerTick);
  }

  @Test
  void aBacklogOfDueRunsIsWalkedInSlicesOneATickUntilEveryRunHadItsTurn() {
    for (int i = 0; i < 5; i++) {
      fixture.put(job("job-" + i, "@every 10s").build(), at(0));
    }
    agents(at(1000), "agent-1");
    Dispatcher sliced =
        new Dispatcher(
            fixture.machine,
            config(/* catchUpLaunchesPerSecond= */ 1_000, /* dueRunsPerTick= */ 2),
            new SplittableRandom(1));
    sliced.onAgents(List.of(new AgentInfo(AgentId.of("agent-1"), Map.of(), 1000, at(1000))));
    for (DispatchEffect effect : sliced.onLeadership(at(97), true, NEW)) {
      proposals(List.of(effect)).forEach(fixture::apply);
    }
    sliced.onApplied(at(97), true);
    assertEquals(5, fixture.machine.runsDue().size(), "five runs fell due while no leader led");
    Set<RunId> intended = new HashSet<>();
    List<Integer> perTick = new ArrayList<>();
    for (int tick = 1; tick <= 3; tick++) {
      List<CronCommand.RunIntent> intents =
          only(
              CronCommand.RunIntent.class,
              proposals(sliced.onTick(at(97).plusMillis(10L * tick), true)));
      perTick.add(intents.size());
      intents.forEach(intent -> intended.add(intent.runId()));
    }
    assertEquals(List.of(2, 2, 1), perTick, "at most 2 due runs looked at per tick");
    assertEquals(
        fixture.machine.runsDue().stream()
            .map(Run::id)
            .collect(java.util.stream.Collectors.toSet()),
        intended,
        "every due run had its turn");
  }

  @Test
  void catchUpLaunchesAreRateLimitedAcrossTheCluster() {
    for (int i = 0; i < 30; i++) {
      fixture.put(job("job-" + i, "@every 10s").build(), at(0));
    }
    agents(at(1000), "agent-1");
    Dispatcher limited =
        new Dispatcher(
            fixture.machine,
            config(/* catchUpLaunchesPerSecond= */ 10, /* dueRunsPerTick= */ 2_000),
            new SplittableRandom(1));
    limited.onAgents(List.of(new AgentInfo(AgentId.of("agent-1"), Map.of(), 1000, at(1000))));
    for (DispatchEffect effect : limited.onLeadership(at(97), true, NEW)) {
      proposals(List.of(effect)).forEach(fixture::apply);
    }
    limited.onApplied(at(97), true);
    assertEquals(
        10,
        only(CronCommand.RunIntent.class, proposals(limited.onTick(at(97).plusMillis(10), true)))
            .size());
    assertEquals(
        0,
        only(CronCommand.RunIntent.class, proposals(limited.onTick(at(97).plusMillis(20), true)))
            .size());
    assertEquals(
        5,
        only(CronCommand.RunIntent.class, proposals(limited.onTick(at(97).plusMillis(520), true)))
            .size());
  }

  @Test
  void aNewLeaderAsksAboutThousandsOfInheritedLaunchesOverSeveralTicks() {
    int runs = 1_200;
    for (int i = 0; i < runs; i++) {
      fixture.put(job("job-" + i, "@every 1h").build(), at(0));
    }
    for (int i = 0; i < runs; i++) {
      fixture.intent("job-" + i, at(3600), 1, "agent-1", at(3600));
    }
    agents(at(9999), "agent-1");
    int perTick = DispatcherConfig.DEFAULT.maxQuestionsPerTick();
    HashSet<RunId> asked = new HashSet<>();
    List<DispatchEffect.GetRun> first =
        only(DispatchEffect.GetRun.class, dispatcher.onLeadership(at(3601), true, NEW));
    assertEquals(perTick, first.size(), "the first tick asks " + perTick);
    first.forEach(question -> asked.add(question.runId()));
    for (int tick = 1; tick <= 2; tick++) {
      List<DispatchEffect.GetRun> more =
          only(
              DispatchEffect.GetRun.class,
              dispatcher.onTick(
                  at(3601)
                      .plus(DispatcherConfig.DEFAULT.trackedRunsCheckInterval().multipliedBy(tick)),
                  true));
      assertTrue(more.size() <= perTick, "at most " + perTick + " per tick: " + more.size());
      more.forEach(question -> asked.add(question.runId()));
    }
    assertEquals(runs, asked.size(), "every inherited launch asked about within three checks");
  }

  @Test
  void newLeaderAsksTheAgentBeforeResendingAnInheritedLaunch() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    agents(at(9999), "agent-1");
    List<DispatchEffect> effects = dispatcher.onLeadership(at(3601), true, NEW);
    RunId run = RunId.of(JobName.of("a"), at(3600));
    assertEquals(
        List.of(new DispatchEffect.GetRun(AgentId.of("agent-1"), run, 1, NEW)),
        only(DispatchEffect.GetRun.class, effects));
    assertEquals(List.of(), launches(effects));
    assertEquals(
        List.of(),
        launches(dispatcher.onTick(at(3602), true)),
        "no launch while the question is open");

    assertEquals(
        List.of(),
        dispatcher.onAgentAnswer(
            at(3602), true, new AgentAnswer.Unknown(AgentId.of("agent-1"), run, 1, Fixture.BALLOT)),
        "an answer to an older ballot is ignored");
    List<DispatchEffect> resend =
        dispatcher.onAgentAnswer(
            at(3602), true, new AgentAnswer.Unknown(AgentId.of("agent-1"), run, 1, NEW));
    assertEquals(
        List.of(
            new DispatchEffect.Launch(
                AgentId.of("agent-1"),
                run,
                1,
                NEW,
                fixture.machine.job(JobName.of("a")).orElseThrow().spec())),
        launches(resend),
        "unknown: the same launch again");
  }

  @Test
  void agentThatKnowsAnInheritedLaunchIsAdoptedAndItsProgressRecorded() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    agents(at(9999), "agent-1");
    dispatcher.onLeadership(at(3601), true, NEW);
    RunId run = RunId.of(JobName.of("a"), at(3600));
    List<DispatchEffect> running =
        dispatcher.onAgentAnswer(
            at(3602),
            true,
            new AgentAnswer.Known(AgentId.of("agent-1"), run, 1, NEW, AgentRunState.RUNNING, null));
    assertEquals(
        List.of(new CronCommand.RunStarted(run, 1, AgentId.of("agent-1"), at(3602))),
        proposals(running));
    assertEquals(List.of(), launches(running));
    List<DispatchEffect> finished =
        dispatcher.onAgentAnswer(
            at(3603),
            true,
            new AgentAnswer.Known(
                AgentId.of("agent-1"), run, 1, NEW, AgentRunState.FINISHED, Outcome.failed(9)));
    choose(finished, at(3603), true);
    assertEquals(List.of("a@" + at(3600) + " FAILED(9)"), fixture.ledger("a"));
  }

  @Test
  void atMostOnceRunOnAnAgentPastItsLeaseIsProposedLost() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    agents(at(3605), "agent-1", "agent-2");
    lead(at(3599));
    choose(dispatcher.onTick(at(3600), true), at(3600), true);
    assertEquals(
        List.of(),
        proposals(dispatcher.onTick(at(3604), true)).stream()
            .filter(command -> !(command instanceof CronCommand.Tick))
            .toList());
    dispatcher.onAgents(
        List.of(
            new AgentInfo(AgentId.of("agent-1"), Map.of(), 10, at(3605)),
            new AgentInfo(AgentId.of("agent-2"), Map.of(), 10, at(9999))));
    AgentId agent = fixture.machine.openRuns(JobName.of("a")).get(0).agentId();
    if (agent.equals("agent-2")) {
      dispatcher.onAgents(
          List.of(
              new AgentInfo(AgentId.of("agent-2"), Map.of(), 10, at(3605)),
              new AgentInfo(AgentId.of("agent-1"), Map.of(), 10, at(9999))));
    }
    List<DispatchEffect> effects = dispatcher.onTick(at(3606), true);
    assertEquals(
        List.of(new CronCommand.RecordLost(RunId.of(JobName.of("a"), at(3600)), 1, at(3606))),
        only(CronCommand.RecordLost.class, proposals(effects)));
    assertEquals(
        List.of(), only(CronCommand.RunIntent.class, proposals(effects)), "never a second attempt");
    choose(effects, at(3606), true);
    assertEquals(List.of("a@" + at(3600) + " LOST"), fixture.ledger("a"));
  }

  @Test
  void atLeastOnceRunOnAnAgentPastItsLeaseGetsANewAttemptElsewhere() {
    fixture.put(job("a", "@every 1h").semantics(Semantics.AT_LEAST_ONCE).build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    dispatcher.onAgents(
        List.of(
            new AgentInfo(AgentId.of("agent-1"), Map.of(), 10, at(3601)),
            new AgentInfo(AgentId.of("agent-2"), Map.of(), 10, at(9999))));
    List<DispatchEffect> effects = dispatcher.onLeadership(at(3602), true, NEW);
    assertEquals(
        List.of(
            new CronCommand.RunIntent(
                RunId.of(JobName.of("a"), at(3600)), 2, AgentId.of("agent-2"), NEW, at(3602))),
        only(CronCommand.RunIntent.class, proposals(effects)));
    List<DispatchEffect.Launch> launched = launches(choose(effects, at(3602), true));
    assertEquals(1, launched.size());
    assertEquals(AgentId.of("agent-2"), launched.get(0).agentId());
    assertEquals(2, launched.get(0).attempt());
  }

  @Test
  void fencedAnswerStopsTheDispatcherUntilItLeadsAgain() {
    fixture.put(job("a", "@every 10s").build(), at(0));
    agents(at(1000), "agent-1");
    lead(at(0));
    assertEquals(
        List.of(),
        dispatcher.onAgentAnswer(
            at(1), true, new AgentAnswer.Fenced(AgentId.of("agent-1"), new Ballot(5, 1))));
    assertTrue(dispatcher.deposed());
    assertEquals(List.of(), dispatcher.onTick(at(10), true));
    assertTrue(!dispatcher.onLeadership(at(11), true, new Ballot(6, 2)).isEmpty());
  }

  @Test
  void failedAttemptIsRetriedAfterBackoffPlusSeededJitter() {
    RetryPolicy retries = new RetryPolicy(3, Duration.ofSeconds(10), Duration.ofMinutes(1), 50);
    fixture.put(
        job("a", "@every 1h").semantics(Semantics.AT_LEAST_ONCE).retries(retries).build(), at(0));
    agents(at(99_999), "agent-1", "agent-2");
    lead(at(3599));
    choose(dispatcher.onTick(at(3600), true), at(3600), true);
    AgentId first = fixture.machine.openRuns(JobName.of("a")).get(0).agentId();
    choose(
        dispatcher.onAgentAnswer(
            at(3601),
            true,
            new AgentAnswer.Finished(
                AgentId.of(first.value()),
                RunId.of(JobName.of("a"), at(3600)),
                1,
                Outcome.failed(1))),
        at(3601),
        true);
    assertEquals(RunStatus.RETRY_WAIT, fixture.machine.openRuns(JobName.of("a")).get(0).status());
    assertEquals(
        List.of(),
        only(CronCommand.RunIntent.class, proposals(dispatcher.onTick(at(3610), true))),
        "not before the backoff");
    List<CronCommand.RunIntent> retry =
        only(CronCommand.RunIntent.class, proposals(dispatcher.onTick(at(3616), true)));
    assertEquals(1, retry.size(), "within backoff + 50% jitter");
    assertEquals(2, retry.get(0).attempt());
    assertTrue(!retry.get(0).agentId().equals(first), "the retry prefers another agent");
  }

  @Test
  void dueRunWithoutAnEligibleAgentIsSkippedWithReasonDeadline() {
    // Hourly, so no newer instant arrives within the window (that would make the waiting run a
    // misfire under run-once, see CronStateMachineTest).
    fixture.put(
        job("a", "@every 1h")
            .agentSelector(Map.of("gpu", "true"))
            .misfire(new MisfirePolicy(MisfirePolicy.Mode.RUN_ONCE, Duration.ofSeconds(30), 1))
            .build(),
        at(0));
    agents(at(9000), "agent-1");
    lead(at(3590));
    List<DispatchEffect> effects = dispatcher.onTick(at(3600), true);
    assertEquals(List.of(new CronCommand.Tick(at(3600))), proposals(effects));
    choose(effects, at(3600), true);
    for (int second = 3601; second <= 3630; second++) {
      assertEquals(
          List.of(),
          only(CronCommand.RecordSkip.class, proposals(dispatcher.onTick(at(second), true))));
    }
    List<DispatchEffect> late = dispatcher.onTick(at(3631), true);
    assertEquals(
        List.of(
            new CronCommand.RecordSkip(
                RunId.of(JobName.of("a"), at(3600)), SkipReason.DEADLINE, at(3631))),
        only(CronCommand.RecordSkip.class, proposals(late)));
    choose(late, at(3631), true);
    assertTrue(
        fixture.ledger("a").contains("a@" + at(3600) + " SKIPPED(DEADLINE)"),
        fixture.ledger("a")::toString);
  }

  @Test
  void unansweredLaunchIsSentAgainAndAgentReportsBecomeProposals() {
    fixture.put(job("a", "@every 10s").build(), at(0));
    agents(at(1000), "agent-1");
    lead(at(0));
    assertEquals(1, launches(choose(dispatcher.onTick(at(10), true), at(10), true)).size());
    assertEquals(List.of(), launches(dispatcher.onTick(at(11), true)));
    assertEquals(
        1, launches(dispatcher.onTick(at(12), true)).size(), "resent after launchResendAfter");
    RunId run = RunId.of(JobName.of("a"), at(10));
    choose(
        dispatcher.onAgentAnswer(
            at(12), true, new AgentAnswer.Started(AgentId.of("agent-1"), run, 1)),
        at(12),
        true);
    assertEquals(
        List.of(), launches(dispatcher.onTick(at(15), true)), "a started run is not resent");
    choose(
        dispatcher.onAgentAnswer(
            at(16),
            true,
            new AgentAnswer.Finished(AgentId.of("agent-1"), run, 1, Outcome.SUCCEEDED)),
        at(16),
        true);
    assertEquals(List.of("a@" + at(10) + " SUCCEEDED"), fixture.ledger("a"));
  }

  @Test
  void aLaunchTheAgentTookIsSentAgainRarelyUntilTheAgentRegistersAnew() {
    // An agent that took a launch (journaled it, answered ACCEPTED) reports its start or that it
    // gave it up, re-sending reports until acknowledged: sending the launch again every
    // launchResendAfter only costs both sides a message. At a million jobs an overloaded agent held
    // 4,096 accepted launches, so the leader re-sent ~2,000 a second to each agent, piling up
    // 10,000 unread messages ahead of the heartbeat acknowledgements until the leases lapsed. A
    // taken launch goes again only every TAKEN_RESEND_FACTOR x launchResendAfter, and once more
    // after the agent registers anew (after a lapse or a restart it starts a held launch only once
    // a leader confirms it, and a repeated launch is that confirmation).
    fixture.put(job("a", "@every 10s").build(), at(0));
    agents(at(1000), "agent-1");
    lead(at(0));
    assertEquals(1, launches(choose(dispatcher.onTick(at(10), true), at(10), true)).size());
    RunId run = RunId.of(JobName.of("a"), at(10));
    choose(
        dispatcher.onAgentAnswer(
            at(10).plusMillis(50),
            true,
            new AgentAnswer.Known(
                AgentId.of("agent-1"), run, 1, NEW, AgentRunState.ACCEPTED, null)),
        at(10).plusMillis(50),
        true);
    long rare =
        DispatcherConfig.DEFAULT.launchResendAfter().getSeconds() * Dispatcher.TAKEN_RESEND_FACTOR;
    for (long second = 11; second < 10 + rare; second++) {
      assertEquals(
          List.of(),
          launches(dispatcher.onTick(at(second), true)),
          "a taken launch is not sent again soon (second " + second + ")");
    }
    assertEquals(
        1,
        launches(dispatcher.onTick(at(11 + rare), true)).size(),
        "but once every " + rare + " s, a safety net for a lapsed lease");
    dispatcher.onAgentRegistered(AgentId.of("agent-1"));
    assertEquals(List.of(), launches(dispatcher.onTick(at(12 + rare), true)));
    assertEquals(
        1,
        launches(dispatcher.onTick(at(13 + rare), true)).size(),
        "after a new registration it is sent once more, launchResendAfter after the last");
    choose(
        dispatcher.onAgentAnswer(
            at(13 + rare),
            true,
            new AgentAnswer.Known(
                AgentId.of("agent-1"), run, 1, NEW, AgentRunState.ACCEPTED, null)),
        at(13 + rare),
        true);
    assertEquals(
        List.of(),
        launches(dispatcher.onTick(at(20 + rare), true)),
        "taken again: not sent again soon");
  }

  @Test
  void aLaunchTheAgentHasNotAnsweredGoesAgainEachTimeTwiceAsLateUntilItRegistersAnew() {
    // A stream loses nothing while it lives, so a repeat only helps an agent that answers late; an
    // agent late because it is starved of CPU got a repeat of every launch it held every 2 s.
    fixture.put(job("a", "@every 10m").build(), at(0));
    agents(at(1000), "agent-1");
    lead(at(0));
    assertEquals(1, launches(choose(dispatcher.onTick(at(600), true), at(600), true)).size());
    List<Long> sentAt = new java.util.ArrayList<>();
    for (long second = 601; second <= 680; second++) {
      if (!launches(dispatcher.onTick(at(second), true)).isEmpty()) {
        sentAt.add(second - 600);
      }
    }
    assertEquals(List.of(2L, 6L, 14L, 30L, 50L, 70L), sentAt, "2 s, then 4, 8, 16, at most 20");
    dispatcher.onAgentRegistered(AgentId.of("agent-1"));
    sentAt.clear();
    for (long second = 681; second <= 700; second++) {
      if (!launches(dispatcher.onTick(at(second), true)).isEmpty()) {
        sentAt.add(second - 600);
      }
    }
    assertEquals(
        List.of(81L, 83L, 87L, 95L),
        sentAt,
        "a new registration starts again at 2 s after the last");
  }

  @Test
  void newLeaderWaitsForAnUnregisteredAgentAndAdoptsItsRunningRunWhenItRegisters() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    fixture.started("a", at(3600), 1, "agent-1", at(3600));
    dispatcher.onAgents(List.of());
    RunId run = RunId.of(JobName.of("a"), at(3600));
    List<DispatchEffect> first = dispatcher.onLeadership(at(3601), true, NEW);
    assertEquals(
        List.of(),
        only(CronCommand.RecordLost.class, proposals(first)),
        "not before it could register");
    assertEquals(
        List.of(),
        only(
            CronCommand.RecordLost.class,
            proposals(dispatcher.onTick(at(3601).plusMillis(5_900), true))));
    agents(at(3601).plusMillis(12_000), "agent-1");
    List<DispatchEffect> asked = dispatcher.onTick(at(3601).plusMillis(5_950), true);
    assertEquals(
        List.of(new DispatchEffect.GetRun(AgentId.of("agent-1"), run, 1, NEW)),
        only(DispatchEffect.GetRun.class, asked));
    assertEquals(
        List.of(),
        dispatcher.onAgentAnswer(
            at(3607),
            true,
            new AgentAnswer.Known(AgentId.of("agent-1"), run, 1, NEW, AgentRunState.RUNNING, null)),
        "adopted as it is");
    assertEquals(
        List.of(),
        only(CronCommand.RecordLost.class, proposals(dispatcher.onTick(at(3610), true))));
    assertEquals(RunStatus.RUNNING, fixture.machine.run(run).orElseThrow().status());
  }

  @Test
  void inheritedRunOfAnAgentThatNeverRegistersIsLostOnlyAfterTheUnregisteredAgentLease() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    dispatcher.onAgents(List.of());
    dispatcher.onLeadership(at(3601), true, NEW);
    assertEquals(
        List.of(),
        only(
            CronCommand.RecordLost.class,
            proposals(dispatcher.onTick(at(3606).plusMillis(999), true))));
    assertEquals(
        List.of(new CronCommand.RecordLost(RunId.of(JobName.of("a"), at(3600)), 1, at(3607))),
        only(CronCommand.RecordLost.class, proposals(dispatcher.onTick(at(3607), true))));
  }

  @Test
  void agentHeardAgainAfterItsRunWasLostTestifiesAndTheRecordStaysLost() {
    fixture.put(job("a", "@every 1h").build(), at(0));
    fixture.intent("a", at(3600), 1, "agent-1", at(3600));
    RunId run = RunId.of(JobName.of("a"), at(3600));
    fixture.apply(new CronCommand.RecordLost(run, 1, at(3610)));
    agents(at(9999), "agent-1");
    lead(at(3611));
    AgentAnswer late = new AgentAnswer.Finished(AgentId.of("agent-1"), run, 1, Outcome.failed(2));
    assertEquals(
        ReportAcknowledgement.Decision.PROPOSE,
        ReportAcknowledgement.decide(fixture.machine, late));
    List<DispatchEffect> effects = dispatcher.onAgentAnswer(at(3612), true, late);
    assertEquals(
        List.of(new CronCommand.RecordTestimony(run, 1, "FAILED(2)", at(3612))),
        proposals(effects));
    choose(effects, at(3612), true);
    LedgerRecord record = fixture.machine.ledgerRecord(run).orElseThrow();
    assertEquals(Outcome.LOST, record.outcome());
    assertEquals("FAILED(2)", record.detail().agentTestimony());
    assertEquals(
        ReportAcknowledgement.Decision.ACKNOWLEDGE,
        ReportAcknowledgement.decide(fixture.machine, late));
  }

  @Test
  void launchTheAgentGaveUpIsLostWithTestimonyForAtMostOnceAndRetriedForAtLeastOnce() {
    fixture.put(job("once", "@every 1h").build(), at(0));
    fixture.put(job("least", "@every 1h").semantics(Semantics.AT_LEAST_ONCE).build(), at(0));
    agents(at(9999), "agent-1", "agent-2");
    lead(at(3599));
    choose(dispatcher.onTick(at(3600), true), at(3600), true);
    RunId once = RunId.of(JobName.of("once"), at(3600));
    RunId least = RunId.of(JobName.of("least"), at(3600));
    AgentId onceAgent = fixture.machine.run(once).orElseThrow().agentId();
    AgentId leastAgent = fixture.machine.run(least).orElseThrow().agentId();
    List<DispatchEffect> lost =
        dispatcher.onAgentAnswer(
            at(3601),
            true,
            new AgentAnswer.NeverStarted(AgentId.of(onceAgent.value()), once, 1, "lease lapsed"));
    assertEquals(
        List.of(
            new CronCommand.RecordLost(once, 1, at(3601)),
            new CronCommand.RecordTestimony(once, 1, RunDetail.NEVER_STARTED, at(3601))),
        proposals(lost));
    choose(lost, at(3601), true);
    assertEquals(
        RunDetail.NEVER_STARTED,
        fixture.machine.ledgerRecord(once).orElseThrow().detail().agentTestimony());

    List<CronCommand> retried =
        proposals(
            dispatcher.onAgentAnswer(
                at(3601),
                true,
                new AgentAnswer.NeverStarted(
                    AgentId.of(leastAgent.value()), least, 1, "lease lapsed")));
    assertEquals(1, retried.size());
    CronCommand.RunIntent intent = (CronCommand.RunIntent) retried.get(0);
    assertEquals(2, intent.attempt());
    assertTrue(!intent.agentId().equals(leastAgent), "elsewhere when another agent fits");
  }
}
