package io.paxcron.paxos;

/**
 * Always-on invariant checks for the pure cores (STYLE §7: a broken invariant is a programmer error
 * that stops the process; a restarted replica is safer than a corrupt one). A failed check throws
 * {@link IllegalStateException} whose message is {@code format} with each {@code %s} replaced, in
 * order, by an argument.
 *
 * <p>Cheap on the happy path: the message is built only when the check fails, and the overloads
 * take {@code long} and {@code Object} arguments directly, so a passing check allocates nothing (no
 * varargs array, no boxing of a slot or a count). Operating errors (a bad request, a peer down) are
 * not checked here: they are answered with a typed result where they arise.
 *
 * <p>Stateless and thread-safe.
 */
public final class Check {
  private Check() {}

  /**
   * @throws IllegalStateException with {@code message} if {@code condition} is false
   */
  public static void that(boolean condition, String message) {
    if (!condition) {
      throw new IllegalStateException(message);
    }
  }

  /**
   * @throws IllegalStateException with {@code format} filled with {@code a} if {@code condition} is
   *     false
   */
  public static void that(boolean condition, String format, Object a) {
    if (!condition) {
      throw failure(format, a);
    }
  }

  /**
   * @throws IllegalStateException with {@code format} filled with {@code a} if {@code condition} is
   *     false
   */
  public static void that(boolean condition, String format, long a) {
    if (!condition) {
      throw failure(format, a);
    }
  }

  /**
   * @throws IllegalStateException with {@code format} filled with {@code a}, {@code b} if {@code
   *     condition} is false
   */
  public static void that(boolean condition, String format, Object a, Object b) {
    if (!condition) {
      throw failure(format, a, b);
    }
  }

  /**
   * @throws IllegalStateException with {@code format} filled with {@code a}, {@code b} if {@code
   *     condition} is false
   */
  public static void that(boolean condition, String format, long a, long b) {
    if (!condition) {
      throw failure(format, a, b);
    }
  }

  /**
   * @throws IllegalStateException with {@code format} filled with {@code a}, {@code b} if {@code
   *     condition} is false
   */
  public static void that(boolean condition, String format, Object a, long b) {
    if (!condition) {
      throw failure(format, a, b);
    }
  }

  /**
   * @throws IllegalStateException with {@code format} filled with {@code a}, {@code b}, {@code c}
   *     if {@code condition} is false
   */
  public static void that(boolean condition, String format, Object a, Object b, Object c) {
    if (!condition) {
      throw failure(format, a, b, c);
    }
  }

  /**
   * @throws IllegalStateException with {@code format} filled with {@code a}, {@code b}, {@code c}
   *     if {@code condition} is false
   */
  public static void that(boolean condition, String format, Object a, long b, long c) {
    if (!condition) {
      throw failure(format, a, b, c);
    }
  }

  /**
   * @throws IllegalStateException with {@code format} filled with {@code a}, {@code b}, {@code c}
   *     if {@code condition} is false
   */
  public static void that(boolean condition, String format, long a, long b, long c) {
    if (!condition) {
      throw failure(format, a, b, c);
    }
  }

  /**
   * The exception for a state that cannot happen (the default branch of a decision that the
   * compiler cannot prove exhaustive): {@code throw Check.unreachable("...", x)}.
   */
  public static IllegalStateException unreachable(String format, Object a) {
    return failure(format, a);
  }

  /**
   * {@code format} with each {@code %s} replaced by the next argument; arguments left over are
   * appended in brackets, so a wrong format still shows every value.
   */
  static IllegalStateException failure(String format, Object... args) {
    StringBuilder message = new StringBuilder(format.length() + 16 * args.length);
    int next = 0;
    int from = 0;
    while (next < args.length) {
      int at = format.indexOf("%s", from);
      if (at < 0) {
        break;
      }
      message.append(format, from, at).append(args[next++]);
      from = at + 2;
    }
    message.append(format, from, format.length());
    if (next < args.length) {
      message.append(" [");
      for (int i = next; i < args.length; i++) {
        message.append(i > next ? ", " : "").append(args[i]);
      }
      message.append(']');
    }
    return new IllegalStateException(message.toString());
  }
}
