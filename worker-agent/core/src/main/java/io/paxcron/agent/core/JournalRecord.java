package io.paxcron.agent.core;

import io.paxcron.scheduler.Outcome;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One record of the agent's journal: the durable history of its fence and launch table. Replaying
 * the records in order (see {@link AgentFence#recover}) rebuilds both; a {@link Snapshot} replaces
 * everything before it (compaction). {@link JournalCodec} frames them on disk.
 *
 * <p>Byte arrays in records are owned by the record once built: neither side changes them.
 */
public sealed interface JournalRecord {

  /**
   * The fence rose to {@code ballot} (GetRun, Cancel, a repeat launch or a heartbeat
   * acknowledgement).
   */
  record FenceRaised(FenceBallot ballot) implements JournalRecord {
    public FenceRaised {
      Objects.requireNonNull(ballot, "ballot");
    }
  }

  /**
   * A new launch was accepted under {@code ballot} (which also raises the fence).
   *
   * @param startAt start no earlier than this, or null for at once
   * @param payload the launch spec as the driver encodes it, opaque to the core
   */
  record Accepted(LaunchKey key, FenceBallot ballot, Instant startAt, byte[] payload)
      implements JournalRecord {
    public Accepted {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(ballot, "ballot");
      Objects.requireNonNull(payload, "payload");
    }
  }

  /**
   * The launch's process is about to start: written (and synced) before the driver starts it, so a
   * restarted agent knows the process may have run and never starts it again.
   */
  record Starting(LaunchKey key, Instant at) implements JournalRecord {
    public Starting {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(at, "at");
    }
  }

  /** The launch's process started at {@code startedAt}. */
  record Started(LaunchKey key, Instant startedAt) implements JournalRecord {
    public Started {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(startedAt, "startedAt");
    }
  }

  /** The launch ended with {@code outcome} (it may never have had a process: a bad spec fails). */
  record Finished(LaunchKey key, Outcome outcome, String reason, Instant endedAt, byte[] outputTail)
      implements JournalRecord {
    public Finished {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(outcome, "outcome");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(endedAt, "endedAt");
      Objects.requireNonNull(outputTail, "outputTail");
      if (!outcome.reportedByAgent()) {
        throw new IllegalArgumentException(
            "an agent reports SUCCEEDED, FAILED or TIMED_OUT, got " + outcome);
      }
    }
  }

  /** The accepted launch was given up before it started: it never will. */
  record NeverStarted(LaunchKey key, String reason, Instant at) implements JournalRecord {
    public NeverStarted {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(at, "at");
    }
  }

  /** The leader acknowledged the launch's end: it may be forgotten when the table needs room. */
  record FinishAcknowledged(LaunchKey key) implements JournalRecord {
    public FinishAcknowledged {
      Objects.requireNonNull(key, "key");
    }
  }

  /** The whole fence and launch table (compaction): replaces every record before it. */
  record Snapshot(FenceBallot fence, List<LaunchImage> launches) implements JournalRecord {
    public Snapshot {
      Objects.requireNonNull(fence, "fence");
      launches = List.copyOf(launches);
    }
  }

  /** One launch as a snapshot holds it. */
  record LaunchImage(
      LaunchKey key,
      FenceBallot ballot,
      Instant startAt,
      byte[] payload,
      RunPhase phase,
      Outcome outcome,
      String reason,
      Instant startedAt,
      Instant endedAt,
      byte[] outputTail,
      boolean starting,
      boolean finishAcknowledged) {
    public LaunchImage {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(ballot, "ballot");
      Objects.requireNonNull(payload, "payload");
      Objects.requireNonNull(phase, "phase");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(outputTail, "outputTail");
      if (!phase.open() && !phase.ended()) {
        throw new IllegalArgumentException("a remembered launch is never " + phase);
      }
      if ((phase == RunPhase.FINISHED) != (outcome != null)) {
        throw new IllegalArgumentException(
            "a FINISHED launch, and only one, has an outcome: " + phase);
      }
    }
  }
}
