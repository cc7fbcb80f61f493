package io.paxcron.scheduler;

import io.paxcron.paxos.BinaryReader;
import io.paxcron.paxos.BinaryWriter;
import io.paxcron.paxos.RecordFormatException;
import io.paxcron.schedule.DstPolicy;
import io.paxcron.schedule.ScheduleField;
import io.paxcron.schedule.Syntax;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The versioned binary encoding of {@link CronCommand}s, {@link CommandResult}s and the records a
 * snapshot holds. Every command starts with {@link #FORMAT_VERSION} and a one-byte tag. Old
 * versions stay readable, because the log and snapshots written by an older replica must still
 * apply after an upgrade: version 1 job specs lack the fields added in version 2 ({@code stdin},
 * {@code runAs}, {@code source}, {@code annotations}), which then take their defaults. Enum values
 * of the job spec are written by name (robust to reordering); outcome and status tags are fixed
 * numbers below (append only). Encoding is deterministic: equal values give equal bytes.
 *
 * <p>Decoding never trusts its input: unknown versions or tags, truncation, trailing bytes and
 * out-of-range counts raise {@link MalformedCommandException}.
 */
public final class CronCodec {
  /** The format of every command and result this code writes. */
  public static final int FORMAT_VERSION = 2;

  /** The oldest command format this code still reads. */
  public static final int OLDEST_READABLE_VERSION = 1;

  /** Most {@code ?} values in a PutJob (one per schedule field). */
  static final int MAX_CHOSEN_VALUES = ScheduleField.values().length;

  private static final int PUT_JOB = 1;
  private static final int DELETE_JOB = 2;
  private static final int PAUSE_JOB = 3;
  private static final int RESUME_JOB = 4;
  private static final int TRIGGER_JOB = 5;
  private static final int RUN_INTENT = 6;
  private static final int RUN_STARTED = 7;
  private static final int RUN_FINISHED = 8;
  private static final int RECORD_SKIP = 9;
  private static final int RECORD_LOST = 10;
  private static final int TICK = 11;

  /**
   * RunFinished with its output tail and reason; {@link #RUN_FINISHED} (without them) is still
   * read.
   */
  private static final int RUN_FINISHED_WITH_DETAIL = 12;

  private static final int RECORD_TESTIMONY = 13;

  private CronCodec() {}

  /** The bytes of {@code command}. */
  public static byte[] encode(CronCommand command) {
    BinaryWriter out = new BinaryWriter().writeByte(FORMAT_VERSION);
    switch (command) {
      case CronCommand.PutJob put -> {
        out.writeByte(PUT_JOB);
        writeSpec(out, put.spec());
        writeExpected(out, put.expected());
        writeChosen(out, put.chosen());
        out.writeInstant(put.stampedAt());
      }
      case CronCommand.DeleteJob delete -> {
        out.writeByte(DELETE_JOB).writeString(delete.name().value());
        writeExpected(out, delete.expected());
        out.writeInstant(delete.stampedAt());
      }
      case CronCommand.PauseJob pause ->
          out.writeByte(PAUSE_JOB)
              .writeString(pause.name().value())
              .writeInstant(pause.stampedAt());
      case CronCommand.ResumeJob resume ->
          out.writeByte(RESUME_JOB)
              .writeString(resume.name().value())
              .writeInstant(resume.stampedAt());
      case CronCommand.TriggerJob trigger ->
          out.writeByte(TRIGGER_JOB)
              .writeString(trigger.name().value())
              .writeInstant(trigger.stampedAt());
      case CronCommand.RunIntent intent -> {
        out.writeByte(RUN_INTENT);
        writeRunId(out, intent.runId());
        out.writeInt(intent.attempt())
            .writeString(intent.agentId().value())
            .writeBallot(intent.ballot())
            .writeInstant(intent.stampedAt());
      }
      case CronCommand.RunStarted started -> {
        out.writeByte(RUN_STARTED);
        writeRunId(out, started.runId());
        out.writeInt(started.attempt())
            .writeString(started.agentId().value())
            .writeInstant(started.stampedAt());
      }
      case CronCommand.RunFinished finished -> {
        out.writeByte(RUN_FINISHED_WITH_DETAIL);
        writeRunId(out, finished.runId());
        out.writeInt(finished.attempt());
        writeOutcome(out, finished.outcome());
        out.writeInstant(finished.stampedAt());
        writeDetail(out, finished.detail());
      }
      case CronCommand.RecordTestimony testimony -> {
        out.writeByte(RECORD_TESTIMONY);
        writeRunId(out, testimony.runId());
        out.writeInt(testimony.attempt())
            .writeString(testimony.testimony())
            .writeInstant(testimony.stampedAt());
      }
      case CronCommand.RecordSkip skip -> {
        out.writeByte(RECORD_SKIP);
        writeRunId(out, skip.runId());
        out.writeByte(skip.reason().ordinal()).writeInstant(skip.stampedAt());
      }
      case CronCommand.RecordLost lost -> {
        out.writeByte(RECORD_LOST);
        writeRunId(out, lost.runId());
        out.writeInt(lost.attempt()).writeInstant(lost.stampedAt());
      }
      case CronCommand.Tick tick -> out.writeByte(TICK).writeInstant(tick.stampedAt());
    }
    return out.toByteArray();
  }

  /**
   * The command {@code bytes} encode.
   *
   * @throws MalformedCommandException if they are not a command of format {@link #FORMAT_VERSION}
   */
  public static CronCommand decode(byte[] bytes) {
    return decode(bytes, 0, bytes.length);
  }

  /** The command in {@code bytes[offset, offset + length)}, read in place. */
  public static CronCommand decode(byte[] bytes, int offset, int length) {
    try {
      return decodeCommand(new BinaryReader(bytes, offset, length));
    } catch (MalformedCommandException e) {
      throw e;
    } catch (RecordFormatException e) {
      throw new MalformedCommandException(e.getMessage(), e);
    }
  }

  private static CronCommand decodeCommand(BinaryReader in) {
    int version = in.readByte();
    if (version < OLDEST_READABLE_VERSION || version > FORMAT_VERSION) {
      throw new MalformedCommandException(
          "command format version "
              + version
              + " is not "
              + OLDEST_READABLE_VERSION
              + ".."
              + FORMAT_VERSION
              + "; a replica must not apply commands it cannot read");
    }
    int tag = in.readByte();
    CronCommand command;
    try {
      command =
          switch (tag) {
            case PUT_JOB -> {
              JobSpec spec = readSpec(in, version);
              ExpectedVersion expected = readExpected(in);
              int count = in.readCount(MAX_CHOSEN_VALUES, 8);
              Map<ScheduleField, Integer> chosen = new EnumMap<>(ScheduleField.class);
              for (int i = 0; i < count; i++) {
                chosen.put(in.readEnum(ScheduleField.class), in.readInt());
              }
              yield new CronCommand.PutJob(spec, expected, chosen, in.readInstant());
            }
            case DELETE_JOB ->
                new CronCommand.DeleteJob(readJobName(in), readExpected(in), in.readInstant());
            case PAUSE_JOB -> new CronCommand.PauseJob(readJobName(in), in.readInstant());
            case RESUME_JOB -> new CronCommand.ResumeJob(readJobName(in), in.readInstant());
            case TRIGGER_JOB -> new CronCommand.TriggerJob(readJobName(in), in.readInstant());
            case RUN_INTENT ->
                new CronCommand.RunIntent(
                    readRunId(in),
                    in.readInt(),
                    readAgentId(in),
                    in.readBallot(),
                    in.readInstant());
            case RUN_STARTED ->
                new CronCommand.RunStarted(
                    readRunId(in), in.readInt(), readAgentId(in), in.readInstant());
            case RUN_FINISHED ->
                new CronCommand.RunFinished(
                    readRunId(in), in.readInt(), readOutcome(in), in.readInstant());
            case RUN_FINISHED_WITH_DETAIL ->
                new CronCommand.RunFinished(
                    readRunId(in), in.readInt(), readOutcome(in), in.readInstant(), readDetail(in));
            case RECORD_TESTIMONY ->
                new CronCommand.RecordTestimony(
                    readRunId(in), in.readInt(), in.readString(), in.readInstant());
            case RECORD_SKIP ->
                new CronCommand.RecordSkip(readRunId(in), readSkipReason(in), in.readInstant());
            case RECORD_LOST ->
                new CronCommand.RecordLost(readRunId(in), in.readInt(), in.readInstant());
            case TICK -> new CronCommand.Tick(in.readInstant());
            default -> throw new MalformedCommandException("unknown command tag " + tag);
          };
    } catch (MalformedCommandException e) {
      throw e;
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new MalformedCommandException(
          "command tag " + tag + " has invalid fields: " + e.getMessage(), e);
    }
    in.expectEnd("command");
    return command;
  }

  /** The bytes of a result. */
  public static byte[] encodeResult(CommandResult result) {
    BinaryWriter out = new BinaryWriter().writeByte(FORMAT_VERSION);
    out.writeString(result.status().name())
        .writeLong(result.version())
        .writeString(result.message());
    out.writeInt(result.errors().size());
    for (FieldError error : result.errors()) {
      out.writeString(error.path()).writeString(error.reason());
    }
    return out.toByteArray();
  }

  /** The result {@code bytes} encode. */
  public static CommandResult decodeResult(byte[] bytes) {
    try {
      return decodeResultBytes(bytes);
    } catch (MalformedCommandException e) {
      throw e;
    } catch (RecordFormatException e) {
      throw new MalformedCommandException(e.getMessage(), e);
    }
  }

  private static CommandResult decodeResultBytes(byte[] bytes) {
    BinaryReader in = new BinaryReader(bytes);
    int version = in.readByte();
    if (version < OLDEST_READABLE_VERSION || version > FORMAT_VERSION) {
      throw new MalformedCommandException("result format version " + version);
    }
    CommandResult.Status status = in.readEnum(CommandResult.Status.class);
    long jobVersion = in.readLong();
    String message = in.readString();
    int count = in.readCount(Integer.MAX_VALUE, 8);
    List<FieldError> errors = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      errors.add(new FieldError(in.readString(), in.readString()));
    }
    in.expectEnd("result");
    return new CommandResult(status, jobVersion, message, errors);
  }

  /** The chosen values of a job's {@code ?} fields, in the fields' order. */
  static void writeChosen(BinaryWriter out, Map<ScheduleField, Integer> chosen) {
    int present = 0;
    for (ScheduleField field : SCHEDULE_FIELDS) {
      present += chosen.get(field) != null ? 1 : 0;
    }
    if (present != chosen.size()) {
      // The count goes first: a field mapped to no value would leave it wrong for every reader.
      throw new IllegalArgumentException("chosen values " + chosen + ": a field without a value");
    }
    out.writeInt(chosen.size());
    for (ScheduleField field : SCHEDULE_FIELDS) {
      Integer value = chosen.get(field);
      if (value != null) {
        out.writeString(field.name()).writeInt(value);
      }
    }
  }

  /** Every field, in declaration order (the order the chosen values are written in). */
  static final List<ScheduleField> SCHEDULE_FIELDS = List.of(ScheduleField.values());

  static void writeSpec(BinaryWriter out, JobSpec spec) {
    out.writeString(spec.name())
        .writeString(spec.schedule())
        .writeString(spec.syntax().name())
        .writeString(spec.zone())
        .writeString(spec.dstPolicy().gap().name())
        .writeString(spec.dstPolicy().overlap().name());
    switch (spec.command()) {
      case JobCommand.Argv argv -> {
        out.writeByte(1).writeInt(argv.arguments().size());
        argv.arguments().forEach(out::writeString);
      }
      case JobCommand.Shell shell -> out.writeByte(2).writeString(shell.script());
    }
    out.writeStringMap(spec.env())
        .writeString(spec.workingDirectory())
        .writeStringMap(spec.agentSelector())
        .writeDuration(spec.timeout());
    RetryPolicy retries = spec.retries();
    out.writeInt(retries.maxAttempts())
        .writeDuration(retries.backoffBase())
        .writeDuration(retries.backoffMax())
        .writeInt(retries.jitterPercent());
    out.writeString(spec.concurrency().name());
    MisfirePolicy misfire = spec.misfire();
    out.writeString(misfire.mode().name())
        .writeDuration(misfire.window())
        .writeInt(misfire.maxCount());
    out.writeString(spec.semantics().name())
        .writeBoolean(spec.paused())
        .writeInt(spec.historyRetention());
    out.writeString(spec.stdin())
        .writeString(spec.runAs())
        .writeString(spec.source())
        .writeStringMap(spec.annotations());
  }

  /** Reads a spec written by {@link #writeSpec} under format {@code version}. */
  static JobSpec readSpec(BinaryReader in, int version) {
    return readSpec(
        in,
        version,
        java.util.function.UnaryOperator.identity(),
        java.util.function.UnaryOperator.identity());
  }

  /**
   * {@link #readSpec(BinaryReader, int)} with the schedule text and the zone id passed through
   * {@code shareSchedule} and {@code shareZone}, which return one instance for equal strings: a
   * restore decodes a million specs with a few thousand distinct schedules, and the state machine
   * keeps one instance of each.
   */
  static JobSpec readSpec(
      BinaryReader in,
      int version,
      java.util.function.UnaryOperator<String> shareSchedule,
      java.util.function.UnaryOperator<String> shareZone) {
    String name = in.readString();
    String schedule = shareSchedule.apply(in.readString());
    Syntax syntax = in.readEnum(Syntax.class);
    String zone = shareZone.apply(in.readString());
    DstPolicy dst =
        new DstPolicy(in.readEnum(DstPolicy.Gap.class), in.readEnum(DstPolicy.Overlap.class));
    int commandKind = in.readByte();
    JobCommand command =
        switch (commandKind) {
          case 1 -> {
            int count = in.readCount(JobSpecValidator.MAX_ARGV_ELEMENTS * 4, 4);
            List<String> arguments = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
              arguments.add(in.readString());
            }
            yield new JobCommand.Argv(arguments);
          }
          case 2 -> new JobCommand.Shell(in.readString());
          default -> throw new MalformedCommandException("unknown command kind " + commandKind);
        };
    Map<String, String> env = in.readStringMap(JobSpecValidator.MAX_ENV_ENTRIES * 4);
    String workingDirectory = in.readString();
    Map<String, String> selector = in.readStringMap(JobSpecValidator.MAX_SELECTOR_LABELS * 4);
    var timeout = in.readDuration();
    RetryPolicy retries =
        new RetryPolicy(in.readInt(), in.readDuration(), in.readDuration(), in.readInt());
    ConcurrencyPolicy concurrency = in.readEnum(ConcurrencyPolicy.class);
    MisfirePolicy misfire =
        new MisfirePolicy(in.readEnum(MisfirePolicy.Mode.class), in.readDuration(), in.readInt());
    Semantics semantics = in.readEnum(Semantics.class);
    boolean paused = in.readBoolean();
    int retention = in.readInt();
    String stdin = "";
    String runAs = "";
    String source = "";
    Map<String, String> annotations = Map.of();
    if (version >= 2) {
      stdin = in.readString();
      runAs = in.readString();
      source = in.readString();
      annotations = in.readStringMap(JobSpecValidator.MAX_ANNOTATIONS * 4);
    }
    return new JobSpec(
        name,
        schedule,
        syntax,
        zone,
        dst,
        command,
        JobSpec.sorted(env),
        workingDirectory,
        JobSpec.sorted(selector),
        timeout,
        retries,
        concurrency,
        misfire,
        semantics,
        paused,
        retention,
        stdin,
        runAs,
        source,
        JobSpec.sorted(annotations));
  }

  private static void writeExpected(BinaryWriter out, ExpectedVersion expected) {
    switch (expected) {
      case ExpectedVersion.Any any -> out.writeByte(0);
      case ExpectedVersion.Absent absent -> out.writeByte(1);
      case ExpectedVersion.Exactly exactly -> out.writeByte(2).writeLong(exactly.version());
    }
  }

  private static ExpectedVersion readExpected(BinaryReader in) {
    int kind = in.readByte();
    return switch (kind) {
      case 0 -> ExpectedVersion.ANY;
      case 1 -> ExpectedVersion.ABSENT;
      case 2 -> ExpectedVersion.exactly(in.readLong());
      default -> throw new MalformedCommandException("unknown expected-version kind " + kind);
    };
  }

  static void writeRunId(BinaryWriter out, RunId runId) {
    out.writeString(runId.job().value()).writeInstant(runId.instant()).writeBoolean(runId.manual());
  }

  static RunId readRunId(BinaryReader in) {
    return new RunId(readJobName(in), in.readInstant(), in.readBoolean());
  }

  /** A job name, written as the bare string. */
  static JobName readJobName(BinaryReader in) {
    return jobName(in.readString());
  }

  /** {@code name} read from a command or snapshot as a job name. */
  static JobName jobName(String name) {
    if (!JobName.isValid(name)) {
      throw new MalformedCommandException("bad job name: " + JobName.problem(name));
    }
    return new JobName(name);
  }

  /** An agent id, written as the bare string. */
  static AgentId readAgentId(BinaryReader in) {
    String id = in.readString();
    if (!AgentId.isValid(id)) {
      throw new MalformedCommandException("bad agent id: " + AgentId.problem(id));
    }
    return new AgentId(id);
  }

  /** An agent id or none ({@code null}), written as the bare string or the empty string. */
  static void writeOptionalAgentId(BinaryWriter out, AgentId id) {
    out.writeString(id == null ? "" : id.value());
  }

  static AgentId readOptionalAgentId(BinaryReader in) {
    String id = in.readString();
    if (id.isEmpty()) {
      return null;
    }
    if (!AgentId.isValid(id)) {
      throw new MalformedCommandException("bad agent id: " + AgentId.problem(id));
    }
    return new AgentId(id);
  }

  static void writeOutcome(BinaryWriter out, Outcome outcome) {
    switch (outcome) {
      case Outcome.Succeeded succeeded -> out.writeByte(0);
      case Outcome.Failed failed -> out.writeByte(1).writeInt(failed.exitCode());
      case Outcome.TimedOut timedOut -> out.writeByte(2);
      case Outcome.Skipped skipped -> out.writeByte(3).writeByte(skipped.reason().ordinal());
      case Outcome.Lost lost -> out.writeByte(4);
    }
  }

  static Outcome readOutcome(BinaryReader in) {
    int kind = in.readByte();
    return switch (kind) {
      case 0 -> Outcome.SUCCEEDED;
      case 1 -> Outcome.failed(in.readInt());
      case 2 -> Outcome.TIMED_OUT;
      case 3 -> Outcome.skipped(readSkipReason(in));
      case 4 -> Outcome.LOST;
      default -> throw new MalformedCommandException("unknown outcome kind " + kind);
    };
  }

  private static SkipReason readSkipReason(BinaryReader in) {
    int ordinal = in.readByte();
    SkipReason[] reasons = SkipReason.values();
    if (ordinal >= reasons.length) {
      throw new MalformedCommandException("unknown skip reason " + ordinal);
    }
    return reasons[ordinal];
  }

  static void writeOptionalOutcome(BinaryWriter out, Outcome outcome) {
    out.writeBoolean(outcome != null);
    if (outcome != null) {
      writeOutcome(out, outcome);
    }
  }

  static Outcome readOptionalOutcome(BinaryReader in) {
    return in.readBoolean() ? readOutcome(in) : null;
  }

  static void writeRun(BinaryWriter out, Run run) {
    writeRunId(out, run.id());
    out.writeByte(run.status().ordinal())
        .writeBoolean(run.catchUp())
        .writeInstant(run.dueAt())
        .writeInt(run.attempt());
    writeOptionalAgentId(out, run.agentId());
    out.writeBallot(run.ballot())
        .writeOptionalInstant(run.intentAt())
        .writeOptionalInstant(run.startedAt())
        .writeBoolean(run.cancelRequested())
        .writeOptionalInstant(run.retryNotBefore());
    writeOptionalOutcome(out, run.lastFailure());
    out.writeLong(run.jobIncarnation());
  }

  static Run readRun(BinaryReader in) {
    RunId id = readRunId(in);
    int status = in.readByte();
    if (status >= RunStatus.values().length) {
      throw new MalformedCommandException("unknown run status " + status);
    }
    return new Run(
        id,
        RunStatus.values()[status],
        in.readBoolean(),
        in.readInstant(),
        in.readInt(),
        readOptionalAgentId(in),
        in.readBallot(),
        in.readOptionalInstant(),
        in.readOptionalInstant(),
        in.readBoolean(),
        in.readOptionalInstant(),
        readOptionalOutcome(in),
        in.readLong());
  }

  static void writeRecord(BinaryWriter out, LedgerRecord record) {
    out.writeLong(record.sequence());
    writeRunId(out, record.runId());
    out.writeInstant(record.lastInstant()).writeLong(record.instantCount());
    writeOutcome(out, record.outcome());
    out.writeInt(record.attempts());
    writeOptionalAgentId(out, record.agentId());
    out.writeBallot(record.ballot())
        .writeOptionalInstant(record.startedAt())
        .writeInstant(record.endedAt())
        .writeLong(record.slot());
    writeDetail(out, record.detail());
  }

  /** A ledger record; {@code withDetail} is false for snapshots written before records had one. */
  static LedgerRecord readRecord(BinaryReader in, boolean withDetail) {
    return new LedgerRecord(
        in.readLong(),
        readRunId(in),
        in.readInstant(),
        in.readLong(),
        readOutcome(in),
        in.readInt(),
        readOptionalAgentId(in),
        in.readBallot(),
        in.readOptionalInstant(),
        in.readInstant(),
        in.readLong(),
        withDetail ? readDetail(in) : RunDetail.NONE);
  }

  static void writeDetail(BinaryWriter out, RunDetail detail) {
    out.writeBytes(detail.outputTail())
        .writeString(detail.reason())
        .writeString(detail.agentTestimony());
  }

  static RunDetail readDetail(BinaryReader in) {
    byte[] tail = in.readBytes();
    if (tail.length > RunDetail.MAX_OUTPUT_TAIL_BYTES) {
      throw new MalformedCommandException(
          "output tail of " + tail.length + " bytes exceeds " + RunDetail.MAX_OUTPUT_TAIL_BYTES);
    }
    return new RunDetail(tail, in.readString(), in.readString());
  }
}
