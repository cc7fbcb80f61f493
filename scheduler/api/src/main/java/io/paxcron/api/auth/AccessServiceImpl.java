package io.paxcron.api.auth;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.paxcron.api.ApiErrors;
import io.paxcron.proto.v1.AccessServiceGrpc;
import io.paxcron.proto.v1.AuditRecord;
import io.paxcron.proto.v1.BootstrapRequest;
import io.paxcron.proto.v1.CreateTokenRequest;
import io.paxcron.proto.v1.CreateTokenResponse;
import io.paxcron.proto.v1.ListAuditRequest;
import io.paxcron.proto.v1.ListAuditResponse;
import io.paxcron.proto.v1.ListTokensRequest;
import io.paxcron.proto.v1.ListTokensResponse;
import io.paxcron.proto.v1.RevokeTokenRequest;
import io.paxcron.proto.v1.RevokeTokenResponse;
import io.paxcron.proto.v1.TokenInfo;
import io.paxcron.proto.v1.WhoAmIRequest;
import io.paxcron.proto.v1.WhoAmIResponse;
import io.paxcron.scheduler.FieldError;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;

/**
 * {@code AccessService} (access.proto): tokens and the audit trail. A new token's secret is made
 * here, on the replica that took the call, from a strong random source; only its hash is proposed,
 * so the secret never enters the log, and the whole token is answered once.
 *
 * <p>Who may call what is the {@link AuthInterceptor}'s business; this class trusts it. Threading:
 * gRPC's threads; it never blocks.
 */
public final class AccessServiceImpl extends AccessServiceGrpc.AccessServiceImplBase {
  public static final int DEFAULT_AUDIT_LIMIT = 100;
  public static final int MAX_AUDIT_LIMIT = 1000;

  private final AccessCluster cluster;
  private final RandomGenerator secrets;
  private final boolean authOn;
  private final boolean insecure;

  /**
   * @param secrets a cryptographically strong generator ({@code new SecureRandom()})
   */
  public AccessServiceImpl(
      AccessCluster cluster, RandomGenerator secrets, boolean authOn, boolean insecure) {
    this.cluster = cluster;
    this.secrets = secrets;
    this.authOn = authOn;
    this.insecure = insecure;
  }

  @Override
  public void bootstrap(BootstrapRequest request, StreamObserver<CreateTokenResponse> response) {
    Caller caller = Caller.current().orElse(Caller.anonymous("unknown"));
    // Once a token exists, a bootstrap is refused here, before anything reaches the log: anyone
    // may call Bootstrap, and refused attempts in the log would be audited, so a stranger could
    // otherwise push the real records out of the bounded audit trail. Two bootstraps racing
    // before the first token exists both reach the log; the state machine refuses the second.
    cluster
        .readAccess(AccessState.View::everCreated)
        .whenComplete(
            (everCreated, failure) -> {
              if (failure != null) {
                answer(response, null, failure);
              } else if (everCreated) {
                response.onError(
                    Status.FAILED_PRECONDITION
                        .withDescription(
                            "bootstrap: the cluster already has tokens; an admin creates more"
                                + " with CreateToken")
                        .asRuntimeException());
              } else {
                create(
                    request.getClientId(),
                    request.getRequestId(),
                    request.getName(),
                    "admin",
                    "",
                    true,
                    caller,
                    response);
              }
            });
  }

  @Override
  public void createToken(
      CreateTokenRequest request, StreamObserver<CreateTokenResponse> response) {
    create(
        request.getClientId(),
        request.getRequestId(),
        request.getName(),
        request.getRole(),
        request.getPrefix(),
        false,
        Caller.current().orElse(Caller.anonymous("unknown")),
        response);
  }

  private void create(
      long clientId,
      long requestId,
      String name,
      String roleText,
      String prefix,
      boolean bootstrap,
      Caller caller,
      StreamObserver<CreateTokenResponse> response) {
    List<FieldError> errors = sessionErrors(clientId, requestId);
    Optional<Role> role = Role.parse(roleText);
    if (role.isEmpty()) {
      errors.add(
          new FieldError(
              "role", "'" + roleText + "' must be viewer, operator, editor, admin or agent"));
    }
    Tokens.Minted minted = Tokens.mint(secrets);
    for (String problem :
        AccessState.validate(minted.id(), name, role.orElse(Role.VIEWER), prefix)) {
      int colon = problem.indexOf(": ");
      errors.add(new FieldError(problem.substring(0, colon), problem.substring(colon + 2)));
    }
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    cluster
        .submitAccess(
            clientId,
            requestId,
            stamp ->
                new AccessCommand.CreateToken(
                    new AccessCommand.Header(stamp, caller.actor(), caller.source()),
                    minted.id(),
                    name,
                    role.get(),
                    prefix,
                    minted.secretHash(),
                    bootstrap))
        .thenCompose(
            result -> {
              if (!result.applied()) {
                return CompletableFuture.failedFuture(
                    Status.FAILED_PRECONDITION
                        .withDescription(result.message())
                        .asRuntimeException());
              }
              return cluster.readAccess(view -> view.tokens().get(minted.id()));
            })
        .thenApply(
            token ->
                CreateTokenResponse.newBuilder()
                    .setToken(info(token))
                    .setSecret(minted.bearer())
                    .build())
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void revokeToken(
      RevokeTokenRequest request, StreamObserver<RevokeTokenResponse> response) {
    List<FieldError> errors = sessionErrors(request.getClientId(), request.getRequestId());
    if (!AccessState.TOKEN_ID.matcher(request.getId()).matches()) {
      errors.add(
          new FieldError("id", "'" + request.getId() + "' is not a token id (8-32 of a-z 0-9)"));
    }
    if (!errors.isEmpty()) {
      response.onError(ApiErrors.invalid(errors));
      return;
    }
    Caller caller = Caller.current().orElse(Caller.anonymous("unknown"));
    cluster
        .submitAccess(
            request.getClientId(),
            request.getRequestId(),
            stamp ->
                new AccessCommand.RevokeToken(
                    new AccessCommand.Header(stamp, caller.actor(), caller.source()),
                    request.getId()))
        .thenApply(
            result -> {
              if (!result.applied()) {
                throw Status.NOT_FOUND.withDescription(result.message()).asRuntimeException();
              }
              return RevokeTokenResponse.newBuilder()
                  .setChanged(!result.message().contains("already"))
                  .build();
            })
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void listTokens(ListTokensRequest request, StreamObserver<ListTokensResponse> response) {
    cluster
        .readAccess(
            view -> {
              ListTokensResponse.Builder reply = ListTokensResponse.newBuilder();
              view.tokens().values().forEach(token -> reply.addTokens(info(token)));
              return reply.build();
            })
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void listAudit(ListAuditRequest request, StreamObserver<ListAuditResponse> response) {
    if (request.getLimit() < 0) {
      response.onError(
          ApiErrors.invalid(
              List.of(new FieldError("limit", "must not be negative, got " + request.getLimit()))));
      return;
    }
    int limit =
        request.getLimit() == 0
            ? DEFAULT_AUDIT_LIMIT
            : Math.min(request.getLimit(), MAX_AUDIT_LIMIT);
    long before = request.getBeforeSequence() == 0 ? Long.MAX_VALUE : request.getBeforeSequence();
    cluster
        .readAccess(
            view -> {
              ListAuditResponse.Builder reply = ListAuditResponse.newBuilder();
              List<AccessState.AuditRecord> records = view.audit();
              for (int i = records.size() - 1; i >= 0 && reply.getRecordsCount() < limit; i--) {
                AccessState.AuditRecord record = records.get(i);
                if (record.sequence() < before) {
                  reply.addRecords(proto(record));
                }
              }
              return reply.build();
            })
        .whenComplete((reply, failure) -> answer(response, reply, failure));
  }

  @Override
  public void whoAmI(WhoAmIRequest request, StreamObserver<WhoAmIResponse> response) {
    Caller caller = Caller.current().orElse(Caller.anonymous("unknown"));
    response.onNext(
        WhoAmIResponse.newBuilder()
            .setActor(caller.actor())
            .setRole(caller.role().text())
            .setPrefix(caller.prefix())
            .setAuthOff(!authOn)
            .setInsecure(insecure)
            .build());
    response.onCompleted();
  }

  public static AuditRecord proto(AccessState.AuditRecord record) {
    return AuditRecord.newBuilder()
        .setSequence(record.sequence())
        .setSlot(record.slot())
        .setAt(timestamp(record.at()))
        .setActor(record.actor())
        .setSource(record.source())
        .setAction(record.action())
        .setTarget(record.target())
        .setResult(record.result())
        .build();
  }

  static TokenInfo info(AccessState.Token token) {
    TokenInfo.Builder info =
        TokenInfo.newBuilder()
            .setId(token.id())
            .setName(token.name())
            .setRole(token.role().text())
            .setPrefix(token.prefix())
            .setCreatedBy(token.createdBy())
            .setCreatedAt(timestamp(token.createdAt()))
            .setRevoked(token.revoked());
    token.revokedBy().ifPresent(info::setRevokedBy);
    token.revokedAt().ifPresent(at -> info.setRevokedAt(timestamp(at)));
    return info.build();
  }

  private static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  private static List<FieldError> sessionErrors(long clientId, long requestId) {
    List<FieldError> errors = new ArrayList<>();
    if (clientId == 0) {
      errors.add(
          new FieldError("client_id", "must be non-zero: a random id the client picks once"));
    }
    if (requestId == 0) {
      errors.add(new FieldError("request_id", "must be >= 1: the client numbers its requests"));
    }
    return errors;
  }

  private static <T> void answer(StreamObserver<T> response, T reply, Throwable failure) {
    if (failure != null) {
      response.onError(ApiErrors.forFailure(failure));
    } else {
      response.onNext(reply);
      response.onCompleted();
    }
  }
}
