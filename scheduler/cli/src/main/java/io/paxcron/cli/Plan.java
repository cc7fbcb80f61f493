package io.paxcron.cli;

import io.paxcron.api.JobProtos;
import io.paxcron.cli.crontab.CrontabImport;
import io.paxcron.cli.crontab.Diagnostic;
import io.paxcron.cli.crontab.ImportedJob;
import io.paxcron.proto.v1.Job;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What {@code paxcron apply} would do to make the cluster hold the jobs of one crontab file:
 * creates, changes (with every changed field, old and new) and, with {@code --prune}, deletes of
 * jobs of the same source that left the file. Pure: computed from the imported file and one read of
 * the cluster's jobs, whose versions become the apply's expected versions, so that the apply does
 * exactly this plan or nothing.
 *
 * <p>A job's {@code paused} flag is run-time state set with {@code paxcron pause}; the file does
 * not undo it. The file pauses a job only when its expression can never fire.
 *
 * @param changes in file order, then deletes in name order
 * @param leftBehind jobs of this source no longer in the file that a plan without prune keeps
 * @param warnings the file's warnings
 */
public record Plan(List<Change> changes, List<String> leftBehind, List<Diagnostic> warnings) {

  public Plan {
    changes = List.copyOf(changes);
    leftBehind = List.copyOf(leftBehind);
    warnings = List.copyOf(warnings);
  }

  /** One line of the plan. */
  public sealed interface Change {
    String name();

    /** {@code +}: a job the cluster does not have. */
    record Create(ImportedJob job) implements Change {
      @Override
      public String name() {
        return job.spec().name();
      }
    }

    /** {@code ~}: a job whose definition differs; {@code version} is the one read. */
    record Update(ImportedJob job, Job current, List<FieldChange> fields) implements Change {
      public Update {
        fields = List.copyOf(fields);
      }

      @Override
      public String name() {
        return job.spec().name();
      }
    }

    /** {@code -}: a job of this source that left the file. */
    record Delete(Job current) implements Change {
      @Override
      public String name() {
        return current.getName();
      }
    }
  }

  /** A changed field of a job, shown as {@code field: old -> new}. */
  public record FieldChange(String field, String oldValue, String newValue) {
    public FieldChange {
      Objects.requireNonNull(field, "field");
      Objects.requireNonNull(oldValue, "oldValue");
      Objects.requireNonNull(newValue, "newValue");
    }
  }

  /** The fields compared, in the order shown, with how each is printed. */
  private static final Map<String, Function<JobSpec, String>> FIELDS = fields();

  private static Map<String, Function<JobSpec, String>> fields() {
    Map<String, Function<JobSpec, String>> fields = new LinkedHashMap<>();
    fields.put("schedule", JobSpec::schedule);
    fields.put("syntax", spec -> SpecText.enumText(spec.syntax()));
    fields.put("zone", JobSpec::zone);
    fields.put("dst", spec -> SpecText.dst(spec.dstPolicy()));
    fields.put("command", spec -> command(spec.command()));
    fields.put("stdin", spec -> quote(spec.stdin()));
    fields.put("run_as", JobSpec::runAs);
    fields.put("env", spec -> spec.env().toString());
    fields.put("working_directory", JobSpec::workingDirectory);
    fields.put("agent_selector", spec -> spec.agentSelector().toString());
    fields.put("timeout", spec -> SpecText.duration(spec.timeout()));
    fields.put("retries", spec -> SpecText.retries(spec.retries()));
    fields.put("concurrency", spec -> SpecText.enumText(spec.concurrency()));
    fields.put("misfire", spec -> SpecText.misfire(spec.misfire()));
    fields.put("semantics", spec -> SpecText.enumText(spec.semantics()));
    fields.put("paused", spec -> Boolean.toString(spec.paused()));
    fields.put("history_retention", spec -> Integer.toString(spec.historyRetention()));
    fields.put("source", JobSpec::source);
    fields.put("annotations", spec -> spec.annotations().toString());
    return fields;
  }

  static String command(JobCommand command) {
    return switch (command) {
      case JobCommand.Shell shell -> quote(shell.script());
      case JobCommand.Argv argv -> argv.arguments().stream().map(Plan::quote).toList().toString();
    };
  }

  static String quote(String text) {
    return "\""
        + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\t", "\\t")
        + "\"";
  }

  /**
   * The plan for {@code file} against the cluster's {@code current} jobs.
   *
   * @param prune whether jobs of {@code source} missing from the file are deleted
   */
  public static Plan of(CrontabImport file, List<Job> current, String source, boolean prune) {
    if (file.hasErrors()) {
      throw new IllegalArgumentException("a file with errors has no plan");
    }
    Map<String, Job> byName = new TreeMap<>();
    for (Job job : current) {
      byName.put(job.getName(), job);
    }
    List<Change> changes = new ArrayList<>();
    Map<String, Boolean> inFile = new TreeMap<>();
    for (ImportedJob imported : file.jobs()) {
      inFile.put(imported.spec().name(), true);
      Job existing = byName.get(imported.spec().name());
      if (existing == null) {
        changes.add(new Change.Create(imported));
        continue;
      }
      JobSpec desired = desired(imported.spec(), existing);
      ImportedJob adjusted =
          new ImportedJob(desired, imported.line(), imported.derivedName(), imported.notes());
      List<FieldChange> fields = diff(existing, desired);
      if (!fields.isEmpty()) {
        changes.add(new Change.Update(adjusted, existing, fields));
      }
    }
    List<String> leftBehind = new ArrayList<>();
    for (Job job : byName.values()) {
      if (job.getSource().equals(source) && !inFile.containsKey(job.getName())) {
        if (prune) {
          changes.add(new Change.Delete(job));
        } else {
          leftBehind.add(job.getName());
        }
      }
    }
    return new Plan(changes, leftBehind, file.warnings());
  }

  /** The spec to write: the file's, keeping a pause set by hand. */
  static JobSpec desired(JobSpec fromFile, Job existing) {
    return existing.getPaused() && !fromFile.paused()
        ? fromFile.toBuilder().paused(true).build()
        : fromFile;
  }

  private static List<FieldChange> diff(Job existing, JobSpec desired) {
    List<FieldChange> changes = new ArrayList<>();
    switch (JobProtos.toSpec(existing, "job")) {
      case JobProtos.Converted.Valid valid -> {
        for (Map.Entry<String, Function<JobSpec, String>> field : FIELDS.entrySet()) {
          String old = field.getValue().apply(valid.spec());
          String now = field.getValue().apply(desired);
          if (!old.equals(now)) {
            changes.add(new FieldChange(field.getKey(), old, now));
          }
        }
      }
      case JobProtos.Converted.Invalid invalid ->
          changes.add(
              new FieldChange("definition", "unreadable: " + invalid.errors(), "as in the file"));
    }
    return changes;
  }

  public long adds() {
    return changes.stream().filter(c -> c instanceof Change.Create).count();
  }

  public long updates() {
    return changes.stream().filter(c -> c instanceof Change.Update).count();
  }

  public long deletes() {
    return changes.stream().filter(c -> c instanceof Change.Delete).count();
  }

  public boolean isEmpty() {
    return changes.isEmpty();
  }

  /** {@code Plan: 2 to add, 1 to change, 0 to delete, 1 warning.} */
  public String summary() {
    int warningCount = warnings.size();
    return "Plan: "
        + adds()
        + " to add, "
        + updates()
        + " to change, "
        + deletes()
        + " to delete, "
        + warningCount
        + (warningCount == 1 ? " warning." : " warnings.");
  }
}
