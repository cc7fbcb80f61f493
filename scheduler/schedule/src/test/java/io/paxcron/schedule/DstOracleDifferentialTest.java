package io.paxcron.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The evaluator against the brute-force oracle across every zone transition from 2020 to 2035 in
 * zones chosen for their awkwardness, with every DST policy.
 */
class DstOracleDifferentialTest {
  /**
   * Zones with their transition years: half-hour and 45-minute offsets, southern hemisphere,
   * midnight transitions.
   */
  record ZoneRange(String zone, int fromYear, int toYear) {}

  static final List<ZoneRange> ZONES =
      List.of(
          new ZoneRange("America/New_York", 2020, 2035),
          new ZoneRange("Europe/Berlin", 2020, 2035),
          new ZoneRange("Europe/London", 2020, 2035),
          new ZoneRange("America/Los_Angeles", 2020, 2035),
          new ZoneRange("America/St_Johns", 2020, 2035),
          new ZoneRange("Asia/Kolkata", 2020, 2035),
          new ZoneRange("Asia/Kathmandu", 2020, 2035),
          new ZoneRange("Australia/Adelaide", 2020, 2035),
          new ZoneRange("Australia/Lord_Howe", 2020, 2035),
          new ZoneRange("Australia/Sydney", 2020, 2035),
          new ZoneRange("America/Santiago", 2020, 2035),
          new ZoneRange("Pacific/Auckland", 2020, 2035),
          new ZoneRange("Pacific/Chatham", 2020, 2035),
          new ZoneRange("America/Sao_Paulo", 2012, 2020),
          new ZoneRange("Pacific/Apia", 2011, 2022),
          new ZoneRange("America/Havana", 2020, 2035),
          new ZoneRange("Asia/Tehran", 2020, 2023),
          new ZoneRange("Europe/Dublin", 2020, 2035),
          new ZoneRange("Africa/Casablanca", 2020, 2035),
          new ZoneRange("Antarctica/Troll", 2020, 2035),
          new ZoneRange("America/Asuncion", 2020, 2035),
          new ZoneRange("Asia/Gaza", 2020, 2035),
          new ZoneRange("America/Phoenix", 2020, 2035),
          new ZoneRange("UTC", 2020, 2035));

  static final List<String> FIXED_EXPRESSIONS =
      List.of(
          "30 2 * * *",
          "0 2 * * *",
          "0 * * * *",
          "*/15 * * * *",
          "0 0 * * *",
          "30 1 * * *",
          "59 23 * * *",
          "15,45 0-3 * * *",
          "* 2 * * *",
          "0 3 * * *",
          "30 0 * * *",
          "0 2,3 * * *");

  static final List<DstPolicy> POLICIES =
      List.of(
          DstPolicy.DEFAULT,
          new DstPolicy(DstPolicy.Gap.SKIP, DstPolicy.Overlap.RUN_ONCE),
          new DstPolicy(DstPolicy.Gap.RUN_AFTER_GAP, DstPolicy.Overlap.RUN_TWICE),
          new DstPolicy(DstPolicy.Gap.SKIP, DstPolicy.Overlap.RUN_TWICE));

  static final int RANDOM_EXPRESSIONS_PER_TRANSITION = 3;
  static final int RANDOM_SECONDS_EXPRESSIONS_PER_TRANSITION = 1;
  static final int MAX_EVENTS_PER_WINDOW = 20_000;

  static List<ZoneOffsetTransition> transitions(ZoneRange range) {
    ZoneRules rules = ZoneId.of(range.zone()).getRules();
    Instant from = LocalDateTime.of(range.fromYear(), 1, 1, 0, 0).toInstant(ZoneOffset.UTC);
    Instant to = LocalDateTime.of(range.toYear() + 1, 1, 1, 0, 0).toInstant(ZoneOffset.UTC);
    List<ZoneOffsetTransition> result = new ArrayList<>();
    for (ZoneOffsetTransition t = rules.nextTransition(from);
        t != null && t.getInstant().isBefore(to);
        t = rules.nextTransition(t.getInstant())) {
      result.add(t);
    }
    return result;
  }

  private static void compare(
      String text,
      ZoneId zone,
      DstPolicy policy,
      Instant after,
      Instant before,
      List<LocalDateTime> localMatches,
      String context) {
    CronExpression expression = CronExpression.parse(text);
    List<BruteForceOracle.Event> expected =
        BruteForceOracle.events(expression, zone, policy, localMatches, after, before);
    List<BruteForceOracle.Event> actual =
        BruteForceOracle.evaluate(expression, zone, policy, after, before, MAX_EVENTS_PER_WINDOW);
    assertEquals(
        expected,
        actual,
        "'"
            + text
            + "' in "
            + zone
            + " with "
            + policy
            + " between "
            + after
            + " and "
            + before
            + " ("
            + context
            + ")"
            + Seeds.replay());
  }

  @Test
  void everyTransitionFrom2020To2035MatchesTheOracleForEveryPolicy() {
    SplittableRandom random = Seeds.random();
    int transitionsChecked = 0;
    int zonesWithTransitions = 0;
    for (ZoneRange range : ZONES) {
      ZoneId zone = ZoneId.of(range.zone());
      List<ZoneOffsetTransition> transitions = transitions(range);
      if (!transitions.isEmpty()) {
        zonesWithTransitions++;
      }
      if (transitions.isEmpty()) {
        transitions =
            List.of(
                ZoneOffsetTransition.of(
                    LocalDateTime.of(2024, 3, 10, 2, 0), ZoneOffset.UTC, ZoneOffset.ofHours(1)));
      }
      for (ZoneOffsetTransition transition : transitions) {
        Instant after = transition.getInstant().minus(Duration.ofHours(26));
        Instant before = transition.getInstant().plus(Duration.ofHours(26));
        List<String> texts = new ArrayList<>(FIXED_EXPRESSIONS);
        for (int i = 0; i < RANDOM_EXPRESSIONS_PER_TRANSITION; i++) {
          texts.add(RandomExpressions.vixie(random));
        }
        for (String text : texts) {
          CronExpression expression = CronExpression.parse(text);
          List<LocalDateTime> matches =
              BruteForceOracle.localMatches(
                  expression,
                  LocalDateTime.ofInstant(after, ZoneOffset.UTC)
                      .minusHours(27)
                      .truncatedTo(ChronoUnit.MINUTES),
                  LocalDateTime.ofInstant(before, ZoneOffset.UTC).plusHours(27),
                  Duration.ofMinutes(1));
          for (DstPolicy policy : POLICIES) {
            compare(text, zone, policy, after, before, matches, "transition " + transition);
          }
        }
        for (int i = 0; i < RANDOM_SECONDS_EXPRESSIONS_PER_TRANSITION; i++) {
          String text = RandomExpressions.vixieWithSeconds(random);
          Instant secondsAfter = transition.getInstant().minus(Duration.ofHours(3));
          Instant secondsBefore = transition.getInstant().plus(Duration.ofHours(3));
          CronExpression expression = CronExpression.parse(text);
          List<LocalDateTime> matches =
              BruteForceOracle.localMatches(
                  expression,
                  LocalDateTime.ofInstant(secondsAfter, zone).minusHours(3),
                  LocalDateTime.ofInstant(secondsBefore, zone).plusHours(3),
                  Duration.ofSeconds(1));
          DstPolicy policy = POLICIES.get(random.nextInt(POLICIES.size()));
          compare(
              text,
              zone,
              policy,
              secondsAfter,
              secondsBefore,
              matches,
              "seconds, transition " + transition);
        }
        transitionsChecked++;
      }
    }
    assertTrue(
        zonesWithTransitions >= 20,
        "only " + zonesWithTransitions + " zones had transitions" + Seeds.replay());
    assertTrue(
        transitionsChecked > 500,
        "only " + transitionsChecked + " transitions checked" + Seeds.replay());
  }

  /**
   * A search that starts one second before, exactly at, or one second after a transition must see
   * the transition: a gap slot found from T-1 s was once lost to a lookup at {@code cursor + 1}.
   */
  @Test
  void searchesStartingAtEveryTransitionEdgeMatchTheOracle() {
    int edgesChecked = 0;
    for (ZoneRange range : ZONES) {
      ZoneId zone = ZoneId.of(range.zone());
      for (ZoneOffsetTransition transition : transitions(range)) {
        Instant before = transition.getInstant().plus(Duration.ofHours(26));
        for (String text : FIXED_EXPRESSIONS) {
          CronExpression expression = CronExpression.parse(text);
          List<LocalDateTime> matches =
              BruteForceOracle.localMatches(
                  expression,
                  LocalDateTime.ofInstant(transition.getInstant(), ZoneOffset.UTC)
                      .minusHours(27)
                      .truncatedTo(ChronoUnit.MINUTES),
                  LocalDateTime.ofInstant(before, ZoneOffset.UTC).plusHours(27),
                  Duration.ofMinutes(1));
          for (long edgeSeconds = -1; edgeSeconds <= 1; edgeSeconds++) {
            Instant after = transition.getInstant().plusSeconds(edgeSeconds);
            for (DstPolicy policy : POLICIES) {
              compare(
                  text,
                  zone,
                  policy,
                  after,
                  before,
                  matches,
                  "search from T"
                      + (edgeSeconds < 0 ? "" : "+")
                      + edgeSeconds
                      + "s, transition "
                      + transition);
            }
          }
        }
        edgesChecked++;
      }
    }
    assertTrue(edgesChecked > 500, "only " + edgesChecked + " transitions checked");
  }

  @Test
  void gapSlotIsFoundFromOneSecondBeforeSpringForward() {
    ZoneId newYork = ZoneId.of("America/New_York");
    NextFire next =
        CronExpression.parse("30 2 * * *")
            .next(Instant.parse("2026-03-08T06:59:59Z"), newYork, DstPolicy.DEFAULT);
    assertEquals(Instant.parse("2026-03-08T07:00:00Z"), ((NextFire.Run) next).instant());
    NextFire skipped =
        CronExpression.parse("30 2 * * *")
            .next(
                Instant.parse("2026-03-08T06:59:59Z"),
                newYork,
                new DstPolicy(DstPolicy.Gap.SKIP, DstPolicy.Overlap.RUN_ONCE));
    assertTrue(skipped instanceof NextFire.Skipped, "expected a DST_GAP skip, got " + skipped);
  }

  @Test
  void randomExpressionsInRandomZonesMatchTheOracleOverThreeDays() {
    SplittableRandom random = Seeds.random().split();
    long start = LocalDateTime.of(2020, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
    long end = LocalDateTime.of(2035, 12, 31, 0, 0).toEpochSecond(ZoneOffset.UTC);
    for (int i = 0; i < 300; i++) {
      String text = RandomExpressions.vixie(random);
      ZoneId zone = ZoneId.of(ZONES.get(random.nextInt(ZONES.size())).zone());
      DstPolicy policy = POLICIES.get(random.nextInt(POLICIES.size()));
      Instant after =
          Instant.ofEpochSecond(random.nextLong(start, end), random.nextInt(2) * 500_000_000);
      Instant before = after.plus(Duration.ofDays(3));
      CronExpression expression = CronExpression.parse(text);
      List<LocalDateTime> matches =
          BruteForceOracle.localMatches(
              expression,
              LocalDateTime.ofInstant(after, ZoneOffset.UTC)
                  .minusHours(27)
                  .truncatedTo(ChronoUnit.MINUTES),
              LocalDateTime.ofInstant(before, ZoneOffset.UTC).plusHours(27),
              Duration.ofMinutes(1));
      compare(text, zone, policy, after, before, matches, "case " + i);
    }
  }

  @Test
  void randomQuartzExpressionsMatchTheOracleOverTwoMonths() {
    SplittableRandom random = Seeds.random().split().split();
    long start = LocalDateTime.of(2020, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
    long end = LocalDateTime.of(2035, 12, 31, 0, 0).toEpochSecond(ZoneOffset.UTC);
    for (int i = 0; i < 60; i++) {
      String text = RandomExpressions.quartz(random);
      CronExpression expression = CronExpression.parse(text, Syntax.QUARTZ);
      ZoneId zone = ZoneId.of(ZONES.get(random.nextInt(ZONES.size())).zone());
      DstPolicy policy = POLICIES.get(random.nextInt(POLICIES.size()));
      Instant after = Instant.ofEpochSecond(random.nextLong(start, end));
      Instant before = after.plus(Duration.ofDays(62));
      List<LocalDateTime> matches = new ArrayList<>();
      LocalDateTime from =
          LocalDateTime.ofInstant(after, ZoneOffset.UTC)
              .minusHours(27)
              .truncatedTo(ChronoUnit.MINUTES);
      LocalDateTime to = LocalDateTime.ofInstant(before, ZoneOffset.UTC).plusHours(27);
      // Quartz expressions here fire only at minutes 0-20 with seconds in {0, 20, 30, 40}; step
      // minutes naively and seconds within each minute, which is exhaustive for them.
      for (LocalDateTime minute = from; minute.isBefore(to); minute = minute.plusMinutes(1)) {
        if (!BruteForceOracle.bit(expression.matcher().minutes, minute.getMinute())) {
          continue;
        }
        for (int second = 0; second < 60; second++) {
          if (BruteForceOracle.matches(expression.matcher(), minute.withSecond(second))) {
            matches.add(minute.withSecond(second));
          }
        }
      }
      List<BruteForceOracle.Event> expected =
          BruteForceOracle.events(expression, zone, policy, matches, after, before);
      List<BruteForceOracle.Event> actual =
          BruteForceOracle.evaluate(expression, zone, policy, after, before, MAX_EVENTS_PER_WINDOW);
      assertEquals(
          expected,
          actual,
          "quartz '"
              + text
              + "' in "
              + zone
              + " with "
              + policy
              + " after "
              + after
              + " (case "
              + i
              + ")"
              + Seeds.replay());
    }
  }
}
