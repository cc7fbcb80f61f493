package io.paxcron.scheduler;

/**
 * The naming rule shared by {@link JobName} and {@link AgentId}: a DNS label, 1-63 of {@code a-z
 * 0-9 -}, starting and ending with a letter or digit. Checked by hand rather than with a pattern:
 * names are checked on every decode of a command or record that carries one.
 */
final class DnsLabel {

  /** Longest label. */
  static final int MAX_LENGTH = 63;

  private DnsLabel() {}

  /** Why {@code text} is not a DNS label, or {@code null} if it is one. */
  static String problem(String text) {
    if (text == null) {
      return "must not be missing";
    }
    if (text.isEmpty()) {
      return "must not be empty";
    }
    if (text.length() > MAX_LENGTH) {
      return "longer than " + MAX_LENGTH + " characters (MAX_NAME_LENGTH), got " + text.length();
    }
    int last = text.length() - 1;
    for (int i = 0; i <= last; i++) {
      char c = text.charAt(i);
      boolean alphanumeric = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (!alphanumeric && (c != '-' || i == 0 || i == last)) {
        return "must be a DNS label: lowercase letters, digits and '-', starting and"
            + " ending with a letter or digit, got '"
            + printable(text)
            + "'";
      }
    }
    return null;
  }

  /** {@code text} with control characters escaped, cut at 80 characters. */
  static String printable(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length() && out.length() < 80; i++) {
      char c = text.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    }
    return text.length() > 80 ? out + "…" : out.toString();
  }
}
