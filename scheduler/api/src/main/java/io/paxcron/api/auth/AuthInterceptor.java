package io.paxcron.api.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.paxcron.proto.v1.ClusterStatusResponse;
import io.paxcron.proto.v1.ListJobsResponse;
import io.paxcron.proto.v1.WatchRunsResponse;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The API's gate, in front of every service on a replica's client port: it finds out who is calling
 * (a bearer token, a verified client certificate, or nobody when auth is off), refuses what the
 * caller's role or job-name prefix does not allow, limits each caller's writes, and puts the {@link
 * Caller} in the call's {@link Context} for the audit envelope and the agent stream.
 *
 * <p>A refused call is closed before its handler sees the request, so it changes nothing; the
 * status says which permission was missing, for which jobs. Threading: runs on gRPC's threads; it
 * reads the access state's published {@link AccessState.View} and never waits for the replica's
 * event loop.
 */
public final class AuthInterceptor implements ServerInterceptor {

  /** The header carrying the bearer token. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** Trailer on RESOURCE_EXHAUSTED: milliseconds to wait before retrying. */
  public static final Metadata.Key<String> RETRY_AFTER_MILLIS =
      Metadata.Key.of("paxcron-retry-after-ms", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * @param authOn whether tokens are required (off: every caller is {@link Caller#anonymous})
   * @param insecureReason set when the replica was started with --insecure; shown in Status
   * @param internal a process-local credential (the replica's own dashboard), never in the log
   */
  public record Settings(
      boolean authOn, Optional<String> insecureReason, Optional<Internal> internal) {}

  /** A bearer secret known only to this process, and who it stands for. */
  public record Internal(String bearer, Caller caller) {}

  private final Settings settings;
  private final Supplier<AccessState.View> access;
  private final WriteRateLimiter limiter;

  public AuthInterceptor(
      Settings settings, Supplier<AccessState.View> access, WriteRateLimiter limiter) {
    this.settings = settings;
    this.access = access;
    this.limiter = limiter;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    String source = remote == null ? "unknown" : remote.toString();
    Optional<String> certName =
        certificateName(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    Caller caller;
    switch (identify(headers.get(AUTHORIZATION), certName, source)) {
      case Identified.Known known -> caller = known.caller();
      case Identified.Refused refused -> {
        if (!method.equals(AccessRules.BOOTSTRAP)) {
          return refuse(call, Status.UNAUTHENTICATED.withDescription(refused.reason()));
        }
        caller = new Caller("bootstrap", Role.VIEWER, "", Optional.empty(), source);
      }
    }
    Optional<AccessRules.Rule> rule = AccessRules.of(method);
    if (method.equals(AccessRules.WHO_AM_I) || method.equals(AccessRules.BOOTSTRAP)) {
      rule = Optional.empty();
    } else if (rule.isEmpty()) {
      return refuse(
          call,
          Status.PERMISSION_DENIED.withDescription(
              "no permission is defined for " + method + "; it is refused to everyone"));
    } else if (settings.authOn() && !caller.has(rule.get().permission())) {
      return refuse(call, denied(caller, rule.get().permission(), List.of()));
    }
    String limited = settings.authOn() ? caller.actor() : host(source);
    boolean streamedWrites =
        rule.isPresent()
            && rule.get().write()
            && !call.getMethodDescriptor().getType().clientSendsOneMessage();
    if (rule.isPresent() && rule.get().write() && !streamedWrites) {
      if (refusedByRateLimit(call, caller, limited)) {
        return new ServerCall.Listener<>() {};
      }
    }
    Context context = Context.current().withValue(Caller.KEY, caller);
    ServerCall<Q, A> filtered = filter(call, caller, rule);
    ServerCall.Listener<Q> delegate = Contexts.interceptCall(context, filtered, headers, next);
    if (streamedWrites) {
      // Every command on a stream of writes counts against the limit; the first refused one ends
      // the stream (the client retries on a new one after the advised time), so the limit holds
      // whether a client makes one call per write or streams them.
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
        private boolean refused;

        @Override
        public void onMessage(Q message) {
          if (refused) {
            return;
          }
          if (refusedByRateLimit(call, caller, limited)) {
            refused = true;
            return;
          }
          super.onMessage(message);
        }

        @Override
        public void onHalfClose() {
          if (!refused) {
            super.onHalfClose();
          }
        }
      };
    }
    if (rule.isEmpty() || rule.get().scope() == AccessRules.Scope.CLUSTER) {
      return delegate;
    }
    AccessRules.Rule named = rule.get();
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (refused) {
          return;
        }
        List<String> outside =
            named.jobs().apply(message).stream().filter(job -> !caller.covers(job)).toList();
        if (!outside.isEmpty()) {
          refused = true;
          call.close(denied(caller, named.permission(), outside), new Metadata());
          return;
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }
    };
  }

  /**
   * Counts one write of {@code limited}; when it made too many, closes {@code call} with
   * RESOURCE_EXHAUSTED, the wait in its description and trailer, and answers true.
   */
  private boolean refusedByRateLimit(ServerCall<?, ?> call, Caller caller, String limited) {
    Optional<Duration> wait = limiter.acquire(limited);
    if (wait.isEmpty()) {
      return false;
    }
    long millis = Math.max(1, wait.get().toMillis());
    Metadata trailers = new Metadata();
    trailers.put(RETRY_AFTER_MILLIS, Long.toString(millis));
    call.close(
        Status.RESOURCE_EXHAUSTED.withDescription(
            "write rate limit: "
                + caller.actor()
                + " made too many changes; retry in "
                + millis
                + " ms"),
        trailers);
    return true;
  }

  /**
   * The write rate limit for a write that arrived outside gRPC (the log's command socket, which a
   * server opens only without authentication): counts one write of {@code remote}'s host — the
   * budget its gRPC calls draw on too — and answers null, or why it is refused, with the wait.
   */
  public String refuseWriteFrom(java.net.SocketAddress remote) {
    String limited = host(remote.toString());
    Optional<Duration> wait = limiter.acquire(limited);
    if (wait.isEmpty()) {
      return null;
    }
    long millis = Math.max(1, wait.get().toMillis());
    return "write rate limit: " + limited + " made too many changes; retry in " + millis + " ms";
  }

  private static Status denied(Caller caller, Permission permission, List<String> jobs) {
    String scope =
        jobs.isEmpty()
            ? ""
            : " on job"
                + (jobs.size() == 1 ? " " : "s ")
                + String.join(", ", jobs.stream().limit(5).toList())
                + (jobs.size() > 5 ? ", …" : "")
                + " (outside prefix '"
                + caller.prefix()
                + "')";
    return Status.PERMISSION_DENIED.withDescription(
        "permission '"
            + permission.text()
            + "' needed"
            + scope
            + "; "
            + caller.actor()
            + " has role "
            + caller.role().text()
            + (caller.prefix().isEmpty() ? "" : " for prefix '" + caller.prefix() + "'"));
  }

  /** Filters answers about many jobs to the caller's prefix, and marks an insecure replica. */
  private <Q, A> ServerCall<Q, A> filter(
      ServerCall<Q, A> call, Caller caller, Optional<AccessRules.Rule> rule) {
    boolean scoped = !caller.prefix().isEmpty();
    boolean status =
        call.getMethodDescriptor().getFullMethodName().equals("paxcron.v1.ClusterService/Status");
    if (!scoped && !(status && settings.insecureReason().isPresent())) {
      return call;
    }
    return new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      @SuppressWarnings("unchecked")
      public void sendMessage(A message) {
        Object out = message;
        if (message instanceof ListJobsResponse list && scoped) {
          ListJobsResponse.Builder builder = list.toBuilder().clearJobs();
          list.getJobsList().stream()
              .filter(job -> caller.covers(job.getName()))
              .forEach(builder::addJobs);
          out = builder.build();
        } else if (message instanceof WatchRunsResponse watch && scoped) {
          WatchRunsResponse.Builder builder = watch.toBuilder().clearRecords();
          watch.getRecordsList().stream()
              .filter(r -> caller.covers(r.getJob()))
              .forEach(builder::addRecords);
          if (builder.getRecordsCount() == 0) {
            request(1); // nothing this caller may see; let the stream go on
            return;
          }
          out = builder.build();
        } else if (message instanceof ClusterStatusResponse clusterStatus
            && settings.insecureReason().isPresent()) {
          out =
              clusterStatus.toBuilder()
                  .setInsecure(true)
                  .setInsecureReason(settings.insecureReason().get())
                  .build();
        }
        super.sendMessage((A) out);
      }
    };
  }

  private sealed interface Identified {
    record Known(Caller caller) implements Identified {}

    record Refused(String reason) implements Identified {}
  }

  private Identified identify(String authorization, Optional<String> certName, String source) {
    if (authorization != null && settings.internal().isPresent()) {
      Internal internal = settings.internal().get();
      if (MessageDigest.isEqual(
          authorization.strip().getBytes(StandardCharsets.UTF_8),
          ("Bearer " + internal.bearer()).getBytes(StandardCharsets.UTF_8))) {
        return new Identified.Known(internal.caller());
      }
    }
    if (!settings.authOn()) {
      Caller anonymous = Caller.anonymous(source);
      return new Identified.Known(
          certName
              .map(name -> new Caller("cert:" + name, Role.ADMIN, "", Optional.of(name), source))
              .orElse(anonymous));
    }
    if (authorization != null) {
      Optional<Tokens.Presented> presented = Tokens.parseHeader(authorization);
      if (presented.isEmpty()) {
        return new Identified.Refused(
            "the authorization header is not 'Bearer pxc_…' (docs/security.md)");
      }
      Optional<AccessState.Token> token =
          access.get().authenticate(presented.get().id(), presented.get().secretHash());
      if (token.isEmpty()) {
        return new Identified.Refused(
            "token " + presented.get().id() + " is unknown, revoked or does not match");
      }
      AccessState.Token known = token.get();
      Optional<String> agentName =
          certName.isPresent()
              ? certName
              : known.role() == Role.AGENT ? Optional.of(known.name()) : Optional.empty();
      return new Identified.Known(
          new Caller(
              "token:" + known.name() + "/" + known.id(),
              known.role(),
              known.prefix(),
              agentName,
              source));
    }
    if (certName.isPresent()) {
      // A verified client certificate without a token: a worker agent, named by its certificate.
      return new Identified.Known(
          new Caller("cert:" + certName.get(), Role.AGENT, "", certName, source));
    }
    return new Identified.Refused(
        "no credentials: send 'authorization: Bearer <token>' (PAXCRON_TOKEN or a token file;"
            + " docs/security.md)");
  }

  /** The common name of a verified client certificate, if the connection presented one. */
  static Optional<String> certificateName(SSLSession session) {
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
        return Optional.empty();
      }
      for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return Optional.of(rdn.getValue().toString());
        }
      }
      return Optional.empty();
    } catch (SSLPeerUnverifiedException | InvalidNameException e) {
      return Optional.empty();
    }
  }

  private static String host(String source) {
    int colon = source.lastIndexOf(':');
    return colon > 0 ? source.substring(0, colon) : source;
  }

  private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
