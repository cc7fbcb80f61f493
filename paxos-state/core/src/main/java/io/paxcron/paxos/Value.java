package io.paxcron.paxos;

import java.util.List;

/**
 * What a slot holds once chosen: a batch of client commands, a no-op that a new leader uses to fill
 * a slot for which no acceptor in its phase-1 quorum reported a value, or a membership change.
 */
public sealed interface Value permits Value.NoOp, Value.Batch, Value.Reconfigure {

  /** Fills a gap in the log; applies to nothing. */
  record NoOp() implements Value {
    @Override
    public String toString() {
      return "noop";
    }
  }

  /** Many client commands proposed together in one slot (batching, DESIGN §3). */
  record Batch(List<Command> commands) implements Value {
    public Batch {
      commands = List.copyOf(commands);
      if (commands.isEmpty()) {
        throw new IllegalArgumentException("a batch holds at least one command");
      }
    }

    @Override
    public String toString() {
      return "batch" + commands;
    }
  }

  /**
   * A membership change: the cluster's configuration becomes {@code next}, by the rule in {@link
   * Membership}. Applies to nothing in the state machine.
   */
  record Reconfigure(Configuration next) implements Value {
    public Reconfigure {
      if (next == null) {
        throw new IllegalArgumentException("a reconfiguration needs the next configuration");
      }
    }

    @Override
    public String toString() {
      return "reconfigure[" + next + "]";
    }
  }

  NoOp NO_OP = new NoOp();

  default int sizeBytes() {
    return switch (this) {
      case NoOp n -> 1;
      case Batch b -> b.commands.stream().mapToInt(Command::sizeBytes).sum();
      case Reconfigure r -> 64 * r.next.members().size();
    };
  }
}
