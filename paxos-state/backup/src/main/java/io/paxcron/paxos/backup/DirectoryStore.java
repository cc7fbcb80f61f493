package io.paxcron.paxos.backup;

import io.paxcron.paxos.backup.BackupStoreException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A directory (a mounted volume or NFS path) as a backup store. An object is written to a temporary
 * file, fsynced, then hard-linked to its name — a link fails if the name exists, which makes the
 * write once-only and atomic — and the directory is fsynced. File systems without hard links fall
 * back to an atomic rename after checking the name is free.
 */
public final class DirectoryStore implements BackupStore {

  static final String TEMP_SUFFIX = ".tmp";

  private final Path dir;

  DirectoryStore(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
  }

  /** A store in {@code dir}, created if absent. */
  public static DirectoryStore open(Path dir) throws BackupStoreException {
    DirectoryStore store = new DirectoryStore(dir);
    try {
      Files.createDirectories(store.dir);
    } catch (IOException e) {
      throw new BackupStoreException(
          Kind.UNAVAILABLE, store.dir + ": cannot create the backup directory: " + describe(e), e);
    }
    if (!Files.isDirectory(store.dir)) {
      throw new BackupStoreException(Kind.REFUSED, store.dir + ": is not a directory");
    }
    return store;
  }

  public Path dir() {
    return dir;
  }

  @Override
  public String describe() {
    return dir.toString();
  }

  @Override
  public void putOnce(String name, byte[] bytes) throws BackupStoreException {
    Path target = dir.resolve(BackupStore.checkName(name));
    Path temp = dir.resolve(name + "." + ProcessHandle.current().pid() + TEMP_SUFFIX);
    try {
      if (!Files.isDirectory(dir)) {
        throw new BackupStoreException(Kind.UNAVAILABLE, dir + ": the backup directory is gone");
      }
      try (FileChannel channel =
          FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      try {
        Files.createLink(target, temp);
      } catch (FileAlreadyExistsException e) {
        throw new BackupStoreException(Kind.EXISTS, target + ": already exists");
      } catch (UnsupportedOperationException | IOException linkUnsupported) {
        if (Files.exists(target)) {
          throw new BackupStoreException(Kind.EXISTS, target + ": already exists");
        }
        Files.move(temp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
      syncDirectory();
    } catch (IOException e) {
      throw new BackupStoreException(
          Kind.UNAVAILABLE, target + ": cannot write: " + describe(e), e);
    } finally {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException e) {
        // A leftover temporary file is reported by the next listing; it never looks like a backup.
      }
    }
  }

  @Override
  public byte[] get(String name, long maxBytes) throws BackupStoreException {
    Path file = dir.resolve(BackupStore.checkName(name));
    try {
      long size = Files.size(file);
      if (size > maxBytes) {
        throw new BackupStoreException(
            Kind.TOO_LARGE,
            file + ": holds " + size + " bytes, more than the " + maxBytes + " accepted");
      }
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new BackupStoreException(Kind.NOT_FOUND, file + ": does not exist", e);
    } catch (IOException e) {
      throw new BackupStoreException(Kind.UNAVAILABLE, file + ": cannot read: " + describe(e), e);
    }
  }

  @Override
  public List<StoredObject> list() throws BackupStoreException {
    List<StoredObject> objects = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.sorted().toList()) {
        if (Files.isRegularFile(file)) {
          objects.add(
              new StoredObject(
                  file.getFileName().toString(),
                  Files.size(file),
                  Files.getLastModifiedTime(file).toInstant()));
        }
      }
    } catch (NoSuchFileException e) {
      throw new BackupStoreException(
          Kind.UNAVAILABLE, dir + ": the backup directory does not exist", e);
    } catch (IOException e) {
      throw new BackupStoreException(Kind.UNAVAILABLE, dir + ": cannot list: " + describe(e), e);
    }
    return objects;
  }

  @Override
  public void delete(String name) throws BackupStoreException {
    Path file = dir.resolve(BackupStore.checkName(name));
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new BackupStoreException(Kind.UNAVAILABLE, file + ": cannot delete: " + describe(e), e);
    }
  }

  @Override
  public void close() {}

  private void syncDirectory() throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private static String describe(IOException e) {
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
  }
}
