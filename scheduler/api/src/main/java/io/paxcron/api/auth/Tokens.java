package io.paxcron.api.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * Bearer tokens: {@code pxc_<id>_<secret>}, the id 16 hex digits, the secret 32 random bytes in
 * URL-safe base64. The cluster stores the SHA-256 of the secret (a slow password hash buys nothing
 * for 256 random bits) and finds the token by its id, then compares hashes in constant time.
 */
public final class Tokens {
  public static final String PREFIX = "pxc_";

  /** Longest header value accepted as a token (anything longer is refused unread). */
  public static final int MAX_TOKEN_LENGTH = 128;

  private Tokens() {}

  /** A token as the client sent it. */
  public record Presented(String id, byte[] secretHash) {}

  /** A new token; {@code random} must be a cryptographically strong generator (SecureRandom). */
  public record Minted(String id, String secret, byte[] secretHash) {
    public String bearer() {
      return PREFIX + id + "_" + secret;
    }
  }

  public static Minted mint(RandomGenerator random) {
    byte[] idBytes = new byte[8];
    byte[] secretBytes = new byte[32];
    random.nextBytes(idBytes);
    random.nextBytes(secretBytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
    return new Minted(HexFormat.of().formatHex(idBytes), secret, sha256(secret));
  }

  /** The token in an {@code authorization} header value ("Bearer pxc_…"), if it is one. */
  public static Optional<Presented> parseHeader(String header) {
    if (header == null || header.length() > MAX_TOKEN_LENGTH + 7) {
      return Optional.empty();
    }
    String value = header.strip();
    if (!value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    return parse(value.substring(7).strip());
  }

  /** A bare token "pxc_<id>_<secret>". */
  public static Optional<Presented> parse(String token) {
    if (token.length() > MAX_TOKEN_LENGTH || !token.startsWith(PREFIX)) {
      return Optional.empty();
    }
    int separator = token.indexOf('_', PREFIX.length());
    if (separator < 0) {
      return Optional.empty();
    }
    String id = token.substring(PREFIX.length(), separator);
    String secret = token.substring(separator + 1);
    if (!AccessState.TOKEN_ID.matcher(id).matches() || secret.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Presented(id, sha256(secret)));
  }

  static byte[] sha256(String secret) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
