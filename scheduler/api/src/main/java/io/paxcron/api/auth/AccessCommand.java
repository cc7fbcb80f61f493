package io.paxcron.api.auth;

import io.paxcron.paxos.BinaryReader;
import io.paxcron.paxos.BinaryWriter;
import io.paxcron.paxos.RecordFormatException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * The log commands of the access layer ({@link SecuredStateMachine}): token changes, and the audit
 * envelope that carries who asked for a job change around the job batch itself. Every command
 * carries a {@link Header}: the leader's stamp and who asked from where, so the audit record is
 * part of the same log entry as the change (never a separate write that could be lost).
 */
public sealed interface AccessCommand {

  /** Longest actor, source, action and target text kept in a record. */
  int MAX_TEXT = 512;

  /** Largest job batch one audit envelope wraps (the log's own limit is lower). */
  int MAX_INNER_BYTES = 64 << 20;

  Header header();

  /** Who, from where, when (the leader's clock when it proposed). */
  record Header(Instant stampedAt, String actor, String source) {
    public Header {
      Objects.requireNonNull(stampedAt, "stampedAt");
      actor = clip(actor);
      source = clip(source);
    }
  }

  /**
   * A new token. {@code secretHash} is the SHA-256 of its secret; the secret itself never enters
   * the log. {@code bootstrap}: applies only while no token was ever created.
   */
  record CreateToken(
      Header header,
      String id,
      String name,
      Role role,
      String prefix,
      byte[] secretHash,
      boolean bootstrap)
      implements AccessCommand {
    public CreateToken {
      secretHash = secretHash.clone();
    }

    @Override
    public byte[] secretHash() {
      return secretHash.clone();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof CreateToken that
          && header.equals(that.header)
          && id.equals(that.id)
          && name.equals(that.name)
          && role == that.role
          && prefix.equals(that.prefix)
          && Arrays.equals(secretHash, that.secretHash)
          && bootstrap == that.bootstrap;
    }

    @Override
    public int hashCode() {
      return Objects.hash(header, id, name, role, prefix, Arrays.hashCode(secretHash), bootstrap);
    }
  }

  record RevokeToken(Header header, String id) implements AccessCommand {}

  /**
   * A job change (a {@code JobBatchStateMachine} batch) with who asked for it. {@code action} is
   * the API method, {@code target} the job names.
   */
  record Audited(Header header, String action, String target, byte[] inner)
      implements AccessCommand {
    public Audited {
      action = clip(action);
      target = clip(target);
      inner = inner.clone();
    }

    @Override
    public byte[] inner() {
      return inner.clone();
    }

    /**
     * The inner command's bytes themselves, for the apply path, which only reads them: a batch of a
     * thousand jobs is ~300 KB, and each copy of it is garbage on every replica.
     */
    byte[] innerBytes() {
      return inner;
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Audited that
          && header.equals(that.header)
          && action.equals(that.action)
          && target.equals(that.target)
          && Arrays.equals(inner, that.inner);
    }

    @Override
    public int hashCode() {
      return Objects.hash(header, action, target, Arrays.hashCode(inner));
    }
  }

  /** First byte of an access command payload (never a CronCodec version or the batch tag). */
  byte TAG = (byte) 0xA5;

  static String clip(String text) {
    Objects.requireNonNull(text, "text");
    return text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT - 1) + "…";
  }

  static byte[] encode(AccessCommand command) {
    BinaryWriter out = new BinaryWriter(256);
    out.writeByte(TAG);
    out.writeByte(1); // format version
    Header header = command.header();
    out.writeInstant(header.stampedAt());
    out.writeModifiedUtf(header.actor());
    out.writeModifiedUtf(header.source());
    switch (command) {
      case CreateToken create -> {
        out.writeByte(1);
        out.writeModifiedUtf(create.id());
        out.writeModifiedUtf(create.name());
        out.writeModifiedUtf(create.role().text());
        out.writeModifiedUtf(create.prefix());
        byte[] hash = create.secretHash();
        out.writeShort(hash.length);
        out.writeRaw(hash);
        out.writeBoolean(create.bootstrap());
      }
      case RevokeToken revoke -> {
        out.writeByte(2);
        out.writeModifiedUtf(revoke.id());
      }
      case Audited audited -> {
        out.writeByte(3);
        out.writeModifiedUtf(audited.action());
        out.writeModifiedUtf(audited.target());
        out.writeBytes(audited.innerBytes());
      }
    }
    return out.toByteArray();
  }

  /**
   * Decodes a payload starting with {@link #TAG}.
   *
   * @throws IllegalArgumentException naming what is wrong; the caller changes nothing
   */
  static AccessCommand decode(byte[] payload) {
    BinaryReader in = new BinaryReader(payload);
    try {
      if ((byte) in.readByte() != TAG) {
        throw new IllegalArgumentException("not an access command");
      }
      int version = in.readByte();
      if (version != 1) {
        throw new IllegalArgumentException("access command format " + version + " is unknown");
      }
      Instant stamp = in.readInstant();
      Header header = new Header(stamp, in.readModifiedUtf(), in.readModifiedUtf());
      int kind = in.readByte();
      AccessCommand command =
          switch (kind) {
            case 1 -> {
              String id = in.readModifiedUtf();
              String name = in.readModifiedUtf();
              String roleText = in.readModifiedUtf();
              Role role =
                  Role.parse(roleText)
                      .orElseThrow(
                          () -> new IllegalArgumentException("unknown role '" + roleText + "'"));
              String prefix = in.readModifiedUtf();
              int length = in.readUnsignedShort();
              if (length != 32) {
                throw new IllegalArgumentException("a token hash has 32 bytes, got " + length);
              }
              byte[] hash = in.readRaw(length);
              yield new CreateToken(header, id, name, role, prefix, hash, in.readBoolean());
            }
            case 2 -> new RevokeToken(header, in.readModifiedUtf());
            case 3 -> {
              String action = in.readModifiedUtf();
              String target = in.readModifiedUtf();
              int length = in.readInt();
              if (length < 0 || length > MAX_INNER_BYTES || length > in.remaining()) {
                throw new IllegalArgumentException("audited change claims " + length + " bytes");
              }
              yield new Audited(header, action, target, in.readRaw(length));
            }
            default -> throw new IllegalArgumentException("unknown access command kind " + kind);
          };
      if (!in.atEnd()) {
        throw new IllegalArgumentException(in.remaining() + " bytes after the access command");
      }
      return command;
    } catch (RecordFormatException e) {
      // Truncation, or a stamp outside Instant's range: every replica refuses it the same way.
      throw new IllegalArgumentException("truncated access command: " + e.getMessage(), e);
    }
  }
}
