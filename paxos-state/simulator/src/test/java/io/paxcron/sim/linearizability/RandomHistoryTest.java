package io.paxcron.sim.linearizability;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.sim.linearizability.KeyValueModel.Get;
import io.paxcron.sim.linearizability.KeyValueModel.GetResult;
import io.paxcron.sim.linearizability.KeyValueModel.Input;
import io.paxcron.sim.linearizability.KeyValueModel.Output;
import io.paxcron.sim.linearizability.KeyValueModel.Put;
import io.paxcron.sim.linearizability.KeyValueModel.PutOk;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;

/**
 * Checks histories of a simulated register that is linearizable by construction: every operation
 * takes effect at a random instant inside its interval, so the checker must accept it, and must
 * reject it once one read is corrupted to a value nobody wrote.
 */
class RandomHistoryTest {

  private static final String SEED_PROPERTY = "linearizability.seed";
  private static final int SEEDS_PER_RUN = 25;
  private static final int OPERATIONS = 2_000;
  private static final int CLIENTS = 5;
  private static final int KEYS = 10;

  /**
   * Generous for histories of this shape (they take a few thousand steps), yet small enough that a
   * search gone exponential fails the test instead of hanging it.
   */
  private static final long MAX_SEARCH_STEPS = 200_000;

  private final KeyValueModel model = new KeyValueModel();
  private final LinearizabilityChecker checker = new LinearizabilityChecker(MAX_SEARCH_STEPS);

  @Test
  void historiesOfALinearizableRegisterAreAccepted() {
    forEachSeed(
        seed -> {
          List<Operation<Input, Output>> history =
              RegisterSimulation.run(new SplittableRandom(seed));
          CheckResult result = checker.check(model, history);
          assertInstanceOf(CheckResult.Linearizable.class, result, () -> failure(seed, result));
        });
  }

  @Test
  void readCorruptedToAValueNeverWrittenIsRejected() {
    forEachSeed(
        seed -> {
          SplittableRandom random = new SplittableRandom(seed);
          List<Operation<Input, Output>> history = new ArrayList<>(RegisterSimulation.run(random));
          List<Integer> completedReads = new ArrayList<>();
          for (int index = 0; index < history.size(); index++) {
            Operation<Input, Output> operation = history.get(index);
            if (operation.input() instanceof Get && !operation.isPending()) {
              completedReads.add(index);
            }
          }
          int victim = completedReads.get(random.nextInt(completedReads.size()));
          Operation<Input, Output> read = history.get(victim);
          history.set(
              victim,
              new Operation<>(
                  read.clientId(),
                  read.callTime(),
                  read.returnTime(),
                  read.input(),
                  new GetResult("never-written")));

          CheckResult result = checker.check(model, history);
          CheckResult.NotLinearizable violation =
              assertInstanceOf(
                  CheckResult.NotLinearizable.class, result, () -> failure(seed, result));
          String key = read.input().key();
          assertTrue(
              violation.explanation().startsWith("key '" + key + "'"), () -> failure(seed, result));
          assertTrue(
              violation.explanation().contains("get(" + key + ") -> never-written"),
              () -> failure(seed, result));
        });
  }

  private static void forEachSeed(LongConsumer test) {
    Long replay = Long.getLong(SEED_PROPERTY);
    if (replay != null) {
      test.accept(replay);
      return;
    }
    SplittableRandom seeds = new SplittableRandom(0x5EED_0F_C0DEL);
    for (int run = 0; run < SEEDS_PER_RUN; run++) {
      test.accept(seeds.nextLong());
    }
  }

  private static String failure(long seed, CheckResult result) {
    return "seed "
        + seed
        + " (replay: mvn -pl paxos-state/simulator -am test"
        + " -Dtest='io.paxcron.sim.linearizability.RandomHistoryTest' -Dsurefire.failIfNoSpecifiedTests=false"
        + " -D"
        + SEED_PROPERTY
        + "="
        + seed
        + "): "
        + result;
  }

  /**
   * Clients issuing puts and gets against an atomic register map. Each client runs one operation at
   * a time; an operation takes effect at an instant drawn from inside its interval, which is
   * exactly what linearizability promises. Some puts time out: they take effect inside their
   * interval or never, and the client moves on without learning which.
   */
  static final class RegisterSimulation {
    private static final long MAX_THINK_TICKS = 20;
    private static final long MAX_DURATION_TICKS = 60;
    private static final int PERCENT_PUTS = 40;
    private static final int PERCENT_TIMEOUTS = 2;

    private RegisterSimulation() {}

    private record Planned(
        Operation<Input, Output> operation, long effectTime, boolean takesEffect) {}

    static List<Operation<Input, Output>> run(SplittableRandom random) {
      long[] clientFreeAt = new long[CLIENTS];
      List<Planned> planned = new ArrayList<>(OPERATIONS);
      int written = 0;
      for (int index = 0; index < OPERATIONS; index++) {
        int client = random.nextInt(CLIENTS);
        long call = clientFreeAt[client] + random.nextLong(MAX_THINK_TICKS + 1);
        long duration = random.nextLong(MAX_DURATION_TICKS + 1);
        long effectTime = call + random.nextLong(duration + 1);
        clientFreeAt[client] = call + duration + 1;
        String key = "k" + random.nextInt(KEYS);
        boolean timedOut = random.nextInt(100) < PERCENT_TIMEOUTS;
        Input input =
            random.nextInt(100) < PERCENT_PUTS ? new Put(key, "v" + written++) : new Get(key);
        Operation<Input, Output> operation =
            timedOut
                ? Operation.pending(client, call, input)
                : new Operation<>(client, call, call + duration, input, null);
        planned.add(new Planned(operation, effectTime, !timedOut || random.nextBoolean()));
      }

      // Apply the operations in effect-time order; index order breaks ties, which is sound
      // because two operations with one effect instant both contain it and so overlap.
      List<Integer> effectOrder = new ArrayList<>();
      for (int index = 0; index < planned.size(); index++) {
        effectOrder.add(index);
      }
      effectOrder.sort(
          Comparator.comparingLong((Integer index) -> planned.get(index).effectTime())
              .thenComparingInt(index -> index));
      Map<String, String> register = new HashMap<>();
      List<Operation<Input, Output>> history =
          new ArrayList<>(Collections.nCopies(planned.size(), null));
      for (int index : effectOrder) {
        Planned plan = planned.get(index);
        Operation<Input, Output> operation = plan.operation();
        Output output =
            switch (operation.input()) {
              case Put put -> {
                if (plan.takesEffect()) {
                  register.put(put.key(), put.value());
                }
                yield new PutOk();
              }
              case Get get -> new GetResult(register.get(get.key()));
            };
        history.set(
            index,
            operation.isPending()
                ? operation
                : new Operation<>(
                    operation.clientId(),
                    operation.callTime(),
                    operation.returnTime(),
                    operation.input(),
                    output));
      }
      return history;
    }
  }
}
