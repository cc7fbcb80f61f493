package io.paxcron.sim.linearizability;

import java.util.List;
import java.util.Optional;

/**
 * A sequential specification: the behaviour a linearizable object must be indistinguishable from.
 *
 * <p>States must be immutable values with {@code equals} and {@code hashCode} (records): the
 * checker memoizes explored (linearized set, state) pairs and keeps earlier states for
 * backtracking. Implementations must be deterministic and side-effect free, because the checker
 * calls {@link #step} many times for the same operation while it searches.
 *
 * @param <S> the state type
 * @param <I> the operation input type
 * @param <O> the operation output type
 */
public interface Model<S, I, O> {

  /** The state before any operation has taken effect; never null. */
  S initialState();

  /**
   * The state after applying {@code input} with the observed {@code output}, or {@link
   * Optional#empty()} if that output is impossible from this state.
   *
   * <p>{@code output} is null when the client never learned the outcome ({@link
   * Operation#UNKNOWN_RETURN}); the model must then accept any outcome and return the state the
   * operation would leave if it took effect.
   */
  Optional<S> step(S state, I input, O output);

  /**
   * Splits a history into independent sub-histories that may be checked separately
   * (P-compositionality, Horn and Kroening 2015). A history is linearizable if and only if every
   * sub-history is, so a model may only split along lines its operations never cross, such as the
   * keys of a key-value store. The default keeps one partition.
   */
  default List<List<Operation<I, O>>> partition(List<Operation<I, O>> history) {
    return List.of(history);
  }

  /** A human-readable description of an operation, for counterexamples; output may be null. */
  default String describe(I input, O output) {
    return input + " -> " + output;
  }

  /**
   * A human-readable name for one partition returned by {@link #partition}, such as the key it
   * holds, so that a counterexample says where to look.
   */
  default String describePartition(int index, List<Operation<I, O>> partition) {
    return "partition " + index;
  }
}
