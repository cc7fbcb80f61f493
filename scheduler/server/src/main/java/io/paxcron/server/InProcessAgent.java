package io.paxcron.server;

import io.paxcron.agent.core.AgentEffect;
import io.paxcron.agent.core.AgentFence;
import io.paxcron.agent.core.AgentLimits;
import io.paxcron.agent.core.FenceBallot;
import io.paxcron.agent.core.LaunchKey;
import io.paxcron.agent.core.LeaderReply;
import io.paxcron.agent.core.RunView;
import io.paxcron.paxos.Ballot;
import io.paxcron.scheduler.AgentAnswer;
import io.paxcron.scheduler.AgentRunState;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RunId;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A worker agent inside the replica process (one per replica for now; the separate agent process
 * comes later). It keeps the agent's side of the launch protocol with the pure {@link AgentFence}:
 * a launch below the highest ballot seen is fenced out, a repeated launch is a no-op answering its
 * state, and {@code GetRun} raises the fence. An accepted launch runs the job's command as a real
 * process (argv directly, or {@code /bin/sh -c} for a shell string) with the job's environment
 * plus {@code PAXCRON_RUN_ID}, {@code PAXCRON_SCHEDULED_TIME} and {@code PAXCRON_ATTEMPT}; past
 * the job's timeout the process is destroyed and the attempt reported {@code TIMED_OUT}.
 *
 * <p>Starts and finishes are reported through the listener given at construction and kept until
 * {@link #acknowledge}d, so the driver can report them again (the leader's log deduplicates).
 *
 * <p>The agent lives in the leader's own process, so every request from the leader also renews the
 * agent's lease: the leader calling is the heartbeat being acknowledged.
 *
 * <p>The fence and launch table live in memory only: the agent lives and dies with its replica
 * process, and a leader that outlives it treats it as unreachable (never as "unknown"), so nothing
 * it accepted is ever launched twice because it forgot.
 *
 * <p>Threading: every method may be called from any thread (the agent's state is guarded by its
 * monitor); processes are waited for on the agent's own threads.
 */
final class InProcessAgent implements AgentEndpoint, AutoCloseable {

  /** How long a destroyed process gets to exit before it is killed forcibly. */
  private static final long DESTROY_GRACE_MILLIS = 2_000;

  private final String agentId;
  private final Consumer<AgentAnswer> reports;
  private final PrintStream log;
  /** The lease each leader request grants; the agent cannot outlive its leader's process anyway. */
  private static final Duration IN_PROCESS_LEASE = Duration.ofMinutes(1);

  private final AgentFence fence = new AgentFence(new AgentLimits(10_000, AgentLimits.DEFAULT_MAX_LAUNCHES,
      AgentLimits.DEFAULT_UNCONFIRMED_GIVE_UP));
  private final Map<Key, Process> processes = new HashMap<>();
  private final LinkedHashMap<Key, AgentAnswer> unacknowledged = new LinkedHashMap<>();
  private final ExecutorService workers;
  private boolean closed;

  private record Key(RunId runId, int attempt, boolean finish) {}

  InProcessAgent(String agentId, Consumer<AgentAnswer> reports, PrintStream log) {
    this.agentId = agentId;
    this.reports = reports;
    this.log = log;
    this.workers = Executors.newCachedThreadPool(r -> {
      Thread thread = new Thread(r, agentId + "-run");
      thread.setDaemon(true);
      return thread;
    });
  }

  @Override
  public String agentId() {
    return agentId;
  }

  @Override
  public synchronized Optional<AgentAnswer> launch(RunId runId, int attempt, Ballot ballot, JobSpec spec) {
    if (closed) {
      return Optional.empty();
    }
    Instant now = Instant.now();
    FenceBallot fenceBallot = FenceBallot.of(0, ballot);
    fence.onHeartbeatAcknowledged(now, now, IN_PROCESS_LEASE, fenceBallot);
    Optional<AgentAnswer> answer = Optional.empty();
    for (AgentEffect effect : fence.onLaunch(now, new LaunchKey(runId, attempt), fenceBallot, null, new byte[0])
        .effects()) {
      switch (effect) {
        case AgentEffect.Start start -> workers.execute(() -> run(runId, attempt, spec));
        case AgentEffect.Reply reply when reply.reply() instanceof LeaderReply.LaunchAnswer launched ->
            answer = switch (launched.status()) {
              case ACCEPTED, REPEAT -> Optional.of(known(launched.run(), ballot));
              case FENCED -> Optional.of(new AgentAnswer.Fenced(agentId, paxosBallot(launched.highestSeen())));
              case CAPACITY -> Optional.empty();
            };
        default -> { }
      }
    }
    return answer;
  }

  @Override
  public synchronized AgentAnswer getRun(RunId runId, int attempt, Ballot ballot) {
    LaunchKey key = new LaunchKey(runId, attempt);
    for (AgentEffect effect : fence.onGetRun(Instant.now(), key, FenceBallot.of(0, ballot)).effects()) {
      if (effect instanceof AgentEffect.Reply reply && reply.reply() instanceof LeaderReply.RunAnswer run) {
        return switch (run.run().phase()) {
          case UNKNOWN -> new AgentAnswer.Unknown(agentId, runId, attempt, ballot);
          case FENCED -> new AgentAnswer.Fenced(agentId, paxosBallot(run.run().highestSeen()));
          default -> known(run.run(), ballot);
        };
      }
    }
    throw new IllegalStateException("GetRun of " + key + " got no answer from the agent core");
  }

  @Override
  public synchronized Optional<AgentAnswer> cancel(RunId runId, int attempt, Ballot ballot) {
    FenceBallot fenceBallot = FenceBallot.of(0, ballot);
    if (fenceBallot.isBelow(fence.highestSeen())) {
      return Optional.of(new AgentAnswer.Fenced(agentId, paxosBallot(fence.highestSeen())));
    }
    for (AgentEffect effect : fence.onCancel(Instant.now(), new LaunchKey(runId, attempt), fenceBallot).effects()) {
      if (effect instanceof AgentEffect.Stop) {
        Process process = processes.get(new Key(runId, attempt, false));
        if (process != null) {
          process.destroy();
        }
      }
    }
    return Optional.empty();
  }

  @Override
  public synchronized void acknowledge(RunId runId, int attempt, boolean finished) {
    unacknowledged.remove(new Key(runId, attempt, finished));
    if (finished) {
      unacknowledged.remove(new Key(runId, attempt, false));
    }
    fence.onReportAcknowledged(new LaunchKey(runId, attempt),
        finished ? AgentEffect.ReportKind.FINISHED : AgentEffect.ReportKind.STARTED);
  }

  private AgentAnswer known(RunView run, Ballot ballot) {
    AgentRunState state = switch (run.phase()) {
      case RUNNING -> AgentRunState.RUNNING;
      case FINISHED -> AgentRunState.FINISHED;
      default -> AgentRunState.ACCEPTED;
    };
    return new AgentAnswer.Known(agentId, run.key().runId(), run.key().attempt(), ballot, state, run.outcome());
  }

  private static Ballot paxosBallot(FenceBallot ballot) {
    return new Ballot(ballot.round(), ballot.replicaId());
  }

  @Override
  public synchronized List<AgentAnswer> unacknowledgedReports() {
    return new ArrayList<>(unacknowledged.values());
  }

  /** Runs one accepted attempt to its end, on a worker thread. */
  private void run(RunId runId, int attempt, JobSpec spec) {
    Key key = new Key(runId, attempt, false);
    Process process;
    try {
      ProcessBuilder builder = new ProcessBuilder(spec.command().argv())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.DISCARD);
      builder.environment().putAll(spec.env());
      builder.environment().put("PAXCRON_RUN_ID", runId.toString());
      builder.environment().put("PAXCRON_SCHEDULED_TIME", runId.instant().toString());
      builder.environment().put("PAXCRON_ATTEMPT", Integer.toString(attempt));
      if (spec.workingDirectory() != null && !spec.workingDirectory().isEmpty()) {
        builder.directory(new File(spec.workingDirectory()));
      }
      synchronized (this) {
        if (closed) {
          return;
        }
        process = builder.start();
        processes.put(key, process);
        fence.onStarted(new LaunchKey(runId, attempt), Instant.now());
        report(key, new AgentAnswer.Started(agentId, runId, attempt));
      }
    } catch (IOException | RuntimeException e) {
      log.println(agentId + ": " + runId + " attempt " + attempt + " could not start: " + e.getMessage());
      synchronized (this) {
        finish(runId, attempt, new Outcome.Failed(127));
      }
      return;
    }
    Outcome outcome;
    try {
      if (process.waitFor(spec.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
        int exit = process.exitValue();
        outcome = exit == 0 ? new Outcome.Succeeded() : new Outcome.Failed(exit);
      } else {
        process.destroy();
        if (!process.waitFor(DESTROY_GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
          process.destroyForcibly();
          process.waitFor();
        }
        outcome = new Outcome.TimedOut();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      return;
    }
    synchronized (this) {
      processes.remove(key);
      finish(runId, attempt, outcome);
    }
  }

  /** Holds the monitor. */
  private void finish(RunId runId, int attempt, Outcome outcome) {
    fence.onFinished(new LaunchKey(runId, attempt), outcome, "", Instant.now(), new byte[0]);
    unacknowledged.remove(new Key(runId, attempt, false));
    report(new Key(runId, attempt, true), new AgentAnswer.Finished(agentId, runId, attempt, outcome));
  }

  /** Holds the monitor. */
  private void report(Key key, AgentAnswer answer) {
    unacknowledged.put(key, answer);
    reports.accept(answer);
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      processes.values().forEach(Process::destroy);
    }
    workers.shutdownNow();
  }
}
