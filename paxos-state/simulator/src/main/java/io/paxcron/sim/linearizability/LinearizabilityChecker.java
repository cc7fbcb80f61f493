package io.paxcron.sim.linearizability;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Decides whether a history of operations is linearizable with respect to a {@link Model}.
 *
 * <p>The search is Wing and Gong's: walk the history's call and return events in time order,
 * tentatively linearize ("lift") any operation whose call has been seen, and backtrack when an
 * operation's return is reached before it could be linearized. Lowe's memoization prunes every (set
 * of linearized operations, model state) configuration already explored, since a configuration that
 * once led to a dead end always will. Each partition returned by {@link Model#partition} is checked
 * on its own; the history is linearizable if and only if all are.
 *
 * <p><b>Real-time order and ties.</b> Operation A must precede operation B only if {@code
 * A.returnTime < B.callTime}. Events at equal times are ordered calls before returns, so an
 * operation that returns at the instant another is called overlaps it and may be linearized either
 * side of it. This is the conservative rule: a history is never rejected because of an ordering
 * that the recorded times cannot establish.
 *
 * <p><b>Limits.</b> Each partition's search stops after {@code maxSearchSteps} steps (one step
 * tries one event) and that partition is reported undecided. Each step adds at most one memoized
 * configuration, so the budget also bounds memory.
 *
 * <p>Instances hold no mutable state and may be shared between threads; the model must then be
 * thread-safe too.
 */
public final class LinearizabilityChecker {

  /** How many operations of a prefix or of a candidate list a counterexample spells out. */
  private static final int MAX_OPERATIONS_IN_EXPLANATION = 20;

  private final long maxSearchSteps;

  /**
   * @param maxSearchSteps the most search steps spent on any one partition before it is reported
   *     {@link CheckResult.Unknown}; must be positive
   */
  public LinearizabilityChecker(long maxSearchSteps) {
    if (maxSearchSteps <= 0) {
      throw new IllegalArgumentException("maxSearchSteps must be > 0, got " + maxSearchSteps);
    }
    this.maxSearchSteps = maxSearchSteps;
  }

  /**
   * Checks {@code history} against {@code model}. A partition found not linearizable is reported
   * even when another partition exhausted its budget, because a violation is a definite verdict.
   *
   * @throws IllegalArgumentException if the model rejects the history as malformed
   */
  public <S, I, O> CheckResult check(Model<S, I, O> model, List<Operation<I, O>> history) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(history, "history");
    List<List<Operation<I, O>>> partitions = model.partition(List.copyOf(history));
    long totalSteps = 0;
    List<String> undecided = new ArrayList<>();
    for (int index = 0; index < partitions.size(); index++) {
      List<Operation<I, O>> partition = List.copyOf(partitions.get(index));
      String partitionName = model.describePartition(index, partition);
      Search<S, I, O> search = new Search<>(model, partition, maxSearchSteps);
      Verdict verdict = search.run();
      totalSteps += search.steps;
      switch (verdict) {
        case LINEARIZABLE -> {}
        case NOT_LINEARIZABLE -> {
          return new CheckResult.NotLinearizable(search.explain(partitionName));
        }
        case BUDGET_EXHAUSTED ->
            undecided.add(partitionName + " (" + partition.size() + " operations)");
      }
    }
    if (!undecided.isEmpty()) {
      return new CheckResult.Unknown(
          "search budget exhausted: maxSearchSteps="
              + maxSearchSteps
              + " was not enough to decide "
              + String.join(", ", undecided)
              + "; no partition was found to be non-linearizable");
    }
    return new CheckResult.Linearizable(partitions.size(), totalSteps);
  }

  private enum Verdict {
    LINEARIZABLE,
    NOT_LINEARIZABLE,
    BUDGET_EXHAUSTED
  }

  /** A linearization decision to undo on backtracking: the call lifted and the state before it. */
  private record Frame<S>(int callEvent, S stateBefore) {}

  /**
   * A memoized configuration. The bit set is copied when the configuration is stored, so it is
   * never mutated afterwards.
   */
  private static final class Configuration<S> {
    private final long[] linearized;
    private final S state;
    private final int hash;

    Configuration(long[] linearized, S state) {
      this.linearized = linearized;
      this.state = state;
      this.hash = 31 * Arrays.hashCode(linearized) + state.hashCode();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Configuration<?> that
          && hash == that.hash
          && Arrays.equals(linearized, that.linearized)
          && state.equals(that.state);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  private record Event(long time, boolean isCall, int operation) {}

  /** Orders events by time, calls before returns at equal times (see the class comment). */
  private static final Comparator<Event> EVENT_ORDER =
      Comparator.comparingLong(Event::time)
          .thenComparing(event -> !event.isCall())
          .thenComparingInt(Event::operation);

  /**
   * The search over one partition. Events live in a doubly linked list threaded through arrays,
   * with a head and a tail sentinel, so that lifting an operation (unlinking its call and return)
   * and undoing that in last-in-first-out order are constant time ("dancing links").
   */
  private static final class Search<S, I, O> {
    private final Model<S, I, O> model;
    private final List<Operation<I, O>> operations;
    private final long maxSteps;

    private final int[] eventOperation;
    private final boolean[] eventIsCall;
    private final int[] eventMatch;
    private final int[] next;
    private final int[] previous;
    private final int head;
    private final int tail;

    private final long[] linearized;
    private final Set<Configuration<S>> explored = new HashSet<>();
    private final ArrayDeque<Frame<S>> stack = new ArrayDeque<>();
    long steps;

    private int deepestPrefixLength = -1;
    private List<Integer> deepestPrefix = List.of();
    private S stateAfterDeepestPrefix;
    private int blockingOperation = -1;
    private List<Integer> candidatesAfterDeepestPrefix = List.of();

    Search(Model<S, I, O> model, List<Operation<I, O>> operations, long maxSteps) {
      this.model = model;
      this.operations = operations;
      this.maxSteps = maxSteps;
      int count = operations.size();
      List<Event> events = new ArrayList<>(2 * count);
      for (int operation = 0; operation < count; operation++) {
        Operation<I, O> op = Objects.requireNonNull(operations.get(operation), "operation");
        events.add(new Event(op.callTime(), true, operation));
        events.add(new Event(op.returnTime(), false, operation));
      }
      events.sort(EVENT_ORDER);

      int eventCount = events.size();
      eventOperation = new int[eventCount];
      eventIsCall = new boolean[eventCount];
      eventMatch = new int[eventCount];
      int[] callEventOf = new int[count];
      for (int event = 0; event < eventCount; event++) {
        Event e = events.get(event);
        eventOperation[event] = e.operation();
        eventIsCall[event] = e.isCall();
        if (e.isCall()) {
          callEventOf[e.operation()] = event;
        } else {
          eventMatch[event] = callEventOf[e.operation()];
          eventMatch[callEventOf[e.operation()]] = event;
        }
      }
      head = eventCount;
      tail = eventCount + 1;
      next = new int[eventCount + 2];
      previous = new int[eventCount + 2];
      for (int event = 0; event < eventCount; event++) {
        previous[event] = event == 0 ? head : event - 1;
        next[event] = event == eventCount - 1 ? tail : event + 1;
      }
      next[head] = eventCount == 0 ? tail : 0;
      previous[tail] = eventCount == 0 ? head : eventCount - 1;
      linearized = new long[(count + 63) / 64];
    }

    Verdict run() {
      S state = Objects.requireNonNull(model.initialState(), "model.initialState()");
      int event = next[head];
      while (next[head] != tail) {
        if (steps == maxSteps) {
          return Verdict.BUDGET_EXHAUSTED;
        }
        steps++;
        if (eventIsCall[event]) {
          int operation = eventOperation[event];
          Optional<S> after = step(state, operation);
          if (after.isPresent()) {
            setLinearized(operation, true);
            if (explored.add(new Configuration<>(linearized.clone(), after.get()))) {
              stack.push(new Frame<>(event, state));
              state = after.get();
              lift(event);
              event = next[head];
              continue;
            }
            setLinearized(operation, false);
          }
          event = next[event];
        } else {
          // An operation's response came before it was linearized, so no extension of the
          // current prefix is valid: undo the latest linearization and try the next candidate.
          recordIfDeepest(event, state);
          if (stack.isEmpty()) {
            return Verdict.NOT_LINEARIZABLE;
          }
          Frame<S> frame = stack.pop();
          state = frame.stateBefore();
          setLinearized(eventOperation[frame.callEvent()], false);
          unlift(frame.callEvent());
          event = next[frame.callEvent()];
        }
      }
      return Verdict.LINEARIZABLE;
    }

    private Optional<S> step(S state, int operation) {
      Operation<I, O> op = operations.get(operation);
      O output = op.isPending() ? null : op.output();
      return Objects.requireNonNull(model.step(state, op.input(), output), "model.step(...)");
    }

    private void setLinearized(int operation, boolean value) {
      long bit = 1L << (operation & 63);
      if (value) {
        linearized[operation >>> 6] |= bit;
      } else {
        linearized[operation >>> 6] &= ~bit;
      }
    }

    private void lift(int callEvent) {
      unlink(callEvent);
      unlink(eventMatch[callEvent]);
    }

    /** Undoes {@link #lift}; correct only in reverse order of lifting, which the stack ensures. */
    private void unlift(int callEvent) {
      relink(eventMatch[callEvent]);
      relink(callEvent);
    }

    private void unlink(int event) {
      next[previous[event]] = next[event];
      previous[next[event]] = previous[event];
    }

    private void relink(int event) {
      next[previous[event]] = event;
      previous[next[event]] = event;
    }

    private void recordIfDeepest(int returnEvent, S state) {
      if (stack.size() <= deepestPrefixLength) {
        return;
      }
      deepestPrefixLength = stack.size();
      List<Integer> prefix = new ArrayList<>(stack.size());
      for (Iterator<Frame<S>> frames = stack.descendingIterator(); frames.hasNext(); ) {
        prefix.add(eventOperation[frames.next().callEvent()]);
      }
      deepestPrefix = prefix;
      stateAfterDeepestPrefix = state;
      blockingOperation = eventOperation[returnEvent];
      List<Integer> candidates = new ArrayList<>();
      for (int event = next[head]; event != returnEvent; event = next[event]) {
        if (eventIsCall[event]) {
          candidates.add(eventOperation[event]);
        }
      }
      candidatesAfterDeepestPrefix = candidates;
    }

    String explain(String partitionName) {
      StringBuilder text = new StringBuilder();
      text.append(partitionName)
          .append(" is not linearizable (")
          .append(operations.size())
          .append(" operations). ");
      text.append("Longest linearizable prefix found has ")
          .append(deepestPrefix.size())
          .append(" operations");
      int omitted = Math.max(0, deepestPrefix.size() - MAX_OPERATIONS_IN_EXPLANATION);
      if (omitted > 0) {
        text.append(" (first ").append(omitted).append(" omitted)");
      }
      text.append(":");
      for (int operation : deepestPrefix.subList(omitted, deepestPrefix.size())) {
        text.append("\n    ").append(describe(operation));
      }
      text.append("\n  leaving state ").append(stateAfterDeepestPrefix).append(".");
      text.append(
              "\n  No remaining operation can be linearized next without breaking the model or the")
          .append(" real-time order; ")
          .append(describe(blockingOperation))
          .append(" returned before it could be placed. Candidates tried:");
      int shown = 0;
      for (int operation : candidatesAfterDeepestPrefix) {
        if (shown++ == MAX_OPERATIONS_IN_EXPLANATION) {
          text.append("\n    ... and ")
              .append(candidatesAfterDeepestPrefix.size() - MAX_OPERATIONS_IN_EXPLANATION)
              .append(" more");
          break;
        }
        boolean possibleHere = step(stateAfterDeepestPrefix, operation).isPresent();
        text.append("\n    ")
            .append(describe(operation))
            .append(
                possibleHere
                    ? "  (possible here, but every continuation fails)"
                    : "  (impossible from this state)");
      }
      return text.toString();
    }

    private String describe(int operation) {
      Operation<I, O> op = operations.get(operation);
      String interval =
          op.isPending()
              ? op.callTime() + "..never returned"
              : op.callTime() + ".." + op.returnTime();
      return "client "
          + op.clientId()
          + " ["
          + interval
          + "] "
          + model.describe(op.input(), op.isPending() ? null : op.output());
    }
  }
}
