package io.paxcron.paxos.transport;

/**
 * A catch-up transfer that could not be reassembled: a part failed its checksum, arrived out of
 * order or beyond a limit, or the stream ended before its end marker. An operating error: the
 * transfer is discarded whole and the core, which never saw it, asks again on its own timer.
 */
public final class CatchUpTransferException extends Exception {

  private static final long serialVersionUID = 1L;

  public CatchUpTransferException(String message) {
    super(message);
  }

  public CatchUpTransferException(String message, Throwable cause) {
    super(message, cause);
  }
}
