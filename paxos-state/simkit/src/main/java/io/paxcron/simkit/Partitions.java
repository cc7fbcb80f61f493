package io.paxcron.simkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The shapes of a network partition among {@code n} processes, as a link matrix ({@code
 * links[from][to]}): halves; one process isolated (often the leader); a bridge (two halves that
 * cannot talk and one process that talks to both); a majorities ring (each process reaches its ring
 * neighbours only, so in a 5-process cluster each sees a majority but no two see the same one —
 * Jepsen's "grudges"). Every process always reaches itself.
 */
public final class Partitions {
  private Partitions() {}

  /** A partition picked for this seed: its description, the isolated process (or -1), the links. */
  public record Cut(String kind, int isolated, boolean[][] links) {}

  /** Every link up. */
  public static boolean[][] fullyConnected(int rows, int columns) {
    boolean[][] all = new boolean[rows][columns];
    for (boolean[] row : all) {
      Arrays.fill(row, true);
    }
    return all;
  }

  /** Picks one shape at random; {@code leader} (or -1) is isolated in half of the isolations. */
  public static Cut pick(RandomGenerator random, int n, int leader) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int swap = order.get(i);
      order.set(i, order.get(j));
      order.set(j, swap);
    }
    boolean[][] next = new boolean[n][n];
    for (int i = 0; i < n; i++) {
      next[i][i] = true;
    }
    switch (random.nextInt(5)) {
      case 0 -> {
        int half = n / 2;
        for (int a = 0; a < n; a++) {
          for (int b = 0; b < n; b++) {
            next[order.get(a)][order.get(b)] = (a < half) == (b < half);
          }
        }
        return new Cut("halves", -1, next);
      }
      case 1, 2 -> {
        int isolated = random.nextBoolean() && leader >= 0 ? leader : order.get(0);
        for (int a = 0; a < n; a++) {
          for (int b = 0; b < n; b++) {
            next[a][b] = a == b || (a != isolated && b != isolated);
          }
        }
        return new Cut(
            "isolate " + isolated + (isolated == leader ? " (the leader)" : ""), isolated, next);
      }
      case 3 -> {
        int bridge = order.get(0);
        int half = (n - 1) / 2;
        for (int a = 1; a < n; a++) {
          for (int b = 1; b < n; b++) {
            next[order.get(a)][order.get(b)] = (a <= half) == (b <= half);
          }
          next[bridge][order.get(a)] = true;
          next[order.get(a)][bridge] = true;
        }
        return new Cut("bridge via " + bridge, -1, next);
      }
      default -> {
        for (int a = 0; a < n; a++) {
          next[order.get(a)][order.get((a + 1) % n)] = true;
          next[order.get(a)][order.get((a + n - 1) % n)] = true;
        }
        return new Cut("majorities ring", -1, next);
      }
    }
  }

  /** Cuts {@code process} off from every other (the returning-replica stretch). */
  public static void cutOff(boolean[][] links, int process) {
    for (int other = 0; other < links.length; other++) {
      if (other != process) {
        links[process][other] = false;
        links[other][process] = false;
      }
    }
  }
}
