package io.paxcron.api;

import com.google.protobuf.Timestamp;
import io.paxcron.proto.v1.FieldViolation;
import io.paxcron.proto.v1.FieldViolations;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.OpenRun;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.schedule.DstPolicy;
import io.paxcron.schedule.ScheduleField;
import io.paxcron.schedule.Syntax;
import io.paxcron.scheduler.AgentId;
import io.paxcron.scheduler.ConcurrencyPolicy;
import io.paxcron.scheduler.FieldError;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.JobSpecValidator;
import io.paxcron.scheduler.JobView;
import io.paxcron.scheduler.LedgerRecord;
import io.paxcron.scheduler.MisfirePolicy;
import io.paxcron.scheduler.Outcome;
import io.paxcron.scheduler.RetryPolicy;
import io.paxcron.scheduler.Run;
import io.paxcron.scheduler.Semantics;
import io.paxcron.scheduler.SkipReason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Conversions between the API's protocol buffers and the scheduler's records, and field paths in
 * proto field names. Pure and stateless.
 *
 * <p>{@link #toSpec} reports every problem of a {@link Job} at once: the conversion's own (an
 * unknown enum value, a command with both or neither of argv and shell, a malformed duration) and
 * every {@link JobSpecValidator} error, each with its path under the request's root, e.g. {@code
 * jobs[2].retries.max_attempts}. Absent fields take {@link JobSpec}'s defaults.
 */
public final class JobProtos {

  private JobProtos() {}

  /** A spec, or every problem with the job. */
  public sealed interface Converted {
    record Valid(JobSpec spec) implements Converted {}

    record Invalid(List<FieldError> errors) implements Converted {
      public Invalid {
        errors = List.copyOf(errors);
      }
    }
  }

  /**
   * Converts and validates {@code job}.
   *
   * @param prefix the job's path in the request, e.g. {@code job} or {@code jobs[2]}
   */
  public static Converted toSpec(Job job, String prefix) {
    List<FieldError> errors = new ArrayList<>();
    JobSpec.Builder builder =
        JobSpec.builder(job.getName(), job.getSchedule(), command(job.getCommand(), errors));
    builder.syntax(
        switch (job.getSyntax()) {
          case SYNTAX_UNSPECIFIED, SYNTAX_VIXIE -> Syntax.VIXIE;
          case SYNTAX_QUARTZ -> Syntax.QUARTZ;
          case UNRECOGNIZED -> unknownEnum("syntax", job.getSyntaxValue(), errors, Syntax.VIXIE);
        });
    builder.zone(job.getZone().isEmpty() ? JobSpec.DEFAULT_ZONE : job.getZone());
    builder.dstPolicy(dstPolicy(job, errors));
    builder.env(job.getEnvMap());
    builder.workingDirectory(job.getWorkingDirectory());
    builder.agentSelector(job.getAgentSelectorMap());
    if (job.hasTimeout()) {
      builder.timeout(duration("timeout", job.getTimeout(), errors));
    }
    builder.retries(retries(job.getRetries(), errors));
    builder.concurrency(
        switch (job.getConcurrency()) {
          case CONCURRENCY_UNSPECIFIED -> JobSpec.DEFAULT_CONCURRENCY;
          case CONCURRENCY_ALLOW -> ConcurrencyPolicy.ALLOW;
          case CONCURRENCY_FORBID -> ConcurrencyPolicy.FORBID;
          case CONCURRENCY_REPLACE -> ConcurrencyPolicy.REPLACE;
          case UNRECOGNIZED ->
              unknownEnum(
                  "concurrency", job.getConcurrencyValue(), errors, JobSpec.DEFAULT_CONCURRENCY);
        });
    builder.misfire(misfire(job.getMisfire(), errors));
    builder.semantics(
        switch (job.getSemantics()) {
          case SEMANTICS_UNSPECIFIED -> JobSpec.DEFAULT_SEMANTICS;
          case SEMANTICS_AT_MOST_ONCE -> Semantics.AT_MOST_ONCE;
          case SEMANTICS_AT_LEAST_ONCE -> Semantics.AT_LEAST_ONCE;
          case UNRECOGNIZED ->
              unknownEnum("semantics", job.getSemanticsValue(), errors, JobSpec.DEFAULT_SEMANTICS);
        });
    builder.paused(job.getPaused());
    builder.historyRetention(
        job.hasHistoryRetention() ? job.getHistoryRetention() : JobSpec.DEFAULT_HISTORY_RETENTION);
    builder.stdin(job.getStdin());
    builder.runAs(job.getRunAs());
    builder.source(job.getSource());
    builder.annotations(job.getAnnotationsMap());
    JobSpec spec = builder.build();
    boolean commandReported = errors.stream().anyMatch(e -> e.path().startsWith("command"));
    for (FieldError error : JobSpecValidator.validate(spec)) {
      if (!(commandReported && error.path().startsWith("command"))) {
        errors.add(error);
      }
    }
    if (errors.isEmpty()) {
      return new Converted.Valid(spec);
    }
    return new Converted.Invalid(
        errors.stream()
            .map(e -> new FieldError(prefix + "." + protoPath(e.path()), e.reason()))
            .toList());
  }

  private static JobCommand command(Job.Command command, List<FieldError> errors) {
    boolean hasArgv = command.getArgvCount() > 0;
    boolean hasShell = !command.getShell().isEmpty();
    if (hasArgv && hasShell) {
      errors.add(new FieldError("command", "set either argv or shell, not both"));
    } else if (!hasArgv && !hasShell) {
      errors.add(
          new FieldError(
              "command",
              "set argv (a program and its arguments) or shell"
                  + " (a command line for /bin/sh -c)"));
    }
    return hasShell && !hasArgv
        ? new JobCommand.Shell(command.getShell())
        : new JobCommand.Argv(command.getArgvList());
  }

  private static DstPolicy dstPolicy(Job job, List<FieldError> errors) {
    Job.DstPolicy dst = job.getDstPolicy();
    DstPolicy.Gap gap =
        switch (dst.getGap()) {
          case GAP_UNSPECIFIED -> DstPolicy.DEFAULT.gap();
          case GAP_RUN_AFTER_GAP -> DstPolicy.Gap.RUN_AFTER_GAP;
          case GAP_SKIP -> DstPolicy.Gap.SKIP;
          case UNRECOGNIZED ->
              unknownEnum("dstPolicy.gap", dst.getGapValue(), errors, DstPolicy.DEFAULT.gap());
        };
    DstPolicy.Overlap overlap =
        switch (dst.getOverlap()) {
          case OVERLAP_UNSPECIFIED -> DstPolicy.DEFAULT.overlap();
          case OVERLAP_RUN_ONCE -> DstPolicy.Overlap.RUN_ONCE;
          case OVERLAP_RUN_TWICE -> DstPolicy.Overlap.RUN_TWICE;
          case UNRECOGNIZED ->
              unknownEnum(
                  "dstPolicy.overlap", dst.getOverlapValue(), errors, DstPolicy.DEFAULT.overlap());
        };
    return new DstPolicy(gap, overlap);
  }

  private static RetryPolicy retries(Job.Retries retries, List<FieldError> errors) {
    RetryPolicy defaults = RetryPolicy.NONE;
    return new RetryPolicy(
        retries.hasMaxAttempts() ? retries.getMaxAttempts() : defaults.maxAttempts(),
        retries.hasBackoffBase()
            ? duration("retries.backoffBase", retries.getBackoffBase(), errors)
            : defaults.backoffBase(),
        retries.hasBackoffMax()
            ? duration("retries.backoffMax", retries.getBackoffMax(), errors)
            : defaults.backoffMax(),
        retries.hasJitterPercent() ? retries.getJitterPercent() : defaults.jitterPercent());
  }

  private static MisfirePolicy misfire(Job.Misfire misfire, List<FieldError> errors) {
    MisfirePolicy.Mode mode =
        switch (misfire.getMode()) {
          case MODE_UNSPECIFIED -> MisfirePolicy.DEFAULT.mode();
          case MODE_SKIP -> MisfirePolicy.Mode.SKIP;
          case MODE_RUN_ONCE -> MisfirePolicy.Mode.RUN_ONCE;
          case MODE_RUN_ALL -> MisfirePolicy.Mode.RUN_ALL;
          case UNRECOGNIZED ->
              unknownEnum(
                  "misfire.mode", misfire.getModeValue(), errors, MisfirePolicy.DEFAULT.mode());
        };
    return new MisfirePolicy(
        mode,
        misfire.hasWindow()
            ? duration("misfire.window", misfire.getWindow(), errors)
            : MisfirePolicy.DEFAULT_WINDOW,
        misfire.hasMaxCount() ? misfire.getMaxCount() : MisfirePolicy.DEFAULT_MAX_COUNT);
  }

  private static <T> T unknownEnum(String path, int value, List<FieldError> errors, T fallback) {
    errors.add(new FieldError(path, "unknown value " + value));
    return fallback;
  }

  private static Duration duration(
      String path, com.google.protobuf.Duration value, List<FieldError> errors) {
    boolean nanosInRange = value.getNanos() > -1_000_000_000 && value.getNanos() < 1_000_000_000;
    boolean signsAgree =
        value.getSeconds() == 0
            || value.getNanos() == 0
            || (value.getSeconds() > 0) == (value.getNanos() > 0);
    if (!nanosInRange || !signsAgree) {
      errors.add(
          new FieldError(
              path,
              "not a valid google.protobuf.Duration (seconds "
                  + value.getSeconds()
                  + ", nanos "
                  + value.getNanos()
                  + ")"));
      return Duration.ZERO;
    }
    return Duration.ofSeconds(value.getSeconds(), value.getNanos());
  }

  /**
   * A validator path in proto field names: {@code retries.maxAttempts} becomes {@code
   * retries.max_attempts}; map keys and indexes in brackets are kept as written.
   */
  public static String protoPath(String path) {
    StringBuilder out = new StringBuilder(path.length() + 8);
    int depth = 0;
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '[') {
        depth++;
      } else if (c == ']') {
        depth--;
      }
      if (depth == 0 && Character.isUpperCase(c)) {
        out.append('_').append(Character.toLowerCase(c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** The job as the API shows it: the full definition and the read-only fields. */
  public static Job toProto(JobView view) {
    Job.Builder job =
        toProto(view.spec()).toBuilder()
            .setVersion(view.version())
            .setResolvedSchedule(view.resolvedSchedule())
            .setCreatedVersion(view.createdSlot())
            .setOpenRuns(view.openRuns())
            .setLedgerRecords(view.ledgerRecords());
    for (Map.Entry<ScheduleField, Integer> chosen : view.chosen().entrySet()) {
      job.putChosen(chosen.getKey().label(), chosen.getValue());
    }
    if (view.nextDue() != null) {
      job.setNextDue(timestamp(view.nextDue()));
    }
    return job.build();
  }

  /** The definition only, every field set explicitly. */
  public static Job toProto(JobSpec spec) {
    Job.Command.Builder command = Job.Command.newBuilder();
    switch (spec.command()) {
      case JobCommand.Argv argv -> command.addAllArgv(argv.arguments());
      case JobCommand.Shell shell -> command.setShell(shell.script());
    }
    return Job.newBuilder()
        .setName(spec.name())
        .setSchedule(spec.schedule())
        .setSyntax(
            spec.syntax() == Syntax.QUARTZ ? Job.Syntax.SYNTAX_QUARTZ : Job.Syntax.SYNTAX_VIXIE)
        .setZone(spec.zone())
        .setDstPolicy(
            Job.DstPolicy.newBuilder()
                .setGap(
                    switch (spec.dstPolicy().gap()) {
                      case RUN_AFTER_GAP -> Job.DstPolicy.Gap.GAP_RUN_AFTER_GAP;
                      case SKIP -> Job.DstPolicy.Gap.GAP_SKIP;
                    })
                .setOverlap(
                    switch (spec.dstPolicy().overlap()) {
                      case RUN_ONCE -> Job.DstPolicy.Overlap.OVERLAP_RUN_ONCE;
                      case RUN_TWICE -> Job.DstPolicy.Overlap.OVERLAP_RUN_TWICE;
                    }))
        .setCommand(command)
        .putAllEnv(spec.env())
        .setWorkingDirectory(spec.workingDirectory())
        .putAllAgentSelector(spec.agentSelector())
        .setTimeout(duration(spec.timeout()))
        .setRetries(
            Job.Retries.newBuilder()
                .setMaxAttempts(spec.retries().maxAttempts())
                .setBackoffBase(duration(spec.retries().backoffBase()))
                .setBackoffMax(duration(spec.retries().backoffMax()))
                .setJitterPercent(spec.retries().jitterPercent()))
        .setConcurrency(
            switch (spec.concurrency()) {
              case ALLOW -> Job.Concurrency.CONCURRENCY_ALLOW;
              case FORBID -> Job.Concurrency.CONCURRENCY_FORBID;
              case REPLACE -> Job.Concurrency.CONCURRENCY_REPLACE;
            })
        .setMisfire(
            Job.Misfire.newBuilder()
                .setMode(
                    switch (spec.misfire().mode()) {
                      case SKIP -> Job.Misfire.Mode.MODE_SKIP;
                      case RUN_ONCE -> Job.Misfire.Mode.MODE_RUN_ONCE;
                      case RUN_ALL -> Job.Misfire.Mode.MODE_RUN_ALL;
                    })
                .setWindow(duration(spec.misfire().window()))
                .setMaxCount(spec.misfire().maxCount()))
        .setSemantics(
            spec.semantics() == Semantics.AT_LEAST_ONCE
                ? Job.Semantics.SEMANTICS_AT_LEAST_ONCE
                : Job.Semantics.SEMANTICS_AT_MOST_ONCE)
        .setPaused(spec.paused())
        .setHistoryRetention(spec.historyRetention())
        .setStdin(spec.stdin())
        .setRunAs(spec.runAs())
        .setSource(spec.source())
        .putAllAnnotations(spec.annotations())
        .build();
  }

  /** An agent id as the protos carry it: the bare id, or empty for none. */
  static String agentText(AgentId agent) {
    return agent == null ? "" : agent.value();
  }

  public static RunRecord toProto(LedgerRecord record) {
    RunRecord.Builder proto =
        RunRecord.newBuilder()
            .setSequence(record.sequence())
            .setJob(record.runId().job().value())
            .setRunId(record.runId().toString())
            .setInstant(timestamp(record.runId().instant()))
            .setManual(record.runId().manual())
            .setLastInstant(timestamp(record.lastInstant()))
            .setInstantCount(record.instantCount())
            .setOutcomeText(record.outcome().toString())
            .setAttempts(record.attempts())
            .setAgentId(agentText(record.agentId()))
            .setBallotRound(record.ballot().round())
            .setBallotReplica(record.ballot().replicaId())
            .setEndedAt(timestamp(record.endedAt()))
            .setSlot(record.slot())
            .setOutputTail(com.google.protobuf.ByteString.copyFrom(record.detail().outputTail()))
            .setAgentTestimony(record.detail().agentTestimony())
            .setReason(record.detail().reason());
    switch (record.outcome()) {
      case Outcome.Succeeded succeeded ->
          proto.setOutcome(io.paxcron.proto.v1.Outcome.OUTCOME_SUCCEEDED);
      case Outcome.Failed failed ->
          proto
              .setOutcome(io.paxcron.proto.v1.Outcome.OUTCOME_FAILED)
              .setExitCode(failed.exitCode());
      case Outcome.TimedOut timedOut ->
          proto.setOutcome(io.paxcron.proto.v1.Outcome.OUTCOME_TIMED_OUT);
      case Outcome.Lost lost -> proto.setOutcome(io.paxcron.proto.v1.Outcome.OUTCOME_LOST);
      case Outcome.Skipped skipped ->
          proto
              .setOutcome(io.paxcron.proto.v1.Outcome.OUTCOME_SKIPPED)
              .setSkipReason(skipReason(skipped.reason()));
    }
    if (record.startedAt() != null) {
      proto.setStartedAt(timestamp(record.startedAt()));
    }
    return proto.build();
  }

  private static io.paxcron.proto.v1.SkipReason skipReason(SkipReason reason) {
    return switch (reason) {
      case OVERLAP -> io.paxcron.proto.v1.SkipReason.SKIP_REASON_OVERLAP;
      case MISFIRE -> io.paxcron.proto.v1.SkipReason.SKIP_REASON_MISFIRE;
      case PAUSED -> io.paxcron.proto.v1.SkipReason.SKIP_REASON_PAUSED;
      case DST_GAP -> io.paxcron.proto.v1.SkipReason.SKIP_REASON_DST_GAP;
      case DEADLINE -> io.paxcron.proto.v1.SkipReason.SKIP_REASON_DEADLINE;
    };
  }

  public static OpenRun toProto(Run run) {
    return OpenRun.newBuilder()
        .setRunId(run.id().toString())
        .setInstant(timestamp(run.id().instant()))
        .setManual(run.id().manual())
        .setStatus(run.status().name())
        .setAttempt(run.attempt())
        .setAgentId(agentText(run.agentId()))
        .setCatchUp(run.catchUp())
        .setCancelRequested(run.cancelRequested())
        .setDueAt(timestamp(run.dueAt()))
        .build();
  }

  public static FieldViolations toProto(List<FieldError> errors) {
    FieldViolations.Builder violations = FieldViolations.newBuilder();
    for (FieldError error : errors) {
      violations.addViolations(
          FieldViolation.newBuilder().setField(error.path()).setDescription(error.reason()));
    }
    return violations.build();
  }

  public static List<FieldError> fromProto(FieldViolations violations) {
    return violations.getViolationsList().stream()
        .map(v -> new FieldError(v.getField(), v.getDescription()))
        .toList();
  }

  public static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  public static Instant instant(Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }

  private static com.google.protobuf.Duration duration(Duration duration) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(duration.getSeconds())
        .setNanos(duration.getNano())
        .build();
  }
}
