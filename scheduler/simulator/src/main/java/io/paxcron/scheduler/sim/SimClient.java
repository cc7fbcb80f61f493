package io.paxcron.scheduler.sim;

import io.paxcron.api.JobChange;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.ConcurrencyPolicy;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.MisfirePolicy;
import io.paxcron.scheduler.RetryPolicy;
import io.paxcron.scheduler.Semantics;
import io.paxcron.scheduler.sim.SystemMessages.Answer;
import io.paxcron.scheduler.sim.SystemMessages.ClientReply;
import io.paxcron.scheduler.sim.SystemMessages.ClientRequest;
import io.paxcron.scheduler.sim.SystemMessages.Redirect;
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

  /** One job change of a request, as the history records it. */
  record Part(String kind, String job, String token) {}

  final class Pending {
    final long sequence;
    final List<Part> parts;
    final List<JobChange> changes;
    int timeouts;

    Pending(long sequence, List<Part> parts, List<JobChange> changes) {
      this.sequence = sequence;
      this.parts = List.copyOf(parts);
      this.changes = List.copyOf(changes);
    }

    Pending(long sequence, String kind, String job, String token, JobChange change) {
      this(sequence, List.of(new Part(kind, job, token)), List.of(change));
    }

    SystemChecker.ClientOperation asHistory(Part part, CommandResult result) {
      return new SystemChecker.ClientOperation(
          index, clientId, sequence, part.kind(), part.job(), part.token(), timeouts, result);
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
        target, new ClientRequest(index, clientId, operation.sequence, operation.changes));
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
          sequence, "create", job, token, new JobChange.Put(spec(job, token), expected));
    }
    if (pick < 45) {
      ExpectedVersion expected =
          version != null && version > 0 && clientRandom.nextInt(5) > 0
              ? ExpectedVersion.exactly(version)
              : ExpectedVersion.ANY;
      return new Pending(
          sequence, "change", job, token, new JobChange.Put(spec(job, token), expected));
    }
    if (pick < 52) {
      return applyPair(sequence, job, token);
    }
    if (pick < 60) {
      return new Pending(sequence, "pause", job, null, new JobChange.Pause(job));
    }
    if (pick < 72) {
      return new Pending(sequence, "resume", job, null, new JobChange.Resume(job));
    }
    if (pick < 78) {
      ExpectedVersion expected =
          version != null && version > 0 ? ExpectedVersion.exactly(version) : ExpectedVersion.ANY;
      return new Pending(sequence, "delete", job, null, new JobChange.Delete(job, expected));
    }
    return new Pending(sequence, "trigger", job, null, new JobChange.Trigger(job));
  }

  /**
   * An {@code Apply} of two jobs in one request, all or nothing (promise 6): the second job's
   * expected version is what this client last saw, which another client may have changed since, so
   * some pairs are refused whole.
   */
  private Pending applyPair(long sequence, String first, String token) {
    String second = "j" + clientRandom.nextInt(SystemSimulation.JOB_NAMES);
    if (second.equals(first)) {
      second =
          "j" + Math.floorMod(Integer.parseInt(first.substring(1)) + 1, SystemSimulation.JOB_NAMES);
    }
    List<Part> parts = new ArrayList<>();
    List<JobChange> changes = new ArrayList<>();
    for (String job : List.of(first, second)) {
      Long version = versions.get(job);
      ExpectedVersion expected =
          existing.contains(job) && version != null && version > 0
              ? ExpectedVersion.exactly(version)
              : ExpectedVersion.ABSENT;
      String partToken = token + "-" + job;
      parts.add(new Part(existing.contains(job) ? "change" : "create", job, partToken));
      changes.add(new JobChange.Put(spec(job, partToken), expected));
    }
    return new Pending(sequence, parts, changes);
  }

  private JobSpec spec(String job, String token) {
    boolean once = SystemChecker.atMostOnce(job);
    SimSchedule[] schedules = SimSchedule.values();
    SimSchedule schedule = schedules[clientRandom.nextInt(schedules.length)];
    ConcurrencyPolicy[] policies = ConcurrencyPolicy.values();
    MisfirePolicy.Mode[] modes = MisfirePolicy.Mode.values();
    JobSpec.Builder builder =
        JobSpec.builder(job, schedule.text, new JobCommand.Argv(List.of("/bin/true")));
    if (schedule.zone != null) {
      builder.zone(schedule.zone).dstPolicy(schedule.dstPolicy);
    }
    return builder
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
        sim.checker.onBatchAnswer(sim.now(), clientId, operation.sequence, answer.results());
        for (int i = 0; i < operation.parts.size(); i++) {
          Part part = operation.parts.get(i);
          CommandResult result = answer.results().get(i);
          learn(part, result);
          history.add(operation.asHistory(part, result));
        }
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

  private void learn(Part done, CommandResult result) {
    switch (result.status()) {
      case APPLIED -> {
        if (done.kind().equals("delete")) {
          existing.remove(done.job());
          versions.remove(done.job());
        } else if (!done.kind().equals("trigger")) {
          existing.add(done.job());
          versions.put(done.job(), result.version());
        }
      }
      case CONFLICT -> {
        if (result.version() > 0) {
          existing.add(done.job());
          versions.put(done.job(), result.version());
        } else {
          existing.remove(done.job());
          versions.remove(done.job());
        }
      }
      case NOT_FOUND -> {
        existing.remove(done.job());
        versions.remove(done.job());
      }
      default -> {}
    }
  }
}
