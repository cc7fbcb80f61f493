package io.paxcron.paxos.storage;

import java.nio.file.Path;

/** A file in a backup directory that is not a usable backup, and why. */
public record BackupProblem(Path file, String reason) {

  @Override
  public String toString() {
    return file + ": " + reason;
  }
}
