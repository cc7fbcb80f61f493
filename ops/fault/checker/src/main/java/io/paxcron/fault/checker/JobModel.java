package io.paxcron.fault.checker;

import io.paxcron.sim.linearizability.Model;
import io.paxcron.sim.linearizability.Operation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The sequential specification of one job as the churn clients see it: absent, or present with the
 * token of the put that wrote it and a paused flag. Inputs are {@code kind value} (value only for
 * put); outputs are what the client observed: {@code ok}, a definite error code ({@code NOT_FOUND},
 * ...), or for a get the state ({@code absent} or {@code token:paused|active}).
 *
 * <p>A definite failure changed nothing, so a {@code NOT_FOUND} answer to pause, resume, delete or
 * get asserts the job was absent at that point: the model checks it like a read. Partitions are the
 * job names (operations on different jobs never constrain one another).
 */
final class JobModel implements Model<JobModel.State, JobModel.Input, String> {

  /** The job's state; {@code token} is null when absent. */
  record State(String token, boolean paused) {
    static final State ABSENT = new State(null, false);

    boolean exists() {
      return token != null;
    }

    String describe() {
      return token == null ? "absent" : token + ":" + (paused ? "paused" : "active");
    }
  }

  /** One operation's input. */
  record Input(String job, String kind, String value) {
    @Override
    public String toString() {
      return kind + (kind.equals("put") ? "(" + value + ")" : "") + " " + job;
    }
  }

  @Override
  public State initialState() {
    return State.ABSENT;
  }

  @Override
  public Optional<State> step(State state, Input input, String output) {
    boolean ok = "ok".equals(output);
    boolean notFound = "NOT_FOUND".equals(output);
    boolean unknown = output == null;
    switch (input.kind()) {
      case "put" -> {
        // A put that failed definitely (invalid, rejected) changed nothing.
        return Optional.of(ok || unknown ? new State(input.value(), false) : state);
      }
      case "pause", "resume" -> {
        boolean paused = input.kind().equals("pause");
        if (unknown) {
          return Optional.of(state.exists() ? new State(state.token(), paused) : state);
        }
        if (ok) {
          return state.exists() ? Optional.of(new State(state.token(), paused)) : Optional.empty();
        }
        return notFound && state.exists() ? Optional.empty() : Optional.of(state);
      }
      case "delete" -> {
        if (unknown) {
          return Optional.of(State.ABSENT);
        }
        if (ok) {
          return state.exists() ? Optional.of(State.ABSENT) : Optional.empty();
        }
        return notFound && state.exists() ? Optional.empty() : Optional.of(state);
      }
      case "get" -> {
        if (unknown) {
          return Optional.of(state);
        }
        if (notFound) {
          return state.exists() ? Optional.empty() : Optional.of(state);
        }
        if (output.startsWith("fail:")) {
          return Optional.of(state);
        }
        return output.equals(state.describe()) ? Optional.of(state) : Optional.empty();
      }
      default -> throw new IllegalArgumentException("unknown operation kind " + input.kind());
    }
  }

  @Override
  public List<List<Operation<Input, String>>> partition(List<Operation<Input, String>> history) {
    Map<String, List<Operation<Input, String>>> byJob = new LinkedHashMap<>();
    for (Operation<Input, String> op : history) {
      byJob.computeIfAbsent(op.input().job(), k -> new ArrayList<>()).add(op);
    }
    return new ArrayList<>(byJob.values());
  }

  @Override
  public String describePartition(int index, List<Operation<Input, String>> partition) {
    return partition.isEmpty() ? "partition " + index : "job " + partition.get(0).input().job();
  }

  /** The history's operations in the checker's form; a get's output is what it observed. */
  static List<Operation<Input, String>> operations(List<RunData.Op> ops) {
    List<Operation<Input, String>> out = new ArrayList<>();
    Map<String, Integer> processes = new LinkedHashMap<>();
    for (RunData.Op op : ops) {
      int process = processes.computeIfAbsent(op.process(), p -> processes.size() + 1);
      Input input = new Input(op.job(), op.kind(), op.value());
      if (op.pending()) {
        out.add(Operation.pending(process, op.callMicros(), input));
        continue;
      }
      String output;
      if (op.result().equals("ok")) {
        output = op.kind().equals("get") ? op.observed() : "ok";
      } else {
        output = op.observed().equals("NOT_FOUND") ? "NOT_FOUND" : "fail:" + op.observed();
      }
      out.add(new Operation<>(process, op.callMicros(), op.returnMicros(), input, output));
    }
    return out;
  }
}
