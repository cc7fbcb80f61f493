package io.paxcron.sim;

import io.paxcron.simkit.FaultPlan;
import java.io.PrintStream;

/**
 * The quick-start demo: a simulated 5-replica Paxcron log under faults, narrated. It runs the real
 * Multi-Paxos core (the same code a server runs) in virtual time: clients write and read a small
 * key-value store while replicas crash and lose unsynced writes, the network drops, duplicates,
 * delays and partitions messages, and clocks drift. Every invariant is checked as it runs.
 *
 * <p>{@code ops/demo [--seed N] [--messages]}: {@code --messages} also prints every message.
 */
public final class Demo {

  private Demo() {}

  public static void main(String[] args) {
    long seed = 2026;
    boolean messages = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seed" -> {
          if (i + 1 >= args.length) {
            usage("--seed needs a value");
          }
          try {
            seed = Long.parseLong(args[++i]);
          } catch (NumberFormatException e) {
            usage("--seed: '" + args[i] + "' is not a whole number");
          }
        }
        case "--messages" -> messages = true;
        default -> usage("unknown argument '" + args[i] + "'");
      }
    }
    PrintStream out = System.out;
    FaultPlan plan =
        new FaultPlan(5, 0.02, 0.02, 10, 0.8, 0.8, 0.5, 0, 0.01, 0.3, 200_000, 0.2, false, 32, 3);
    out.println("Paxcron demo: a simulated 5-replica Multi-Paxos cluster (seed " + seed + ")");
    out.println("Faults: " + plan);
    out.println(
        "Every event is checked: one value per slot, chosen values never change, replicas"
            + " apply the same prefix, each command takes effect once, at most one lease holder;"
            + " the client history is checked for linearizability at the end.");
    out.println();
    Simulation.Result result =
        new Simulation(
                Simulation.Options.of(seed)
                    .withFaultEvents(8_000)
                    .withPlan(plan)
                    .withTrace(out, messages))
            .run();
    out.println();
    out.printf(
        "%d events in %.1f s of virtual time: %d slots chosen, %d writes acknowledged,"
            + " %d lease reads, %d leader changes, %d invariant checks.%n",
        result.events(),
        result.virtualMillis() / 1000.0,
        result.chosenSlots(),
        result.acknowledgedWrites(),
        result.reads(),
        result.leaderChanges(),
        result.invariantChecks());
    if (result.ok()) {
      out.println("All invariants held and the history is linearizable.");
    } else {
      out.println("VIOLATION: " + result.violation());
      System.exit(1);
    }
  }

  private static void usage(String problem) {
    System.err.println("error: " + problem);
    System.err.println("usage: ops/demo [--seed N] [--messages]");
    System.exit(2);
  }
}
