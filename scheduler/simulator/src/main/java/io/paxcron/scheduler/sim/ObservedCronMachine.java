package io.paxcron.scheduler.sim;

import io.paxcron.api.JobBatchStateMachine;
import io.paxcron.api.auth.SecuredStateMachine;
import io.paxcron.paxos.StateMachine;
import io.paxcron.schedule.ScheduleField;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.CronView;
import io.paxcron.scheduler.LedgerRecord;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The replicated state machine the server runs — access control over job batches over the cron
 * state machine ({@code SecuredStateMachine(JobBatchStateMachine(CronStateMachine))}; the session
 * layer wraps it in {@link SimReplica}) — with each cron command's decoded form, result and the
 * ledger records it appended or grew ({@link CronStateMachine#ledgerChangesAfter}) kept for the
 * checkers, through the batch layer's {@link JobBatchStateMachine.Observer}.
 *
 * <p>Two planted bugs live here, in front of the production stack and never in it: {@link
 * SystemBug#QUESTION_MARK_RESOLVED_PER_REPLICA} replaces the leader's {@code ?} values with the
 * replica's own before a put applies, and {@link SystemBug#BATCH_APPLIED_PARTLY} applies a batch
 * one command at a time.
 */
final class ObservedCronMachine implements StateMachine {
  final CronStateMachine cron;
  final List<SystemChecker.AppliedCommand> applied = new ArrayList<>();
  private final StateMachine stack;
  private final SystemBug bug;
  private final SplittableRandom replicaRandom;

  /** The state machine's ledger revision after the last command observed. */
  private long ledgerRevision;

  ObservedCronMachine(CronStateMachine cron, SystemBug bug, SplittableRandom replicaRandom) {
    this.cron = cron;
    this.ledgerRevision = cron.ledgerRevision();
    this.bug = bug;
    this.replicaRandom = replicaRandom;
    this.stack = new SecuredStateMachine(new JobBatchStateMachine(cron, this::observe));
  }

  private void observe(long slot, CronCommand command, CommandResult result) {
    List<LedgerRecord> ledger = new ArrayList<>();
    for (CronView.LedgerChange change :
        cron.ledgerChangesAfter(ledgerRevision, CronStateMachine.MAX_LEDGER_CHANGES_KEPT)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "slot "
                            + slot
                            + " changed the ledger more than the state machine remembers"))) {
      ledger.add(change.record());
    }
    ledgerRevision = cron.ledgerRevision();
    applied.add(new SystemChecker.AppliedCommand(slot, command, result, cron.clock(), ledger));
  }

  @Override
  public byte[] apply(long slot, byte[] bytes) {
    boolean batch = bytes.length > 0 && bytes[0] == JobBatchStateMachine.BATCH_TAG;
    if (batch && bug == SystemBug.QUESTION_MARK_RESOLVED_PER_REPLICA) {
      List<CronCommand> commands = new ArrayList<>(JobBatchStateMachine.decode(bytes));
      for (int i = 0; i < commands.size(); i++) {
        if (commands.get(i) instanceof CronCommand.PutJob put && !put.chosen().isEmpty()) {
          Map<ScheduleField, Integer> own = new EnumMap<>(ScheduleField.class);
          put.chosen()
              .forEach(
                  (field, value) ->
                      own.put(
                          field,
                          field.min() + replicaRandom.nextInt(field.max() - field.min() + 1)));
          commands.set(i, new CronCommand.PutJob(put.spec(), put.expected(), own, put.stampedAt()));
        }
      }
      return stack.apply(slot, JobBatchStateMachine.encode(commands));
    }
    if (batch && bug == SystemBug.BATCH_APPLIED_PARTLY) {
      List<CronCommand> commands = JobBatchStateMachine.decode(bytes);
      if (commands.size() > 1) {
        List<CommandResult> results = new ArrayList<>();
        for (CronCommand command : commands) {
          results.addAll(
              JobBatchStateMachine.decodeAnswer(
                      stack.apply(slot, JobBatchStateMachine.encode(List.of(command))))
                  .results());
        }
        return JobBatchStateMachine.encodeAnswer(
            new JobBatchStateMachine.Answer(slot, commands.get(0).stampedAt(), results));
      }
    }
    return stack.apply(slot, bytes);
  }

  @Override
  public byte[] snapshot() {
    return stack.snapshot();
  }

  @Override
  public Image image() {
    return stack.image();
  }

  @Override
  public void restore(byte[] snapshot) {
    stack.restore(snapshot);
    applied.clear();
    ledgerRevision = cron.ledgerRevision();
  }

  List<SystemChecker.AppliedCommand> take() {
    List<SystemChecker.AppliedCommand> taken = List.copyOf(applied);
    applied.clear();
    return taken;
  }
}
