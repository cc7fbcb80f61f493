package io.paxcron.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.proto.v1.SkipReason;
import io.paxcron.schedule.Syntax;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ViewsTest {

  private static Timestamp at(String iso) {
    Instant instant = Instant.parse(iso);
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  @Test
  void nextInstantsStartWithTheClustersNextDueAndFollowTheResolvedScheduleInTheJobsZone() {
    Job job =
        Job.newBuilder()
            .setName("nightly")
            .setSchedule("? 2 * * *")
            .setResolvedSchedule("17 2 * * *")
            .setZone("Europe/Berlin")
            .setNextDue(at("2026-12-02T01:17:00Z"))
            .build();
    assertEquals(
        List.of("2026-12-02T01:17:00Z", "2026-12-03T01:17:00Z", "2026-12-04T01:17:00Z"),
        Views.nextInstants(job, Instant.parse("2026-12-01T12:00:00Z"), 3));
  }

  @Test
  void aStretchOfSkipsIsOneRecordWithItsCountAndReason() {
    RunRecord stretch =
        RunRecord.newBuilder()
            .setSequence(9)
            .setJob("ticker")
            .setRunId("ticker@x")
            .setInstant(at("2026-12-02T06:00:01Z"))
            .setLastInstant(at("2026-12-02T06:00:07Z"))
            .setInstantCount(7)
            .setOutcome(Outcome.OUTCOME_SKIPPED)
            .setSkipReason(SkipReason.SKIP_REASON_PAUSED)
            .setOutcomeText("SKIPPED(PAUSED)")
            .build();
    Map<String, Object> view = Views.record(stretch);
    assertEquals(7L, view.get("count"));
    assertEquals("SKIPPED", view.get("outcome"));
    assertEquals("PAUSED", view.get("reason"));
    assertEquals("2026-12-02T06:00:07Z", view.get("lastInstant"));
    assertNull(view.get("durationMillis"));
  }

  @Test
  void aRunShowsItsDurationLatenessAndOutputTail() {
    RunRecord run =
        RunRecord.newBuilder()
            .setSequence(3)
            .setJob("report")
            .setRunId("report@x")
            .setInstant(at("2026-12-02T06:00:00Z"))
            .setStartedAt(at("2026-12-02T06:00:00.040Z"))
            .setEndedAt(at("2026-12-02T06:00:01.540Z"))
            .setOutcome(Outcome.OUTCOME_FAILED)
            .setExitCode(2)
            .setOutputTail(ByteString.copyFrom("disk full\n", StandardCharsets.UTF_8))
            .build();
    Map<String, Object> view = Views.record(run);
    assertEquals(1500L, view.get("durationMillis"));
    assertEquals(40L, view.get("latenessMillis"));
    assertEquals("disk full\n", view.get("outputTail"));
    assertEquals("", view.get("reason"));
  }

  @Test
  void describesSchedulesInWords() {
    Describer describer = new Describer();
    assertEquals("every 5m", describer.describe("@every 5m", Syntax.VIXIE));
    assertEquals("every day at 00:00", describer.describe("@daily", Syntax.VIXIE));
    String nightly = describer.describe("30 2 * * *", Syntax.VIXIE);
    assertEquals(true, nightly.contains("02:30"), nightly);
    assertEquals("", describer.describe("not a schedule", Syntax.VIXIE));
  }
}
