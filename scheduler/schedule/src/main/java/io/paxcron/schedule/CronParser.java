package io.paxcron.schedule;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Turns expression text into a {@link CronExpression}, or rejects it with the field, the 1-based
 * column and the reason. Every method is a pure function of its arguments; the only state is a
 * bounded cache of parsed expressions, which returns what parsing again would.
 *
 * <p>Vixie semantics follow the Vixie cron 4.1 {@code entry.c} parser: a day field "is *" when its
 * text starts with {@code *} (so {@code *}{@code /2} counts as unrestricted for the
 * day-of-month/day-of-week rule), day-of-week 7 is Sunday, and when both day fields are restricted
 * a day matches if either matches.
 */
final class CronParser {
  /** Longest expression text accepted. */
  static final int MAX_EXPRESSION_LENGTH = 1024;

  /** Most digits a number in an expression may have. */
  static final int MAX_DIGITS = 9;

  static final List<String> MONTH_NAMES =
      List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");
  static final List<String> DAY_NAMES = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");

  static final Map<String, String> MACROS =
      Map.of(
          "@yearly", "0 0 1 1 *",
          "@annually", "0 0 1 1 *",
          "@monthly", "0 0 1 * *",
          "@weekly", "0 0 * * 0",
          "@daily", "0 0 * * *",
          "@midnight", "0 0 * * *",
          "@hourly", "0 * * * *");

  private static final List<ScheduleField> FIVE_FIELDS =
      List.of(
          ScheduleField.MINUTE,
          ScheduleField.HOUR,
          ScheduleField.DAY_OF_MONTH,
          ScheduleField.MONTH,
          ScheduleField.DAY_OF_WEEK);
  private static final List<ScheduleField> SIX_FIELDS =
      List.of(
          ScheduleField.SECOND,
          ScheduleField.MINUTE,
          ScheduleField.HOUR,
          ScheduleField.DAY_OF_MONTH,
          ScheduleField.MONTH,
          ScheduleField.DAY_OF_WEEK);
  private static final List<ScheduleField> SEVEN_FIELDS =
      List.of(
          ScheduleField.SECOND,
          ScheduleField.MINUTE,
          ScheduleField.HOUR,
          ScheduleField.DAY_OF_MONTH,
          ScheduleField.MONTH,
          ScheduleField.DAY_OF_WEEK,
          ScheduleField.YEAR);

  private CronParser() {}

  /** Whitespace-separated words of {@code text} with their 1-based columns. */
  static List<FieldToken> words(String text) {
    List<FieldToken> words = new ArrayList<>();
    int index = 0;
    while (index < text.length()) {
      if (isBlank(text.charAt(index))) {
        index++;
        continue;
      }
      int start = index;
      while (index < text.length() && !isBlank(text.charAt(index))) {
        index++;
      }
      words.add(new FieldToken(null, text.substring(start, index), start + 1));
    }
    return words;
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }

  static List<ScheduleField> fieldsFor(int count, Syntax syntax) {
    return switch (syntax) {
      case VIXIE -> count == 5 ? FIVE_FIELDS : count == 6 ? SIX_FIELDS : null;
      case QUARTZ -> count == 6 ? SIX_FIELDS : count == 7 ? SEVEN_FIELDS : null;
    };
  }

  static CronExpression parse(String text, Syntax syntax) {
    return parse(text, syntax, true);
  }

  /**
   * Parses {@code text}; with {@code requireFires} false an expression that matches no date at all
   * (30 February, the idiom for a disabled job) is accepted, and its {@code next} is {@link
   * NextFire.Exhausted}.
   */
  static CronExpression parse(String text, Syntax syntax, boolean requireFires) {
    ParseKey key = new ParseKey(text, syntax, requireFires);
    CronExpression known = PARSED.get(key);
    if (known != null) {
      return known;
    }
    CronExpression parsed = parseUncached(text, syntax, requireFires);
    if (PARSED.size() >= MAX_PARSED_KEPT) {
      PARSED.clear();
    }
    PARSED.put(key, parsed);
    return parsed;
  }

  /** What an expression is parsed from: its exact text (columns matter), syntax and strictness. */
  private record ParseKey(String text, Syntax syntax, boolean requireFires) {}

  /**
   * Most parsed expressions kept. A million jobs share a few thousand distinct schedule texts (and
   * resolved {@code ?} texts); past this the cache is emptied and refills with those in use.
   */
  static final int MAX_PARSED_KEPT = 8192;

  /**
   * Expressions already parsed, by text, syntax and strictness. A put parses its schedule several
   * times (the API's check, the leader's {@code ?} resolution, the state machine's validation and
   * apply, on every replica), and most jobs share their schedule text with many others, so parsing
   * dominated the cost of a put. Parsing is a pure function and a {@link CronExpression} is
   * immutable, so a kept result is exactly what parsing again would return; only successes are kept
   * (an invalid text is parsed again, to report its error). Thread-safe: replicas parse on their
   * loop thread, the API on gRPC threads.
   */
  private static final ConcurrentHashMap<ParseKey, CronExpression> PARSED =
      new ConcurrentHashMap<>();

  private static CronExpression parseUncached(String text, Syntax syntax, boolean requireFires) {
    if (text.length() > MAX_EXPRESSION_LENGTH) {
      throw new InvalidScheduleException(
          "expression",
          MAX_EXPRESSION_LENGTH + 1,
          "longer than the maximum of " + MAX_EXPRESSION_LENGTH + " characters");
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 && c != '\t' || c > 0x7E) {
        throw new InvalidScheduleException(
            "expression",
            i + 1,
            String.format(Locale.ROOT, "unexpected character U+%04X", (int) c));
      }
    }
    List<FieldToken> words = words(text);
    if (words.isEmpty()) {
      throw new InvalidScheduleException("expression", 1, "empty schedule");
    }
    FieldToken first = words.get(0);
    if (first.text().startsWith("@")) {
      return parseMacro(text, syntax, words);
    }
    List<ScheduleField> fields = fieldsFor(words.size(), syntax);
    if (fields == null) {
      String expected =
          syntax == Syntax.VIXIE
              ? "5 fields (minute hour day-of-month month day-of-week) or 6 with a leading second field"
              : "6 fields (second minute hour day-of-month month day-of-week) or 7 with a trailing year field";
      int maxFields = syntax == Syntax.VIXIE ? 6 : 7;
      int column = words.size() > maxFields ? words.get(maxFields).column() : text.length() + 1;
      throw new InvalidScheduleException(
          "expression", column, "expected " + expected + ", found " + words.size());
    }
    List<FieldToken> tokens = new ArrayList<>(fields.size());
    for (int i = 0; i < fields.size(); i++) {
      tokens.add(new FieldToken(fields.get(i), words.get(i).text(), words.get(i).column()));
    }
    return build(text, syntax, tokens, requireFires);
  }

  private static CronExpression parseMacro(String text, Syntax syntax, List<FieldToken> words) {
    FieldToken first = words.get(0);
    String name = first.text().toLowerCase(Locale.ROOT);
    if (name.equals("@reboot")) {
      throw new InvalidScheduleException(
          "expression",
          first.column(),
          "@reboot is not supported: a replicated cron has no single boot to run at");
    }
    if (name.equals("@every")) {
      throw new InvalidScheduleException(
          "expression",
          first.column(),
          "@every is an interval, not a cron expression; parse it with Schedule.parse");
    }
    String expansion = MACROS.get(name);
    if (expansion == null) {
      throw new InvalidScheduleException(
          "expression",
          first.column(),
          "unknown macro "
              + first.text()
              + "; expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every");
    }
    if (words.size() > 1) {
      throw new InvalidScheduleException(
          "expression", words.get(1).column(), "macro " + first.text() + " takes no fields");
    }
    CronExpression expanded = parse(expansion, Syntax.VIXIE);
    return new CronExpression(
        text,
        syntax,
        false,
        List.of(),
        EnumSet.noneOf(ScheduleField.class),
        expanded.matcher(),
        true,
        false);
  }

  /** Parses the field tokens of a (possibly partly {@code ?}) expression. */
  static CronExpression build(String text, Syntax syntax, List<FieldToken> tokens) {
    return build(text, syntax, tokens, true);
  }

  private static CronExpression build(
      String text, Syntax syntax, List<FieldToken> tokens, boolean requireFires) {
    Builder builder = new Builder(syntax, requireFires);
    for (FieldToken token : tokens) {
      builder.field(token);
    }
    return builder.finish(text, tokens);
  }

  /** Accumulates the masks of one expression while its fields are parsed. */
  private static final class Builder {
    private final Syntax syntax;
    private long seconds = 1;
    private long minutes;
    private long hours;
    private long daysOfMonth;
    private long months;
    private long daysOfWeek;
    private long[] years;
    private long lastDayOffsets;
    private boolean lastWeekday;
    private long nearestWeekdays;
    private long lastDaysOfWeek;
    private long nthDaysOfWeek;
    private boolean dayOfMonthUnrestricted;
    private boolean dayOfWeekUnrestricted;
    private boolean hasSeconds;
    private final Set<ScheduleField> questionMarks = EnumSet.noneOf(ScheduleField.class);
    private FieldToken dayOfMonthToken;
    private FieldToken dayOfWeekToken;

    private final boolean requireFires;

    Builder(Syntax syntax, boolean requireFires) {
      this.syntax = syntax;
      this.requireFires = requireFires;
    }

    void field(FieldToken token) {
      ScheduleField field = token.field();
      String text = token.text();
      if (field == ScheduleField.DAY_OF_MONTH) {
        dayOfMonthToken = token;
      } else if (field == ScheduleField.DAY_OF_WEEK) {
        dayOfWeekToken = token;
      } else if (field == ScheduleField.SECOND) {
        hasSeconds = true;
      }
      int questionMark = text.indexOf('?');
      if (questionMark >= 0) {
        if (!text.equals("?")) {
          throw error(token, questionMark, "? must stand alone in a field");
        }
        if (syntax == Syntax.QUARTZ
            && field != ScheduleField.DAY_OF_MONTH
            && field != ScheduleField.DAY_OF_WEEK) {
          throw error(
              token, 0, "? is allowed only in day-of-month and day-of-week in quartz syntax");
        }
        questionMarks.add(field);
        if (syntax == Syntax.QUARTZ) {
          if (field == ScheduleField.DAY_OF_MONTH) {
            daysOfMonth = rangeBits(1, 31);
            dayOfMonthUnrestricted = true;
          } else {
            daysOfWeek = rangeBits(0, 6);
            dayOfWeekUnrestricted = true;
          }
        }
        return;
      }
      boolean startsWithStar = text.startsWith("*");
      long[] bits = new long[field == ScheduleField.YEAR ? 3 : 1];
      int offset = 0;
      for (String item : text.split(",", -1)) {
        item(token, offset, item, bits);
        offset += item.length() + 1;
      }
      switch (field) {
        case SECOND -> seconds = bits[0];
        case MINUTE -> minutes = bits[0];
        case HOUR -> hours = bits[0];
        case DAY_OF_MONTH -> {
          daysOfMonth = bits[0];
          dayOfMonthUnrestricted = startsWithStar;
        }
        case MONTH -> months = bits[0];
        case DAY_OF_WEEK -> {
          daysOfWeek = foldSunday(bits[0]);
          dayOfWeekUnrestricted = startsWithStar;
        }
        case YEAR -> years = bits;
      }
    }

    private long foldSunday(long bits) {
      return syntax == Syntax.VIXIE ? (bits | bits >>> 7) & 0x7F : bits >>> 1;
    }

    private int minOf(ScheduleField field) {
      return syntax == Syntax.QUARTZ && field == ScheduleField.DAY_OF_WEEK ? 1 : field.min();
    }

    private int maxOf(ScheduleField field) {
      return field.max();
    }

    private void item(FieldToken token, int offset, String item, long[] bits) {
      ScheduleField field = token.field();
      if (item.isEmpty()) {
        throw error(token, offset, "empty list element");
      }
      if (syntax == Syntax.QUARTZ && quartzSpecial(token, offset, item, bits)) {
        return;
      }
      if (syntax == Syntax.VIXIE && looksLikeQuartzDayRule(field, item)) {
        throw error(
            token,
            offset,
            "'"
                + item
                + "' is a Quartz day rule (L, W or #), which Vixie syntax"
                + " does not have; use the quartz syntax");
      }
      int min = minOf(field);
      int max = maxOf(field);
      Cursor cursor = new Cursor(token, offset, item, syntax);
      int low;
      int high;
      boolean single = false;
      if (cursor.peek() == '*') {
        cursor.advance();
        low = min;
        high = max;
      } else {
        low = cursor.value(min, max);
        if (cursor.peek() == '-') {
          cursor.advance();
          int highPosition = cursor.position();
          high = cursor.value(min, max);
          if (low > high) {
            throw error(
                token,
                offset + highPosition,
                "range " + low + "-" + high + " is reversed: start is greater than end");
          }
        } else {
          high = max;
          single = true;
        }
      }
      int step = 1;
      if (cursor.peek() == '/') {
        cursor.advance();
        int stepPosition = cursor.position();
        step = cursor.number();
        if (step < 1) {
          throw error(token, offset + stepPosition, "step must be at least 1");
        }
        // A step larger than the span selects the start alone (Vixie, cronie, robfig/cron and
        // croniter all accept "5 H-23/24" as once a day); ScheduleLint warns about it.
      } else if (single) {
        high = low;
      }
      cursor.expectEnd();
      int base = field == ScheduleField.YEAR ? ScheduleField.YEAR.min() : 0;
      for (int value = low; value <= high; value += step) {
        int index = value - base;
        bits[index >>> 6] |= 1L << (index & 63);
      }
    }

    // Compiled once: String.matches compiles its pattern on every call, which showed up in the
    // cost of putting jobs.
    private static final Pattern QUARTZ_DAY_OF_MONTH_RULE =
        Pattern.compile("L|LW|L-[0-9]+|[0-9]+W");
    private static final Pattern QUARTZ_DAY_OF_WEEK_RULE =
        Pattern.compile("L|([0-7]|[A-Z]{3})(L|#[0-9]+)");

    private static boolean looksLikeQuartzDayRule(ScheduleField field, String item) {
      if (field != ScheduleField.DAY_OF_MONTH && field != ScheduleField.DAY_OF_WEEK) {
        return false;
      }
      String upper = item.toUpperCase(Locale.ROOT);
      return field == ScheduleField.DAY_OF_MONTH
              && QUARTZ_DAY_OF_MONTH_RULE.matcher(upper).matches()
          || field == ScheduleField.DAY_OF_WEEK && QUARTZ_DAY_OF_WEEK_RULE.matcher(upper).matches();
    }

    /**
     * Handles Quartz's {@code L}, {@code L-n}, {@code LW}, {@code nW}, {@code xL} and {@code x#k}.
     */
    private boolean quartzSpecial(FieldToken token, int offset, String item, long[] bits) {
      String upper = item.toUpperCase(Locale.ROOT);
      ScheduleField field = token.field();
      if (field == ScheduleField.DAY_OF_MONTH) {
        if (upper.equals("L")) {
          lastDayOffsets |= 1;
          return true;
        }
        if (upper.equals("LW")) {
          lastWeekday = true;
          return true;
        }
        if (upper.startsWith("L-")) {
          Cursor cursor = new Cursor(token, offset, item, syntax);
          cursor.advance();
          cursor.advance();
          int position = cursor.position();
          int days = cursor.number();
          if (days > 30) {
            throw error(token, offset + position, "value " + days + " out of range 0-30");
          }
          cursor.expectEnd();
          lastDayOffsets |= 1L << days;
          return true;
        }
        if (upper.endsWith("W")) {
          Cursor cursor = new Cursor(token, offset, item.substring(0, item.length() - 1), syntax);
          int day = cursor.value(1, 31);
          cursor.expectEnd();
          nearestWeekdays |= 1L << day;
          return true;
        }
        return false;
      }
      if (field == ScheduleField.DAY_OF_WEEK) {
        if (upper.equals("L")) {
          bits[0] |= 1L << 7;
          return true;
        }
        if (upper.length() > 1 && upper.endsWith("L")) {
          Cursor cursor = new Cursor(token, offset, item.substring(0, item.length() - 1), syntax);
          int weekday = cursor.value(1, 7);
          cursor.expectEnd();
          lastDaysOfWeek |= 1L << (weekday - 1);
          return true;
        }
        int hash = upper.indexOf('#');
        if (hash >= 0) {
          Cursor cursor = new Cursor(token, offset, item.substring(0, hash), syntax);
          int weekday = cursor.value(1, 7);
          cursor.expectEnd();
          Cursor ordinalCursor =
              new Cursor(token, offset + hash + 1, item.substring(hash + 1), syntax);
          int ordinal = ordinalCursor.value(1, 5);
          ordinalCursor.expectEnd();
          nthDaysOfWeek |= 1L << ((weekday - 1) * 8 + ordinal);
          return true;
        }
      }
      return false;
    }

    CronExpression finish(String text, List<FieldToken> tokens) {
      if (syntax == Syntax.QUARTZ
          && questionMarks.contains(ScheduleField.DAY_OF_MONTH)
          && questionMarks.contains(ScheduleField.DAY_OF_WEEK)) {
        throw error(dayOfWeekToken, 0, "day-of-month and day-of-week cannot both be ?");
      }
      boolean eitherDayField =
          syntax == Syntax.VIXIE && !dayOfMonthUnrestricted && !dayOfWeekUnrestricted;
      CronMatcher matcher =
          new CronMatcher(
              seconds,
              minutes,
              hours,
              daysOfMonth,
              months,
              daysOfWeek,
              eitherDayField,
              years,
              lastDayOffsets,
              lastWeekday,
              nearestWeekdays,
              lastDaysOfWeek,
              nthDaysOfWeek);
      if (requireFires) {
        requireFiresSomeDay(matcher);
      }
      Set<ScheduleField> unresolved =
          syntax == Syntax.VIXIE ? questionMarks : EnumSet.noneOf(ScheduleField.class);
      return new CronExpression(
          text,
          syntax,
          hasSeconds,
          List.copyOf(tokens),
          unresolved,
          matcher,
          !dayOfMonthUnrestricted,
          !dayOfWeekUnrestricted);
    }

    /**
     * Rejects expressions that can never fire (such as 30 February), treating every {@code ?} as
     * "any value" since the resolver may still pick a value that fires.
     */
    private void requireFiresSomeDay(CronMatcher matcher) {
      long all60 = rangeBits(0, 59);
      CronMatcher probe =
          new CronMatcher(
              questionMarks.contains(ScheduleField.SECOND) ? all60 : matcher.seconds,
              questionMarks.contains(ScheduleField.MINUTE) ? all60 : matcher.minutes,
              questionMarks.contains(ScheduleField.HOUR) ? CronMatcher.ALL_HOURS : matcher.hours,
              questionMarks.contains(ScheduleField.DAY_OF_MONTH)
                  ? rangeBits(1, 31)
                  : matcher.daysOfMonth,
              questionMarks.contains(ScheduleField.MONTH) ? rangeBits(1, 12) : matcher.months,
              questionMarks.contains(ScheduleField.DAY_OF_WEEK)
                  ? rangeBits(0, 6)
                  : matcher.daysOfWeek,
              matcher.eitherDayField,
              matcher.years,
              matcher.lastDayOffsets,
              matcher.lastWeekday,
              matcher.nearestWeekdays,
              matcher.lastDaysOfWeek,
              matcher.nthDaysOfWeek);
      long start =
          CivilCalendar.epochDay(syntax == Syntax.QUARTZ ? CronMatcher.FIRST_YEAR : 2000, 1, 1)
              * CivilCalendar.SECONDS_PER_DAY;
      if (probe.nextLocalMatch(start) != CronMatcher.NONE) {
        return;
      }
      if (years != null) {
        throw new InvalidScheduleException(
            "expression",
            1,
            "never fires: no date matches the day-of-month, month, day-of-week and year fields together");
      }
      FieldToken token = dayOfMonthToken != null ? dayOfMonthToken : dayOfWeekToken;
      throw error(
          token,
          0,
          "never fires: day-of-month "
              + token.text()
              + " does not occur in any month the month field allows");
    }
  }

  static long rangeBits(int low, int high) {
    return (-1L >>> (63 - high)) & (-1L << low);
  }

  static InvalidScheduleException error(FieldToken token, int offset, String reason) {
    return new InvalidScheduleException(token.field().label(), token.column() + offset, reason);
  }

  /** Reads numbers and names from one list item, reporting errors at their exact column. */
  private static final class Cursor {
    private final FieldToken token;
    private final int offset;
    private final String item;
    private final boolean quartzWeekdays;
    private int position;

    Cursor(FieldToken token, int offset, String item, Syntax syntax) {
      this.token = token;
      this.offset = offset;
      this.item = item;
      this.quartzWeekdays = syntax == Syntax.QUARTZ;
    }

    char peek() {
      return position < item.length() ? item.charAt(position) : '\0';
    }

    void advance() {
      position++;
    }

    int position() {
      return position;
    }

    void expectEnd() {
      if (position < item.length()) {
        throw error(
            token, offset + position, "unexpected character '" + item.charAt(position) + "'");
      }
      if (item.isEmpty()) {
        throw error(token, offset, "missing value");
      }
    }

    int number() {
      int start = position;
      while (position < item.length() && Character.isDigit(item.charAt(position))) {
        position++;
      }
      if (position == start) {
        throw missingOrUnexpected(start);
      }
      if (position - start > MAX_DIGITS) {
        throw error(
            token,
            offset + start,
            "number "
                + item.substring(start, position)
                + " has more than "
                + MAX_DIGITS
                + " digits");
      }
      return Integer.parseInt(item.substring(start, position));
    }

    /** A number or, in the month and day-of-week fields, a three-letter name. */
    int value(int min, int max) {
      int start = position;
      int value;
      if (Character.isLetter(peek())) {
        while (position < item.length() && Character.isLetter(item.charAt(position))) {
          position++;
        }
        value = name(item.substring(start, position), start);
      } else {
        value = number();
      }
      if (value < min || value > max) {
        throw error(token, offset + start, "value " + value + " out of range " + min + "-" + max);
      }
      return value;
    }

    private int name(String name, int start) {
      String upper = name.toUpperCase(Locale.ROOT);
      ScheduleField field = token.field();
      if (field == ScheduleField.MONTH) {
        int index = MONTH_NAMES.indexOf(upper);
        if (index < 0) {
          throw error(token, offset + start, "unknown name '" + name + "'; expected JAN-DEC");
        }
        return index + 1;
      }
      if (field == ScheduleField.DAY_OF_WEEK) {
        int index = DAY_NAMES.indexOf(upper);
        if (index < 0) {
          throw error(token, offset + start, "unknown name '" + name + "'; expected SUN-SAT");
        }
        return quartzWeekdays ? index + 1 : index;
      }
      throw error(
          token,
          offset + start,
          "unexpected name '" + name + "': the " + field.label() + " field takes numbers only");
    }

    private InvalidScheduleException missingOrUnexpected(int at) {
      if (at >= item.length()) {
        return error(token, offset + at, "missing value");
      }
      return error(token, offset + at, "unexpected character '" + item.charAt(at) + "'");
    }
  }
}
