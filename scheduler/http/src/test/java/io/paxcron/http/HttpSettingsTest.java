package io.paxcron.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HttpSettingsTest {

  @Test
  void boundsNameTheSettingTheyLimit() {
    IllegalArgumentException threads =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new HttpSettings(
                    "127.0.0.1", 0, 65, 10, 10, Duration.ZERO, Duration.ofSeconds(1), false));
    assertEquals("handlerThreads 65 is outside 1..64 (MAX_HANDLER_THREADS)", threads.getMessage());
    IllegalArgumentException window =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new HttpSettings(
                    "127.0.0.1", 0, 1, 10, 0, Duration.ZERO, Duration.ofSeconds(1), false));
    assertEquals("ledgerWindow 0 is outside 1..100000 (MAX_LEDGER_WINDOW)", window.getMessage());
    IllegalArgumentException port =
        assertThrows(
            IllegalArgumentException.class, () -> HttpSettings.defaults("127.0.0.1", 70_000));
    assertEquals("http port 70000 is outside 0..65535", port.getMessage());
  }

  @Test
  void queryStringsDecodeAndKeepRepeatedNames() {
    Map<String, List<String>> query =
        DashboardServer.parseQuery("name=a%2Db&name=c&q=hello+world&flag");
    assertEquals(List.of("a-b", "c"), query.get("name"));
    assertEquals(List.of("hello world"), query.get("q"));
    assertEquals(List.of(""), query.get("flag"));
  }
}
