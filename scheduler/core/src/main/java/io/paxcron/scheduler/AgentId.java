package io.paxcron.scheduler;

/**
 * The id of a worker agent, the name it registers under: a DNS label (1-63 of {@code a-z 0-9 -},
 * starting and ending with a letter or digit). The rule lives here; {@link AgentRegistry} refuses a
 * registration under a bad name through {@link #problem}. Ordered as its string; {@link
 * #toString()} is the bare name, and every serialized form encodes the bare name.
 *
 * @param value the name
 */
public record AgentId(String value) implements Comparable<AgentId> {

  /** Longest agent id. */
  public static final int MAX_LENGTH = DnsLabel.MAX_LENGTH;

  /**
   * @throws IllegalArgumentException naming the reason, if {@code value} is not an agent id
   */
  public AgentId {
    String problem = DnsLabel.problem(value);
    if (problem != null) {
      throw new IllegalArgumentException("agent id: " + problem);
    }
  }

  /** The agent id {@code value}. */
  public static AgentId of(String value) {
    return new AgentId(value);
  }

  /** Why {@code value} is not an agent id, or {@code null} if it is one. */
  public static String problem(String value) {
    return DnsLabel.problem(value);
  }

  /** Whether {@code value} is a agent id. */
  public static boolean isValid(String value) {
    return DnsLabel.problem(value) == null;
  }

  @Override
  public int compareTo(AgentId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
