package io.paxcron.scheduler.sim;

import io.paxcron.simkit.SoakArguments;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * Runs many whole-system seeds and prints one summary line; the entry point of {@code ops/soak
 * --scope system}.
 *
 * <pre>
 * ops/soak --scope system --seeds N [--first SEED] [--fault-millis N] [--bug NAME] [--no-intent-check] [--calm] [--trace] [--verbose]
 * </pre>
 *
 * <p>Ends with exactly one line {@code SOAK scope=system seeds=N events=N events_per_s=N
 * violations=N acknowledged=N lost=N duplicated=N unaccounted=N}. Exit status 0 when no seed found
 * a violation, 1 when one did, 2 for a usage error. Every violation prints the seed's fault plan,
 * what broke and the command that replays it.
 */
public final class SystemSoak {

  private SystemSoak() {}

  public static void main(String[] args) {
    SoakArguments.main(
        args,
        "ops/soak --scope system --seeds N [--first SEED] [--fault-millis N]"
            + " [--bug NAME] [--no-intent-check] [--calm] [--trace] [--verbose]",
        SystemSoak::run);
  }

  static int run(String[] args, PrintStream out) throws SoakArguments.UsageException {
    long seeds = 100;
    long first = 1;
    long faultMillis = SystemSimulation.DEFAULT_FAULT_MILLIS;
    SystemBug bug = SystemBug.NONE;
    boolean trace = false;
    boolean verbose = false;
    boolean intentCheck = true;
    boolean calm = false;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      switch (flag) {
        case "--seeds" ->
            seeds = SoakArguments.parseLong(flag, SoakArguments.value(args, ++i, flag), 1);
        case "--first" ->
            first =
                SoakArguments.parseLong(flag, SoakArguments.value(args, ++i, flag), Long.MIN_VALUE);
        case "--fault-millis" ->
            faultMillis =
                SoakArguments.parseLong(flag, SoakArguments.value(args, ++i, flag), 1_000);
        case "--scope" -> {
          String scope = SoakArguments.value(args, ++i, flag);
          if (!scope.equals("system")) {
            throw new SoakArguments.UsageException(
                "--scope: SystemSoak runs scope 'system', got '" + scope + "'");
          }
        }
        case "--trace" -> trace = true;
        case "--verbose" -> verbose = true;
        case "--no-intent-check" -> intentCheck = false;
        case "--calm" -> calm = true;
        case "--bug" -> {
          String name =
              SoakArguments.value(args, ++i, flag).toUpperCase(Locale.ROOT).replace('-', '_');
          try {
            bug = SystemBug.valueOf(name);
          } catch (IllegalArgumentException e) {
            throw new SoakArguments.UsageException(
                "--bug: unknown variant '"
                    + name
                    + "'; known: "
                    + Arrays.toString(SystemBug.values()));
          }
        }
        default -> throw new SoakArguments.UsageException("unknown argument '" + flag + "'");
      }
    }
    long events = 0;
    long violations = 0;
    SystemChecker.Counts total = SystemChecker.Counts.ZERO;
    long startNanos = System.nanoTime();
    for (long seed = first; seed < first + seeds; seed++) {
      SystemSimulation.Options options =
          SystemSimulation.Options.of(seed).withFaultMillis(faultMillis).withBug(bug);
      if (!intentCheck) {
        options = options.withoutIntentCheck();
      }
      if (calm) {
        options = options.withoutFaults();
      }
      if (trace) {
        options = options.withTrace(out);
      }
      SystemSimulation.Result result = new SystemSimulation(options).run();
      events += result.events();
      total = total.plus(result.counts());
      if (!result.ok()) {
        violations++;
        out.println("VIOLATION seed=" + seed + " " + result.violation());
        out.println("  plan: " + result.plan());
        out.println("  replay: " + result.replayCommand());
      } else if (trace) {
        out.println("seed " + seed + " ok: " + result.events() + " events, " + result.counts());
      }
    }
    double seconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
    if (verbose) {
      out.println(describe(total, seeds, seconds));
    }
    out.println(
        "SOAK scope=system seeds="
            + seeds
            + " events="
            + events
            + " events_per_s="
            + Math.round(events / seconds)
            + " violations="
            + violations
            + " acknowledged="
            + total.acknowledged()
            + " lost="
            + total.lost()
            + " duplicated="
            + total.duplicated()
            + " unaccounted="
            + total.unaccounted());
    return violations == 0 ? 0 : 1;
  }

  /** Every count, per invariant, for reports. */
  static String describe(SystemChecker.Counts c, long seeds, double seconds) {
    return String.format(
        Locale.ROOT,
        "system: %d seeds in %.1f s (%.1f seeds/s)%n"
            + "  job changes: attempted=%d acknowledged=%d ok=%d lost=%d recovered=%d unexpected=%d%n"
            + "  launches: accepted=%d started=%d duplicated=%d fenced-below-seen=%d without-intent=%d%n"
            + "  ledger: instants-expected=%d accounted=%d unaccounted=%d double-records=%d late=%d"
            + " max-settle=%d ms records=%d succeeded=%d lost-runs=%d skipped-instants=%d%n"
            + "  eligibility: intents-refused=%d (proposed without faults, refused as ineligible)",
        seeds,
        seconds,
        seeds / seconds,
        c.attempted(),
        c.acknowledged(),
        c.ok(),
        c.lost(),
        c.recovered(),
        c.unexpected(),
        c.launchesAccepted(),
        c.runsStarted(),
        c.duplicated(),
        c.fencedBelowSeen(),
        c.launchesWithoutIntent(),
        c.instantsExpected(),
        c.instantsAccounted(),
        c.unaccounted(),
        c.doubleRecords(),
        c.lateRecords(),
        c.maxSettleMillis(),
        c.ledgerRecords(),
        c.succeededRuns(),
        c.lostRuns(),
        c.skippedInstants(),
        c.intentsRefused());
  }
}
