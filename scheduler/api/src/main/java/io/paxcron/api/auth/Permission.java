package io.paxcron.api.auth;

import java.util.Locale;

/**
 * One kind of call. {@link #READ}, {@link #OPERATE} and {@link #EDIT} act on jobs and are limited
 * to the token's job-name prefix; {@link #ADMIN} and {@link #AGENT} are cluster-wide.
 */
public enum Permission {
  /** Read jobs, runs, outputs, cluster status. */
  READ,
  /** Pause, resume, trigger. */
  OPERATE,
  /** Put, apply, delete jobs. */
  EDIT,
  /** Tokens, audit, backups, the raw log API. */
  ADMIN,
  /** Connect as a worker agent. */
  AGENT;

  public String text() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Whether the permission is limited to the token's job-name prefix. */
  public boolean jobScoped() {
    return this == READ || this == OPERATE || this == EDIT;
  }
}
