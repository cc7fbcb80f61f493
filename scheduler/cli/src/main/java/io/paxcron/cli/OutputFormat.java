package io.paxcron.cli;

/**
 * {@code -o table} (the default, for people) or {@code -o json} (for scripts; stable field names).
 */
public enum OutputFormat {
  table,
  json
}
