package io.paxcron.paxos.storage;

import io.paxcron.paxos.Configuration;
import io.paxcron.paxos.Membership;
import io.paxcron.paxos.ReplicaId;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * What a backup holds and how to check it: the manifest file next to each snapshot image. It is a
 * small UTF-8 text file of {@code key=value} lines, readable by an operator, whose last line is a
 * CRC32C of the lines above it, so a damaged manifest is detected like a damaged image.
 *
 * @param formatVersion the backup format version ({@link #FORMAT_VERSION})
 * @param clusterId the cluster the snapshot belongs to
 * @param replicaId the replica that took the snapshot (any replica's snapshot restores a cluster)
 * @param slot the last slot the snapshot covers
 * @param takenAt when the snapshot was taken, as stamped by the caller
 * @param imageFile the image's file name, in the same directory
 * @param sizeBytes the image's length
 * @param crc32c the image's CRC32C
 * @param sha256 the image's SHA-256, lowercase hex (check with {@code sha256sum})
 * @param leaderRound the ballot round under which {@code replicaId} led when it took the backup (0
 *     for a format-1 manifest, or a snapshot shipped by a non-leader)
 * @param restoreGeneration how many restores the cluster's history has been through: a cluster
 *     restored from this backup runs as generation {@code restoreGeneration + 1}, so its fencing
 *     ballots outrank those of the cluster it replaces (0 for a format-1 manifest)
 * @param membership the cluster's configuration as of {@code slot} (the one governing the slot
 *     after it, and any change already chosen that takes effect later), or null when unknown: a
 *     manifest before format 3, or a snapshot without one — such a cluster still has its start-up
 *     configuration
 */
public record BackupManifest(
    int formatVersion,
    String clusterId,
    int replicaId,
    long slot,
    Instant takenAt,
    String imageFile,
    long sizeBytes,
    int crc32c,
    String sha256,
    long leaderRound,
    long restoreGeneration,
    Membership membership) {

  /**
   * Version 2 adds {@code leader-round} and {@code restore-generation}, version 3 the optional
   * {@code membership}; versions 1 and 2 still read.
   */
  public static final int FORMAT_VERSION = 3;

  /** The oldest manifest format this code reads. */
  public static final int OLDEST_READABLE_VERSION = 1;

  /**
   * Manifests are a few hundred bytes; anything far larger is not one. The bound leaves room for a
   * membership of the most members a configuration holds, with 255-character addresses, in two
   * epochs.
   */
  public static final int MAX_MANIFEST_BYTES = 64 << 10;

  private static final String HEADER = "# Paxcron snapshot backup manifest";
  private static final String CHECKSUM_KEY = "manifest-crc32c";
  private static final List<String> KEYS =
      List.of(
          "format-version",
          "cluster-id",
          "replica-id",
          "slot",
          "taken-at",
          "image",
          "size-bytes",
          "crc32c",
          "sha256");
  private static final List<String> KEYS_SINCE_2 = List.of("leader-round", "restore-generation");
  private static final String MEMBERSHIP_KEY = "membership";

  /** A manifest without a membership (formats 1 and 2, or a snapshot that carries none). */
  public BackupManifest(
      int formatVersion,
      String clusterId,
      int replicaId,
      long slot,
      Instant takenAt,
      String imageFile,
      long sizeBytes,
      int crc32c,
      String sha256,
      long leaderRound,
      long restoreGeneration) {
    this(
        formatVersion,
        clusterId,
        replicaId,
        slot,
        takenAt,
        imageFile,
        sizeBytes,
        crc32c,
        sha256,
        leaderRound,
        restoreGeneration,
        null);
  }

  public BackupManifest {
    if (membership != null && formatVersion < 3) {
      throw new IllegalArgumentException(
          "a format-" + formatVersion + " manifest cannot carry a membership (format 3 can)");
    }
  }

  /** A manifest that cannot be parsed or does not check out. */
  public static final class InvalidManifestException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidManifestException(String message) {
      super(message);
    }
  }

  /** The manifest file's bytes, ending with the checksum line. */
  public byte[] toBytes() {
    StringBuilder text = new StringBuilder();
    text.append(HEADER).append('\n');
    text.append("format-version=").append(formatVersion).append('\n');
    text.append("cluster-id=").append(clusterId).append('\n');
    text.append("replica-id=").append(replicaId).append('\n');
    text.append("slot=").append(slot).append('\n');
    text.append("taken-at=").append(takenAt).append('\n');
    text.append("image=").append(imageFile).append('\n');
    text.append("size-bytes=").append(sizeBytes).append('\n');
    text.append("crc32c=").append(HexFormat.of().toHexDigits(crc32c)).append('\n');
    text.append("sha256=").append(sha256).append('\n');
    if (formatVersion >= 2) {
      text.append("leader-round=").append(leaderRound).append('\n');
      text.append("restore-generation=").append(restoreGeneration).append('\n');
    }
    if (membership != null) {
      text.append(MEMBERSHIP_KEY).append('=').append(membershipText(membership)).append('\n');
    }
    byte[] body = text.toString().getBytes(StandardCharsets.UTF_8);
    String checksum = CHECKSUM_KEY + "=" + HexFormat.of().toHexDigits(crc32cOf(body)) + "\n";
    byte[] tail = checksum.getBytes(StandardCharsets.UTF_8);
    byte[] all = new byte[body.length + tail.length];
    System.arraycopy(body, 0, all, 0, body.length);
    System.arraycopy(tail, 0, all, body.length, tail.length);
    return all;
  }

  /**
   * Parses and checks a manifest file's bytes.
   *
   * @throws InvalidManifestException naming what is wrong: torn, checksum, unknown or missing key,
   *     malformed field, unsupported version
   */
  public static BackupManifest parse(byte[] bytes) throws InvalidManifestException {
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new InvalidManifestException(
          "manifest of " + bytes.length + " bytes exceeds " + MAX_MANIFEST_BYTES);
    }
    String text = new String(bytes, StandardCharsets.UTF_8);
    int checksumAt = text.lastIndexOf(CHECKSUM_KEY + "=");
    if (checksumAt < 0
        || !text.endsWith("\n")
        || (checksumAt > 0 && text.charAt(checksumAt - 1) != '\n')) {
      throw new InvalidManifestException("manifest has no final " + CHECKSUM_KEY + " line (torn?)");
    }
    byte[] body = text.substring(0, checksumAt).getBytes(StandardCharsets.UTF_8);
    String declared = text.substring(checksumAt + CHECKSUM_KEY.length() + 1, text.length() - 1);
    if (!declared.equals(HexFormat.of().toHexDigits(crc32cOf(body)))) {
      throw new InvalidManifestException("manifest checksum mismatch");
    }
    String[] lines = text.substring(0, checksumAt).split("\n");
    if (lines.length == 0 || !lines[0].equals(HEADER)) {
      throw new InvalidManifestException("manifest does not start with '" + HEADER + "'");
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int equals = lines[i].indexOf('=');
      if (equals < 1) {
        throw new InvalidManifestException("line " + (i + 1) + " is not key=value");
      }
      String key = lines[i].substring(0, equals);
      boolean known =
          KEYS.contains(key) || KEYS_SINCE_2.contains(key) || key.equals(MEMBERSHIP_KEY);
      if (!known || fields.put(key, lines[i].substring(equals + 1)) != null) {
        throw new InvalidManifestException(
            "line " + (i + 1) + ": unknown or repeated key '" + key + "'");
      }
    }
    for (String key : KEYS) {
      if (!fields.containsKey(key)) {
        throw new InvalidManifestException("manifest lacks '" + key + "'");
      }
    }
    try {
      int version = Integer.parseInt(fields.get("format-version"));
      if (version < OLDEST_READABLE_VERSION || version > FORMAT_VERSION) {
        throw new InvalidManifestException(
            "backup format version "
                + version
                + " is not one of the supported "
                + OLDEST_READABLE_VERSION
                + ".."
                + FORMAT_VERSION);
      }
      for (String key : KEYS_SINCE_2) {
        if (version >= 2 && !fields.containsKey(key)) {
          throw new InvalidManifestException("manifest lacks '" + key + "'");
        }
        if (version < 2 && fields.containsKey(key)) {
          throw new InvalidManifestException(
              "format-1 manifest has the format-2 key '" + key + "'");
        }
      }
      if (version < 3 && fields.containsKey(MEMBERSHIP_KEY)) {
        throw new InvalidManifestException(
            "format-" + version + " manifest has the format-3 key '" + MEMBERSHIP_KEY + "'");
      }
      Membership membership =
          fields.containsKey(MEMBERSHIP_KEY) ? parseMembership(fields.get(MEMBERSHIP_KEY)) : null;
      String clusterId = fields.get("cluster-id");
      StoreOptions.checkClusterId(clusterId);
      String sha256 = fields.get("sha256");
      if (!sha256.matches("[0-9a-f]{64}")) {
        throw new InvalidManifestException("sha256 is not 64 lowercase hex digits");
      }
      String image = fields.get("image");
      if (!image.matches("[A-Za-z0-9._-]+")) {
        throw new InvalidManifestException("image name '" + image + "' is not a plain file name");
      }
      String crc = fields.get("crc32c");
      if (!crc.matches("[0-9a-f]{8}")) {
        throw new InvalidManifestException("crc32c is not 8 lowercase hex digits");
      }
      BackupManifest manifest =
          new BackupManifest(
              version,
              clusterId,
              Integer.parseInt(fields.get("replica-id")),
              Long.parseLong(fields.get("slot")),
              Instant.parse(fields.get("taken-at")),
              image,
              Long.parseLong(fields.get("size-bytes")),
              HexFormat.fromHexDigits(crc),
              sha256,
              version >= 2 ? Long.parseLong(fields.get("leader-round")) : 0,
              version >= 2 ? Long.parseLong(fields.get("restore-generation")) : 0,
              membership);
      if (manifest.slot < 0
          || manifest.replicaId < 0
          || manifest.sizeBytes < 0
          || manifest.leaderRound < 0
          || manifest.restoreGeneration < 0) {
        throw new InvalidManifestException(
            "slot, replica-id, size-bytes, leader-round and restore-generation must be >= 0");
      }
      return manifest;
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new InvalidManifestException("a field is malformed: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new InvalidManifestException(e.getMessage());
    }
  }

  /**
   * The membership as one manifest line: epochs separated by {@code "; "}, each {@code
   * <decided-in-slot>:<from-slot> voters <id>[=<address>] ... [learners <id>[=<address>] ...]}. An
   * id without an address is a start-up member (its address comes from each replica's peer list);
   * an address is {@code host:peer-port:client-port}, with {@code %}, space, {@code ;} and {@code
   * =} percent-escaped. Example: {@code 0:1 voters 1 2 3; 140:172 voters 2 3 4=10.0.0.4:7001:7101}.
   */
  public static String membershipText(Membership membership) {
    List<String> epochs = new ArrayList<>();
    for (Membership.Epoch epoch : membership.epochs()) {
      StringBuilder text =
          new StringBuilder().append(epoch.decidedInSlot()).append(':').append(epoch.fromSlot());
      text.append(" voters");
      appendMembers(text, epoch.configuration().voters());
      if (!epoch.configuration().learners().isEmpty()) {
        text.append(" learners");
        appendMembers(text, epoch.configuration().learners());
      }
      epochs.add(text.toString());
    }
    return String.join("; ", epochs);
  }

  private static void appendMembers(StringBuilder text, SortedMap<ReplicaId, String> members) {
    for (Map.Entry<ReplicaId, String> member : members.entrySet()) {
      text.append(' ').append(member.getKey());
      if (!member.getValue().isEmpty()) {
        text.append('=').append(escape(member.getValue()));
      }
    }
  }

  /**
   * Parses {@link #membershipText}'s form.
   *
   * @throws InvalidManifestException naming what is wrong
   */
  public static Membership parseMembership(String text) throws InvalidManifestException {
    List<Membership.Epoch> epochs = new ArrayList<>();
    try {
      for (String epochText : text.split("; ", -1)) {
        String[] words = epochText.split(" ", -1);
        String[] slots = words[0].split(":", -1);
        if (slots.length != 2 || words.length < 3 || !words[1].equals("voters")) {
          throw new InvalidManifestException(
              "membership: '"
                  + epochText
                  + "' is not '<decided-slot>:<from-slot> voters <id>[=<address>] ..."
                  + " [learners ...]'");
        }
        SortedMap<ReplicaId, String> voters = new TreeMap<>();
        SortedMap<ReplicaId, String> learners = new TreeMap<>();
        SortedMap<ReplicaId, String> into = voters;
        for (int i = 2; i < words.length; i++) {
          if (words[i].equals("learners") && into == voters) {
            into = learners;
            continue;
          }
          int equals = words[i].indexOf('=');
          ReplicaId id =
              ReplicaId.of(Integer.parseInt(equals < 0 ? words[i] : words[i].substring(0, equals)));
          String address = equals < 0 ? "" : unescape(words[i].substring(equals + 1));
          if (voters.containsKey(id) || learners.containsKey(id)) {
            throw new InvalidManifestException("membership: replica " + id + " appears twice");
          }
          into.put(id, address);
        }
        epochs.add(
            new Membership.Epoch(
                Long.parseLong(slots[0]),
                Long.parseLong(slots[1]),
                new Configuration(voters, learners)));
      }
      return new Membership(epochs);
    } catch (NumberFormatException e) {
      throw new InvalidManifestException("membership: a number is malformed: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new InvalidManifestException("membership: " + e.getMessage());
    }
  }

  private static String escape(String address) {
    StringBuilder out = new StringBuilder();
    for (char c : address.toCharArray()) {
      if (c == '%' || c == ' ' || c == ';' || c == '=' || c < 0x20) {
        out.append('%').append(HexFormat.of().withUpperCase().toHexDigits((byte) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static String unescape(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%') {
        if (i + 2 >= text.length()) {
          throw new IllegalArgumentException("address '" + text + "' has a cut-off % escape");
        }
        out.append((char) HexFormat.fromHexDigits(text, i + 1, i + 3));
        i += 2;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** The CRC32C of {@code bytes}, as manifests record it. */
  public static int crc32cOf(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    return (int) crc.getValue();
  }
}
