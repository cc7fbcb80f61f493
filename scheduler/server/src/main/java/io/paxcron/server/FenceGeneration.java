package io.paxcron.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The cluster's restore generation, the first component of every fence ballot the leader sends to
 * agents (docs/guarantees.md, "Restores and agents"). A cluster that was never restored has
 * generation 0. {@code paxcron restore} writes generation = (the backup's generation) + 1 into the
 * restored data dir, and a replica that writes backups records its generation beside them, so a
 * cluster restored from a backup outranks every ballot of the cluster the backup came from, and a
 * restore of a restored cluster outranks both.
 *
 * <p>The value is a decimal number in the file {@link #FILE}; a missing file means 0. A file that
 * cannot be read or parsed stops the replica with the path and the reason (an operating error that
 * would otherwise let the cluster be fenced out by, or fence in, the wrong agents).
 */
final class FenceGeneration {

  static final String FILE = "fence-generation";

  private FenceGeneration() {}

  /** The generation recorded in {@code directory}, 0 if none. */
  static long read(Path directory) {
    Path file = directory.resolve(FILE);
    if (!Files.exists(file)) {
      return 0;
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read the fence generation: " + e.getMessage(), e);
    }
    try {
      long generation = Long.parseLong(text);
      if (generation < 0) {
        throw new NumberFormatException("negative");
      }
      return generation;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(file + ":1:1: the fence generation must be a number >= 0, got '"
          + text + "'", e);
    }
  }

  /** Records {@code generation} in {@code directory}, atomically and durably. */
  static void write(Path directory, long generation) throws IOException {
    Path file = directory.resolve(FILE);
    Path staging = directory.resolve(FILE + ".tmp");
    Files.writeString(staging, Long.toString(generation) + "\n", StandardCharsets.UTF_8);
    try (var channel = java.nio.channels.FileChannel.open(staging, java.nio.file.StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(staging, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
