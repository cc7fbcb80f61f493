package io.paxcron.sim.linearizability;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A key-value store of string registers: {@link Put} overwrites a key, {@link Get} reads it.
 *
 * <p>Operations on different keys never constrain each other, so {@link #partition} splits a
 * history by key (in key order) and the state is the value of a single key. {@link #step} is
 * therefore only meaningful on one partition at a time.
 *
 * <p>An operation whose outcome is unknown has a null output: a pending put may take effect, and a
 * pending get constrains nothing, so {@link #partition} drops pending gets.
 */
public final class KeyValueModel
    implements Model<KeyValueModel.State, KeyValueModel.Input, KeyValueModel.Output> {

  /** What a client asked for. */
  public sealed interface Input permits Put, Get {
    String key();
  }

  /** Overwrites {@code key} with {@code value}. */
  public record Put(String key, String value) implements Input {
    public Put {
      Objects.requireNonNull(key, "key");
      // Absence is spelled GetResult(null); a null value would make "absent" ambiguous.
      Objects.requireNonNull(value, "value");
    }
  }

  /** Reads {@code key}. */
  public record Get(String key) implements Input {
    public Get {
      Objects.requireNonNull(key, "key");
    }
  }

  /** What a client observed. */
  public sealed interface Output permits PutOk, GetResult {}

  /** The put was acknowledged. */
  public record PutOk() implements Output {}

  /** The value read; null means the key was absent. */
  public record GetResult(String valueOrNull) implements Output {}

  /** The value of the partition's single key; null while it is absent. */
  public record State(String value) {}

  @Override
  public State initialState() {
    return new State(null);
  }

  @Override
  public Optional<State> step(State state, Input input, Output output) {
    return switch (input) {
      case Put put ->
          switch (output) {
            case null -> Optional.of(new State(put.value()));
            case PutOk acknowledged -> Optional.of(new State(put.value()));
            case GetResult result -> throw mismatched(input, output);
          };
      case Get get ->
          switch (output) {
            case null -> Optional.of(state);
            case GetResult result ->
                Objects.equals(result.valueOrNull(), state.value())
                    ? Optional.of(state)
                    : Optional.empty();
            case PutOk acknowledged -> throw mismatched(input, output);
          };
    };
  }

  /**
   * Groups operations by key, in key order, dropping pending gets.
   *
   * @throws IllegalArgumentException if a completed operation's output does not match its input
   */
  @Override
  public List<List<Operation<Input, Output>>> partition(List<Operation<Input, Output>> history) {
    Map<String, List<Operation<Input, Output>>> byKey = new TreeMap<>();
    for (Operation<Input, Output> operation : history) {
      boolean matches =
          switch (operation.input()) {
            case Put put -> operation.isPending() || operation.output() instanceof PutOk;
            case Get get -> operation.isPending() || operation.output() instanceof GetResult;
          };
      if (!matches) {
        throw mismatched(operation.input(), operation.output());
      }
      if (operation.isPending() && operation.input() instanceof Get) {
        continue;
      }
      byKey.computeIfAbsent(operation.input().key(), key -> new ArrayList<>()).add(operation);
    }
    return List.copyOf(byKey.values());
  }

  @Override
  public String describe(Input input, Output output) {
    String call =
        switch (input) {
          case Put put -> "put(" + put.key() + ", " + put.value() + ")";
          case Get get -> "get(" + get.key() + ")";
        };
    String result =
        switch (output) {
          case null -> "? (outcome unknown)";
          case PutOk acknowledged -> "ok";
          case GetResult read -> read.valueOrNull() == null ? "absent" : read.valueOrNull();
        };
    return call + " -> " + result;
  }

  @Override
  public String describePartition(int index, List<Operation<Input, Output>> partition) {
    return partition.isEmpty()
        ? "partition " + index
        : "key '" + partition.get(0).input().key() + "'";
  }

  private static IllegalArgumentException mismatched(Input input, Output output) {
    return new IllegalArgumentException(
        "output "
            + output
            + " cannot answer input "
            + input
            + "; a put is answered by PutOk and a get by GetResult");
  }
}
