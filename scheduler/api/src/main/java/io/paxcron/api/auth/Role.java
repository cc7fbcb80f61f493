package io.paxcron.api.auth;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What a token may do. The people roles nest (an editor may also operate and view; an admin may do
 * everything a person may); {@code agent} is apart: it lets a worker agent connect under its own
 * name and nothing else.
 */
public enum Role {
  VIEWER(EnumSet.of(Permission.READ)),
  OPERATOR(EnumSet.of(Permission.READ, Permission.OPERATE)),
  EDITOR(EnumSet.of(Permission.READ, Permission.OPERATE, Permission.EDIT)),
  ADMIN(EnumSet.of(Permission.READ, Permission.OPERATE, Permission.EDIT, Permission.ADMIN)),
  AGENT(EnumSet.of(Permission.AGENT));

  private final Set<Permission> permissions;

  Role(Set<Permission> permissions) {
    this.permissions = Set.copyOf(permissions);
  }

  public boolean allows(Permission permission) {
    return permissions.contains(permission);
  }

  /** The role's name as users write it: viewer, operator, editor, admin, agent. */
  public String text() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Role> parse(String text) {
    for (Role role : values()) {
      if (role.text().equals(text)) {
        return Optional.of(role);
      }
    }
    return Optional.empty();
  }
}
