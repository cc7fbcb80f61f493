package io.paxcron.sim.linearizability;

import io.paxcron.sim.linearizability.KeyValueModel.Get;
import io.paxcron.sim.linearizability.KeyValueModel.GetResult;
import io.paxcron.sim.linearizability.KeyValueModel.Input;
import io.paxcron.sim.linearizability.KeyValueModel.Output;
import io.paxcron.sim.linearizability.KeyValueModel.Put;
import io.paxcron.sim.linearizability.KeyValueModel.PutOk;

/** Terse constructors for key-value histories, so that a test reads as a timeline. */
final class Histories {

  private Histories() {}

  static Operation<Input, Output> put(int client, long call, long ret, String key, String value) {
    return new Operation<>(client, call, ret, new Put(key, value), new PutOk());
  }

  static Operation<Input, Output> get(
      int client, long call, long ret, String key, String valueOrNull) {
    return new Operation<>(client, call, ret, new Get(key), new GetResult(valueOrNull));
  }

  static Operation<Input, Output> pendingPut(int client, long call, String key, String value) {
    return Operation.pending(client, call, new Put(key, value));
  }

  static Operation<Input, Output> pendingGet(int client, long call, String key) {
    return Operation.pending(client, call, new Get(key));
  }
}
