package io.paxcron.agent;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The addresses the agent dials: the members' client-API addresses the leader last told it
 * (agent.proto {@code Registered.members}), then the {@code --cluster} addresses it was given.
 *
 * <p>The learned list is kept in the data directory ({@code cluster.members}) with the {@code
 * --cluster} list it was learned under, so an agent restarted after every original replica was
 * replaced still finds the cluster. When {@code --cluster} changes (the operator pointed the agent
 * elsewhere, for example at a cluster restored from a backup), the kept list is ignored.
 *
 * <p>Not thread-safe: the agent's event loop owns it.
 */
final class ClusterMembers {
  static final String FILE = "cluster.members";

  private static final String GIVEN = "# --cluster ";

  private static final Pattern ADDRESS = Pattern.compile("[^\\s,:]+:\\d{1,5}");

  /** More addresses than any configuration holds are ignored. */
  private static final int MAX_ADDRESSES = 64;

  private final Path file;
  private final List<String> given;
  private List<String> learned;

  private ClusterMembers(Path file, List<String> given, List<String> learned) {
    this.file = file;
    this.given = List.copyOf(given);
    this.learned = List.copyOf(learned);
  }

  /**
   * Reads the list kept in {@code dataDir}; an unreadable or malformed file, or one learned under
   * another {@code --cluster}, counts as none (the agent then starts from {@code given}).
   */
  static ClusterMembers load(Path dataDir, List<String> given) {
    Path file = dataDir.resolve(FILE);
    List<String> learned = List.of();
    try {
      if (Files.exists(file)) {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (!lines.isEmpty() && lines.get(0).equals(GIVEN + String.join(",", given))) {
          learned = valid(lines.subList(1, lines.size()));
        }
      }
    } catch (IOException e) {
      // Nothing learned survives; the given addresses still work.
    }
    return new ClusterMembers(file, given, learned);
  }

  /** The addresses to dial in turn: learned ones first, then the given ones not among them. */
  List<String> candidates() {
    LinkedHashSet<String> all = new LinkedHashSet<>(learned);
    all.addAll(given);
    return List.copyOf(all);
  }

  List<String> learned() {
    return learned;
  }

  /**
   * Takes the members a replica named; returns true when the list changed (and was written to the
   * data directory). Malformed addresses are dropped; an empty list changes nothing.
   *
   * @throws IOException if the list cannot be written (the new list is still used)
   */
  boolean learn(List<String> members) throws IOException {
    List<String> next = valid(members);
    if (next.isEmpty() || next.equals(learned)) {
      return false;
    }
    learned = next;
    Path temporary = file.resolveSibling(FILE + ".next");
    StringBuilder text = new StringBuilder(GIVEN).append(String.join(",", given)).append('\n');
    for (String address : learned) {
      text.append(address).append('\n');
    }
    Files.writeString(temporary, text, StandardCharsets.UTF_8);
    try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(
        temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return true;
  }

  private static List<String> valid(List<String> addresses) {
    List<String> valid = new ArrayList<>();
    for (String address : addresses) {
      String trimmed = address.strip();
      if (ADDRESS.matcher(trimmed).matches()
          && !valid.contains(trimmed)
          && valid.size() < MAX_ADDRESSES) {
        valid.add(trimmed);
      }
    }
    return List.copyOf(valid);
  }
}
