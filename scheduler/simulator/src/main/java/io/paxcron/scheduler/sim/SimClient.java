package io.paxcron.scheduler.sim;

import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.ConcurrencyPolicy;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.MisfirePolicy;
import io.paxcron.scheduler.RetryPolicy;
import io.paxcron.scheduler.Semantics;
import io.paxcron.scheduler.sim.SystemMessages.Answer;
import io.paxcron.scheduler.sim.SystemMessages.ApiOperation;
import io.paxcron.scheduler.sim.SystemMessages.ClientReply;
import io.paxcron.scheduler.sim.SystemMessages.ClientRequest;
import io.paxcron.scheduler.sim.SystemMessages.DeleteOperation;
import io.paxcron.scheduler.sim.SystemMessages.PauseOperation;
import io.paxcron.scheduler.sim.SystemMessages.PutOperation;
import io.paxcron.scheduler.sim.SystemMessages.Redirect;
import io.paxcron.scheduler.sim.SystemMessages.TriggerOperation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A closed-loop API client: one operation at a time, retried (same session sequence) until
 * answered.
 */
final class SimClient {
  private final SystemSimulation sim;
  final int index;
  final long clientId;
  final SplittableRandom clientRandom;
  long nextSequence = 1;
  Pending operation;
  long attempt;
  int target;
  final TreeMap<String, Long> versions = new TreeMap<>();
  final TreeSet<String> existing = new TreeSet<>();
  final List<SystemChecker.ClientOperation> history = new ArrayList<>();

  final class Pending {
    final long sequence;
    final String kind;
    final String job;
    final String token;
    final ApiOperation api;
    int timeouts;

    Pending(long sequence, String kind, String job, String token, ApiOperation api) {
      this.sequence = sequence;
      this.kind = kind;
      this.job = job;
      this.token = token;
      this.api = api;
    }

    SystemChecker.ClientOperation asHistory(CommandResult result) {
      return new SystemChecker.ClientOperation(
          index, clientId, sequence, kind, job, token, timeouts, result);
    }
  }

  SimClient(SystemSimulation sim, int index, long clientId, SplittableRandom clientRandom) {
    this.sim = sim;
    this.index = index;
    this.clientId = clientId;
    this.clientRandom = clientRandom;
    this.target = clientRandom.nextInt(sim.nodes.size());
  }

  void onWake(long wakeAttempt, boolean redirected) {
    if (operation == null) {
      // A timeout armed for an operation that has since been answered is not a cue to start one.
      if (sim.healed || wakeAttempt != attempt) {
        return;
      }
      operation = nextOperation();
      send();
    } else if (wakeAttempt == attempt) {
      if (!redirected) {
        operation.timeouts++;
        target = clientRandom.nextInt(sim.nodes.size());
      }
      send();
    }
  }

  private void send() {
    attempt++;
    sim.toReplicaFromClient(
        target, new ClientRequest(index, clientId, operation.sequence, operation.api));
    long sent = attempt;
    sim.schedule(SystemSimulation.CLIENT_TIMEOUT_MILLIS, () -> onWake(sent, false));
  }

  private Pending nextOperation() {
    long sequence = nextSequence++;
    String job = "j" + clientRandom.nextInt(SystemSimulation.JOB_NAMES);
    String token = "c" + clientId + "-" + sequence;
    int pick = clientRandom.nextInt(100);
    Long version = versions.get(job);
    if (!existing.contains(job) || pick < 15) {
      ExpectedVersion expected =
          existing.contains(job) && version != null && version > 0
              ? ExpectedVersion.exactly(version)
              : ExpectedVersion.ABSENT;
      return new Pending(
          sequence, "create", job, token, new PutOperation(spec(job, token), expected));
    }
    if (pick < 50) {
      ExpectedVersion expected =
          version != null && version > 0 && clientRandom.nextInt(5) > 0
              ? ExpectedVersion.exactly(version)
              : ExpectedVersion.ANY;
      return new Pending(
          sequence, "change", job, token, new PutOperation(spec(job, token), expected));
    }
    if (pick < 60) {
      return new Pending(sequence, "pause", job, null, new PauseOperation(job, true));
    }
    if (pick < 72) {
      return new Pending(sequence, "resume", job, null, new PauseOperation(job, false));
    }
    if (pick < 78) {
      ExpectedVersion expected =
          version != null && version > 0 ? ExpectedVersion.exactly(version) : ExpectedVersion.ANY;
      return new Pending(sequence, "delete", job, null, new DeleteOperation(job, expected));
    }
    return new Pending(sequence, "trigger", job, null, new TriggerOperation(job));
  }

  private JobSpec spec(String job, String token) {
    boolean once = SystemChecker.atMostOnce(job);
    SimSchedule[] schedules = SimSchedule.values();
    SimSchedule schedule = schedules[clientRandom.nextInt(schedules.length)];
    ConcurrencyPolicy[] policies = ConcurrencyPolicy.values();
    MisfirePolicy.Mode[] modes = MisfirePolicy.Mode.values();
    return JobSpec.builder(job, schedule.text, new JobCommand.Argv(List.of("/bin/true")))
        .env(Map.of("SIM_CHANGE", token))
        .timeout(Duration.ofSeconds(1 + clientRandom.nextInt(3)))
        .concurrency(policies[clientRandom.nextInt(policies.length)])
        .misfire(
            new MisfirePolicy(
                modes[clientRandom.nextInt(modes.length)],
                Duration.ofSeconds(5 + clientRandom.nextInt(16)),
                3))
        .semantics(once ? Semantics.AT_MOST_ONCE : Semantics.AT_LEAST_ONCE)
        .retries(
            once
                ? RetryPolicy.NONE
                : new RetryPolicy(
                    1 + clientRandom.nextInt(3), Duration.ofSeconds(1), Duration.ofSeconds(2), 20))
        .historyRetention(1_000)
        .build();
  }

  void onReply(ClientReply reply) {
    if (operation == null) {
      return;
    }
    switch (reply) {
      case Answer answer -> {
        if (answer.sequence() != operation.sequence) {
          return;
        }
        sim.invariants.onAcknowledged(sim.now(), clientId, operation.sequence);
        CommandResult result = answer.result();
        learn(operation, result);
        history.add(operation.asHistory(result));
        operation = null;
        attempt++;
        long next = attempt;
        sim.schedule(
            clientRandom.nextLong(
                SystemSimulation.CLIENT_THINK_MILLIS / 4,
                SystemSimulation.CLIENT_THINK_MILLIS * 7 / 4),
            () -> onWake(next, false));
      }
      case Redirect redirect -> {
        if (redirect.sequence() != operation.sequence) {
          return;
        }
        target =
            redirect.leaderHint() >= 0
                ? redirect.leaderHint()
                : clientRandom.nextInt(sim.nodes.size());
        attempt++;
        long next = attempt;
        sim.schedule(clientRandom.nextLong(20, 120), () -> onWake(next, true));
      }
    }
  }

  private void learn(Pending done, CommandResult result) {
    switch (result.status()) {
      case APPLIED -> {
        if (done.kind.equals("delete")) {
          existing.remove(done.job);
          versions.remove(done.job);
        } else if (!done.kind.equals("trigger")) {
          existing.add(done.job);
          versions.put(done.job, result.version());
        }
      }
      case CONFLICT -> {
        if (result.version() > 0) {
          existing.add(done.job);
          versions.put(done.job, result.version());
        } else {
          existing.remove(done.job);
          versions.remove(done.job);
        }
      }
      case NOT_FOUND -> {
        existing.remove(done.job);
        versions.remove(done.job);
      }
      default -> {}
    }
  }
}
