package io.paxcron.http;

import com.sun.net.httpserver.HttpExchange;
import io.grpc.ManagedChannel;
import io.paxcron.api.auth.AccessState;
import io.paxcron.api.auth.Caller;
import io.paxcron.api.auth.Permission;
import io.paxcron.api.auth.Role;
import io.paxcron.api.auth.Tokens;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The dashboard's equivalent of the API's {@code AuthInterceptor}: who makes an HTTP request (the
 * same bearer tokens, from the {@code Authorization} header or the {@value #COOKIE} cookie the
 * login page sets) and whether their role and job-name prefix allow it. With auth off everyone may
 * do everything, as on the API.
 *
 * @param authOn whether requests need a token
 * @param insecureReason set when the replica runs with --insecure; shown on every page
 * @param access the replicated access state's latest view
 * @param channels opens a channel to a replica's client port that sends the given token (or the
 *     dashboard's own credential when the supplier is empty)
 * @param tls the HTTPS context, or empty for plain HTTP
 */
public record HttpGate(
    boolean authOn,
    Optional<String> insecureReason,
    Supplier<AccessState.View> access,
    Function<Supplier<Optional<String>>, Function<String, ManagedChannel>> channels,
    Optional<SSLContext> tls) {

  /** The cookie holding the token after a login; HttpOnly, SameSite=Strict. */
  public static final String COOKIE = "paxcron_token";

  /** No auth, no TLS, plaintext channels without tokens. */
  public static HttpGate open() {
    return new HttpGate(
        false,
        Optional.empty(),
        () -> AccessState.View.EMPTY,
        token ->
            address ->
                io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forTarget(address)
                    .usePlaintext()
                    .build(),
        Optional.empty());
  }

  /** The bearer token a request carries, if any. */
  static Optional<String> token(HttpExchange exchange) {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.of(header.substring(7).strip());
    }
    List<String> cookies = exchange.getRequestHeaders().get("Cookie");
    if (cookies != null) {
      for (String line : cookies) {
        for (String cookie : line.split(";")) {
          String trimmed = cookie.strip();
          if (trimmed.startsWith(COOKIE + "=")) {
            return Optional.of(trimmed.substring(COOKIE.length() + 1));
          }
        }
      }
    }
    return Optional.empty();
  }

  /** Who makes the request: a caller, or why not (for a 401). */
  sealed interface Who {
    record Known(Caller caller, Optional<String> token) implements Who {}

    record Unknown(String reason) implements Who {}
  }

  Who identify(HttpExchange exchange) {
    String source = String.valueOf(exchange.getRemoteAddress());
    Optional<String> token = token(exchange);
    if (!authOn) {
      return new Who.Known(Caller.anonymous(source), token);
    }
    if (token.isEmpty()) {
      return new Who.Unknown(
          "no credentials: log in at /login or send 'Authorization: Bearer <token>'");
    }
    Optional<Tokens.Presented> presented = Tokens.parse(token.get());
    Optional<AccessState.Token> known =
        presented.flatMap(p -> access.get().authenticate(p.id(), p.secretHash()));
    if (known.isEmpty()) {
      return new Who.Unknown("the token is unknown, revoked or malformed; log in again at /login");
    }
    AccessState.Token t = known.get();
    return new Who.Known(
        new Caller(
            "token:" + t.name() + "/" + t.id(), t.role(), t.prefix(), Optional.empty(), source),
        token);
  }

  /** Why {@code caller} may not do {@code permission} on {@code jobs}, or empty if it may. */
  Optional<String> refusal(Caller caller, Permission permission, List<String> jobs) {
    if (!authOn) {
      return Optional.empty();
    }
    if (!caller.has(permission)) {
      return Optional.of(
          "permission '"
              + permission.text()
              + "' needed; "
              + caller.actor()
              + " has role "
              + caller.role().text());
    }
    List<String> outside = jobs.stream().filter(job -> !caller.covers(job)).toList();
    if (!outside.isEmpty()) {
      return Optional.of(
          "permission '"
              + permission.text()
              + "' needed on "
              + String.join(", ", outside.stream().limit(5).toList())
              + " (outside prefix '"
              + caller.prefix()
              + "' of "
              + caller.actor()
              + ")");
    }
    return Optional.empty();
  }

  /** Whether the caller is an admin (the audit page). */
  boolean admin(Caller caller) {
    return !authOn || caller.role() == Role.ADMIN;
  }
}
