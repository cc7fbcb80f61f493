package io.paxcron.paxos.storage;

import io.paxcron.paxos.storage.StoreException.Problem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Checks on data and backup directories, and the atomic file write that backups rely on. */
final class StoreDirectory {

  static final String WRITE_PROBE = ".paxcron-write-probe";

  /** Names shown when a directory holds unexpected files. */
  private static final int LISTED_NAMES = 5;

  private StoreDirectory() {}

  /**
   * Makes sure {@code dir} is a readable, writable directory (creating it if absent) and tells
   * whether it is fresh (empty: create a store) or holds a RocksDB store (open it). Anything else
   * is refused, so a mistyped --data-dir never turns into a new empty replica.
   */
  static boolean prepareForStore(Path dir) throws StoreException {
    List<String> names = prepareDirectory(dir);
    if (names.contains("CURRENT")) {
      return false;
    }
    if (!names.isEmpty()) {
      throw new StoreException(
          Problem.UNEXPECTED_CONTENT,
          dir,
          "the directory holds files but no RocksDB store (no CURRENT file): "
              + describe(names)
              + "; point the data dir at an empty directory or at a Paxcron store");
    }
    return true;
  }

  /** Checks that {@code dir} is an empty (or absent) directory that can be written. */
  static void prepareEmpty(Path dir) throws StoreException {
    List<String> names = prepareDirectory(dir);
    if (!names.isEmpty()) {
      throw new StoreException(
          Problem.UNEXPECTED_CONTENT,
          dir,
          "the directory is not empty ("
              + describe(names)
              + "); a restore only seeds a new, empty data dir, so move the old one aside first");
    }
  }

  /** Creates {@code dir} if needed, checks it can be listed and written, returns its names. */
  static List<String> prepareDirectory(Path dir) throws StoreException {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new StoreException(Problem.UNEXPECTED_CONTENT, dir, "exists but is not a directory");
    }
    if (!Files.exists(dir)) {
      try {
        Files.createDirectories(dir);
      } catch (IOException e) {
        throw new StoreException(
            Problem.UNWRITABLE_DIRECTORY, dir, "cannot create the directory: " + describe(e), e);
      }
    }
    List<String> names = new ArrayList<>();
    try (Stream<Path> entries = Files.list(dir)) {
      entries.map(p -> p.getFileName().toString()).sorted().forEach(names::add);
    } catch (IOException e) {
      throw new StoreException(
          Problem.UNREADABLE_DIRECTORY, dir, "cannot list the directory: " + describe(e), e);
    }
    names.remove(WRITE_PROBE);
    // Permission bits do not bind root and say nothing about a read-only mount: try it.
    Path probe = dir.resolve(WRITE_PROBE);
    try {
      Files.write(probe, new byte[] {1});
      Files.delete(probe);
    } catch (IOException e) {
      throw new StoreException(
          Problem.UNWRITABLE_DIRECTORY, dir, "cannot write files in it: " + describe(e), e);
    }
    return names;
  }

  /**
   * Replaces {@code target} with {@code bytes} so that a crash leaves either the old file or the
   * complete new one: write a temporary file, fsync it, rename it over the target, fsync the
   * directory so the rename itself is durable.
   */
  static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
    try (FileChannel channel =
        FileChannel.open(
            temporary,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    }
    Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
    syncDirectory(target.getParent());
  }

  /** Makes renames and deletions in {@code dir} durable (Linux: fsync on the directory). */
  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  static String describe(IOException e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : " (" + message + ")");
  }

  private static String describe(List<String> names) {
    List<String> shown = names.subList(0, Math.min(LISTED_NAMES, names.size()));
    return names.size() + " entries, e.g. " + shown;
  }
}
