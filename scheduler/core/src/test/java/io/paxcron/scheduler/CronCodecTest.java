package io.paxcron.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Ballot;
import io.paxcron.paxos.BinaryWriter;
import io.paxcron.schedule.DstPolicy;
import io.paxcron.schedule.ScheduleField;
import io.paxcron.schedule.Syntax;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

final class CronCodecTest {

  /** A random valid name: a DNS label of 1-12 characters. */
  static String label(SplittableRandom random) {
    String alphabet = "abcxyz019-";
    StringBuilder label = new StringBuilder();
    int length = 1 + random.nextInt(12);
    for (int i = 0; i < length; i++) {
      boolean edge = i == 0 || i == length - 1;
      label.append(alphabet.charAt(random.nextInt(alphabet.length() - (edge ? 1 : 0))));
    }
    return label.toString();
  }

  static JobName jobName(SplittableRandom random) {
    return JobName.of(label(random));
  }

  static AgentId agentId(SplittableRandom random) {
    return AgentId.of(label(random));
  }

  static String text(SplittableRandom random) {
    String alphabet = "abcxyz-019 ÄΩ\u4e2d\ud83d\ude00/=\"'\n";
    StringBuilder text = new StringBuilder();
    int length = random.nextInt(12);
    for (int i = 0; i < length; i++) {
      int at = random.nextInt(alphabet.length());
      char c = alphabet.charAt(at);
      if (Character.isHighSurrogate(c)) {
        text.append(c).append(alphabet.charAt(at + 1));
      } else if (!Character.isLowSurrogate(c)) {
        text.append(c);
      }
    }
    return text.toString();
  }

  static Instant instant(SplittableRandom random) {
    return Instant.ofEpochSecond(
        random.nextLong(-10_000_000_000L, 10_000_000_000L), random.nextInt(1_000_000_000));
  }

  static Duration duration(SplittableRandom random) {
    return Duration.ofSeconds(random.nextLong(0, 1_000_000), random.nextInt(1_000_000_000));
  }

  static Map<String, String> map(SplittableRandom random) {
    Map<String, String> map = new TreeMap<>();
    int size = random.nextInt(4);
    for (int i = 0; i < size; i++) {
      map.put(text(random), text(random));
    }
    return map;
  }

  static <E extends Enum<E>> E pick(SplittableRandom random, Class<E> type) {
    E[] values = type.getEnumConstants();
    return values[random.nextInt(values.length)];
  }

  static JobSpec spec(SplittableRandom random) {
    JobCommand command =
        random.nextBoolean()
            ? new JobCommand.Shell(text(random))
            : new JobCommand.Argv(List.of(text(random), text(random)));
    return JobSpec.builder(text(random), text(random), command)
        .syntax(pick(random, Syntax.class))
        .zone(text(random))
        .dstPolicy(
            new DstPolicy(pick(random, DstPolicy.Gap.class), pick(random, DstPolicy.Overlap.class)))
        .env(map(random))
        .workingDirectory(text(random))
        .agentSelector(map(random))
        .timeout(duration(random))
        .retries(
            new RetryPolicy(random.nextInt(), duration(random), duration(random), random.nextInt()))
        .concurrency(pick(random, ConcurrencyPolicy.class))
        .misfire(
            new MisfirePolicy(
                pick(random, MisfirePolicy.Mode.class), duration(random), random.nextInt()))
        .semantics(pick(random, Semantics.class))
        .paused(random.nextBoolean())
        .historyRetention(random.nextInt())
        .stdin(text(random))
        .runAs(text(random))
        .source(text(random))
        .annotations(map(random))
        .build();
  }

  static RunId runId(SplittableRandom random) {
    return new RunId(jobName(random), instant(random), random.nextBoolean());
  }

  static Outcome outcome(SplittableRandom random) {
    return switch (random.nextInt(5)) {
      case 0 -> Outcome.SUCCEEDED;
      case 1 -> Outcome.failed(random.nextInt());
      case 2 -> Outcome.TIMED_OUT;
      case 3 -> Outcome.skipped(pick(random, SkipReason.class));
      default -> Outcome.LOST;
    };
  }

  static CronCommand command(SplittableRandom random) {
    Ballot ballot =
        new Ballot(random.nextLong(0, Long.MAX_VALUE), random.nextInt(0, Integer.MAX_VALUE));
    ExpectedVersion expected =
        switch (random.nextInt(3)) {
          case 0 -> ExpectedVersion.ANY;
          case 1 -> ExpectedVersion.ABSENT;
          default -> ExpectedVersion.exactly(random.nextLong(1, Long.MAX_VALUE));
        };
    int attempt = random.nextInt(1, 100);
    return switch (random.nextInt(12)) {
      case 0 ->
          new CronCommand.PutJob(
              spec(random),
              expected,
              random.nextBoolean()
                  ? Map.of()
                  : Map.of(ScheduleField.MINUTE, 7, ScheduleField.HOUR, 3),
              instant(random));
      case 1 -> new CronCommand.DeleteJob(jobName(random), expected, instant(random));
      case 2 -> new CronCommand.PauseJob(jobName(random), instant(random));
      case 3 -> new CronCommand.ResumeJob(jobName(random), instant(random));
      case 4 -> new CronCommand.TriggerJob(jobName(random), instant(random));
      case 5 ->
          new CronCommand.RunIntent(
              runId(random), attempt, agentId(random), ballot, instant(random));
      case 6 ->
          new CronCommand.RunStarted(runId(random), attempt, agentId(random), instant(random));
      case 7 ->
          new CronCommand.RunFinished(
              runId(random),
              attempt,
              outcome(random),
              instant(random),
              new RunDetail(
                  text(random).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                  text(random),
                  ""));
      case 8 ->
          new CronCommand.RecordSkip(
              runId(random), pick(random, SkipReason.class), instant(random));
      case 9 -> new CronCommand.RecordLost(runId(random), attempt, instant(random));
      case 10 ->
          new CronCommand.RecordTestimony(runId(random), attempt, text(random), instant(random));
      default -> new CronCommand.Tick(instant(random));
    };
  }

  @Test
  void everyCommandKindSurvivesEncodeAndDecode() {
    SplittableRandom random = Seeds.random("everyCommandKindSurvivesEncodeAndDecode", 20240101L);
    boolean[] seen = new boolean[13];
    seen[8 - 1] = true; // RunFinished without detail: read (see below), no longer written
    for (int i = 0; i < 5_000; i++) {
      CronCommand command = command(random);
      byte[] bytes = CronCodec.encode(command);
      CronCommand decoded = CronCodec.decode(bytes);
      assertEquals(command, decoded);
      assertArrayEquals(bytes, CronCodec.encode(decoded), "encoding is deterministic");
      assertEquals(CronCodec.FORMAT_VERSION, bytes[0]);
      seen[bytes[1] - 1] = true;
    }
    for (int tag = 0; tag < seen.length; tag++) {
      assertEquals(true, seen[tag], "tag " + (tag + 1) + " generated");
    }
  }

  /**
   * A PutJob of "nightly" as format 1 wrote it, before the spec had stdin, runAs, source and
   * annotations.
   */
  static final String PUT_JOB_FORMAT_1 =
      "0101000000076e696768746c790000000a33302032202a202a202a0000000556495849450000000d4575726f70652f42"
          + "65726c696e0000000d52554e5f41465445525f4741500000000852554e5f4f4e434502000000076563686f2068690000"
          + "00010000000141000000016200000000000000000000000000000e100000000000000001000000000000000a00000000"
          + "0000000000000258000000000000001400000006464f524249440000000852554e5f4f4e43450000000000000e100000"
          + "00000000000a0000000c41545f4d4f53545f4f4e434500000000640100000000000000006592008000000000";

  /** A state-machine snapshot holding that job, as snapshot format 1 wrote it. */
  static final String SNAPSHOT_FORMAT_1 =
      "01000000006592008000000000000000000000000100000001000000076e696768746c790000000a33302032202a202a"
          + "202a0000000556495849450000000d4575726f70652f4265726c696e0000000d52554e5f41465445525f474150000000"
          + "0852554e5f4f4e434502000000076563686f206869000000010000000141000000016200000000000000000000000000"
          + "000e100000000000000001000000000000000a000000000000000000000258000000000000001400000006464f524249"
          + "440000000852554e5f4f4e43450000000000000e10000000000000000a0000000c41545f4d4f53545f4f4e4345000000"
          + "006400000000000000010000000000000001000000000100000000659215980000000000000000659223a80000000000"
          + "0000000a0000000000000000";

  /** The same state machine's snapshot as snapshot format 2 wrote it (unframed). */
  static final String SNAPSHOT_FORMAT_2 =
      "02000000006592008000000000000000000000000100000001000000076e696768746c790000000a3330203220"
          + "2a202a202a0000000556495849450000000d4575726f70652f4265726c696e0000000d52554e5f41465445525f474150"
          + "0000000852554e5f4f4e434502000000076563686f206869000000010000000141000000016200000000000000000000"
          + "000000000e100000000000000001000000000000000a000000000000000000000258000000000000001400000006464f"
          + "524249440000000852554e5f4f4e43450000000000000e10000000000000000a0000000c41545f4d4f53545f4f4e4345"
          + "000000006400000000000000000000000000000000000000000000000100000000000000010000000001000000006592"
          + "15980000000000000000659223a800000000000000000a0000000000000000";

  static JobSpec nightly() {
    return JobSpec.builder("nightly", "30 2 * * *", new JobCommand.Shell("echo hi"))
        .zone("Europe/Berlin")
        .env(Map.of("A", "b"))
        .build();
  }

  @Test
  void commandsWrittenByFormatOneStayReadableWithDefaultsForNewFields() {
    CronCommand decoded = CronCodec.decode(java.util.HexFormat.of().parseHex(PUT_JOB_FORMAT_1));
    assertEquals(
        new CronCommand.PutJob(nightly(), ExpectedVersion.ABSENT, Map.of(), Fixture.T0), decoded);
  }

  @Test
  void chosenValuesAreWrittenInFieldOrderAndAFieldWithoutAValueIsRefused() {
    Map<ScheduleField, Integer> chosen = new java.util.EnumMap<>(ScheduleField.class);
    chosen.put(ScheduleField.HOUR, 4);
    chosen.put(ScheduleField.MINUTE, 17);
    CronCommand put = new CronCommand.PutJob(nightly(), ExpectedVersion.ABSENT, chosen, Fixture.T0);
    assertEquals(put, CronCodec.decode(CronCodec.encode(put)));
    chosen.put(ScheduleField.SECOND, null);
    CronCommand broken =
        new CronCommand.PutJob(nightly(), ExpectedVersion.ABSENT, chosen, Fixture.T0);
    IllegalArgumentException refused =
        assertThrows(IllegalArgumentException.class, () -> CronCodec.encode(broken));
    assertTrue(refused.getMessage().contains("a field without a value"), refused.getMessage());
  }

  @Test
  void snapshotsWrittenByFormatOneStayRestorable() {
    CronStateMachine machine = new CronStateMachine();
    machine.restore(java.util.HexFormat.of().parseHex(SNAPSHOT_FORMAT_1));
    CronStateMachine expected = new CronStateMachine();
    expected.apply(
        1, new CronCommand.PutJob(nightly(), ExpectedVersion.ABSENT, Map.of(), Fixture.T0));
    assertArrayEquals(expected.snapshot(), machine.snapshot());
  }

  @Test
  void snapshotsWrittenByFormatTwoStayRestorableAndAreWrittenAgainInAFrame() {
    CronStateMachine machine = new CronStateMachine();
    machine.restore(java.util.HexFormat.of().parseHex(SNAPSHOT_FORMAT_2));
    CronStateMachine expected = new CronStateMachine();
    expected.apply(
        1, new CronCommand.PutJob(nightly(), ExpectedVersion.ABSENT, Map.of(), Fixture.T0));
    byte[] snapshot = machine.snapshot();
    assertArrayEquals(expected.snapshot(), snapshot);
    assertEquals(io.paxcron.paxos.RecordKind.CRON_SNAPSHOT.tag(), snapshot[0]);
    assertEquals(3, snapshot[1]);
    // Format 3 is format 2's body in a frame.
    byte[] old = java.util.HexFormat.of().parseHex(SNAPSHOT_FORMAT_2);
    assertArrayEquals(
        java.util.Arrays.copyOfRange(old, 1, old.length),
        java.util.Arrays.copyOfRange(
            snapshot, io.paxcron.paxos.Frame.HEADER_BYTES, snapshot.length));
  }

  @Test
  void aCorruptedOrFutureSnapshotIsRefusedNamingTheRecordAndTheVersions() {
    CronStateMachine machine = new CronStateMachine();
    machine.apply(
        1, new CronCommand.PutJob(nightly(), ExpectedVersion.ABSENT, Map.of(), Fixture.T0));
    byte[] snapshot = machine.snapshot();
    for (int index = io.paxcron.paxos.Frame.HEADER_BYTES; index < snapshot.length; index += 7) {
      byte[] flipped = snapshot.clone();
      flipped[index] ^= 0x20;
      IllegalStateException refused =
          assertThrows(IllegalStateException.class, () -> new CronStateMachine().restore(flipped));
      assertTrue(
          refused
              .getMessage()
              .contains("cron snapshot record, format version 3: checksum mismatch"),
          refused.getMessage());
    }
    byte[] future = snapshot.clone();
    future[1] = 4;
    IllegalStateException refused =
        assertThrows(IllegalStateException.class, () -> new CronStateMachine().restore(future));
    assertTrue(
        refused
            .getMessage()
            .contains(
                "cron snapshot record: format version 4 is not one this build reads (versions"
                    + " 1..3)"),
        refused.getMessage());
    byte[] unframedFuture = java.util.HexFormat.of().parseHex(SNAPSHOT_FORMAT_2);
    unframedFuture[0] = 3;
    assertThrows(IllegalStateException.class, () -> new CronStateMachine().restore(unframedFuture));
  }

  @Test
  void newSpecFieldsSurviveEncodeAndDecode() {
    JobSpec spec =
        nightly().toBuilder()
            .stdin("line 1\nline 2\n")
            .runAs("backup")
            .source("crontab:host1")
            .annotations(Map.of("mailto", "ops@example.com"))
            .build();
    CronCommand put = new CronCommand.PutJob(spec, ExpectedVersion.ANY, Map.of(), Fixture.T0);
    assertEquals(put, CronCodec.decode(CronCodec.encode(put)));
  }

  @Test
  void finishWithoutDetailFromAnOlderLogIsStillRead() {
    RunId run = RunId.of(JobName.of("a"), Fixture.T0);
    BinaryWriter out = new BinaryWriter().writeByte(CronCodec.FORMAT_VERSION).writeByte(8);
    CronCodec.writeRunId(out, run);
    out.writeInt(2);
    CronCodec.writeOutcome(out, Outcome.failed(3));
    out.writeInstant(Fixture.T0);
    assertEquals(
        new CronCommand.RunFinished(run, 2, Outcome.failed(3), Fixture.T0),
        CronCodec.decode(out.toByteArray()));
  }

  @Test
  void outputTailIsCutToItsLastKibibyte() {
    byte[] output = new byte[3000];
    output[2999] = 'z';
    RunDetail detail = RunDetail.of(output, "");
    assertEquals(RunDetail.MAX_OUTPUT_TAIL_BYTES, detail.outputTail().length);
    assertEquals('z', detail.outputTail()[RunDetail.MAX_OUTPUT_TAIL_BYTES - 1]);
  }

  @Test
  void resultsSurviveEncodeAndDecode() {
    CommandResult result =
        new CommandResult(
            CommandResult.Status.INVALID,
            17,
            "2 problem(s)",
            List.of(
                new FieldError("name", "must not be empty"), new FieldError("env[X]", "value ∅")));
    assertEquals(result, CronCodec.decodeResult(CronCodec.encodeResult(result)));
  }

  @Test
  void unknownVersionTruncationAndTrailingBytesAreMalformed() {
    byte[] tick = CronCodec.encode(new CronCommand.Tick(Fixture.T0));
    byte[] otherVersion = tick.clone();
    otherVersion[0] = CronCodec.FORMAT_VERSION + 1;
    assertThrows(MalformedCommandException.class, () -> CronCodec.decode(otherVersion));
    for (int length = 0; length < tick.length; length++) {
      byte[] truncated = java.util.Arrays.copyOf(tick, length);
      assertThrows(
          MalformedCommandException.class, () -> CronCodec.decode(truncated), "length " + length);
    }
    byte[] trailing = java.util.Arrays.copyOf(tick, tick.length + 1);
    assertThrows(MalformedCommandException.class, () -> CronCodec.decode(trailing));
    byte[] unknownTag = tick.clone();
    unknownTag[1] = 99;
    assertThrows(MalformedCommandException.class, () -> CronCodec.decode(unknownTag));
  }

  @Test
  void corruptedCommandsAreMalformedNeverAnotherException() {
    SplittableRandom random =
        Seeds.random("corruptedCommandsAreMalformedNeverAnotherException", 77L);
    List<String> unexpected = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      byte[] bytes = CronCodec.encode(command(random));
      int flips = 1 + random.nextInt(3);
      for (int f = 0; f < flips; f++) {
        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
      }
      try {
        CronCodec.decode(bytes);
      } catch (MalformedCommandException expected) {
        // the only acceptable failure
      } catch (RuntimeException other) {
        unexpected.add(other.toString());
      }
    }
    assertEquals(List.of(), unexpected);
  }

  @Test
  void stateMachineAnswersMalformedBytesWithoutChangingState() {
    Fixture fixture = new Fixture();
    byte[] before = fixture.machine.snapshot();
    CommandResult result = fixture.machine.applyEncoded(1, new byte[] {9, 9, 9});
    assertEquals(CommandResult.Status.MALFORMED, result.status());
    assertArrayEquals(before, fixture.machine.snapshot());
  }
}
