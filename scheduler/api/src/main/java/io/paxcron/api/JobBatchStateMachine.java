package io.paxcron.api;

import io.paxcron.paxos.BinaryReader;
import io.paxcron.paxos.BinaryWriter;
import io.paxcron.paxos.RecordFormatException;
import io.paxcron.paxos.StateMachine;
import io.paxcron.scheduler.CommandResult;
import io.paxcron.scheduler.CronCodec;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronStateMachine;
import io.paxcron.scheduler.ExpectedVersion;
import io.paxcron.scheduler.FieldError;
import io.paxcron.scheduler.JobSpecValidator;
import io.paxcron.scheduler.JobView;
import io.paxcron.scheduler.MalformedCommandException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The replicated state machine of a Paxcron replica: a {@link CronStateMachine} that also accepts a
 * <em>batch</em> of cron commands as one log command, so that one API request is one Paxos client
 * command {@code (clientId, sequence)} and the session layer ({@code SessionStateMachine}) applies
 * it once and answers a retry with the first answer, whatever the number of jobs it touches.
 *
 * <p>A batch of more than one command is all-or-nothing (DESIGN §1 promise 6): before applying any
 * command it validates every job spec and checks every expected version against the applied state;
 * if one fails, none is applied and every result says why. The check runs inside {@code apply}, in
 * log order, so it is deterministic on every replica and no other write can slip between check and
 * apply.
 *
 * <p>Payloads that do not start with {@link #BATCH_TAG} are plain {@link CronCodec} commands (the
 * dispatcher's {@code Tick}, {@code RunIntent}, …) and go to the cron state machine unchanged.
 * {@code CronCodec} payloads start with their format version ({@value CronCodec#FORMAT_VERSION}),
 * which never equals the tag. Single-threaded, like the state machine it wraps.
 */
public final class JobBatchStateMachine implements StateMachine {
  /** First byte of a batch payload and of a batch answer. */
  public static final byte BATCH_TAG = (byte) 0xB7;

  /** Most commands in one batch. */
  public static final int MAX_BATCH_COMMANDS = 1000;

  /**
   * What a batch did.
   *
   * @param slot the log slot the batch was applied in
   * @param stampedAt the leader stamp the batch was proposed with (names a triggered run)
   * @param results one per command, in order
   */
  public record Answer(long slot, Instant stampedAt, List<CommandResult> results) {
    public Answer {
      Objects.requireNonNull(stampedAt, "stampedAt");
      results = List.copyOf(results);
    }
  }

  /**
   * Told of every cron command right after the cron state machine applied it, on the applying
   * thread: the simulator's checkers watch the production stack through it.
   */
  public interface Observer {
    Observer NONE = (slot, command, result) -> {};

    /**
     * @param command the command as applied, or null for a plain payload that did not decode
     * @param result what the cron state machine answered
     */
    void applied(long slot, CronCommand command, CommandResult result);
  }

  private final CronStateMachine cron;
  private final Observer observer;

  public JobBatchStateMachine(CronStateMachine cron) {
    this(cron, Observer.NONE);
  }

  public JobBatchStateMachine(CronStateMachine cron, Observer observer) {
    this.cron = Objects.requireNonNull(cron, "cron");
    this.observer = Objects.requireNonNull(observer, "observer");
  }

  /** The wrapped state machine (for reads and the dispatcher, on the same thread). */
  public CronStateMachine cron() {
    return cron;
  }

  /** The payload of one batch: the commands, all with the same leader stamp. */
  public static byte[] encode(List<CronCommand> commands) {
    if (commands.isEmpty() || commands.size() > MAX_BATCH_COMMANDS) {
      throw new IllegalArgumentException(
          "a batch holds 1.."
              + MAX_BATCH_COMMANDS
              + " commands (MAX_BATCH_COMMANDS), got "
              + commands.size());
    }
    Instant stamp = commands.get(0).stampedAt();
    BinaryWriter out = new BinaryWriter(256);
    out.writeByte(BATCH_TAG);
    out.writeInt(commands.size());
    for (CronCommand command : commands) {
      if (!command.stampedAt().equals(stamp)) {
        throw new IllegalArgumentException("every command of a batch carries the same stamp");
      }
      out.writeBytes(CronCodec.encode(command));
    }
    return out.toByteArray();
  }

  /**
   * The answer the session layer returned for a batch.
   *
   * @throws CronCluster.StaleRequestException if the session layer answered that a later request of
   *     the same client was already applied
   * @throws IllegalArgumentException if the bytes are not a batch answer
   */
  public static Answer decodeAnswer(byte[] bytes) {
    if (bytes.length == 0 || bytes[0] != BATCH_TAG) {
      String text = new String(bytes, StandardCharsets.UTF_8);
      if (text.startsWith("error: stale retry")) {
        throw new CronCluster.StaleRequestException(
            "the session already answered a later request: " + text);
      }
      throw new IllegalArgumentException("not a job batch answer (" + bytes.length + " bytes)");
    }
    try {
      BinaryReader in = new BinaryReader(bytes, 1, bytes.length - 1);
      long slot = in.readLong();
      Instant stamp = in.readInstant();
      int count = in.readInt();
      if (count < 0 || count > MAX_BATCH_COMMANDS) {
        throw new IllegalArgumentException("batch answer claims " + count + " results");
      }
      List<CommandResult> results = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        results.add(CronCodec.decodeResult(in.readRaw(in.readCount(Integer.MAX_VALUE, 1))));
      }
      return new Answer(slot, stamp, results);
    } catch (RecordFormatException e) {
      throw new IllegalArgumentException("unreadable job batch answer: " + e.getMessage(), e);
    }
  }

  @Override
  public byte[] apply(long slot, byte[] payload) {
    if (payload.length == 0 || payload[0] != BATCH_TAG) {
      byte[] answer = cron.apply(slot, payload);
      if (observer != Observer.NONE) {
        CronCommand decoded;
        try {
          decoded = CronCodec.decode(payload);
        } catch (MalformedCommandException e) {
          decoded = null;
        }
        observer.applied(slot, decoded, CronCodec.decodeResult(answer));
      }
      return answer;
    }
    List<CronCommand> commands;
    try {
      commands = decode(payload);
    } catch (MalformedCommandException e) {
      return malformed(slot, e);
    }
    Instant stamp = commands.get(0).stampedAt();
    if (commands.size() > 1) {
      Optional<List<CommandResult>> refused = checkAll(commands);
      if (refused.isPresent()) {
        return encodeAnswer(new Answer(slot, stamp, refused.get()));
      }
    }
    List<CommandResult> results = new ArrayList<>(commands.size());
    for (CronCommand command : commands) {
      results.add(applyOne(slot, command));
    }
    return encodeAnswer(new Answer(slot, stamp, results));
  }

  /**
   * Every command is applied in steps of at most {@value #UNITS_PER_STEP} units of work, where a
   * unit is one command of a batch or one job whose scheduled instant the command's stamp reached
   * ({@link CronStateMachine#begin}): a thousand-job batch is about thirty steps after a first step
   * that decodes and checks all of them, and a {@code Tick} whose stamp reaches ten thousand jobs
   * (one minute of a million jobs, more at the top of an hour) about three hundred, each well under
   * a millisecond on an idle machine. Only a payload that does not decode is applied at once.
   */
  @Override
  public Steps applyInSteps(long slot, byte[] payload) {
    if (payload.length == 0 || payload[0] != BATCH_TAG) {
      CronCommand decoded;
      try {
        decoded = CronCodec.decode(payload);
      } catch (MalformedCommandException e) {
        return StateMachine.super.applyInSteps(slot, payload);
      }
      CommandSteps steps = new CommandSteps(slot, List.of(decoded));
      return () -> steps.step() ? CronCodec.encodeResult(steps.results.get(0)) : null;
    }
    return new BatchSteps(slot, payload);
  }

  /** Units of work of one step of {@link #applyInSteps}: commands begun plus jobs accounted for. */
  static final int UNITS_PER_STEP = 32;

  /** Commands applied one after another in steps of {@link #UNITS_PER_STEP} units. */
  private final class CommandSteps {
    private final long slot;
    private final List<CronCommand> commands;
    private final List<CommandResult> results;
    private CronStateMachine.PartialCommand current;

    CommandSteps(long slot, List<CronCommand> commands) {
      this.slot = slot;
      this.commands = commands;
      this.results = new ArrayList<>(commands.size());
    }

    /** Applies the next step; returns whether every command is applied. */
    boolean step() {
      int units = UNITS_PER_STEP;
      while (units > 0 && results.size() < commands.size()) {
        if (current == null) {
          current = cron.begin(slot, commands.get(results.size()));
          units--;
        }
        units -= current.account(units);
        if (!current.accounted()) {
          break;
        }
        CronCommand command = commands.get(results.size());
        CommandResult result = current.finish();
        current = null;
        observer.applied(slot, command, result);
        results.add(result);
      }
      return results.size() == commands.size();
    }
  }

  /** The steps of one batch: decode and check, then the commands in {@link CommandSteps}. */
  private final class BatchSteps implements Steps {
    private final long slot;
    private byte[] payload;
    private List<CronCommand> commands;
    private CommandSteps steps;

    BatchSteps(long slot, byte[] payload) {
      this.slot = slot;
      this.payload = payload;
    }

    @Override
    public byte[] next() {
      if (commands == null) {
        try {
          commands = decode(payload);
        } catch (MalformedCommandException e) {
          return malformed(slot, e);
        }
        payload = null;
        if (commands.size() > 1) {
          Optional<List<CommandResult>> refused = checkAll(commands);
          if (refused.isPresent()) {
            return encodeAnswer(new Answer(slot, commands.get(0).stampedAt(), refused.get()));
          }
        }
        steps = new CommandSteps(slot, commands);
        return null;
      }
      return steps.step()
          ? encodeAnswer(new Answer(slot, commands.get(0).stampedAt(), steps.results))
          : null;
    }
  }

  private CommandResult applyOne(long slot, CronCommand command) {
    CommandResult result = cron.apply(slot, command);
    observer.applied(slot, command, result);
    return result;
  }

  private static byte[] malformed(long slot, MalformedCommandException e) {
    CommandResult malformed =
        new CommandResult(CommandResult.Status.MALFORMED, 0, e.getMessage(), List.of());
    return encodeAnswer(new Answer(slot, Instant.EPOCH, List.of(malformed)));
  }

  /**
   * The commands of a batch payload ({@link #encode}'s inverse).
   *
   * @throws MalformedCommandException if it is not a well-formed batch
   */
  public static List<CronCommand> decode(byte[] payload) {
    if (payload.length == 0 || payload[0] != BATCH_TAG) {
      throw new MalformedCommandException("not a batch: no batch tag");
    }
    try {
      BinaryReader in = new BinaryReader(payload, 1, payload.length - 1);
      int count = in.readInt();
      if (count < 1 || count > MAX_BATCH_COMMANDS) {
        throw new MalformedCommandException(
            "a batch holds 1.." + MAX_BATCH_COMMANDS + " commands, got " + count);
      }
      List<CronCommand> commands = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        int length = in.readInt();
        if (length < 0 || length > in.remaining()) {
          throw new MalformedCommandException(
              "batch command " + i + " claims " + length + " bytes");
        }
        int at = in.position();
        in.skip(length);
        commands.add(CronCodec.decode(payload, at, length));
      }
      return commands;
    } catch (MalformedCommandException e) {
      throw e;
    } catch (RecordFormatException e) {
      throw new MalformedCommandException("truncated batch: " + e.getMessage());
    }
  }

  /**
   * Every reason the batch cannot be applied in full, or empty if it can. Mirrors the checks the
   * cron state machine makes per command, so that a batch that passes applies without refusal.
   */
  private Optional<List<CommandResult>> checkAll(List<CronCommand> commands) {
    List<CommandResult> refusals = new ArrayList<>(commands.size());
    Set<String> names = new HashSet<>();
    boolean refused = false;
    int creates = 0;
    for (CronCommand command : commands) {
      CommandResult refusal =
          switch (command) {
            case CronCommand.PutJob put -> {
              List<FieldError> errors = JobSpecValidator.validate(put.spec());
              Optional<JobView> existing = RequestNames.job(cron, put.spec().name());
              if (!errors.isEmpty()) {
                yield new CommandResult(
                    CommandResult.Status.INVALID,
                    0,
                    errors.size() + " problem(s): " + errors,
                    errors);
              }
              if (existing.isEmpty()) {
                creates++;
              }
              yield checkExpected(put.spec().name(), existing, put.expected());
            }
            case CronCommand.DeleteJob delete -> {
              Optional<JobView> existing = cron.job(delete.name());
              yield existing.isEmpty()
                  ? new CommandResult(
                      CommandResult.Status.NOT_FOUND,
                      0,
                      "job '" + delete.name() + "' does not exist",
                      List.of())
                  : checkExpected(delete.name().value(), existing, delete.expected());
            }
            default -> null;
          };
      String name = nameOf(command);
      if (refusal == null && name != null && !names.add(name)) {
        refusal =
            new CommandResult(
                CommandResult.Status.REJECTED,
                0,
                "job '" + name + "' appears twice in one batch",
                List.of());
      }
      refusals.add(refusal);
      refused |= refusal != null;
    }
    if (!refused && creates > 0 && (long) cron.jobCount() + creates > cron.maxJobs()) {
      return Optional.of(
          commands.stream()
              .map(
                  c ->
                      new CommandResult(
                          CommandResult.Status.REJECTED,
                          0,
                          "the batch would exceed the maximum of "
                              + cron.maxJobs()
                              + " jobs (setting max-jobs)",
                          List.of()))
              .toList());
    }
    if (!refused) {
      return Optional.empty();
    }
    List<CommandResult> results = new ArrayList<>(commands.size());
    for (int i = 0; i < commands.size(); i++) {
      CommandResult refusal = refusals.get(i);
      results.add(
          refusal != null
              ? refusal
              : new CommandResult(
                  CommandResult.Status.REJECTED,
                  0,
                  "not applied: another change of the same batch was refused",
                  List.of()));
    }
    return Optional.of(results);
  }

  private static String nameOf(CronCommand command) {
    return switch (command) {
      case CronCommand.PutJob put -> put.spec().name();
      case CronCommand.DeleteJob delete -> delete.name().value();
      case CronCommand.PauseJob pause -> pause.name().value();
      case CronCommand.ResumeJob resume -> resume.name().value();
      case CronCommand.TriggerJob trigger -> trigger.name().value();
      default -> null;
    };
  }

  /**
   * The state machine's own optimistic-concurrency rule and wording (docs/scheduler.md "Versions").
   */
  private static CommandResult checkExpected(
      String name, Optional<JobView> job, ExpectedVersion expected) {
    return switch (expected) {
      case ExpectedVersion.Any any -> null;
      case ExpectedVersion.Absent absent ->
          job.isEmpty()
              ? null
              : new CommandResult(
                  CommandResult.Status.CONFLICT,
                  job.get().version(),
                  "job '"
                      + name
                      + "' already exists at version "
                      + job.get().version()
                      + "; expected it to be absent",
                  List.of());
      case ExpectedVersion.Exactly exactly -> {
        if (job.isEmpty()) {
          yield new CommandResult(
              CommandResult.Status.CONFLICT,
              0,
              "job '" + name + "' does not exist; expected version " + exactly.version(),
              List.of());
        }
        yield job.get().version() == exactly.version()
            ? null
            : new CommandResult(
                CommandResult.Status.CONFLICT,
                job.get().version(),
                "job '"
                    + name
                    + "': expected version "
                    + exactly.version()
                    + " but the current version is "
                    + job.get().version(),
                List.of());
      }
    };
  }

  /** The bytes of a batch answer ({@link #decodeAnswer}'s inverse). */
  public static byte[] encodeAnswer(Answer answer) {
    BinaryWriter out = new BinaryWriter(64);
    out.writeByte(BATCH_TAG);
    out.writeLong(answer.slot());
    out.writeInstant(answer.stampedAt());
    out.writeInt(answer.results().size());
    for (CommandResult result : answer.results()) {
      out.writeBytes(CronCodec.encodeResult(result));
    }
    return out.toByteArray();
  }

  @Override
  public byte[] snapshot() {
    return cron.snapshot();
  }

  @Override
  public Image image() {
    return cron.image();
  }

  @Override
  public void restore(byte[] snapshot) {
    cron.restore(snapshot);
  }
}
