package io.paxcron.scheduler.sim;

import io.paxcron.paxos.StateMachine;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.CronCodec;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.MalformedCommandException;
import java.util.ArrayList;
import java.util.List;

/**
 * The cron state machine as the log drives it, with each command's decoded form, result and changes
 * kept.
 */
final class ObservedCronMachine implements StateMachine {
  final CronStateMachine cron;
  final List<SystemChecker.AppliedCommand> applied = new ArrayList<>();

  ObservedCronMachine(CronStateMachine cron) {
    this.cron = cron;
  }

  @Override
  public byte[] apply(long slot, byte[] bytes) {
    CronCommand decoded = null;
    CommandResult result;
    try {
      decoded = CronCodec.decode(bytes);
      result = cron.apply(slot, decoded);
    } catch (MalformedCommandException e) {
      result = cron.applyEncoded(slot, bytes);
    }
    applied.add(
        new SystemChecker.AppliedCommand(slot, decoded, result, cron.clock(), cron.drainChanges()));
    return CronCodec.encodeResult(result);
  }

  @Override
  public byte[] snapshot() {
    return cron.snapshot();
  }

  @Override
  public void restore(byte[] snapshot) {
    cron.restore(snapshot);
    applied.clear();
  }

  List<SystemChecker.AppliedCommand> take() {
    List<SystemChecker.AppliedCommand> taken = List.copyOf(applied);
    applied.clear();
    return taken;
  }
}
