package io.paxcron.paxos.backup;

import java.util.List;

/**
 * Where backup objects live: a directory or an S3-compatible bucket prefix. Objects are flat names
 * ({@code [A-Za-z0-9._-]+}) written once and never modified; the backup format on top ({@link
 * BackupRepository}) relies on a manifest being written only after its image.
 *
 * <p>Threading: an implementation may be used from one thread at a time. Every method blocks on I/O
 * and must run off any event loop.
 */
public sealed interface BackupStore extends AutoCloseable permits DirectoryStore, S3Store {

  /** The target's URL as an operator wrote it, without credentials; safe to log. */
  String describe();

  /**
   * Writes {@code bytes} as {@code name} unless an object of that name exists.
   *
   * @throws BackupStoreException {@link BackupStoreException.Kind#EXISTS} if it exists, or why the
   *     write failed
   */
  void putOnce(String name, byte[] bytes) throws BackupStoreException;

  /**
   * Reads a whole object.
   *
   * @throws BackupStoreException {@link BackupStoreException.Kind#TOO_LARGE} if it holds more than
   *     {@code maxBytes}, {@link BackupStoreException.Kind#NOT_FOUND}, or why the read failed
   */
  byte[] get(String name, long maxBytes) throws BackupStoreException;

  /** Every object of the target, sorted by name. */
  List<StoredObject> list() throws BackupStoreException;

  /** Deletes {@code name}; deleting an absent object succeeds. */
  void delete(String name) throws BackupStoreException;

  @Override
  void close();

  /**
   * Opens the store a target URL names: a directory (created if absent) or an S3 client.
   *
   * @throws BackupStoreException if a directory cannot be created or a credentials file not read
   */
  static BackupStore open(TargetUrl url, java.time.Duration timeout) throws BackupStoreException {
    return switch (url) {
      case TargetUrl.Directory directory -> DirectoryStore.open(directory.dir());
      case TargetUrl.S3 s3 -> S3Store.open(s3, timeout);
    };
  }

  /** Checks a name is flat and plain, so no object escapes the target's directory or prefix. */
  static String checkName(String name) {
    if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,200}")) {
      throw new IllegalArgumentException(
          "object name '"
              + name
              + "' must be 1-201 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    return name;
  }
}
