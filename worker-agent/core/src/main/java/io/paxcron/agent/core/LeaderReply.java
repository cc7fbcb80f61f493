package io.paxcron.agent.core;

import java.util.Objects;

/**
 * An answer to a leader's request (agent.proto {@code LaunchReply}, {@code RunState}, {@code
 * CancelReply}).
 */
public sealed interface LeaderReply {

  LaunchKey key();

  /** The ballot the request carried. */
  FenceBallot ballot();

  /** The answer to {@code Launch}. */
  record LaunchAnswer(
      LaunchKey key,
      FenceBallot ballot,
      LaunchStatus status,
      RunView run,
      FenceBallot highestSeen,
      String reason)
      implements LeaderReply {
    public LaunchAnswer {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(ballot, "ballot");
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(run, "run");
      Objects.requireNonNull(highestSeen, "highestSeen");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** The answer to {@code GetRun}. */
  record RunAnswer(LaunchKey key, FenceBallot ballot, RunView run) implements LeaderReply {
    public RunAnswer {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(ballot, "ballot");
      Objects.requireNonNull(run, "run");
    }
  }

  /**
   * The answer to {@code Cancel}.
   *
   * @param signalled whether a process is being stopped (its finish is reported as usual)
   * @param highestSeen the agent's fence when the ballot is below it, else null
   */
  record CancelAnswer(LaunchKey key, FenceBallot ballot, boolean signalled, FenceBallot highestSeen)
      implements LeaderReply {
    public CancelAnswer {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(ballot, "ballot");
    }
  }

  /** agent.proto {@code LaunchReply.Status}. */
  enum LaunchStatus {
    /** New launch, persisted; the process starts once it is due and the agent's lease holds. */
    ACCEPTED,
    /** The launch was known; nothing changed but the fence and the launch's confirmation. */
    REPEAT,
    /** The ballot is below the agent's fence: the sender is no longer the leader. */
    FENCED,
    /** The agent is full (capacity or launch table): back-pressure. */
    CAPACITY
  }
}
