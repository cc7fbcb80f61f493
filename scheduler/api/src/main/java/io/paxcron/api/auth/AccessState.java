package io.paxcron.api.auth;

import io.paxcron.paxos.BinaryReader;
import io.paxcron.paxos.BinaryWriter;
import io.paxcron.paxos.Frame;
import io.paxcron.paxos.RecordFormatException;
import io.paxcron.paxos.RecordKind;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The replicated access state: tokens (their secrets' SHA-256 only) and the bounded audit trail.
 * Deterministic: it reads no clock (records carry the leader's stamp from the log) and every
 * replica that applies the same commands holds the same state.
 *
 * <p>Threading: applied on the replica's loop thread. After every change it publishes an immutable
 * {@link View} through a volatile field, which the API's interceptor reads from gRPC threads; a
 * revocation is therefore refused on a replica from the moment that replica applied it.
 */
public final class AccessState {

  /** Most tokens kept (revoked ones included, so their ids are never reused). */
  public static final int MAX_TOKENS = 10_000;

  /** Most audit records kept; the oldest is dropped first. */
  public static final int MAX_AUDIT_RECORDS = 10_000;

  /** A token id: 8-32 of a-z 0-9. */
  public static final Pattern TOKEN_ID = Pattern.compile("[a-z0-9]{8,32}");

  /** A token's name: who holds it, 1-63 of a-z 0-9 '.' '_' '@' '-', starting alphanumeric. */
  public static final Pattern TOKEN_NAME = Pattern.compile("[a-z0-9][a-z0-9._@-]{0,62}");

  /** A job-name prefix: empty, or 1-63 of a-z 0-9 '-' (job names' own alphabet). */
  public static final Pattern PREFIX = Pattern.compile("[a-z0-9-]{0,63}");

  /** One token as the state keeps it. */
  public record Token(
      String id,
      String name,
      Role role,
      String prefix,
      byte[] secretHash,
      String createdBy,
      Instant createdAt,
      Optional<String> revokedBy,
      Optional<Instant> revokedAt) {
    public Token {
      secretHash = secretHash.clone();
    }

    @Override
    public byte[] secretHash() {
      return secretHash.clone();
    }

    public boolean revoked() {
      return revokedAt.isPresent();
    }

    /** Whether {@code hash} is this token's; constant time in the hash's bytes. */
    boolean matches(byte[] hash) {
      return java.security.MessageDigest.isEqual(secretHash, hash);
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Token that
          && id.equals(that.id)
          && name.equals(that.name)
          && role == that.role
          && prefix.equals(that.prefix)
          && Arrays.equals(secretHash, that.secretHash)
          && createdBy.equals(that.createdBy)
          && createdAt.equals(that.createdAt)
          && revokedBy.equals(that.revokedBy)
          && revokedAt.equals(that.revokedAt);
    }

    @Override
    public int hashCode() {
      return Objects.hash(id, name, role, prefix, Arrays.hashCode(secretHash), createdAt);
    }
  }

  /** One audit record. */
  public record AuditRecord(
      long sequence,
      long slot,
      Instant at,
      String actor,
      String source,
      String action,
      String target,
      String result) {}

  /** An immutable copy of the state, for readers on other threads. */
  public record View(boolean everCreated, Map<String, Token> tokens, List<AuditRecord> audit) {
    public static final View EMPTY = new View(false, Map.of(), List.of());

    public View {
      tokens = Collections.unmodifiableMap(new LinkedHashMap<>(tokens));
      audit = List.copyOf(audit);
    }

    /** The live (not revoked) token with this id and secret hash. */
    public Optional<Token> authenticate(String id, byte[] secretHash) {
      Token token = tokens.get(id);
      return token != null && !token.revoked() && token.matches(secretHash)
          ? Optional.of(token)
          : Optional.empty();
    }
  }

  /** What applying a command did: applied, or refused with the reason (nothing changed). */
  public record Result(boolean applied, String message) {
    static Result ok(String message) {
      return new Result(true, message);
    }

    static Result refused(String message) {
      return new Result(false, message);
    }
  }

  private boolean everCreated;
  private final Map<String, Token> tokens = new LinkedHashMap<>();
  private final Deque<AuditRecord> audit = new ArrayDeque<>();
  private long nextSequence = 1;
  private volatile View view = View.EMPTY;

  /** The state as of the last applied command; safe from any thread. */
  public View view() {
    return view;
  }

  /** Applies a token command and records it in the audit trail. */
  public Result apply(long slot, AccessCommand command) {
    Result result =
        switch (command) {
          case AccessCommand.CreateToken create -> create(create);
          case AccessCommand.RevokeToken revoke -> revoke(revoke);
          case AccessCommand.Audited audited ->
              throw new IllegalArgumentException("audited changes are applied by the caller");
        };
    String action =
        switch (command) {
          case AccessCommand.CreateToken create ->
              create.bootstrap() ? "AccessService/Bootstrap" : "AccessService/CreateToken";
          case AccessCommand.RevokeToken revoke -> "AccessService/RevokeToken";
          case AccessCommand.Audited audited -> audited.action();
        };
    String target =
        switch (command) {
          case AccessCommand.CreateToken create ->
              "token "
                  + create.id()
                  + " ("
                  + create.name()
                  + ", "
                  + create.role().text()
                  + (create.prefix().isEmpty() ? "" : ", prefix " + create.prefix())
                  + ")";
          case AccessCommand.RevokeToken revoke -> "token " + revoke.id();
          case AccessCommand.Audited audited -> audited.target();
        };
    record(slot, command.header(), action, target, result.applied() ? "applied" : result.message());
    return result;
  }

  /** Adds an audit record for a change applied elsewhere (a job batch). */
  public void record(
      long slot, AccessCommand.Header header, String action, String target, String result) {
    audit.addLast(
        new AuditRecord(
            nextSequence++,
            slot,
            header.stampedAt(),
            header.actor(),
            header.source(),
            AccessCommand.clip(action),
            AccessCommand.clip(target),
            AccessCommand.clip(result)));
    while (audit.size() > MAX_AUDIT_RECORDS) {
      audit.removeFirst();
    }
    publish();
  }

  private Result create(AccessCommand.CreateToken create) {
    if (create.bootstrap() && everCreated) {
      return Result.refused(
          "bootstrap: the cluster already has tokens; an admin creates more with CreateToken");
    }
    List<String> problems = validate(create.id(), create.name(), create.role(), create.prefix());
    if (!problems.isEmpty()) {
      return Result.refused(String.join("; ", problems));
    }
    if (create.bootstrap() && create.role() != Role.ADMIN) {
      return Result.refused("bootstrap: the first token is an admin token");
    }
    if (tokens.containsKey(create.id())) {
      return Result.refused("id: token " + create.id() + " exists");
    }
    if (tokens.size() >= MAX_TOKENS) {
      return Result.refused(
          "the cluster holds the maximum of " + MAX_TOKENS + " tokens (MAX_TOKENS)");
    }
    tokens.put(
        create.id(),
        new Token(
            create.id(),
            create.name(),
            create.role(),
            create.prefix(),
            create.secretHash(),
            create.header().actor(),
            create.header().stampedAt(),
            Optional.empty(),
            Optional.empty()));
    everCreated = true;
    return Result.ok("created token " + create.id());
  }

  private Result revoke(AccessCommand.RevokeToken revoke) {
    Token token = tokens.get(revoke.id());
    if (token == null) {
      return Result.refused("id: no token " + shown(revoke.id()));
    }
    if (token.revoked()) {
      return Result.ok("token " + revoke.id() + " was already revoked");
    }
    tokens.put(
        token.id(),
        new Token(
            token.id(),
            token.name(),
            token.role(),
            token.prefix(),
            token.secretHash(),
            token.createdBy(),
            token.createdAt(),
            Optional.of(revoke.header().actor()),
            Optional.of(revoke.header().stampedAt())));
    return Result.ok("revoked token " + revoke.id());
  }

  /** Every problem with a new token's fields, each naming the field. */
  public static List<String> validate(String id, String name, Role role, String prefix) {
    List<String> problems = new ArrayList<>();
    if (!TOKEN_ID.matcher(id).matches()) {
      problems.add("id: '" + shown(id) + "' must be 8-32 of a-z 0-9");
    }
    if (!TOKEN_NAME.matcher(name).matches()) {
      problems.add(
          "name: '"
              + shown(name)
              + "' must be 1-63 of a-z 0-9 . _ @ -, starting with a letter or digit");
    }
    if (!PREFIX.matcher(prefix).matches()) {
      problems.add("prefix: '" + shown(prefix) + "' must be 0-63 of a-z 0-9 - (a job-name prefix)");
    }
    if (!prefix.isEmpty() && (role == Role.ADMIN || role == Role.AGENT)) {
      problems.add("prefix: an " + role.text() + " token is cluster-wide and takes no prefix");
    }
    return problems;
  }

  /** A value as an error message shows it: at most 64 characters, so errors stay small. */
  static String shown(String value) {
    return value.length() <= 64
        ? value
        : value.substring(0, 64) + "… (" + value.length() + " chars)";
  }

  private void publish() {
    view = new View(everCreated, tokens, new ArrayList<>(audit));
  }

  // ------------------------------------------------------------------------------- snapshots

  /**
   * The access state as a {@link RecordKind#ACCESS_SNAPSHOT} frame (format 2). Format 1, the same
   * body behind a version byte 1 and no frame, is still restored.
   */
  public byte[] snapshot() {
    BinaryWriter out = new BinaryWriter(1024);
    int start = out.beginFrame(RecordKind.ACCESS_SNAPSHOT);
    out.writeBoolean(everCreated);
    out.writeLong(nextSequence);
    out.writeInt(tokens.size());
    for (Token token : tokens.values()) {
      out.writeModifiedUtf(token.id());
      out.writeModifiedUtf(token.name());
      out.writeModifiedUtf(token.role().text());
      out.writeModifiedUtf(token.prefix());
      out.writeRaw(token.secretHash());
      out.writeModifiedUtf(token.createdBy());
      out.writeInstant(token.createdAt());
      out.writeBoolean(token.revoked());
      if (token.revoked()) {
        out.writeModifiedUtf(token.revokedBy().orElse(""));
        out.writeInstant(token.revokedAt().orElseThrow());
      }
    }
    out.writeInt(audit.size());
    for (AuditRecord record : audit) {
      out.writeLong(record.sequence());
      out.writeLong(record.slot());
      out.writeInstant(record.at());
      out.writeModifiedUtf(record.actor());
      out.writeModifiedUtf(record.source());
      out.writeModifiedUtf(record.action());
      out.writeModifiedUtf(record.target());
      out.writeModifiedUtf(record.result());
    }
    return out.endFrame(start).toByteArray();
  }

  /**
   * Replaces the state with a snapshot's.
   *
   * @throws IllegalStateException if the snapshot is unreadable (a corrupt image stops the replica)
   */
  public void restore(byte[] snapshot) {
    try {
      BinaryReader in;
      if (Frame.startsAt(snapshot, 0, RecordKind.ACCESS_SNAPSHOT)) {
        in = Frame.readWhole(snapshot, RecordKind.ACCESS_SNAPSHOT).body();
      } else {
        in = new BinaryReader(snapshot);
        int version = in.readByte();
        if (version != 1) {
          throw new IllegalStateException(
              "access snapshot record: format version "
                  + version
                  + " (unframed) is not one this build reads ("
                  + RecordKind.ACCESS_SNAPSHOT.oldestReadableVersion()
                  + ".."
                  + RecordKind.ACCESS_SNAPSHOT.version()
                  + ", from 2 on in a frame)");
        }
      }
      boolean ever = in.readBoolean();
      long sequence = in.readLong();
      Map<String, Token> restored = new LinkedHashMap<>();
      int count = in.readInt();
      checkCount(count, MAX_TOKENS, "tokens");
      for (int i = 0; i < count; i++) {
        String id = in.readModifiedUtf();
        String name = in.readModifiedUtf();
        String roleText = in.readModifiedUtf();
        Role role =
            Role.parse(roleText)
                .orElseThrow(() -> new IllegalStateException("unknown role " + roleText));
        String prefix = in.readModifiedUtf();
        byte[] hash = in.readRaw(32);
        String createdBy = in.readModifiedUtf();
        Instant createdAt = in.readInstant();
        Optional<String> revokedBy = Optional.empty();
        Optional<Instant> revokedAt = Optional.empty();
        if (in.readBoolean()) {
          revokedBy = Optional.of(in.readModifiedUtf());
          revokedAt = Optional.of(in.readInstant());
        }
        restored.put(
            id,
            new Token(id, name, role, prefix, hash, createdBy, createdAt, revokedBy, revokedAt));
      }
      Deque<AuditRecord> records = new ArrayDeque<>();
      count = in.readInt();
      checkCount(count, MAX_AUDIT_RECORDS, "audit records");
      for (int i = 0; i < count; i++) {
        records.addLast(
            new AuditRecord(
                in.readLong(),
                in.readLong(),
                in.readInstant(),
                in.readModifiedUtf(),
                in.readModifiedUtf(),
                in.readModifiedUtf(),
                in.readModifiedUtf(),
                in.readModifiedUtf()));
      }
      in.expectEnd("access snapshot record");
      everCreated = ever;
      nextSequence = sequence;
      tokens.clear();
      tokens.putAll(restored);
      audit.clear();
      audit.addAll(records);
      publish();
    } catch (RecordFormatException e) {
      throw new IllegalStateException("unreadable access snapshot: " + e.getMessage(), e);
    }
  }

  /** Empties the state (a snapshot from before the access layer existed). */
  public void clear() {
    everCreated = false;
    nextSequence = 1;
    tokens.clear();
    audit.clear();
    publish();
  }

  private static void checkCount(int count, int max, String what) {
    if (count < 0 || count > max) {
      throw new IllegalStateException("access snapshot claims " + count + " " + what);
    }
  }
}
