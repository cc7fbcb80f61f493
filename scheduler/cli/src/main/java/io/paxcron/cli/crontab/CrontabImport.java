package io.paxcron.cli.crontab;

import java.util.List;
import java.util.Objects;

/**
 * What a crontab file says: its jobs in line order, and every problem found. A file with any error
 * must change nothing (DESIGN §1 promise 6); its jobs are still listed so that lint can show
 * everything at once.
 *
 * @param file the file name as the user gave it
 * @param jobs the jobs of the lines that imported, in line order
 * @param errors problems that stop the file from being applied, in line order
 * @param warnings problems shown but not stopping the file, in line order
 */
public record CrontabImport(
    String file, List<ImportedJob> jobs, List<Diagnostic> errors, List<Diagnostic> warnings) {
  public CrontabImport {
    Objects.requireNonNull(file, "file");
    jobs = List.copyOf(jobs);
    errors = List.copyOf(errors);
    warnings = List.copyOf(warnings);
  }

  public boolean hasErrors() {
    return !errors.isEmpty();
  }
}
