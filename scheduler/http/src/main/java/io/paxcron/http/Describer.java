package io.paxcron.http;

import com.cronutils.descriptor.CronDescriptor;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import io.paxcron.schedule.Syntax;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A schedule in words ("at 02:30 every day"), computed on the server with cron-utils' {@link
 * CronDescriptor} so every browser shows the same sentence. Macros and {@code @every} are described
 * here, since cron-utils does not know Paxcron's forms. A schedule cron-utils cannot read gets an
 * empty description rather than a wrong one.
 *
 * <p>Thread-safe. Descriptions are cached by text, at most {@value #MAX_CACHED} of them (the cache
 * is dropped whole when full; schedules repeat a lot across a job set).
 */
final class Describer {
  static final int MAX_CACHED = 20_000;

  private static final Map<String, String> MACROS =
      Map.of(
          "@yearly", "once a year, at 00:00 on 1 January",
          "@annually", "once a year, at 00:00 on 1 January",
          "@monthly", "once a month, at 00:00 on day 1",
          "@weekly", "once a week, at 00:00 on Sunday",
          "@daily", "every day at 00:00",
          "@midnight", "every day at 00:00",
          "@hourly", "every hour, at minute 0");

  private final CronParser unix =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private final CronParser spring =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING));
  private final CronParser quartz =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ));
  private final CronDescriptor descriptor = CronDescriptor.instance(Locale.UK);
  private final Map<String, String> cache = new ConcurrentHashMap<>();

  String describe(String schedule, Syntax syntax) {
    String key = syntax.name() + " " + schedule;
    String cached = cache.get(key);
    if (cached != null) {
      return cached;
    }
    String description = compute(schedule.strip(), syntax);
    if (cache.size() >= MAX_CACHED) {
      cache.clear();
    }
    cache.put(key, description);
    return description;
  }

  private String compute(String schedule, Syntax syntax) {
    String lower = schedule.toLowerCase(Locale.ROOT);
    if (lower.startsWith("@every")) {
      return "every " + schedule.substring(6).strip();
    }
    if (MACROS.containsKey(lower)) {
      return MACROS.get(lower);
    }
    int fields = schedule.split("\\s+").length;
    CronParser parser =
        switch (syntax) {
          case QUARTZ -> quartz;
          case VIXIE -> fields == 6 ? spring : unix;
        };
    try {
      synchronized (this) {
        return descriptor.describe(parser.parse(schedule));
      }
    } catch (RuntimeException e) {
      // cron-utils rejects some forms Paxcron accepts (e.g. day-of-week 7); no sentence beats a
      // wrong one.
      return "";
    }
  }
}
