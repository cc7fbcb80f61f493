package io.paxcron.agent.core;

/**
 * The agent's journal holds a record that is not a torn tail and does not check: the agent refuses
 * to start rather than guess its fence or forget a launch it accepted (STYLE.md §7).
 */
public final class CorruptJournalException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String file;
  private final long offset;

  public CorruptJournalException(String file, long offset, String reason) {
    super(file + ": offset " + offset + ": " + reason);
    this.file = file;
    this.offset = offset;
  }

  /** The journal file as the driver named it. */
  public String file() {
    return file;
  }

  /** The byte offset of the bad record's frame. */
  public long offset() {
    return offset;
  }
}
