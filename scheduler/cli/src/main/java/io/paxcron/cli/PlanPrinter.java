package io.paxcron.cli;

import io.paxcron.cli.crontab.ImportedJob;
import io.paxcron.proto.v1.Job;
import io.paxcron.scheduler.JobSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shows a {@link Plan} Terraform-style ({@code +}, {@code ~}, {@code -}, a summary line) or as
 * JSON.
 */
final class PlanPrinter {
  private PlanPrinter() {}

  static String human(Plan plan, String source, Style style) {
    StringBuilder out = new StringBuilder();
    if (plan.isEmpty()) {
      out.append("No changes: the cluster already holds every job of this file (source ")
          .append(source)
          .append(").\n");
    } else {
      out.append("Changes to make the cluster hold this file (source ")
          .append(source)
          .append("):\n\n");
    }
    for (Plan.Change change : plan.changes()) {
      switch (change) {
        case Plan.Change.Create create -> {
          JobSpec spec = create.job().spec();
          out.append("  ")
              .append(style.green("+ " + spec.name()))
              .append("  ")
              .append(spec.schedule())
              .append("  ")
              .append(spec.zone())
              .append("  (line ")
              .append(create.job().line())
              .append(")\n");
          out.append("      command: ").append(Plan.command(spec.command())).append('\n');
          details(out, create.job());
          if (spec.schedule().contains("?")) {
            out.append("      ? resolved: chosen by the cluster when applied\n");
          }
        }
        case Plan.Change.Update update -> {
          JobSpec spec = update.job().spec();
          out.append("  ")
              .append(style.yellow("~ " + spec.name()))
              .append("  (line ")
              .append(update.job().line())
              .append(")\n");
          for (Plan.FieldChange field : update.fields()) {
            out.append("      ")
                .append(field.field())
                .append(": ")
                .append(field.oldValue())
                .append(" -> ")
                .append(field.newValue())
                .append('\n');
            if (field.field().equals("source")) {
              out.append("      ")
                  .append(
                      style.yellow(
                          "takes this job over from "
                              + (field.oldValue().isEmpty() ? "the API" : field.oldValue())))
                  .append(" (its owner's --prune will no longer delete it)\n");
            }
          }
          details(out, update.job());
          if (spec.schedule().contains("?")) {
            boolean timing =
                update.fields().stream()
                    .anyMatch(
                        f ->
                            f.field().equals("schedule")
                                || f.field().equals("zone")
                                || f.field().equals("syntax"));
            out.append("      ? resolved: ")
                .append(
                    timing
                        ? "chosen again by the cluster when applied"
                        : update.current().getResolvedSchedule() + " (kept)")
                .append('\n');
          }
        }
        case Plan.Change.Delete delete ->
            out.append("  ")
                .append(style.red("- " + delete.name()))
                .append("  ")
                .append(delete.current().getSchedule())
                .append("  (owned by ")
                .append(delete.current().getSource())
                .append(", no longer in the file)\n");
      }
    }
    if (!plan.leftBehind().isEmpty()) {
      out.append("\n  ")
          .append(plan.leftBehind().size())
          .append(" job(s) of this source are no longer in the")
          .append(" file and are kept: ")
          .append(String.join(", ", plan.leftBehind()))
          .append(" (--prune deletes them)\n");
    }
    return out.toString();
  }

  private static void details(StringBuilder out, ImportedJob job) {
    JobSpec spec = job.spec();
    if (!spec.runAs().isEmpty()) {
      out.append("      run as: ").append(spec.runAs()).append('\n');
    }
    for (String note : job.notes()) {
      out.append("      ").append(note).append('\n');
    }
    if (spec.paused()) {
      out.append("      paused\n");
    }
  }

  static Map<String, Object> json(Plan plan, String source) {
    List<Object> changes = new ArrayList<>();
    for (Plan.Change change : plan.changes()) {
      Map<String, Object> item = new LinkedHashMap<>();
      switch (change) {
        case Plan.Change.Create create -> {
          item.put("action", "create");
          item.put("name", create.name());
          item.put("line", create.job().line());
          item.put("schedule", create.job().spec().schedule());
          item.put("resolvedSchedule", null);
          item.put("fields", List.of());
        }
        case Plan.Change.Update update -> {
          item.put("action", "change");
          item.put("name", update.name());
          item.put("line", update.job().line());
          item.put("schedule", update.job().spec().schedule());
          item.put("resolvedSchedule", update.current().getResolvedSchedule());
          List<Object> fields = new ArrayList<>();
          for (Plan.FieldChange field : update.fields()) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("field", field.field());
            f.put("old", field.oldValue());
            f.put("new", field.newValue());
            fields.add(f);
          }
          item.put("fields", fields);
        }
        case Plan.Change.Delete delete -> {
          Job current = delete.current();
          item.put("action", "delete");
          item.put("name", delete.name());
          item.put("line", null);
          item.put("schedule", current.getSchedule());
          item.put("resolvedSchedule", current.getResolvedSchedule());
          item.put("fields", List.of());
        }
      }
      changes.add(item);
    }
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("add", (int) plan.adds());
    summary.put("change", (int) plan.updates());
    summary.put("delete", (int) plan.deletes());
    summary.put("warnings", plan.warnings().size());
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("source", source);
    answer.put("changes", changes);
    answer.put("keptNotInFile", new ArrayList<Object>(plan.leftBehind()));
    answer.put("warnings", CrontabOptions.json(plan.warnings()));
    answer.put("summary", summary);
    return answer;
  }
}
