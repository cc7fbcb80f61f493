package io.paxcron.agent.core;

import java.util.List;

/**
 * What the driver must do after one input to {@link AgentFence}, in this order of obligation
 * (etcd-io/raft's {@code Ready}): first make every record of {@code persist} durable (append to the
 * journal and fsync), and only then carry out {@code effects} in order — reply, start, stop,
 * report. An effect carried out before its records are durable can be forgotten by a crash while
 * its consequence (an answer, a running process) survives: the fence then moves backwards.
 *
 * @param persist journal records to make durable first; empty means nothing to write
 * @param effects what to do once they are durable
 */
public record Ready(List<JournalRecord> persist, List<AgentEffect> effects) {
  public static final Ready NONE = new Ready(List.of(), List.of());

  public Ready {
    persist = List.copyOf(persist);
    effects = List.copyOf(effects);
  }

  public boolean isEmpty() {
    return persist.isEmpty() && effects.isEmpty();
  }
}
