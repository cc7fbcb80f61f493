package io.paxcron.paxos;

/**
 * One slot of an acceptor's log: the value it accepted, the ballot it accepted it in, and whether
 * the replica knows the value is chosen. A chosen entry's ballot is only informative: once a value
 * is known chosen, it is the only value any leader may propose for the slot.
 */
public record LogEntry(long slot, Ballot ballot, Value value, boolean chosen) {

  public LogEntry {
    if (slot < 1) {
      throw new IllegalArgumentException("slot must be >= 1, got " + slot);
    }
    if (ballot == null || value == null) {
      throw new IllegalArgumentException("log entry needs a ballot and a value");
    }
  }

  public LogEntry asChosen() {
    return chosen ? this : new LogEntry(slot, ballot, value, true);
  }
}
