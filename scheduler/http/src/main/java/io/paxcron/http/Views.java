package io.paxcron.http;

import com.google.protobuf.Timestamp;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.OpenRun;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.proto.v1.SkipReason;
import io.paxcron.schedule.DstPolicy;
import io.paxcron.schedule.NextFire;
import io.paxcron.schedule.Schedule;
import io.paxcron.schedule.Syntax;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns API messages into the JSON shapes the dashboard reads. Pure functions of their arguments
 * (the current instant is passed in), so the pages show exactly what the gRPC API answered.
 */
final class Views {
  private Views() {}

  /** How many upcoming instants a job row lists. */
  static final int NEXT_INSTANTS = 3;

  static String outcomeName(Outcome outcome) {
    return switch (outcome) {
      case OUTCOME_SUCCEEDED -> "SUCCEEDED";
      case OUTCOME_FAILED -> "FAILED";
      case OUTCOME_TIMED_OUT -> "TIMED_OUT";
      case OUTCOME_SKIPPED -> "SKIPPED";
      case OUTCOME_LOST -> "LOST";
      case OUTCOME_UNSPECIFIED, UNRECOGNIZED -> "UNKNOWN";
    };
  }

  static String reasonName(SkipReason reason) {
    return switch (reason) {
      case SKIP_REASON_OVERLAP -> "OVERLAP";
      case SKIP_REASON_MISFIRE -> "MISFIRE";
      case SKIP_REASON_PAUSED -> "PAUSED";
      case SKIP_REASON_DST_GAP -> "DST_GAP";
      case SKIP_REASON_DEADLINE -> "DEADLINE";
      case SKIP_REASON_UNSPECIFIED, UNRECOGNIZED -> "";
    };
  }

  static String iso(Timestamp timestamp) {
    if (timestamp.getSeconds() == 0 && timestamp.getNanos() == 0) {
      return null;
    }
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos()).toString();
  }

  static long millis(Timestamp timestamp) {
    return timestamp.getSeconds() * 1000 + timestamp.getNanos() / 1_000_000;
  }

  static Map<String, Object> record(RunRecord record) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("sequence", record.getSequence());
    out.put("job", record.getJob());
    out.put("runId", record.getRunId());
    out.put("instant", iso(record.getInstant()));
    out.put("lastInstant", record.hasLastInstant() ? iso(record.getLastInstant()) : null);
    out.put("count", Math.max(1, record.getInstantCount()));
    out.put("manual", record.getManual());
    out.put("outcome", outcomeName(record.getOutcome()));
    out.put("reason", reasonName(record.getSkipReason()));
    out.put("outcomeText", record.getOutcomeText());
    out.put("exitCode", record.getExitCode());
    out.put("attempts", record.getAttempts());
    out.put("agent", record.getAgentId());
    out.put("startedAt", record.hasStartedAt() ? iso(record.getStartedAt()) : null);
    out.put("endedAt", record.hasEndedAt() ? iso(record.getEndedAt()) : null);
    out.put(
        "durationMillis",
        record.hasStartedAt() && record.hasEndedAt()
            ? millis(record.getEndedAt()) - millis(record.getStartedAt())
            : null);
    out.put(
        "latenessMillis",
        record.hasStartedAt() && !record.getManual()
            ? millis(record.getStartedAt()) - millis(record.getInstant())
            : null);
    out.put("slot", record.getSlot());
    out.put("ballot", record.getBallotRound() + "." + record.getBallotReplica());
    out.put("outputTail", record.getOutputTail().toString(StandardCharsets.UTF_8));
    out.put("agentTestimony", record.getAgentTestimony());
    out.put("failureReason", record.getReason());
    return out;
  }

  static Map<String, Object> openRun(OpenRun run) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("runId", run.getRunId());
    out.put("instant", iso(run.getInstant()));
    out.put("manual", run.getManual());
    out.put("status", run.getStatus());
    out.put("attempt", run.getAttempt());
    out.put("agent", run.getAgentId());
    out.put("catchUp", run.getCatchUp());
    out.put("cancelRequested", run.getCancelRequested());
    out.put("dueAt", run.hasDueAt() ? iso(run.getDueAt()) : null);
    return out;
  }

  static Syntax syntax(Job job) {
    return job.getSyntax() == Job.Syntax.SYNTAX_QUARTZ ? Syntax.QUARTZ : Syntax.VIXIE;
  }

  static ZoneId zone(Job job) {
    if (job.getZone().isEmpty()) {
      return ZoneOffset.UTC;
    }
    try {
      return ZoneId.of(job.getZone());
    } catch (DateTimeException e) {
      return ZoneOffset.UTC;
    }
  }

  static DstPolicy dstPolicy(Job job) {
    Job.DstPolicy dst = job.getDstPolicy();
    return new DstPolicy(
        dst.getGap() == Job.DstPolicy.Gap.GAP_SKIP
            ? DstPolicy.Gap.SKIP
            : DstPolicy.Gap.RUN_AFTER_GAP,
        dst.getOverlap() == Job.DstPolicy.Overlap.OVERLAP_RUN_TWICE
            ? DstPolicy.Overlap.RUN_TWICE
            : DstPolicy.Overlap.RUN_ONCE);
  }

  static String resolved(Job job) {
    return job.getResolvedSchedule().isEmpty() ? job.getSchedule() : job.getResolvedSchedule();
  }

  /**
   * The next {@code count} instants after {@code now}: the cluster's own {@code next_due} first,
   * when it has one, then the resolved schedule evaluated from there.
   */
  static List<String> nextInstants(Job job, Instant now, int count) {
    List<String> out = new ArrayList<>();
    Instant after = now;
    if (job.hasNextDue()) {
      after = Instant.ofEpochSecond(job.getNextDue().getSeconds(), job.getNextDue().getNanos());
      out.add(after.toString());
    }
    Schedule schedule;
    try {
      schedule = Schedule.parse(resolved(job), syntax(job));
    } catch (IllegalArgumentException e) {
      return out;
    }
    ZoneId zone = zone(job);
    DstPolicy policy = dstPolicy(job);
    while (out.size() < count) {
      NextFire next = schedule.next(after, zone, policy);
      switch (next) {
        case NextFire.Run run -> {
          out.add(run.instant().toString());
          after = run.instant();
        }
        case NextFire.Skipped skipped -> after = skipped.instant();
        case NextFire.Exhausted exhausted -> {
          return out;
        }
      }
    }
    return out;
  }

  /** One row of the Jobs page. */
  static Map<String, Object> jobRow(Job job, RunRecord latest, Instant now, Describer describer) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", job.getName());
    out.put("schedule", job.getSchedule());
    out.put("resolved", resolved(job));
    out.put("chosen", new TreeMap<>(job.getChosenMap()));
    out.put("description", describer.describe(resolved(job), syntax(job)));
    out.put("zone", job.getZone().isEmpty() ? "UTC" : job.getZone());
    out.put("next", nextInstants(job, now, NEXT_INSTANTS));
    out.put("paused", job.getPaused());
    out.put("openRuns", job.getOpenRuns());
    out.put("lastOutcome", latest == null ? null : outcomeName(latest.getOutcome()));
    out.put("lastReason", latest == null ? null : reasonName(latest.getSkipReason()));
    out.put("lastOutcomeText", latest == null ? null : latest.getOutcomeText());
    out.put(
        "lastAt",
        latest == null
            ? null
            : iso(latest.hasLastInstant() ? latest.getLastInstant() : latest.getInstant()));
    out.put("version", job.getVersion());
    return out;
  }

  /** The whole spec of a job, for its detail page. */
  static Map<String, Object> jobSpec(Job job, RunRecord latest, Instant now, Describer describer) {
    Map<String, Object> out = jobRow(job, latest, now, describer);
    out.put("syntax", syntax(job).name());
    Job.Command command = job.getCommand();
    out.put(
        "command",
        command.getArgvCount() > 0 ? String.join(" ", command.getArgvList()) : command.getShell());
    out.put("commandKind", command.getArgvCount() > 0 ? "argv" : "shell");
    out.put("env", new TreeMap<>(job.getEnvMap()));
    out.put("workingDirectory", job.getWorkingDirectory());
    out.put("agentSelector", new TreeMap<>(job.getAgentSelectorMap()));
    out.put("timeoutSeconds", job.hasTimeout() ? job.getTimeout().getSeconds() : 3600);
    out.put(
        "maxAttempts", job.getRetries().hasMaxAttempts() ? job.getRetries().getMaxAttempts() : 1);
    out.put(
        "concurrency",
        job.getConcurrency() == Job.Concurrency.CONCURRENCY_UNSPECIFIED
            ? "FORBID"
            : job.getConcurrency().name().replace("CONCURRENCY_", ""));
    out.put(
        "misfire",
        job.getMisfire().getMode() == Job.Misfire.Mode.MODE_UNSPECIFIED
            ? "RUN_ONCE"
            : job.getMisfire().getMode().name().replace("MODE_", ""));
    out.put(
        "semantics",
        job.getSemantics() == Job.Semantics.SEMANTICS_UNSPECIFIED
            ? "AT_MOST_ONCE"
            : job.getSemantics().name().replace("SEMANTICS_", ""));
    out.put("historyRetention", job.hasHistoryRetention() ? job.getHistoryRetention() : 100);
    out.put("stdin", job.getStdin());
    out.put("runAs", job.getRunAs());
    out.put("source", job.getSource());
    out.put("annotations", new TreeMap<>(job.getAnnotationsMap()));
    out.put("createdVersion", job.getCreatedVersion());
    out.put("ledgerRecords", job.getLedgerRecords());
    return out;
  }
}
