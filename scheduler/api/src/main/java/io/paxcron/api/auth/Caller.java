package io.paxcron.api.auth;

import io.grpc.Context;
import java.util.Objects;
import java.util.Optional;

/**
 * Who is calling, as the replica established it: from a bearer token, from a verified client
 * certificate (agents), or nobody in particular when auth is off.
 *
 * @param actor for logs and audit records: {@code token:<name>/<id>}, {@code cert:<cn>}, {@code
 *     anonymous}
 * @param role what the caller may do
 * @param prefix the job-name prefix READ, OPERATE and EDIT are limited to ("" for every job)
 * @param agentName the only agent name the caller may register as, when it connects as an agent
 * @param source the connection's remote address
 */
public record Caller(
    String actor, Role role, String prefix, Optional<String> agentName, String source) {

  /** The gRPC context key the interceptor stores the caller under. */
  public static final Context.Key<Caller> KEY = Context.key("paxcron-caller");

  public Caller {
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(prefix, "prefix");
    Objects.requireNonNull(agentName, "agentName");
    Objects.requireNonNull(source, "source");
  }

  /** With auth off every caller is this (the interceptor checks no permission then). */
  public static Caller anonymous(String source) {
    return new Caller("anonymous", Role.ADMIN, "", Optional.empty(), source);
  }

  /** The caller of the current gRPC call, or empty outside one (or with no interceptor). */
  public static Optional<Caller> current() {
    return Optional.ofNullable(KEY.get());
  }

  /** Whether this caller has {@code permission} (ignoring scope). */
  public boolean has(Permission permission) {
    return role.allows(permission);
  }

  /** Whether {@code job} lies in this caller's job-name scope. */
  public boolean covers(String job) {
    return job.startsWith(prefix);
  }
}
