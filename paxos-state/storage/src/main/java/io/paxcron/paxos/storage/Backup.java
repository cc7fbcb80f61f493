package io.paxcron.paxos.storage;

import io.paxcron.paxos.Snapshot;
import io.paxcron.paxos.storage.StoreException.Problem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * One backup in a backup directory: its manifest and the snapshot image it describes. A {@code
 * Backup} returned by {@link BackupTarget} had verified when it was returned; {@link #readSnapshot}
 * verifies again, since files can change underneath.
 */
public record Backup(Path manifestFile, Path imageFile, BackupManifest manifest) {

  private static final int READ_BUFFER_BYTES = 64 << 10;

  /**
   * Reads the image and checks it against the manifest.
   *
   * @throws StoreException ({@link Problem#CORRUPT_RECORD}) if its size or checksums differ, or
   *     ({@link Problem#IO_ERROR}) if it cannot be read
   */
  public Snapshot readSnapshot() throws StoreException {
    if (manifest.sizeBytes() > Integer.MAX_VALUE - 8) {
      throw new StoreException(
          Problem.CORRUPT_RECORD,
          imageFile,
          "declares " + manifest.sizeBytes() + " bytes, more than a snapshot can hold");
    }
    byte[] data;
    try {
      data = Files.readAllBytes(imageFile);
    } catch (IOException e) {
      throw new StoreException(
          Problem.IO_ERROR, imageFile, "cannot read the image: " + StoreDirectory.describe(e), e);
    }
    String mismatch = check(data.length, BackupManifest.crc32cOf(data), sha256(data));
    if (mismatch != null) {
      throw new StoreException(Problem.CORRUPT_RECORD, imageFile, mismatch);
    }
    return new Snapshot(manifest.slot(), data, manifest.membership());
  }

  /** Streams the image and returns what is wrong with it, or null if it matches the manifest. */
  String verify() throws IOException {
    CRC32C crc = new CRC32C();
    MessageDigest digest = newSha256();
    long size = 0;
    byte[] buffer = new byte[READ_BUFFER_BYTES];
    try (InputStream in = Files.newInputStream(imageFile)) {
      int read;
      while ((read = in.read(buffer)) > 0) {
        crc.update(buffer, 0, read);
        digest.update(buffer, 0, read);
        size += read;
      }
    }
    return check(size, (int) crc.getValue(), HexFormat.of().formatHex(digest.digest()));
  }

  private String check(long size, int crc32c, String sha256) {
    if (size != manifest.sizeBytes()) {
      return "image holds " + size + " bytes, the manifest declares " + manifest.sizeBytes();
    }
    if (crc32c != manifest.crc32c()) {
      return "image CRC32C "
          + HexFormat.of().toHexDigits(crc32c)
          + " does not match the manifest's "
          + HexFormat.of().toHexDigits(manifest.crc32c());
    }
    if (!sha256.equals(manifest.sha256())) {
      return "image SHA-256 " + sha256 + " does not match the manifest's " + manifest.sha256();
    }
    return null;
  }

  /** The lowercase hex SHA-256 of {@code data}, as manifests record it. */
  public static String sha256(byte[] data) {
    return HexFormat.of().formatHex(newSha256().digest(data));
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform provides SHA-256", e);
    }
  }
}
