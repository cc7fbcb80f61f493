package io.paxcron.fault.harness;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.paxcron.api.JobClient;
import io.paxcron.api.JobClientException;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.OpenRun;
import io.paxcron.proto.v1.RunRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The workload. <b>Ledger jobs</b>: second-level schedules with a mix of semantics, concurrency and
 * misfire policies, created once and never changed; their commands append {@code runId attempt
 * agent epochNanos} to {@code launches/<job>.log} with O_APPEND ({@code >>}). <b>Churn</b>:
 * concurrent clients, each its own session (client id, request ids), putting, pausing, resuming and
 * deleting a small pool of jobs and reading them back with lease reads; every operation is recorded
 * with its call and return time and what the client saw (Jepsen's set workload).
 */
final class Workload {
  static final int CHURN_JOBS = 10;

  /** A ledger job's policy mix. */
  record LedgerSpec(
      String name,
      int periodSeconds,
      boolean atLeastOnce,
      Job.Concurrency concurrency,
      Job.Misfire.Mode misfire,
      String tail) {}

  static final List<LedgerSpec> LEDGER_JOBS =
      List.of(
          new LedgerSpec(
              "amo-forbid-1s",
              1,
              false,
              Job.Concurrency.CONCURRENCY_FORBID,
              Job.Misfire.Mode.MODE_RUN_ONCE,
              ""),
          new LedgerSpec(
              "amo-allow-slow-2s",
              2,
              false,
              Job.Concurrency.CONCURRENCY_ALLOW,
              Job.Misfire.Mode.MODE_RUN_ONCE,
              "; sleep 3"),
          new LedgerSpec(
              "amo-forbid-slow-3s",
              3,
              false,
              Job.Concurrency.CONCURRENCY_FORBID,
              Job.Misfire.Mode.MODE_RUN_ONCE,
              "; sleep 4"),
          new LedgerSpec(
              "amo-replace-5s",
              5,
              false,
              Job.Concurrency.CONCURRENCY_REPLACE,
              Job.Misfire.Mode.MODE_RUN_ONCE,
              "; sleep 7"),
          new LedgerSpec(
              "amo-fail-4s",
              4,
              false,
              Job.Concurrency.CONCURRENCY_ALLOW,
              Job.Misfire.Mode.MODE_RUN_ONCE,
              "; exit 3"),
          new LedgerSpec(
              "amo-skip-1s",
              1,
              false,
              Job.Concurrency.CONCURRENCY_FORBID,
              Job.Misfire.Mode.MODE_SKIP,
              ""),
          new LedgerSpec(
              "alo-allow-2s",
              2,
              true,
              Job.Concurrency.CONCURRENCY_ALLOW,
              Job.Misfire.Mode.MODE_RUN_ONCE,
              ""),
          new LedgerSpec(
              "alo-runall-3s",
              3,
              true,
              Job.Concurrency.CONCURRENCY_ALLOW,
              Job.Misfire.Mode.MODE_RUN_ALL,
              "; sleep 1"),
          // Always two runs in flight: what a new leader must reconcile with the agents after a
          // crash (and what an agent that forgets its launches runs twice).
          new LedgerSpec(
              "alo-slow-4s",
              4,
              true,
              Job.Concurrency.CONCURRENCY_ALLOW,
              Job.Misfire.Mode.MODE_RUN_ONCE,
              "; sleep 6"));

  private final FaultCluster cluster;
  private final Path launches;
  private final long seed;
  private final long startNanos = System.nanoTime();
  private final long startMicros = System.currentTimeMillis() * 1000;
  private final ConcurrentLinkedQueue<String> history = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();

  Workload(FaultCluster cluster, Path launches, long seed) {
    this.cluster = cluster;
    this.launches = launches;
    this.seed = seed;
  }

  /** Epoch microseconds on the harness's clock, measured with the monotonic clock. */
  long nowMicros() {
    return startMicros + (System.nanoTime() - startNanos) / 1000;
  }

  JobClient client(long id, int attempts) {
    return new JobClient(
        id,
        cluster.clientAddresses(),
        address -> NettyChannelBuilder.forTarget(address).usePlaintext().build(),
        new JobClient.Settings(
            Duration.ofSeconds(1), attempts, Duration.ofMillis(50), Duration.ofMillis(500)),
        JobClient.Sleeper.SYSTEM,
        new Random(seed ^ id));
  }

  /** Creates the ledger jobs; returns the jobs.tsv lines (creation acknowledged at ...). */
  List<String> createLedgerJobs() {
    List<String> rows = new ArrayList<>();
    try (JobClient client = client(JobClient.randomClientId(), 20)) {
      for (LedgerSpec spec : LEDGER_JOBS) {
        String command =
            "echo \"$PAXCRON_RUN_ID $PAXCRON_ATTEMPT $PAXCRON_AGENT $(date +%s%N)\" >> "
                + launches.resolve(spec.name() + ".log")
                + spec.tail();
        Job.Builder job =
            Job.newBuilder()
                .setName(spec.name())
                .setSchedule(
                    spec.periodSeconds() == 1
                        ? "* * * * * *"
                        : "*/" + spec.periodSeconds() + " * * * * *")
                .setCommand(Job.Command.newBuilder().setShell(command))
                .setConcurrency(spec.concurrency())
                .setMisfire(Job.Misfire.newBuilder().setMode(spec.misfire()))
                .setTimeout(seconds(30))
                .setHistoryRetention(10_000)
                .setSemantics(
                    spec.atLeastOnce()
                        ? Job.Semantics.SEMANTICS_AT_LEAST_ONCE
                        : Job.Semantics.SEMANTICS_AT_MOST_ONCE);
        if (spec.atLeastOnce()) {
          job.setRetries(
              Job.Retries.newBuilder()
                  .setMaxAttempts(3)
                  .setBackoffBase(seconds(1))
                  .setBackoffMax(seconds(2)));
        }
        putUntilAcknowledged(client, job.build());
        rows.add(
            String.join(
                "\t",
                spec.name(),
                String.valueOf(spec.periodSeconds()),
                spec.atLeastOnce() ? "at-least-once" : "at-most-once",
                spec.concurrency().name(),
                spec.misfire().name(),
                String.valueOf(System.currentTimeMillis())));
      }
    }
    return rows;
  }

  /**
   * Set-up writes must land before the faults start; an election on a loaded machine can outlast
   * one call's attempts, so this keeps calling (the same put again is harmless) for up to 3 min.
   */
  private static void putUntilAcknowledged(JobClient client, Job job) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(3);
    while (true) {
      try {
        client.put(job);
        return;
      } catch (JobClientException.UnavailableException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
  }

  /** Starts {@code writers} churn clients and {@code readers} lease-reading clients. */
  void startChurn(int writers, int readers) {
    for (int c = 0; c < writers + readers; c++) {
      boolean reader = c >= writers;
      String process = (reader ? "r" : "w") + c;
      Random random = new Random(seed * 31 + c);
      Thread thread =
          Thread.ofPlatform().name("churn-" + process).start(() -> churn(process, reader, random));
      threads.add(thread);
    }
  }

  private void churn(String process, boolean reader, Random random) {
    long n = 0;
    JobClient client = client(JobClient.randomClientId(), 10);
    try {
      while (!stop.get()) {
        String job = "churn-" + random.nextInt(CHURN_JOBS);
        int dice = random.nextInt(100);
        String kind =
            reader || dice < 10
                ? "get"
                : dice < 55 ? "put" : dice < 70 ? "pause" : dice < 85 ? "resume" : "delete";
        String token = kind.equals("put") ? process + "-" + (++n) : "-";
        operate(client, process, kind, job, token);
        FaultCluster.sleep(50 + random.nextInt(200));
      }
    } finally {
      client.close();
    }
  }

  /** One operation, recorded whatever happens. */
  void operate(JobClient client, String process, String kind, String job, String token) {
    long call = nowMicros();
    String result;
    String observed = "-";
    try {
      switch (kind) {
        case "put" -> client.put(churnJob(job, token));
        case "pause" -> client.pause(job);
        case "resume" -> client.resume(job);
        case "delete" -> client.delete(job);
        case "get" -> {
          Job read = client.get(job);
          observed =
              read.getAnnotationsOrDefault("fault-token", "?")
                  + ":"
                  + (read.getPaused() ? "paused" : "active");
        }
        default -> throw new IllegalArgumentException(kind);
      }
      result = "ok";
    } catch (JobClientException.JobNotFoundException e) {
      result = "fail";
      observed = "NOT_FOUND";
    } catch (JobClientException.InvalidRequestException e) {
      // The workload's own mistake, not the cluster's: recorded as a definite failure and shown.
      result = "fail";
      observed = "INVALID_ARGUMENT";
      System.err.println("fault workload: invalid request: " + e.getMessage());
    } catch (RuntimeException e) {
      // Timeout, unavailable, rejected: the client cannot know whether the change happened.
      result = "info";
    }
    long ret = result.equals("info") ? -1 : nowMicros();
    history.add(
        String.join(
            "\t",
            process,
            kind,
            job,
            token,
            String.valueOf(call),
            String.valueOf(ret),
            result,
            observed));
  }

  static Job churnJob(String name, String token) {
    return Job.newBuilder()
        .setName(name)
        .setSchedule("0 0 0 1 1 *")
        .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
        .putAnnotations("fault-token", token)
        .build();
  }

  void stopChurn() {
    stop.set(true);
    for (Thread thread : threads) {
      try {
        thread.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** After the heal: one final read of every churn job, retried until it answers. */
  void finalReads() {
    try (JobClient client = client(JobClient.randomClientId(), 20)) {
      for (int i = 0; i < CHURN_JOBS; i++) {
        String job = "churn-" + i;
        for (int attempt = 0; attempt < 10; attempt++) {
          int before = history.size();
          operate(client, "final", "get", job, "-");
          String last =
              history.stream()
                  .skip(before)
                  .filter(l -> l.startsWith("final\t"))
                  .reduce((a, b) -> b)
                  .orElse("");
          if (!last.contains("\tinfo\t")) {
            break;
          }
        }
      }
    }
  }

  List<String> history() {
    return new ArrayList<>(history);
  }

  /** Every ledger record and open run of the ledger jobs, as ledger.tsv lines. */
  List<String> readLedger() {
    List<String> rows = new ArrayList<>();
    try (JobClient client = client(JobClient.randomClientId(), 20)) {
      for (LedgerSpec spec : LEDGER_JOBS) {
        String token = "";
        boolean first = true;
        do {
          ListRunsResponse page = client.listRuns(spec.name(), 1000, token);
          if (first) {
            for (OpenRun run : page.getOpenRunsList()) {
              long instant = millis(run.getInstant());
              rows.add(
                  row(
                      spec.name(),
                      run.getRunId(),
                      "open",
                      instant,
                      instant,
                      1,
                      run.getStatus(),
                      "-",
                      run.getAttempt(),
                      run.getAgentId(),
                      -1));
            }
            first = false;
          }
          for (RunRecord record : page.getRecordsList()) {
            long instant = millis(record.getInstant());
            long last = record.hasLastInstant() ? millis(record.getLastInstant()) : instant;
            rows.add(
                row(
                    spec.name(),
                    record.getRunId(),
                    "record",
                    instant,
                    last,
                    Math.max(1, record.getInstantCount()),
                    record.getOutcome().name().replace("OUTCOME_", ""),
                    record.getSkipReason() == io.paxcron.proto.v1.SkipReason.SKIP_REASON_UNSPECIFIED
                        ? "-"
                        : record.getSkipReason().name().replace("SKIP_REASON_", ""),
                    record.getAttempts(),
                    record.getAgentId().isEmpty() ? "-" : record.getAgentId(),
                    record.hasStartedAt() ? millis(record.getStartedAt()) : -1));
          }
          token = page.getNextPageToken();
        } while (!token.isEmpty());
      }
    }
    return rows;
  }

  private static String row(
      String job,
      String runId,
      String kind,
      long instant,
      long last,
      long count,
      String outcome,
      String skip,
      int attempts,
      String agent,
      long started) {
    return String.join(
        "\t",
        job,
        runId,
        kind,
        String.valueOf(instant),
        String.valueOf(last),
        String.valueOf(count),
        outcome.isEmpty() ? "-" : outcome.replace(' ', '_'),
        skip,
        String.valueOf(attempts),
        agent.isEmpty() ? "-" : agent,
        String.valueOf(started));
  }

  private static long millis(com.google.protobuf.Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).toEpochMilli();
  }

  private static com.google.protobuf.Duration seconds(long s) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(s).build();
  }

  static String format(double value) {
    return String.format(Locale.ROOT, "%.1f", value);
  }
}
