package io.paxcron.cli;

import io.paxcron.api.JobClient;
import io.paxcron.api.JobClientException;
import io.paxcron.proto.v1.ChangeMembersRequest;
import io.paxcron.proto.v1.ChangeMembersResponse;
import io.paxcron.proto.v1.Member;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code paxcron members list|add|remove|replace}: the cluster's membership, changed one step at a
 * time through the log (docs/membership.md).
 */
public final class MembersCommand {
  private MembersCommand() {}

  /** How long one step may take to be chosen and take effect. */
  static final Duration STEP_TIMEOUT = Duration.ofSeconds(15);

  /** How long a new learner may take to catch up before it can be promoted. */
  static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(120);

  static final Duration CATCH_UP_POLL = Duration.ofMillis(500);

  @Command(
      name = "members",
      description = "List the cluster's members, or add, remove or replace one (admin).",
      subcommands = {
        MembersCommand.ListMembers.class,
        MembersCommand.Add.class,
        MembersCommand.Remove.class,
        MembersCommand.Replace.class
      })
  public static final class Group implements java.util.concurrent.Callable<Integer> {
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().usage(spec.commandLine().getErr());
      return ExitCodes.USAGE;
    }
  }

  @Command(
      name = "list",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {"The members, their roles and the leader.", "Exit: 0, 3 unreachable."})
  public static final class ListMembers extends CliCommand {
    public ListMembers(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        print(this, client.members().getMembersList());
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "add",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Add a replica started with --join: first as a learner, then, once it has caught up, as"
            + " a voter.",
        "Exit: 0 added, 1 refused (the reason is printed), 3 unreachable, 64 usage."
      })
  public static final class Add extends CliCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The new replica's id.")
    int id;

    @Parameters(
        index = "1",
        paramLabel = "HOST:PEER_PORT:CLIENT_PORT",
        description = "Where the new replica listens.")
    String address;

    @Option(names = "--learner", description = "Stop once it is a learner; do not promote it.")
    boolean learnerOnly;

    public Add(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        List<Member> members = add(this, client, id, address, learnerOnly);
        print(this, members);
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "remove",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Remove a voter or a learner (the leader too: another replica takes over). The removed"
            + " replica stops by itself.",
        "Exit: 0 removed, 1 refused (the reason is printed), 3 unreachable, 64 usage."
      })
  public static final class Remove extends CliCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The replica to remove.")
    int id;

    public Remove(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        print(this, remove(this, client, id));
        return ExitCodes.OK;
      }
    }
  }

  @Command(
      name = "replace",
      exitCodeOnInvalidInput = ExitCodes.USAGE,
      description = {
        "Replace replica OLD by a new replica started with --join: add the new one as a learner,"
            + " wait until it has caught up, promote it, then remove OLD.",
        "Exit: 0 replaced, 1 refused (the reason and the step are printed), 3 unreachable, 64"
            + " usage."
      })
  public static final class Replace extends CliCommand {
    @Parameters(index = "0", paramLabel = "OLD", description = "The replica to replace.")
    int old;

    @Parameters(index = "1", paramLabel = "NEW", description = "The new replica's id.")
    int id;

    @Parameters(
        index = "2",
        paramLabel = "HOST:PEER_PORT:CLIENT_PORT",
        description = "Where the new replica listens.")
    String address;

    public Replace(CliContext context) {
      super(context);
    }

    @Override
    int run() throws Exception {
      try (JobClient client = client()) {
        add(this, client, id, address, false);
        print(this, remove(this, client, old));
        return ExitCodes.OK;
      }
    }
  }

  /** Adds {@code id} as a learner, then promotes it once the leader says it has caught up. */
  static List<Member> add(
      CliCommand command, JobClient client, int id, String address, boolean learnerOnly) {
    List<Member> members =
        step(command, client, ChangeMembersRequest.Action.ADD_LEARNER, id, address);
    if (learnerOnly) {
      return members;
    }
    long deadline = System.nanoTime() + CATCH_UP_TIMEOUT.toNanos();
    while (true) {
      try {
        return step(command, client, ChangeMembersRequest.Action.PROMOTE, id, "");
      } catch (JobClientException e) {
        boolean catchingUp =
            e.getMessage().contains("has not answered this leader yet")
                || e.getMessage().contains("slots behind");
        if (!catchingUp || System.nanoTime() > deadline) {
          throw e;
        }
        command.context.err().println("replica " + id + " is still catching up; waiting");
        try {
          Thread.sleep(CATCH_UP_POLL.toMillis());
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /**
   * Removes {@code id}. When the replica removed is the one that answers (a removed leader), its
   * answer may be lost as it stops: the call fails (cancelled, unavailable) or its retry hears "not
   * a member" from the next leader. Either way the removal stands once the members no longer list
   * it, which this waits for (up to {@link #STEP_TIMEOUT}) before reporting the failure.
   */
  static List<Member> remove(CliCommand command, JobClient client, int id) {
    try {
      return step(command, client, ChangeMembersRequest.Action.REMOVE, id, "");
    } catch (JobClientException e) {
      long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
      while (System.nanoTime() < deadline) {
        try {
          List<Member> members = client.members().getMembersList();
          if (members.stream().noneMatch(member -> member.getId() == id)) {
            if (!command.json()) {
              command.context.err().println("replica " + id + " removed");
            }
            return members;
          }
        } catch (JobClientException unreachable) {
          // The cluster is electing a successor; ask again.
        }
        try {
          Thread.sleep(CATCH_UP_POLL.toMillis());
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
      throw e;
    }
  }

  static List<Member> step(
      CliCommand command,
      JobClient client,
      ChangeMembersRequest.Action action,
      int id,
      String address) {
    ChangeMembersResponse response =
        client.changeMembers(
            ChangeMembersRequest.newBuilder()
                .setAction(action)
                .setId(id)
                .setAddress(address)
                .build(),
            STEP_TIMEOUT);
    if (!command.json()) {
      command
          .context
          .err()
          .println(
              switch (action) {
                case ADD_LEARNER -> "replica " + id + " added as a learner";
                case PROMOTE -> "replica " + id + " votes";
                default -> "replica " + id + " removed";
              });
    }
    return response.getMembersList();
  }

  static void print(CliCommand command, List<Member> members) {
    if (command.json()) {
      List<Object> out = new ArrayList<>();
      for (Member member : members) {
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("id", member.getId());
        item.put("address", member.getAddress());
        item.put("role", member.getRole().isEmpty() ? "voter" : member.getRole());
        item.put("leader", member.getLeader());
        out.add(item);
      }
      command.context.out().println(Json.write(out));
      return;
    }
    Table table = new Table("ID", "ROLE", "ADDRESS", "LEADER");
    for (Member member : members) {
      table.row(
          Integer.toString(member.getId()),
          member.getRole().isEmpty() ? "voter" : member.getRole(),
          member.getAddress(),
          member.getLeader() ? "*" : "");
    }
    command.context.out().print(table.render(command.style()));
  }
}
