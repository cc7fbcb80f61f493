package io.paxcron.cli;

import com.cronutils.descriptor.CronDescriptor;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import io.paxcron.schedule.Syntax;
import java.util.Locale;
import java.util.Map;

/**
 * A schedule in words ("every 5 minutes"), from cron-utils' descriptor (named on the product card).
 * Only for people: the cluster's own evaluator decides when jobs run, and a schedule cron-utils
 * cannot describe gets an empty description rather than an error.
 */
final class Describe {
  private static final Map<String, String> MACROS =
      Map.of(
          "@yearly",
          "0 0 1 1 *",
          "@annually",
          "0 0 1 1 *",
          "@monthly",
          "0 0 1 * *",
          "@weekly",
          "0 0 * * 0",
          "@daily",
          "0 0 * * *",
          "@midnight",
          "0 0 * * *",
          "@hourly",
          "0 * * * *");
  private static final CronParser UNIX =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final CronParser SPRING =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING));
  private static final CronParser QUARTZ =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ));

  private Describe() {}

  /** The description of a resolved schedule (no {@code ?}), or "" if there is none. */
  static String describe(String schedule, Syntax syntax) {
    String text = schedule.strip();
    String lower = text.toLowerCase(Locale.ROOT);
    if (lower.startsWith("@every")) {
      return "every " + text.substring(6).strip();
    }
    text = MACROS.getOrDefault(lower, text);
    try {
      CronParser parser =
          syntax == Syntax.QUARTZ ? QUARTZ : text.split("\\s+").length == 6 ? SPRING : UNIX;
      return CronDescriptor.instance(Locale.UK).describe(parser.parse(text));
    } catch (RuntimeException e) {
      return "";
    }
  }
}
