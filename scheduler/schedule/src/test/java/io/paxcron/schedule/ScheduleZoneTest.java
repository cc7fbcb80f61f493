package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class ScheduleZoneTest {
  @Test
  void ianaNamesAreAccepted() {
    assertEquals(ZoneId.of("Europe/Berlin"), ScheduleZone.parse("Europe/Berlin"));
    assertEquals(ZoneId.of("UTC"), ScheduleZone.parse("UTC"));
    assertEquals(ZoneId.of("Australia/Lord_Howe"), ScheduleZone.parse("Australia/Lord_Howe"));
  }

  @Test
  void unknownNamesAndBareOffsetsAreRejectedWithAnExample() {
    for (String id :
        new String[] {"Europe/Berlinn", "europe/berlin", "+02:00", "EST5EDT7", "Mars/Olympus"}) {
      ScheduleError error =
          assertThrows(InvalidScheduleException.class, () -> ScheduleZone.parse(id)).error();
      assertEquals(
          new ScheduleError(
              "time-zone",
              1,
              "unknown time-zone '"
                  + id
                  + "'; expected an IANA name such as Europe/Berlin, America/New_York or UTC (case-sensitive)"),
          error);
    }
    assertEquals(
        new ScheduleError(
            "time-zone", 1, "empty time-zone id; expected an IANA name such as Europe/Berlin"),
        assertThrows(InvalidScheduleException.class, () -> ScheduleZone.parse("")).error());
    assertEquals(
        65,
        assertThrows(
                InvalidScheduleException.class, () -> ScheduleZone.parse("A/" + "b".repeat(70)))
            .error()
            .column());
  }
}
