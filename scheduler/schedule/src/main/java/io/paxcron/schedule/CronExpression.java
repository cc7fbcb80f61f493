package io.paxcron.schedule;

import java.time.Instant;
import java.time.ZoneId;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A parsed cron expression in one {@link Syntax}. Immutable and thread-safe.
 *
 * <p>An expression with Google's {@code ?} in some fields is <em>unresolved</em>: it can be stored,
 * shown and passed to {@link QuestionMarkResolver}, but asking it for a fire time is a programmer
 * error. {@link #resolve} replaces each {@code ?} by a concrete value and keeps the rest of the
 * text as written.
 *
 * <p>Evaluation ({@link #next}) is a pure function of its arguments: it reads no clock, and the
 * only shared state it touches is the JDK's immutable {@link ZoneRules}.
 */
public final class CronExpression implements Schedule {
  /** Fire times are computed for instants in years 0 to 9999. */
  static final long MIN_EPOCH_SECOND = -62_167_219_200L;

  static final long MAX_EPOCH_SECOND = 253_402_300_799L;

  /**
   * Most zone transitions one {@link #next} call crosses before giving up. Transitions happen at
   * most a few times a year, and a resolved expression fires at least every eight years (every 28
   * for Quartz day rules), so this bound is never reached by an expression that fires.
   */
  static final int MAX_TRANSITIONS_PER_SEARCH = 4096;

  private final String text;
  private final Syntax syntax;
  private final boolean hasSeconds;
  private final List<FieldToken> tokens;
  private final Set<ScheduleField> questionMarks;
  private final CronMatcher matcher;
  private final boolean dayOfMonthRestricted;
  private final boolean dayOfWeekRestricted;

  CronExpression(
      String text,
      Syntax syntax,
      boolean hasSeconds,
      List<FieldToken> tokens,
      Set<ScheduleField> questionMarks,
      CronMatcher matcher,
      boolean dayOfMonthRestricted,
      boolean dayOfWeekRestricted) {
    this.text = text;
    this.syntax = syntax;
    this.hasSeconds = hasSeconds;
    this.tokens = tokens;
    this.questionMarks =
        questionMarks.isEmpty()
            ? Collections.emptySet()
            : Collections.unmodifiableSet(EnumSet.copyOf(questionMarks));
    this.matcher = matcher;
    this.dayOfMonthRestricted = dayOfMonthRestricted;
    this.dayOfWeekRestricted = dayOfWeekRestricted;
  }

  /**
   * Parses a Vixie crontab expression: 5 fields, 6 with a leading second field, or a macro.
   *
   * @throws InvalidScheduleException with the field, column and reason if {@code text} is invalid
   */
  public static CronExpression parse(String text) {
    return parse(text, Syntax.VIXIE);
  }

  /**
   * Parses an expression in the given syntax.
   *
   * @throws InvalidScheduleException with the field, column and reason if {@code text} is invalid
   */
  public static CronExpression parse(String text, Syntax syntax) {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(syntax, "syntax");
    return CronParser.parse(text, syntax);
  }

  @Override
  public String text() {
    return text;
  }

  public Syntax syntax() {
    return syntax;
  }

  /** Whether the expression has a second field (and so can fire more than once a minute). */
  public boolean hasSeconds() {
    return hasSeconds;
  }

  /** The fields written {@code ?} in the Vixie syntax, still to be chosen by the cluster. */
  public Set<ScheduleField> questionMarks() {
    return questionMarks;
  }

  public boolean isResolved() {
    return questionMarks.isEmpty();
  }

  /**
   * Whether the hour field matches every hour. Such jobs run at every real instant whose local time
   * matches, and the {@link DstPolicy} does not apply to them.
   */
  public boolean matchesEveryHour() {
    return questionMarks.contains(ScheduleField.HOUR) ? false : matcher.matchesEveryHour();
  }

  /**
   * Replaces each {@code ?} by the given value, keeping the rest of the text exactly as written.
   *
   * @param values one value per field in {@link #questionMarks()}, in that field's Vixie range
   *     (day-of-week 0-6)
   * @throws IllegalArgumentException if a value is missing, out of range, or given for a field that
   *     is not {@code ?}
   * @throws InvalidScheduleException if the chosen values make an expression that never fires
   */
  public CronExpression resolve(Map<ScheduleField, Integer> values) {
    if (!values.keySet().equals(questionMarks)) {
      throw new IllegalArgumentException(
          "values must be given for exactly the ? fields "
              + questionMarks
              + ", got "
              + values.keySet());
    }
    StringBuilder resolved = new StringBuilder(text);
    for (int i = tokens.size() - 1; i >= 0; i--) {
      FieldToken token = tokens.get(i);
      Integer value = values.get(token.field());
      if (value == null) {
        continue;
      }
      int max = token.field() == ScheduleField.DAY_OF_WEEK ? 6 : token.field().max();
      if (value < token.field().min() || value > max) {
        throw new IllegalArgumentException(
            token.field().label()
                + " value "
                + value
                + " out of range "
                + token.field().min()
                + "-"
                + max);
      }
      resolved.replace(token.column() - 1, token.column(), Integer.toString(value));
    }
    return parse(resolved.toString(), syntax);
  }

  /**
   * Whether the day-of-month field restricts days (it is not {@code *}, or {@code ?} in Quartz).
   */
  boolean dayOfMonthRestricted() {
    return dayOfMonthRestricted;
  }

  boolean dayOfWeekRestricted() {
    return dayOfWeekRestricted;
  }

  List<FieldToken> tokens() {
    return tokens;
  }

  CronMatcher matcher() {
    return matcher;
  }

  /**
   * The next scheduled instant strictly after {@code after}, in {@code zone}, under {@code policy}.
   *
   * <p>Jobs whose hour field matches every hour run at every real instant whose local time matches:
   * twice in a fall-back overlap, never for local times inside a spring-forward gap. Other jobs
   * follow {@code policy}: a matching local time inside a gap runs once at the end of the gap
   * ({@link DstPolicy.Gap#RUN_AFTER_GAP}) or is reported as {@link NextFire.Skipped} with {@code
   * DST_GAP} at that instant ({@link DstPolicy.Gap#SKIP}), unless a run falls at that very instant
   * anyway; a matching local time in an overlap runs at its first occurrence only ({@link
   * DstPolicy.Overlap#RUN_ONCE}) or at both ({@link DstPolicy.Overlap#RUN_TWICE}).
   *
   * @throws IllegalStateException if the expression still has {@code ?} fields (a programmer error)
   * @throws IllegalArgumentException if {@code after} is outside years 0-9999
   */
  @Override
  public NextFire next(Instant after, ZoneId zone, DstPolicy policy) {
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(policy, "policy");
    if (!questionMarks.isEmpty()) {
      throw new IllegalStateException(
          "expression '" + text + "' has unresolved ? fields " + questionMarks);
    }
    long afterSecond = after.getEpochSecond();
    if (afterSecond < MIN_EPOCH_SECOND || afterSecond > MAX_EPOCH_SECOND) {
      throw new IllegalArgumentException("after must lie in years 0-9999, got " + after);
    }
    long cursor = afterSecond + 1;
    ZoneRules rules = zone.getRules();
    if (rules.isFixedOffset()) {
      int offset = rules.getOffset(after).getTotalSeconds();
      long local = matcher.nextLocalMatch(cursor + offset);
      return local == CronMatcher.NONE ? EXHAUSTED : run(local - offset, local);
    }
    boolean wallClock = !matcher.matchesEveryHour();
    boolean runOnce = wallClock && policy.overlap() == DstPolicy.Overlap.RUN_ONCE;
    // A cursor exactly at a transition counts as before it: the local times of a gap all map to
    // the transition instant itself, so they must still be searched from there. ZoneRules'
    // previousTransition is strictly before its argument and nextTransition strictly after.
    ZoneOffsetTransition previous = rules.previousTransition(Instant.ofEpochSecond(cursor));
    int offset =
        previous != null
            ? previous.getOffsetAfter().getTotalSeconds()
            : rules.getOffset(Instant.ofEpochSecond(cursor - 1)).getTotalSeconds();
    // In an overlap's second occurrence, a run-once wall-clock job must not repeat local
    // times that already occurred before the transition.
    long notBeforeLocal =
        runOnce && previous != null && previous.isOverlap()
            ? previous.toEpochSecond() + previous.getOffsetBefore().getTotalSeconds()
            : Long.MIN_VALUE;
    long transitionsAfter = cursor - 1;
    for (int crossed = 0; crossed < MAX_TRANSITIONS_PER_SEARCH; crossed++) {
      ZoneOffsetTransition transition =
          rules.nextTransition(Instant.ofEpochSecond(transitionsAfter));
      long local = matcher.nextLocalMatch(Math.max(cursor + offset, notBeforeLocal));
      if (local == CronMatcher.NONE) {
        return EXHAUSTED;
      }
      if (transition == null || local - offset < transition.toEpochSecond()) {
        return run(local - offset, local);
      }
      long transitionSecond = transition.toEpochSecond();
      int offsetAfter = transition.getOffsetAfter().getTotalSeconds();
      if (transition.isGap()) {
        long gapEndLocal = transitionSecond + offsetAfter;
        if (wallClock && local < gapEndLocal) {
          if (matcher.matches(gapEndLocal)) {
            return run(transitionSecond, gapEndLocal);
          }
          if (policy.gap() == DstPolicy.Gap.RUN_AFTER_GAP) {
            return run(transitionSecond, local);
          }
          return new NextFire.Skipped(
              Instant.ofEpochSecond(transitionSecond),
              CronMatcher.toLocalDateTime(local),
              NextFire.SkipReason.DST_GAP);
        }
        notBeforeLocal = Long.MIN_VALUE;
      } else {
        notBeforeLocal = runOnce ? transitionSecond + offset : Long.MIN_VALUE;
      }
      cursor = transitionSecond;
      transitionsAfter = transitionSecond;
      offset = offsetAfter;
    }
    return EXHAUSTED;
  }

  private static final NextFire EXHAUSTED = new NextFire.Exhausted();

  private static NextFire run(long epochSecond, long wallTimeLocal) {
    return new NextFire.Run(
        Instant.ofEpochSecond(epochSecond), CronMatcher.toLocalDateTime(wallTimeLocal));
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof CronExpression that && syntax == that.syntax && text.equals(that.text);
  }

  @Override
  public int hashCode() {
    return Objects.hash(syntax, text);
  }

  @Override
  public String toString() {
    return text;
  }
}
