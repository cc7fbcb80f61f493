package io.paxcron.cli;

import io.paxcron.api.JobClient;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Tokens, the audit trail and "who am I" (docs/security.md). */
public final class AccessCommands {
  private AccessCommands() {}

  @Command(
      name = "token",
      description = "Create, revoke and list bearer tokens (admin).",
      subcommands = {
        AccessCommands.Bootstrap.class,
        AccessCommands.Create.class,
        AccessCommands.Revoke.class,
        AccessCommands.ListTokens.class
      })
  public static final class TokenCommand implements java.util.concurrent.Callable<Integer> {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().usage(spec.commandLine().getErr());
      return ExitCodes.USAGE;
    }
  }

  /** Prints a new token: the secret once, and how to keep it. */
  private static void printCreated(CliCommand command, CreateTokenResponse response) {
    TokenInfo token = response.getToken();
    if (command.json()) {
      Map<String, Object> out = tokenJson(token);
      out.put("secret", response.getSecret());
      command.context.out().println(Json.write(out));
      return;
    }
    command
        .context
        .out()
        .println(
            "token "
                + token.getId()
                + " for "
                + token.getName()
                + " ("
                + token.getRole()
                + (token.getPrefix().isEmpty() ? "" : ", jobs " + token.getPrefix() + "*")
                + "):\n\n  "
                + response.getSecret()
                + "\n\nShown once: the cluster keeps only its hash. Keep it in a file only you can read"
                + " (chmod 600) and point PAXCRON_TOKEN_FILE at it.");
  }

  private static Map<String, Object> tokenJson(TokenInfo token) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", token.getId());
    out.put("name", token.getName());
    out.put("role", token.getRole());
    out.put("prefix", token.getPrefix());
    out.put("createdBy", token.getCreatedBy());
    out.put("createdAt", Formats.orNull(token.getCreatedAt()));
    out.put("revoked", token.getRevoked());
    out.put("revokedBy", token.getRevoked() ? token.getRevokedBy() : null);
    out.put("revokedAt", token.getRevoked() ? Formats.orNull(token.getRevokedAt()) : null);
    return out;
  }

  @Command(
      name = "bootstrap",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Create the cluster's first admin token; works once, while no token was ever created.",
        "Exit: 0 created, 1 refused (the cluster has tokens), 3 unreachable, 64 usage."
      })
  public static final class Bootstrap extends CliCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "Who holds the token.")
    String name;

    public Bootstrap(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        printCreated(
            this,
            client.access(
                "Bootstrap",
                true,
                (stub, clientId, requestId) ->
                    stub.bootstrap(
                        BootstrapRequest.newBuilder()
                            .setClientId(clientId)
                            .setRequestId(requestId)
                            .setName(name)
                            .build())));
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "create",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Create a token; its secret is printed once.",
        "Roles: viewer (read), operator (+ pause, resume, trigger), editor (+ put, apply, delete),"
            + " admin (+ tokens, audit, backups), agent (connect as the agent NAME).",
        "Exit: 0 created, 1 refused, 3 unreachable, 64 usage."
      })
  public static final class Create extends CliCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "Who holds the token.")
    String name;

    @Option(
        names = "--role",
        required = true,
        description = "viewer, operator, editor, admin, agent")
    String role;

    @Option(
        names = "--prefix",
        description = "Limit the token to jobs whose names start with this.")
    String prefix = "";

    public Create(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        printCreated(
            this,
            client.access(
                "CreateToken",
                true,
                (stub, clientId, requestId) ->
                    stub.createToken(
                        CreateTokenRequest.newBuilder()
                            .setClientId(clientId)
                            .setRequestId(requestId)
                            .setName(name)
                            .setRole(role)
                            .setPrefix(prefix)
                            .build())));
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "revoke",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Revoke a token; every replica refuses it once it has applied the revocation.",
        "Exit: 0 revoked, 1 no such token, 3 unreachable, 64 usage."
      })
  public static final class Revoke extends CliCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The token's id (token list).")
    String id;

    public Revoke(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        RevokeTokenResponse response =
            client.access(
                "RevokeToken",
                true,
                (stub, clientId, requestId) ->
                    stub.revokeToken(
                        RevokeTokenRequest.newBuilder()
                            .setClientId(clientId)
                            .setRequestId(requestId)
                            .setId(id)
                            .build()));
        context
            .out()
            .println(
                json()
                    ? Json.write(Map.of("id", id, "changed", response.getChanged()))
                    : response.getChanged()
                        ? "revoked token " + id
                        : "token " + id + " was already revoked");
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "list",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {"Every token (never its secret).", "Exit: 0, 1 refused, 3 unreachable."})
  public static final class ListTokens extends CliCommand {
    public ListTokens(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        ListTokensResponse response =
            client.access(
                "ListTokens",
                false,
                (stub, clientId, requestId) ->
                    stub.listTokens(ListTokensRequest.getDefaultInstance()));
        if (json()) {
          List<Object> rows = new ArrayList<>();
          response.getTokensList().forEach(token -> rows.add(tokenJson(token)));
          context.out().println(Json.write(rows));
          return ExitCodes.OK;
        }
        Table table = new Table("ID", "NAME", "ROLE", "PREFIX", "CREATED", "BY", "STATE");
        for (TokenInfo token : response.getTokensList()) {
          table.row(
              token.getId(),
              token.getName(),
              token.getRole(),
              token.getPrefix().isEmpty() ? "*" : token.getPrefix() + "*",
              Formats.text(token.getCreatedAt()),
              token.getCreatedBy(),
              token.getRevoked()
                  ? "revoked " + Formats.text(token.getRevokedAt()) + " by " + token.getRevokedBy()
                  : "live");
        }
        context.out().print(table.render(style()));
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "audit",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Who changed what, when and from where: the audit records of the log, newest first (admin).",
        "Exit: 0, 1 refused, 3 unreachable, 64 usage."
      })
  public static final class Audit extends CliCommand {
    @Option(names = "--limit", description = "Most records (default 100, at most 1000).")
    int limit = 100;

    public Audit(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        ListAuditResponse response =
            client.access(
                "ListAudit",
                false,
                (stub, clientId, requestId) ->
                    stub.listAudit(ListAuditRequest.newBuilder().setLimit(limit).build()));
        if (json()) {
          List<Object> rows = new ArrayList<>();
          for (AuditRecord record : response.getRecordsList()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("sequence", record.getSequence());
            row.put("slot", record.getSlot());
            row.put("at", Formats.orNull(record.getAt()));
            row.put("actor", record.getActor());
            row.put("source", record.getSource());
            row.put("action", record.getAction());
            row.put("target", record.getTarget());
            row.put("result", record.getResult());
            rows.add(row);
          }
          context.out().println(Json.write(rows));
          return ExitCodes.OK;
        }
        Table table = new Table("AT", "ACTOR", "FROM", "ACTION", "TARGET", "RESULT", "SLOT");
        for (AuditRecord record : response.getRecordsList()) {
          table.row(
              Formats.text(record.getAt()),
              record.getActor(),
              record.getSource(),
              record.getAction(),
              record.getTarget(),
              record.getResult(),
              Long.toString(record.getSlot()));
        }
        context.out().print(table.render(style()));
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "whoami",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {"Who the cluster takes you for, and your role.", "Exit: 0, 1, 3, 64."})
  public static final class WhoAmI extends CliCommand {
    public WhoAmI(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        WhoAmIResponse response =
            client.access(
                "WhoAmI",
                false,
                (stub, clientId, requestId) -> stub.whoAmI(WhoAmIRequest.getDefaultInstance()));
        if (json()) {
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("actor", response.getActor());
          out.put("role", response.getRole());
          out.put("prefix", response.getPrefix());
          out.put("authOff", response.getAuthOff());
          out.put("insecure", response.getInsecure());
          context.out().println(Json.write(out));
        } else {
          context
              .out()
              .println(
                  response.getActor()
                      + ": "
                      + (response.getAuthOff()
                          ? "auth is off, every caller may do everything"
                          : response.getRole())
                      + (response.getPrefix().isEmpty()
                          ? ""
                          : " of jobs " + response.getPrefix() + "*")
                      + (response.getInsecure() ? " (the replica runs with --insecure)" : ""));
        }
        return ExitCodes.OK;
      }
    }
  }
}
