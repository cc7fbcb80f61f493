package io.paxcron.sim.linearizability;

import static io.paxcron.sim.linearizability.Histories.get;
import static io.paxcron.sim.linearizability.Histories.pendingGet;
import static io.paxcron.sim.linearizability.Histories.pendingPut;
import static io.paxcron.sim.linearizability.Histories.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.sim.linearizability.KeyValueModel.Input;
import io.paxcron.sim.linearizability.KeyValueModel.Output;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {

  private final LinearizabilityChecker checker = new LinearizabilityChecker(1_000_000);
  private final KeyValueModel model = new KeyValueModel();

  private CheckResult check(List<Operation<Input, Output>> history) {
    return checker.check(model, history);
  }

  private void assertLinearizable(List<Operation<Input, Output>> history) {
    CheckResult result = check(history);
    assertInstanceOf(
        CheckResult.Linearizable.class, result, () -> "expected linearizable: " + result);
  }

  private String assertNotLinearizable(List<Operation<Input, Output>> history) {
    CheckResult result = check(history);
    return assertInstanceOf(
            CheckResult.NotLinearizable.class, result, () -> "expected a violation: " + result)
        .explanation();
  }

  @Test
  void emptyHistoryIsLinearizable() {
    assertLinearizable(List.of());
  }

  @Test
  void sequentialHistoryIsAccepted() {
    assertLinearizable(
        List.of(
            get(0, 0, 1, "x", null),
            put(0, 2, 3, "x", "1"),
            get(1, 4, 5, "x", "1"),
            put(1, 6, 7, "x", "2"),
            get(0, 8, 9, "x", "2")));
  }

  @Test
  void readOverlappingWriteMayObserveTheOldValue() {
    assertLinearizable(
        List.of(put(0, 0, 1, "x", "1"), put(0, 2, 10, "x", "2"), get(1, 3, 5, "x", "1")));
  }

  @Test
  void readOverlappingWriteMayObserveTheNewValue() {
    assertLinearizable(
        List.of(put(0, 0, 1, "x", "1"), put(0, 2, 10, "x", "2"), get(1, 3, 5, "x", "2")));
  }

  @Test
  void concurrentWritesMayTakeEffectInEitherOrder() {
    assertLinearizable(
        List.of(put(0, 0, 10, "x", "a"), put(1, 1, 9, "x", "b"), get(2, 11, 12, "x", "a")));
    assertLinearizable(
        List.of(put(0, 0, 10, "x", "a"), put(1, 1, 9, "x", "b"), get(2, 11, 12, "x", "b")));
  }

  @Test
  void readOfValueNeverWrittenIsRejected() {
    assertNotLinearizable(List.of(put(0, 0, 1, "x", "1"), get(1, 2, 3, "x", "42")));
  }

  @Test
  void staleReadAfterAcknowledgedWriteIsRejected() {
    String explanation =
        assertNotLinearizable(
            List.of(put(0, 0, 1, "x", "1"), put(0, 2, 3, "x", "2"), get(1, 4, 5, "x", "1")));
    assertTrue(explanation.contains("get(x) -> 1"), explanation);
  }

  @Test
  void readsInRealTimeOrderCannotObserveNewThenOldValue() {
    assertNotLinearizable(
        List.of(
            put(0, 0, 1, "x", "1"),
            put(0, 2, 20, "x", "2"),
            get(1, 3, 4, "x", "2"),
            get(2, 5, 6, "x", "1")));
  }

  @Test
  void readCannotObserveWriteThatStartedAfterItReturned() {
    assertNotLinearizable(List.of(get(1, 0, 1, "x", "1"), put(0, 2, 3, "x", "1")));
  }

  @Test
  void lostWriteSeenByNoOneWhileLaterReadsSeeTheOlderValueIsRejected() {
    assertNotLinearizable(
        List.of(
            put(0, 0, 1, "x", "old"),
            put(1, 2, 5, "x", "new"),
            get(2, 3, 4, "x", "old"),
            get(2, 6, 7, "x", "old"),
            get(3, 8, 9, "x", "old")));
  }

  @Test
  void operationsTouchingAtOneInstantAreConcurrent() {
    // The put returns at the instant the get is called, so the get may be linearized first.
    assertLinearizable(List.of(put(0, 0, 5, "x", "1"), get(1, 5, 6, "x", null)));
  }

  @Test
  void operationStrictlyAfterAnotherMustObserveIt() {
    assertNotLinearizable(List.of(put(0, 0, 5, "x", "1"), get(1, 6, 7, "x", null)));
  }

  @Test
  void pendingPutMayTakeEffect() {
    assertLinearizable(
        List.of(
            put(0, 0, 1, "x", "1"),
            pendingPut(1, 2, "x", "2"),
            get(2, 10, 11, "x", "2"),
            get(2, 12, 13, "x", "2")));
  }

  @Test
  void pendingPutMayNeverTakeEffect() {
    assertLinearizable(
        List.of(
            put(0, 0, 1, "x", "1"),
            pendingPut(1, 2, "x", "2"),
            get(2, 10, 11, "x", "1"),
            get(2, 12, 13, "x", "1")));
  }

  @Test
  void pendingPutMayTakeEffectLongAfterItsClientGaveUp() {
    assertLinearizable(
        List.of(
            put(0, 0, 1, "x", "1"),
            pendingPut(1, 2, "x", "2"),
            get(2, 10, 11, "x", "1"),
            get(2, 100, 101, "x", "2")));
  }

  @Test
  void pendingPutCannotTakeEffectBeforeItsCall() {
    assertNotLinearizable(
        List.of(put(0, 0, 1, "x", "1"), get(2, 2, 3, "x", "2"), pendingPut(1, 5, "x", "2")));
  }

  @Test
  void pendingPutTakesEffectAtMostOnce() {
    assertNotLinearizable(
        List.of(
            pendingPut(1, 0, "x", "2"),
            get(2, 1, 2, "x", "2"),
            put(0, 3, 4, "x", "1"),
            get(2, 5, 6, "x", "2")));
  }

  @Test
  void pendingGetConstrainsNothing() {
    assertLinearizable(
        List.of(put(0, 0, 1, "x", "1"), pendingGet(1, 2, "x"), get(2, 3, 4, "x", "1")));
  }

  @Test
  void outputRecordedForPendingOperationIsIgnored() {
    Operation<Input, Output> timedOutRead =
        new Operation<>(
            1,
            2,
            Operation.UNKNOWN_RETURN,
            new KeyValueModel.Get("x"),
            new KeyValueModel.GetResult("junk"));
    assertLinearizable(List.of(put(0, 0, 1, "x", "1"), timedOutRead));
  }

  @Test
  void independentKeysAreCheckedSeparately() {
    CheckResult result =
        check(
            List.of(
                put(0, 0, 10, "x", "1"),
                put(1, 1, 11, "y", "a"),
                get(2, 2, 3, "y", null),
                get(3, 4, 12, "x", "1"),
                get(2, 13, 14, "y", "a"),
                get(3, 13, 14, "x", "1")));
    CheckResult.Linearizable linearizable =
        assertInstanceOf(CheckResult.Linearizable.class, result);
    assertEquals(2, linearizable.partitions());
  }

  @Test
  void violationOnOneKeyIsReportedNamingTheKey() {
    String explanation =
        assertNotLinearizable(
            List.of(
                put(0, 0, 1, "alpha", "1"),
                get(1, 2, 3, "alpha", "1"),
                put(0, 0, 1, "beta", "1"),
                put(0, 2, 3, "beta", "2"),
                get(1, 4, 5, "beta", "1"),
                put(0, 0, 1, "gamma", "1")));
    assertTrue(explanation.startsWith("key 'beta' is not linearizable"), explanation);
    assertTrue(!explanation.contains("alpha") && !explanation.contains("gamma"), explanation);
  }

  @Test
  void explanationNamesLongestPrefixAndTheOperationThatCouldNotBePlaced() {
    String explanation =
        assertNotLinearizable(
            List.of(put(0, 0, 1, "x", "1"), put(0, 2, 3, "x", "2"), get(1, 4, 5, "x", "1")));
    assertTrue(
        explanation.contains("Longest linearizable prefix found has 2 operations"), explanation);
    assertTrue(explanation.contains("client 0 [0..1] put(x, 1) -> ok"), explanation);
    assertTrue(explanation.contains("client 0 [2..3] put(x, 2) -> ok"), explanation);
    assertTrue(
        explanation.contains("client 1 [4..5] get(x) -> 1 returned before it could be placed"),
        explanation);
    assertTrue(explanation.contains("(impossible from this state)"), explanation);
  }

  @Test
  void exhaustedSearchBudgetReturnsUnknown() {
    CheckResult result =
        new LinearizabilityChecker(3)
            .check(
                model,
                List.of(
                    put(0, 0, 10, "x", "1"),
                    put(1, 0, 10, "x", "2"),
                    put(2, 0, 10, "x", "3"),
                    get(3, 11, 12, "x", "1")));
    CheckResult.Unknown unknown = assertInstanceOf(CheckResult.Unknown.class, result);
    assertTrue(unknown.reason().contains("maxSearchSteps=3"), unknown.reason());
    assertTrue(unknown.reason().contains("key 'x'"), unknown.reason());
  }

  @Test
  void violationIsReportedEvenWhenAnotherKeyExhaustsTheBudget() {
    CheckResult result =
        new LinearizabilityChecker(5)
            .check(
                model,
                List.of(
                    put(0, 0, 10, "a", "1"),
                    put(1, 0, 10, "a", "2"),
                    put(2, 0, 10, "a", "3"),
                    put(3, 0, 10, "a", "4"),
                    get(4, 11, 12, "a", "1"),
                    get(0, 0, 1, "b", "never written")));
    assertInstanceOf(CheckResult.NotLinearizable.class, result, result::toString);
  }

  @Test
  void searchBudgetMustBePositive() {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> new LinearizabilityChecker(0));
    assertTrue(error.getMessage().contains("maxSearchSteps"), error.getMessage());
  }

  @Test
  void operationReturningBeforeItsCallIsRejected() {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> put(0, 5, 4, "x", "1"));
    assertTrue(error.getMessage().contains("callTime 5 after returnTime 4"), error.getMessage());
  }

  @Test
  void mismatchedOutputIsRejectedAsMalformedHistory() {
    Operation<Input, Output> putAnsweredByRead =
        new Operation<>(0, 0, 1, new KeyValueModel.Put("x", "1"), new KeyValueModel.GetResult("1"));
    assertThrows(IllegalArgumentException.class, () -> check(List.of(putAnsweredByRead)));
  }

  /** A counter whose increments return the new value: a model that keeps the default partition. */
  private record Counter() implements Model<Integer, String, Integer> {
    @Override
    public Integer initialState() {
      return 0;
    }

    @Override
    public Optional<Integer> step(Integer state, String input, Integer output) {
      return output == null || output == state + 1 ? Optional.of(state + 1) : Optional.empty();
    }
  }

  @Test
  void modelWithoutPartitioningIsCheckedAsOneHistory() {
    LinearizabilityChecker counterChecker = new LinearizabilityChecker(1_000);
    assertInstanceOf(
        CheckResult.Linearizable.class,
        counterChecker.check(
            new Counter(),
            List.of(
                new Operation<>(0, 0, 10, "increment", 2),
                new Operation<>(1, 1, 9, "increment", 1))));
    CheckResult duplicate =
        counterChecker.check(
            new Counter(),
            List.of(
                new Operation<>(0, 0, 10, "increment", 1),
                new Operation<>(1, 1, 9, "increment", 1)));
    String explanation =
        assertInstanceOf(CheckResult.NotLinearizable.class, duplicate).explanation();
    assertTrue(explanation.startsWith("partition 0 is not linearizable"), explanation);
  }

  @Test
  void checkerPassesNoOutputToTheModelForAnOperationWithUnknownReturn() {
    CheckResult result =
        new LinearizabilityChecker(1_000)
            .check(
                new Counter(),
                List.of(
                    new Operation<>(0, 0, Operation.UNKNOWN_RETURN, "increment", 99),
                    new Operation<>(1, 1, 2, "increment", 2)));
    assertInstanceOf(CheckResult.Linearizable.class, result, result::toString);
  }
}
