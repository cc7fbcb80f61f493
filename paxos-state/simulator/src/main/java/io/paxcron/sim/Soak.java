package io.paxcron.sim;

import io.paxcron.simkit.PlantedBug;
import io.paxcron.simkit.SoakArguments;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Runs many simulator seeds and prints one summary line; the entry point of {@code ops/soak}.
 *
 * <pre>
 * ops/soak --seeds N [--first SEED] [--scope core] [--events N] [--bug NAME] [--trace]
 * </pre>
 *
 * <p>Exit status 0 when no seed found a violation, 1 when one did, 2 for a usage error. Every
 * violation prints the seed's fault plan, what broke and the command that replays it.
 */
public final class Soak {

  private Soak() {}

  public static void main(String[] args) {
    SoakArguments.main(
        args,
        "ops/soak --seeds N [--first SEED] [--scope core] [--events N] [--bug NAME]"
            + " [--membership] [--trace]",
        Soak::run);
  }

  static int run(String[] args, PrintStream out) throws SoakArguments.UsageException {
    long seeds = 100;
    long first = 1;
    int events = Simulation.DEFAULT_FAULT_EVENTS;
    PlantedBug plantedBug = PlantedBug.NONE;
    Simulation.DriverBug driverBug = Simulation.DriverBug.NONE;
    boolean trace = false;
    boolean membership = false;
    String scope = "core";
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      switch (flag) {
        case "--seeds" ->
            seeds = SoakArguments.parseLong(flag, SoakArguments.value(args, ++i, flag), 1);
        case "--first" ->
            first =
                SoakArguments.parseLong(flag, SoakArguments.value(args, ++i, flag), Long.MIN_VALUE);
        case "--events" ->
            events = (int) SoakArguments.parseLong(flag, SoakArguments.value(args, ++i, flag), 1);
        case "--scope" -> scope = SoakArguments.value(args, ++i, flag);
        case "--trace" -> trace = true;
        case "--membership" -> membership = true;
        case "--bug" -> {
          String name =
              SoakArguments.value(args, ++i, flag).toUpperCase(Locale.ROOT).replace('-', '_');
          if (name.equals(Simulation.DriverBug.REPLY_BEFORE_PERSIST.name())
              || name.equals(Simulation.DriverBug.ACCEPTS_AS_LEARNED.name())) {
            driverBug = Simulation.DriverBug.valueOf(name);
          } else {
            try {
              plantedBug = PlantedBug.valueOf(name);
            } catch (IllegalArgumentException e) {
              throw new SoakArguments.UsageException(
                  "--bug: unknown variant '"
                      + name
                      + "'; known: "
                      + java.util.Arrays.toString(PlantedBug.values())
                      + ", REPLY_BEFORE_PERSIST and ACCEPTS_AS_LEARNED");
            }
          }
        }
        default -> throw new SoakArguments.UsageException("unknown argument '" + flag + "'");
      }
    }
    if (!scope.equals("core")) {
      throw new SoakArguments.UsageException(
          "--scope: this entry point runs scope 'core', got '"
              + scope
              + "'; ops/soak --scope system runs io.paxcron.scheduler.sim.SystemSoak");
    }
    long totalEvents = 0;
    long violations = 0;
    long needlessElections = 0;
    long startNanos = System.nanoTime();
    for (long seed = first; seed < first + seeds; seed++) {
      Simulation.Options options =
          Simulation.Options.of(seed)
              .withFaultEvents(events)
              .withPlantedBug(plantedBug)
              .withDriverBug(driverBug)
              .withMembershipChanges(membership);
      if (trace) {
        options = options.withTrace(out, true);
      }
      Simulation.Result result = new Simulation(options).run();
      totalEvents += result.events();
      needlessElections += result.needlessElections();
      if (result.needlessElections() > 0) {
        out.println(
            "NEEDLESS seed="
                + seed
                + " elections="
                + result.needlessElections()
                + " replay: "
                + result.replayCommand());
      }
      if (!result.ok()) {
        violations++;
        out.println("VIOLATION seed=" + seed + " " + result.violation());
        out.println("  plan: " + result.plan().description());
        out.println("  replay: " + result.replayCommand());
      } else if (trace) {
        out.println("seed " + seed + " ok: " + result);
      }
    }
    double seconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
    out.println(
        "SOAK scope="
            + scope
            + " seeds="
            + seeds
            + " events="
            + totalEvents
            + " events_per_s="
            + Math.round(totalEvents / seconds)
            + " violations="
            + violations
            + " needless_elections="
            + needlessElections);
    return violations == 0 ? 0 : 1;
  }
}
