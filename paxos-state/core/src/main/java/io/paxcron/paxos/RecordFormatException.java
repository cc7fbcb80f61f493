package io.paxcron.paxos;

/**
 * An operating error: bytes that are not a record of a known kind and format version, or that fail
 * their checksum, end early or hold an impossible value. The message names the record kind when the
 * frame was read, and what was found.
 */
public class RecordFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public RecordFormatException(String message) {
    super(message);
  }

  public RecordFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
