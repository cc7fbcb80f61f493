package io.paxcron.cli;

import io.paxcron.api.JobClient;
import io.paxcron.api.JobProtos;
import io.paxcron.proto.v1.Job;
import io.paxcron.schedule.DstPolicy;
import io.paxcron.schedule.InvalidScheduleException;
import io.paxcron.schedule.NextFire;
import io.paxcron.schedule.Schedule;
import io.paxcron.schedule.ScheduleZone;
import io.paxcron.schedule.Syntax;
import io.paxcron.scheduler.JobSpec;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code paxcron job NAME}: the whole definition and the next 5 scheduled instants. */
@Command(
    name = "job",
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    description = {
      "Show one job in full, and its next 5 scheduled instants.",
      "The whole definition, what the cluster chose for each ?, and the next instants computed "
          + "with the cluster's own evaluator.",
      "Exit: 0 success, 1 error or no such job, 3 unreachable, 64 usage."
    })
public final class ShowJobCommand extends CliCommand {
  /** How many upcoming instants are shown. */
  static final int NEXT_INSTANTS = 5;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job.")
  String name;

  public ShowJobCommand(CliContext context) {
    super(context);
  }

  /**
   * The next instants after {@code from}, as text: "2026-12-02T03:00:00Z (03:00 Europe/Berlin)" or
   * a skip.
   */
  static List<String> next(Job job, Instant from, int count) {
    List<String> instants = new ArrayList<>();
    Syntax syntax = job.getSyntax() == Job.Syntax.SYNTAX_QUARTZ ? Syntax.QUARTZ : Syntax.VIXIE;
    Schedule schedule;
    ZoneId zone;
    try {
      schedule =
          Schedule.parse(
              job.getResolvedSchedule().isEmpty() ? job.getSchedule() : job.getResolvedSchedule(),
              syntax);
      zone = ScheduleZone.parse(job.getZone().isEmpty() ? JobSpec.DEFAULT_ZONE : job.getZone());
    } catch (InvalidScheduleException e) {
      return instants;
    }
    DstPolicy policy =
        new DstPolicy(
            job.getDstPolicy().getGap() == Job.DstPolicy.Gap.GAP_SKIP
                ? DstPolicy.Gap.SKIP
                : DstPolicy.Gap.RUN_AFTER_GAP,
            job.getDstPolicy().getOverlap() == Job.DstPolicy.Overlap.OVERLAP_RUN_TWICE
                ? DstPolicy.Overlap.RUN_TWICE
                : DstPolicy.Overlap.RUN_ONCE);
    DateTimeFormatter local = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    Instant cursor = from;
    for (int i = 0; i < count; i++) {
      NextFire next = schedule.next(cursor, zone, policy);
      switch (next) {
        case NextFire.Exhausted exhausted -> {
          return instants;
        }
        case NextFire.Run run ->
            instants.add(
                run.instant()
                    + " ("
                    + local.format(run.instant().atZone(zone))
                    + " "
                    + zone.getId()
                    + ")");
        case NextFire.Skipped skipped ->
            instants.add(
                skipped.instant()
                    + " (skipped: "
                    + skipped.wallTime()
                    + " does not exist in "
                    + zone.getId()
                    + ", "
                    + skipped.reason()
                    + ")");
      }
      cursor = next.instant();
    }
    return instants;
  }

  @Override
  int run() throws Exception {
    try (JobClient client = client()) {
      Job job = client.get(name);
      List<String> upcoming = next(job, context.clock().instant(), NEXT_INSTANTS);
      JobSpec spec =
          switch (JobProtos.toSpec(job, "job")) {
            case JobProtos.Converted.Valid valid -> valid.spec();
            case JobProtos.Converted.Invalid invalid ->
                throw new IllegalStateException(
                    "the cluster returned an unreadable job: " + invalid.errors());
          };
      Syntax syntax = spec.syntax();
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("name", spec.name());
      fields.put("schedule", spec.schedule());
      fields.put("resolvedSchedule", job.getResolvedSchedule());
      fields.put("description", Describe.describe(job.getResolvedSchedule(), syntax));
      fields.put("chosen", new LinkedHashMap<String, Object>(job.getChosenMap()));
      fields.put("syntax", SpecText.enumText(syntax));
      fields.put("zone", spec.zone());
      fields.put("dstPolicy", SpecText.dst(spec.dstPolicy()));
      fields.put("command", Plan.command(spec.command()));
      fields.put("stdin", spec.stdin());
      fields.put("runAs", spec.runAs());
      fields.put("env", new LinkedHashMap<String, Object>(spec.env()));
      fields.put("workingDirectory", spec.workingDirectory());
      fields.put("agentSelector", new LinkedHashMap<String, Object>(spec.agentSelector()));
      fields.put("timeout", SpecText.duration(spec.timeout()));
      fields.put("retries", SpecText.retries(spec.retries()));
      fields.put("concurrency", SpecText.enumText(spec.concurrency()));
      fields.put("misfire", SpecText.misfire(spec.misfire()));
      fields.put("semantics", SpecText.enumText(spec.semantics()));
      fields.put("paused", spec.paused());
      fields.put("historyRetention", spec.historyRetention());
      fields.put("source", spec.source());
      fields.put("annotations", new LinkedHashMap<String, Object>(spec.annotations()));
      fields.put("version", job.getVersion());
      fields.put("createdVersion", job.getCreatedVersion());
      fields.put("nextDue", job.hasNextDue() ? Formats.orNull(job.getNextDue()) : null);
      fields.put("openRuns", job.getOpenRuns());
      fields.put("ledgerRecords", job.getLedgerRecords());
      fields.put("next", new ArrayList<Object>(upcoming));
      if (json()) {
        context.out().println(Json.write(fields));
        return ExitCodes.OK;
      }
      Style style = style();
      for (Map.Entry<String, Object> field : fields.entrySet()) {
        if (field.getKey().equals("next")) {
          continue;
        }
        Object value = field.getValue();
        context
            .out()
            .println(
                style.bold(field.getKey() + ":")
                    + " "
                    + (value instanceof String text && field.getKey().equals("stdin")
                        ? Plan.quote(text)
                        : String.valueOf(value)));
      }
      context
          .out()
          .println(
              style.bold("next " + NEXT_INSTANTS + ":")
                  + (spec.paused()
                      ? " (paused: these instants will be recorded SKIPPED(PAUSED))"
                      : ""));
      if (upcoming.isEmpty()) {
        context.out().println("  none: the schedule never fires again");
      }
      for (String instant : upcoming) {
        context.out().println("  " + instant);
      }
      return ExitCodes.OK;
    }
  }
}
