package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class CivilCalendarTest {
  @Test
  void epochDaysAndDatesAgreeWithJavaTimeFromYearZeroToTenThousand() {
    for (long day = LocalDate.of(0, 1, 1).toEpochDay();
        day <= LocalDate.of(10_400, 12, 31).toEpochDay();
        day += 7) {
      LocalDate date = LocalDate.ofEpochDay(day);
      long packed = CivilCalendar.civil(day);
      String at = "epoch day " + day;
      assertEquals(date.getYear(), CivilCalendar.year(packed), at);
      assertEquals(date.getMonthValue(), CivilCalendar.month(packed), at);
      assertEquals(date.getDayOfMonth(), CivilCalendar.day(packed), at);
      assertEquals(
          day,
          CivilCalendar.epochDay(date.getYear(), date.getMonthValue(), date.getDayOfMonth()),
          at);
      assertEquals(date.getDayOfWeek().getValue() % 7, CivilCalendar.dayOfWeek(day), at);
      assertEquals(
          date.lengthOfMonth(),
          CivilCalendar.lengthOfMonth(date.getYear(), date.getMonthValue()),
          at);
    }
  }
}
